"""Values read from pandas rows, where a missing attribute is None or NaN (it depends on the column)."""

from __future__ import annotations

import math


def optional_text(value: object) -> str | None:
    """The value as stripped text, or None when it is missing or blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def optional_number(value: object) -> float | None:
    """The value as a float, or None when it is missing, NaN or not a number (a bool is not one)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)
