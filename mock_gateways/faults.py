"""Fault settings of one mock gateway: what goes wrong, and how often.

``Faults`` is a frozen value. Changes arrive as a partial mapping (the JSON
body of ``PUT /_mock/faults``, or ``name=value`` pairs from the command line)
and are validated as a whole: either every change is valid and a new
``Faults`` comes back, or ``InvalidFaults`` names every bad one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from mock_gateways.errors import InvalidFaults

Outage = Literal[False, "503", "refuse"]
# The decline codes gateways A and B document for a payment refused at request
# time: the first four let another gateway try, "declined" refuses the payment.
DECLINE_CODES = (
    "currency_not_supported",
    "country_not_supported",
    "type_not_supported",
    "amount_limit_exceeded",
    "declined",
)

MAX_DURATION_MS = 3_600_000  # one hour: anything longer is a typo, not a fault
MAX_FEE_BPS = 10_000  # 100 %
MAX_FEE_MINOR = 1_000_000_000


@dataclass(frozen=True)
class Faults:
    """What one gateway does wrong. The defaults describe a healthy gateway."""

    latency_ms: int = 0
    latency_jitter_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_hang_ms: int = 30_000
    outage: Outage = False
    decline_rate: float = 0.0
    callback_delay_ms: int = 200
    callback_drop_rate: float = 0.0
    callback_duplicate_rate: float = 0.0
    callback_reorder: bool = False
    # Money-integrity faults: a gateway whose word must not be taken blindly.
    callback_amount_skew: float = 0.0
    callback_wrong_route: float = 0.0
    late_failure_rate: float = 0.0
    ghost_503_rate: float = 0.0
    auth_failure: bool = False
    submit_decline: str | Literal[False] = False
    # Settlement: what the gateway charges, and how its daily report misleads.
    # The fee is a setting, not a fault; it lives here to be switched the same way.
    settlement_fee_bps: int = 0
    settlement_fee_minor: int = 0
    settle_unreported_rate: float = 0.0
    report_missing_rate: float = 0.0
    report_amount_skew_rate: float = 0.0

    def updated(self, changes: Mapping[str, object]) -> Faults:
        """Return a copy with ``changes`` applied; fields not named keep their value.

        Raises ``InvalidFaults`` naming every unknown field and bad value;
        nothing is applied then.
        """
        problems: list[str] = []
        accepted: dict[str, object] = {}
        for name, value in changes.items():
            check = _CHECKS.get(name)
            if check is None:
                problems.append(f"{name}: unknown fault (known: {', '.join(_CHECKS)})")
                continue
            try:
                accepted[name] = check(value)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise InvalidFaults("; ".join(problems))
        return dataclasses.replace(self, **accepted)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, object]:
        """The settings as the JSON object ``GET /_mock/faults`` answers."""
        return dataclasses.asdict(self)


def parse_assignment(text: str) -> dict[str, object]:
    """Parse one ``name=value`` command-line fault into a validated change.

    The value is read as the field's type (``error_rate=0.3``,
    ``latency_ms=200``, ``outage=503``, ``callback_reorder=true``). Raises
    ``InvalidFaults`` when the name is unknown or the value does not fit.
    """
    name, separator, raw = text.partition("=")
    name = name.strip()
    if not separator or not name:
        raise InvalidFaults(f"{text!r}: expected name=value, for example error_rate=0.3")
    read = _TEXT_READERS.get(name)
    if read is None:
        raise InvalidFaults(f"{name}: unknown fault (known: {', '.join(_CHECKS)})")
    try:
        value = read(raw.strip())
    except ValueError as exc:
        raise InvalidFaults(f"{name}: {exc}") from exc
    Faults().updated({name: value})
    return {name: value}


def _number(value: object) -> float | None:
    # bool is an int subclass, but "error_rate": true is a mistake, not 1.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an int too large for a float
        return math.inf


def _rate(value: object) -> float:
    rate = _number(value)
    if rate is None or not (math.isfinite(rate) and 0.0 <= rate <= 1.0):
        raise ValueError(f"must be a number between 0 and 1, got {value!r}")
    return rate


def _duration_ms(value: object) -> int:
    number = _number(value)
    if number is None or not number.is_integer() or not 0 <= number <= MAX_DURATION_MS:
        raise ValueError(
            f"must be whole milliseconds between 0 and {MAX_DURATION_MS}, got {value!r}"
        )
    return int(number)


def _whole(low: int, high: int, unit: str) -> Callable[[object], int]:
    def check(value: object) -> int:
        number = _number(value)
        if number is None or not number.is_integer() or not low <= number <= high:
            raise ValueError(f"must be whole {unit} between {low} and {high}, got {value!r}")
        return int(number)

    return check


_fee_bps = _whole(0, MAX_FEE_BPS, "basis points")
_fee_minor = _whole(0, MAX_FEE_MINOR, "minor units")


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def _outage(value: object) -> Outage:
    if value is False:
        return False
    if value == "503" or (value == 503 and not isinstance(value, bool)):
        return "503"
    if value == "refuse":
        return "refuse"
    raise ValueError(f'must be false, "503" or "refuse", got {value!r}')


def _decline_code(value: object) -> str | Literal[False]:
    if value is False:
        return False
    if isinstance(value, str) and value in DECLINE_CODES:
        return value
    raise ValueError(f"must be false or one of {', '.join(DECLINE_CODES)}, got {value!r}")


_CHECKS: dict[str, Callable[[object], object]] = {
    "latency_ms": _duration_ms,
    "latency_jitter_ms": _duration_ms,
    "error_rate": _rate,
    "timeout_rate": _rate,
    "timeout_hang_ms": _duration_ms,
    "outage": _outage,
    "decline_rate": _rate,
    "callback_delay_ms": _duration_ms,
    "callback_drop_rate": _rate,
    "callback_duplicate_rate": _rate,
    "callback_reorder": _flag,
    "callback_amount_skew": _rate,
    "callback_wrong_route": _rate,
    "late_failure_rate": _rate,
    "ghost_503_rate": _rate,
    "auth_failure": _flag,
    "submit_decline": _decline_code,
    "settlement_fee_bps": _fee_bps,
    "settlement_fee_minor": _fee_minor,
    "settle_unreported_rate": _rate,
    "report_missing_rate": _rate,
    "report_amount_skew_rate": _rate,
}
assert set(_CHECKS) == {field.name for field in dataclasses.fields(Faults)}


def _text_number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"must be a number, got {raw!r}") from None


def _text_flag(raw: str) -> bool | str:
    lowered = raw.lower()
    if lowered in {"true", "yes", "on", "1"}:
        return True
    if lowered in {"false", "no", "off", "0"}:
        return False
    return raw  # left for the field check to reject with its own message


def _text_outage(raw: str) -> bool | str:
    lowered = raw.lower()
    return False if lowered in {"false", "no", "off", "0", "none"} else lowered


_TEXT_READER_FOR_CHECK: dict[Callable[[object], object], Callable[[str], object]] = {
    _rate: _text_number,
    _duration_ms: _text_number,
    _flag: _text_flag,
    _outage: _text_outage,
    _decline_code: _text_outage,
    _fee_bps: _text_number,
    _fee_minor: _text_number,
}
_TEXT_READERS = {name: _TEXT_READER_FOR_CHECK[check] for name, check in _CHECKS.items()}
