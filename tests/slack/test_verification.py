"""Slack's v0 request signature, checked before Bolt sees a request (bot/slack/verification.py)."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.verification import MAX_AGE_S, is_signed_by_slack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_780_000_000


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def test_slacks_own_example_signature_checks_out():
    """The example in Slack's documentation on verifying requests."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
        b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
        b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRs"
        b"kXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert is_signed_by_slack(body, "1531420618", signature, SECRET, now=1531420618 + 10)


def test_an_old_or_future_request_is_not_signed():
    body = b"text=status"
    for delta in (MAX_AGE_S + 1, -(MAX_AGE_S + 1)):
        stamp = str(NOW - delta)
        assert not is_signed_by_slack(body, stamp, sign(body, stamp), SECRET, now=NOW)


@given(body=st.binary(max_size=200), flip=st.integers(min_value=0, max_value=199))
def test_any_changed_byte_breaks_the_signature(body: bytes, flip: int):
    stamp = str(NOW)
    signature = sign(body, stamp)
    assert is_signed_by_slack(body, stamp, signature, SECRET, now=NOW)
    if body:
        changed = bytearray(body)
        changed[flip % len(body)] ^= 0x01
        assert not is_signed_by_slack(bytes(changed), stamp, signature, SECRET, now=NOW)
    assert not is_signed_by_slack(body, stamp, sign(body, stamp, SECRET + "x"), SECRET, now=NOW)


@given(timestamp=st.one_of(st.none(), st.text(max_size=20)), signature=st.one_of(st.none(), st.text()))
def test_malformed_headers_are_refused_never_raise(timestamp: str | None, signature: str | None):
    if timestamp is not None and timestamp.isascii() and timestamp.isdigit():
        return  # well-formed: covered above
    assert not is_signed_by_slack(b"text=status", timestamp, signature, SECRET, now=NOW)
