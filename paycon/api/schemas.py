"""Request and response models: they validate requests and generate the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, ValidationError
from pydantic.config import JsonDict

from paycon.domain.countries import COUNTRIES, is_country
from paycon.domain.errors import AmountOverLimit, FieldError, InvalidInput
from paycon.domain.masking import is_valid_iban, normalize_iban
from paycon.domain.money import CURRENCY_EXPONENTS, AmountOverMaximum, MoneyError, parse_amount
from paycon.domain.status import Kind
from paycon.domain.text import VISIBLE_TEXT_PATTERN
from paycon.domain.transactions import (
    MAX_REFERENCE_CHARS,
    Destination,
    PaymentRequest,
)
from paycon.models.requests import CustomerId, Reason, Strict, field_errors
from paycon.storage.payments import SUBMIT_TASK

AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,17})(\.[0-9]{1,6})?$"


def amount_pattern(places: int) -> str:
    """The amounts greater than zero with at most ``places`` decimals, as a JSON Schema pattern.

    What ``parse_amount`` takes for a currency of that exponent (its maximum aside).
    """
    whole = "[1-9][0-9]{0,17}" + (f"(\\.[0-9]{{1,{places}}})?" if places else "")
    if not places:
        return f"^{whole}$"
    # Below one: a nonzero digit somewhere among the first ``places`` decimals.
    fractions = "|".join(
        "0" * zeros + "[1-9]" + (f"[0-9]{{0,{places - 1 - zeros}}}" if zeros < places - 1 else "")
        for zeros in range(places)
    )
    return f"^({whole}|0\\.({fractions}))$"


def _amount_per_currency(schema: JsonDict) -> None:
    """Add JSON Schema rules tying the amount's decimals to the currency's exponent."""
    by_places: dict[int, list[JsonValue]] = {}
    for code, places in sorted(CURRENCY_EXPONENTS.items()):
        by_places.setdefault(places, []).append(code)
    schema["allOf"] = [
        {
            "if": {"properties": {"currency": {"enum": codes}}, "required": ["currency"]},
            "then": {"properties": {"amount": {"pattern": amount_pattern(places)}}},
        }
        for places, codes in sorted(by_places.items())
    ]


Amount = Annotated[
    str,
    Field(
        pattern=AMOUNT_PATTERN,
        description="Decimal string; at most the currency's number of decimal places.",
        examples=["100.50"],
    ),
]
Currency = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        json_schema_extra={"enum": sorted(CURRENCY_EXPONENTS)},
        examples=["EUR"],
    ),
]
Country = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2",
        json_schema_extra={"enum": sorted(COUNTRIES)},
        examples=["DE"],
    ),
]
Text255 = Annotated[str, Field(min_length=1, max_length=255, pattern=VISIBLE_TEXT_PATTERN)]
# A merchant's free text (paycon.domain.text says what it may hold).
Reference = Annotated[
    str, Field(min_length=1, max_length=MAX_REFERENCE_CHARS, pattern=VISIBLE_TEXT_PATTERN)
]
# What a fault switch over the API is audited with when it gives no reason.
FAULTS_REASON = "faults switched by an operator"
# An absolute http(s) URL: a host name or IPv4 address, an optional port, visible characters after.
# A host name, an IPv4 address in any spelling, or a bracketed IPv6 literal (with a
# zone); what it may point to is paycon.domain.notify_urls's to judge (a 422).
NOTIFY_URL_PATTERN = (
    r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+(%25[A-Za-z0-9._~-]+)?\])(:[0-9]{1,5})?"
    r"([/?#][\x21-\x7e]*)?$"
)
HttpUrl = Annotated[
    str,
    Field(
        max_length=2048,
        pattern=NOTIFY_URL_PATTERN,
        description="Where the final status is POSTed, signed with the webhook secrets. "
        "https, to a host that is or resolves only to public addresses (plain http and "
        "private addresses only where paycon allows them for local development); "
        "422 notify_url_refused otherwise.",
        examples=["https://merchant.example/hook"],
    ),
]
# An IBAN as people type it: country, check digits, then 11-30 letters or digits, single spaces
# between them allowed; the check digits themselves are verified by the server.
IBAN_PATTERN = r"^[A-Za-z]{2}[0-9]{2}( ?[A-Za-z0-9]){11,30}$"


class DestinationIn(Strict):
    """Where a withdrawal pays out."""

    iban: Annotated[
        str,
        Field(
            min_length=15,
            max_length=42,
            pattern=IBAN_PATTERN,
            description="ISO 13616; its mod-97 check digits must hold",
            json_schema_extra={"format": "iban"},
            examples=["DE89370400440532013000"],
        ),
    ]
    holder: Annotated[
        str,
        Field(min_length=1, max_length=140, pattern=VISIBLE_TEXT_PATTERN, examples=["Jane Doe"]),
    ]


class DepositIn(Strict):
    """Body of ``POST /v1/deposits``."""

    model_config = ConfigDict(json_schema_extra=_amount_per_currency)

    customer_id: CustomerId
    amount: Amount
    currency: Currency
    country: Country
    gateway: Text255 | None = Field(default=None, description="Pins one gateway: no failover.")
    reference: Reference | None = None
    notify_url: HttpUrl | None = None


class WithdrawalIn(DepositIn):
    """Body of ``POST /v1/withdrawals``."""

    destination: DestinationIn


class ProblemFieldOut(BaseModel):
    field: str
    message: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    type: str
    code: str
    title: str
    status: int
    detail: str
    errors: list[ProblemFieldOut] | None = None


class ReplayIn(Strict):
    """Body of ``POST /v1/outbox/tasks/{id}/replay`` (optional)."""

    reason: Reason = "replayed by an operator"


class DiscardIn(Strict):
    """Body of ``POST /v1/outbox/tasks/{id}/discard``: why the task is given up."""

    reason: Reason


MAX_TIME_CHARS = 40


def _aware_time(value: object) -> datetime:
    """An RFC 3339 time with its zone, as the API writes times."""
    if not isinstance(value, str) or len(value) > MAX_TIME_CHARS:
        raise ValueError("an RFC 3339 time, like the as_of of GET /v1/outbox/count")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("an RFC 3339 time, like the as_of of GET /v1/outbox/count") from None
    if moment.utcoffset() is None:
        raise ValueError("the time needs its zone (Z or an offset)")
    return moment


AwareTime = Annotated[datetime, BeforeValidator(_aware_time)]


def _gateway_selects_submit_tasks(schema: JsonDict) -> None:
    """A gateway filter selects submit tasks: with one, the kind is submit or left out (400)."""
    schema["if"] = {"properties": {"gateway": {"type": "string"}}, "required": ["gateway"]}
    schema["then"] = {"properties": {"kind": {"enum": [SUBMIT_TASK, None]}}}


class ReplayFilterIn(Strict):
    """Body of ``POST /v1/outbox/replay``: which tasks to replay."""

    model_config = ConfigDict(json_schema_extra=_gateway_selects_submit_tasks)

    state: Literal["dead", "pending"] = "dead"
    kind: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    gateway: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    reason: Reason = "replayed by an operator"
    as_of: AwareTime | None = Field(
        default=None,
        description="the as_of of a GET /v1/outbox/count with the same filter: tasks changed"
        " since are left alone, so the replay takes at most the tasks counted",
        examples=["2026-11-27T08:30:00.123Z"],
    )


class GatewaySwitchIn(Strict):
    """Body of ``POST /v1/gateways/{name}/disable`` and ``/enable``: why, for the audit."""

    reason: Reason


class FaultsIn(BaseModel):
    """Body of ``PUT /v1/gateways/{name}/faults``: the faults to change; others keep their value.

    Values are checked by the mock gateway itself; a bad one changes nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: Any = Field(default=None, description="whole ms, 0-3600000")
    latency_jitter_ms: Any = Field(default=None, description="whole ms, 0-3600000")
    error_rate: Any = Field(default=None, description="share of 5xx answers, 0-1")
    timeout_rate: Any = Field(default=None, description="share of requests that hang, 0-1")
    timeout_hang_ms: Any = Field(default=None, description="how long a hang lasts, whole ms")
    outage: Any = Field(default=None, description='false, "503" or "refuse"')
    decline_rate: Any = Field(default=None, description="share of final failures, 0-1")
    callback_delay_ms: Any = Field(default=None, description="whole ms, 0-3600000")
    callback_drop_rate: Any = Field(default=None, description="0-1")
    callback_duplicate_rate: Any = Field(default=None, description="0-1")
    callback_reorder: Any = Field(default=None, description="true or false")
    callback_amount_skew: Any = Field(
        default=None, description="share of callbacks stating another amount, 0-1"
    )
    callback_wrong_route: Any = Field(
        default=None, description="share of callbacks sent to the other gateway's route, 0-1"
    )
    late_failure_rate: Any = Field(
        default=None, description="share of completed payments failed afterwards, 0-1"
    )
    ghost_503_rate: Any = Field(
        default=None, description="share of submits charged, then answered 503, 0-1"
    )
    auth_failure: Any = Field(
        default=None, description="true: every payment and status call answered 401"
    )
    submit_decline: Any = Field(
        default=None, description="false, or a decline code every submit is refused with"
    )
    settlement_fee_bps: Any = Field(
        default=None, description="settlement fee in basis points of the gross, whole"
    )
    settlement_fee_minor: Any = Field(
        default=None, description="fixed settlement fee per payment, whole minor units"
    )
    settle_unreported_rate: Any = Field(
        default=None, description="share of settled payments never reported to paycon, 0-1"
    )
    report_missing_rate: Any = Field(
        default=None, description="share of settled payments left out of the report, 0-1"
    )
    report_amount_skew_rate: Any = Field(
        default=None, description="share of report lines stating another amount, 0-1"
    )
    reason: Reason = Field(
        default=FAULTS_REASON, description="why, for the audit trail (not a fault)"
    )


