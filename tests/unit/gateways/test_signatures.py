"""Signatures: what verifies, what is rejected and why, and that sign→verify round-trips."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways import CallbackRejected, sign, verify
from gateways.signatures import DEFAULT_TOLERANCE_S

SECRET = "whsec-test"
BODY = b'{"eventId":"e-1","transactionId":"tx-1","status":"success"}'
NOW_S = 1_750_000_000.0
T = int(NOW_S)


def reference_header(secret: str, body: bytes, t: int) -> str:
    """The scheme written out independently of the code under test."""
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def rejection(header: str | None, body: bytes = BODY, *, now_s: float = NOW_S) -> str:
    """The reason ``verify`` gives for rejecting ``header``; fails the test if it accepts."""
    with pytest.raises(CallbackRejected) as caught:
        verify(SECRET, body, header, now_s=now_s, gateway="gateway_a")
    assert caught.value.gateway == "gateway_a"
    return caught.value.reason


def test_sign_writes_the_documented_header() -> None:
    assert sign(SECRET, BODY, T) == reference_header(SECRET, BODY, T)


def test_a_valid_signature_verifies_and_gives_its_timestamp() -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, T), now_s=NOW_S, gateway="g") == T


def test_a_signature_made_with_another_secret_is_a_mismatch() -> None:
    assert rejection(sign("another-secret", BODY, T)) == "mismatch"


def test_a_tampered_body_is_a_mismatch() -> None:
    header = sign(SECRET, BODY, T)
    assert rejection(header, BODY.replace(b"success", b"failure")) == "mismatch"


def test_the_timestamp_is_part_of_what_is_signed() -> None:
    digest = sign(SECRET, BODY, T).split("v1=")[1]
    assert rejection(f"t={T + 1},v1={digest}") == "mismatch"


@pytest.mark.parametrize("offset_s", [DEFAULT_TOLERANCE_S + 1, -(DEFAULT_TOLERANCE_S + 1)])
def test_a_timestamp_over_300_s_away_either_way_is_stale(offset_s: float) -> None:
    t = int(NOW_S + offset_s)
    assert rejection(sign(SECRET, BODY, t)) == "stale"


@pytest.mark.parametrize("offset_s", [DEFAULT_TOLERANCE_S, -DEFAULT_TOLERANCE_S, 0])
def test_a_timestamp_within_300_s_either_way_verifies(offset_s: float) -> None:
    t = int(NOW_S + offset_s)
    assert verify(SECRET, BODY, sign(SECRET, BODY, t), now_s=NOW_S, gateway="g") == t


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_header_is_rejected_as_missing(header: str | None) -> None:
    assert rejection(header) == "missing"


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "v1=" + "a" * 64,  # no t
        f"t={T}",  # no v1
        f"t={T},v1=abc",  # too short to be SHA-256
        f"t={T},v1={'g' * 64}",  # not hex
        f"t=-{T},v1={'a' * 64}",
        f"t={T}.5,v1={'a' * 64}",
        f"t={T},t={T},v1={'a' * 64}",  # two timestamps: which one was signed?
        f"t={T},v1={'a' * 64}," + "x=y," * 400,  # absurdly long
        f"t={T};v1={'a' * 64}",
    ],
)
def test_a_malformed_header_is_rejected_as_malformed(header: str) -> None:
    assert rejection(header) == "malformed"


def test_any_of_several_v1_entries_may_match_so_secrets_can_rotate() -> None:
    good = sign(SECRET, BODY, T).split("v1=")[1]
    header = f"t={T},v1={'0' * 64},v1={good}"
    assert verify(SECRET, BODY, header, now_s=NOW_S, gateway="g") == T


def test_spaces_and_unknown_schemes_in_the_header_are_tolerated() -> None:
    good = sign(SECRET, BODY, T).split("v1=")[1]
    header = f"t={T}, v0=legacy, v1={good.upper()}"
    assert verify(SECRET, BODY, header, now_s=NOW_S, gateway="g") == T


def test_the_rejection_message_never_contains_the_secret_or_the_signature() -> None:
    header = sign("another-secret", BODY, T)
    with pytest.raises(CallbackRejected) as caught:
        verify(SECRET, BODY, header, now_s=NOW_S, gateway="g")
    assert SECRET not in str(caught.value)
    assert header.split("v1=")[1] not in str(caught.value)


@pytest.mark.parametrize("t", [-1, 10**15])
def test_signing_refuses_a_timestamp_verify_would_not_read(t: int) -> None:
    with pytest.raises(ValueError, match="unix seconds"):
        sign(SECRET, BODY, t)


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=4096),
    secret=st.text(min_size=1, max_size=64),
    t=st.integers(min_value=0, max_value=10**15 - 1),
)
def test_sign_then_verify_round_trips_for_any_body(body: bytes, secret: str, t: int) -> None:
    header = sign(secret, body, t)

    assert header == reference_header(secret, body, t)
    assert verify(secret, body, header, now_s=float(t), gateway="g") == t
    with pytest.raises(CallbackRejected):
        verify(secret, body + b"\x00", header, now_s=float(t), gateway="g")
