"""Terminal report helpers: what a reader sees when text does not fit."""

from __future__ import annotations

from bot.formatting import days, percent, shorten


def test_shorten_cuts_at_a_word_with_an_ellipsis():
    """Long titles end on a whole word and an ellipsis; short ones and odd whitespace are tidied only."""
    assert (
        shorten("Checkout button stays disabled after Google Pay cancel", 40)
        == "Checkout button stays disabled after…"
    )
    assert shorten("  Refunds \n API ", 40) == "Refunds API"
    assert shorten("x" * 60, 10) == "x" * 9 + "…"


def test_missing_values_show_as_a_dash():
    """No data is an em dash, never 0 or nan."""
    assert days(None) == "—" and percent(None) == "—" and days(float("nan")) == "—"
    assert days(2.345) == "2.3 d" and percent(0.514) == "51%"