class CallbackOut(BaseModel):
    received: bool
    outcome: Literal["apply", "unchanged", "backwards", "conflict", "duplicate"]


class HealthOut(BaseModel):
    """The process serves (liveness only)."""

    status: Literal["ok"]


class ReadyCheckOut(BaseModel):
    name: Literal["database", "migrations", "shutdown"]
    ok: bool
    detail: str


class ReadyOut(BaseModel):
    """Whether this process can take payments now, and each check's result."""

    status: Literal["ready", "unready"]
    checks: list[ReadyCheckOut]


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:  # an unbalanced IPv6 bracket, say
        return False


def parse_payment(kind: Kind, data: Any, *, max_amount: Callable[[str], Decimal]) -> PaymentRequest:
    """The domain request for a deposit's or withdrawal's fields.

    Raises InvalidInput listing every invalid field at once: those the schema
    refuses and, among the others, those the rules JSON Schema cannot say refuse
    (scale per currency, ISO country, IBAN check digits).
    """
    model = WithdrawalIn if kind is Kind.WITHDRAWAL else DepositIn
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    try:
        body = model.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        checked = _schema_valid(data, {error.field for error in errors})
        errors += _listed(*_rule_errors(checked, max_amount=max_amount))
        raise InvalidInput("the request has invalid fields", errors=errors) from None
    return to_payment_request(kind, body, max_amount=max_amount)


def _schema_valid(data: dict[str, Any], bad: set[str]) -> dict[str, Any]:
    """``data`` without the fields the schema refused, ``destination``'s included."""
    kept = {name: value for name, value in data.items() if name not in bad}
    destination = kept.get("destination")
    if isinstance(destination, dict):
        kept["destination"] = {
            name: value for name, value in destination.items() if f"destination.{name}" not in bad
        }
    return kept


def _rule_errors(
    values: Mapping[str, Any], *, max_amount: Callable[[str], Decimal]
) -> tuple[list[FieldError], AmountOverMaximum | None]:
    """What the rules JSON Schema cannot say find wrong with fields of the right shape,
    and apart from them an amount that is well-formed but above the configured maximum."""
    errors: list[FieldError] = []
    over_limit: AmountOverMaximum | None = None
    currency, country, amount = values.get("currency"), values.get("country"), values.get("amount")
    supported = isinstance(currency, str) and currency in CURRENCY_EXPONENTS
    if isinstance(currency, str) and not supported:
        errors.append(FieldError("currency", f"unsupported currency {currency}"))
    if isinstance(country, str) and not is_country(country):
        errors.append(FieldError("country", f"{country} is not an ISO 3166-1 country"))
    if isinstance(amount, str) and isinstance(currency, str) and supported:
        try:
            parse_amount(amount, currency, max_amount=max_amount(currency))
        except AmountOverMaximum as exc:
            over_limit = exc
        except MoneyError as exc:
            errors.append(FieldError("amount", str(exc)))
    notify_url = values.get("notify_url")
    if isinstance(notify_url, str) and not _has_host(notify_url):
        errors.append(FieldError("notify_url", "must be an absolute http(s) URL"))
    destination = values.get("destination")
    iban = destination.get("iban") if isinstance(destination, Mapping) else None
    if isinstance(iban, str) and not is_valid_iban(normalize_iban(iban)):
        errors.append(FieldError("destination.iban", "not a valid IBAN"))
    return errors, over_limit


def _listed(errors: list[FieldError], over_limit: AmountOverMaximum | None) -> list[FieldError]:
    """Every fault as a field error, an amount over the maximum included."""
    return errors + ([FieldError("amount", str(over_limit))] if over_limit else [])


def to_payment_request(
    kind: Kind, body: DepositIn, *, max_amount: Callable[[str], Decimal]
) -> PaymentRequest:
    """The domain request for a validated body; checks the rules the model cannot.

    Raises InvalidInput naming each failing field; AmountOverLimit (422) when the
    only fault is an amount above the currency's configured maximum.
    """
    errors, over_limit = _rule_errors(body.model_dump(), max_amount=max_amount)
    if errors:
        raise InvalidInput("the request has invalid fields", errors=_listed(errors, over_limit))
    if over_limit is not None:
        # Well-formed, but above a configured limit: 422, as a business rule is.
        detail = str(over_limit)
        raise AmountOverLimit(detail, errors=[FieldError("amount", detail)])
    destination = None
    if isinstance(body, WithdrawalIn):
        iban = normalize_iban(body.destination.iban)
        destination = Destination(iban=iban, holder=body.destination.holder.strip())
    return PaymentRequest(
        kind=kind,
        customer_id=body.customer_id,
        money=parse_amount(body.amount, body.currency, max_amount=max_amount(body.currency)),
        country=body.country,
        gateway=body.gateway,
        reference=body.reference,
        notify_url=body.notify_url,
        destination=destination,
    )
