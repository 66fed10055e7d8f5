"""Request and response models: they validate requests and generate the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, ValidationError
from pydantic.config import JsonDict

from paycon.domain.countries import COUNTRIES, is_country
from paycon.domain.errors import AmountOverLimit, FieldError, InvalidInput
from paycon.domain.masking import is_valid_iban, normalize_iban
from paycon.domain.money import CURRENCY_EXPONENTS, AmountOverMaximum, MoneyError, parse_amount
from paycon.domain.reasons import MAX_REASON_CHARS, REASON_PATTERN, REASON_RULE
from paycon.domain.status import Kind
from paycon.domain.text import VISIBLE_TEXT_PATTERN, VISIBLE_TEXT_RULE
from paycon.domain.transactions import (
    MAX_REFERENCE_CHARS,
    Destination,
    PaymentRequest,
)
from paycon.storage.payments import SUBMIT_TASK

M = TypeVar("M", bound=BaseModel)

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


CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
CustomerId = Annotated[str, Field(pattern=CUSTOMER_ID_PATTERN, examples=["cus_42"])]
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
# An operator's reason for the audit trail (paycon.domain.reasons says what it may be).
Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON_CHARS, pattern=REASON_PATTERN)]
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DestinationIn(_Strict):
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


class DepositIn(_Strict):
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


class DestinationOut(BaseModel):
    iban: str = Field(examples=["DE89 **** **** 3000"])
    holder: str = Field(examples=["J*** D***"])


class ReviewOut(BaseModel):
    """Why a payment is held for review, what was said last, and since when."""

    reason: Literal[
        "wrong_gateway", "amount_mismatch", "conflicting_status", "request_refused",
        "task_dead", "task_discarded", "in_flight_too_long", "reconciliation_break",
    ]  # fmt: skip
    detail: str
    since: str = Field(description="RFC 3339, UTC")


class TransactionOut(BaseModel):
    """A transaction as the API shows it; account data is masked."""

    id: str = Field(examples=["tx_01JDXK3M6Y8Q2R4T6V8X0Z2B4D"])
    kind: Kind
    status: Literal["pending", "submitted", "completed", "failed", "reversed"]
    customer_id: str
    amount: str
    currency: str
    country: str
    gateway: str
    reference: str | None
    notify_url: str | None
    failure_reason: str | None
    created_at: str = Field(description="RFC 3339, UTC")
    updated_at: str = Field(description="RFC 3339, UTC")
    review: ReviewOut | None = Field(
        description="set while the payment is held for an operator's decision"
    )
    destination: DestinationOut | None = None


class EventOut(BaseModel):
    at: str
    type: str
    detail: str
    actor: str


class TransactionDetailOut(TransactionOut):
    events: list[EventOut]


class TransactionPageOut(BaseModel):
    items: list[TransactionOut]
    next_cursor: str | None


class BalanceOut(BaseModel):
    currency: str
    available: str
    held: str
    owed: str | None = Field(
        default=None,
        description="what the customer owes after a reversal larger than available; "
        "present only when not zero (later deposits pay it first)",
    )


class BalancesOut(BaseModel):
    customer_id: str
    balances: list[BalanceOut]


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


class OutboxCountsOut(BaseModel):
    pending: int
    running: int
    done: int
    dead: int


class OutboxStatsOut(BaseModel):
    """The outbox at a glance."""

    counts: OutboxCountsOut
    backlog: int = Field(description="work due: pending tasks due by now + running ones")
    scheduled: int = Field(
        description="pending tasks not due yet (status checks ahead, retries after backoff)"
    )
    oldest_due_age_s: float | None = Field(description="how long the oldest due task has waited")
    done_per_s: float = Field(description="tasks done per second over the window")
    window_s: float


class OutboxTaskOut(BaseModel):
    """An outbox task; account data in the payload is masked."""

    id: int
    kind: str
    state: Literal["pending", "running", "done", "dead"]
    attempts: int
    max_attempts: int
    run_at: str
    dedupe_key: str | None
    lease_owner: str | None
    lease_expires_at: str | None
    last_error: str | None
    payload: dict[str, Any]
    created_at: str
    updated_at: str


class OutboxAttemptOut(BaseModel):
    number: int
    started_at: str
    finished_at: str | None
    outcome: str | None
    error_class: str | None
    error_message: str | None
    duration_ms: int | None


class OutboxAuditOut(BaseModel):
    at: str
    actor: str
    action: str
    reason: str
    detail: str | None


class OutboxTaskDetailOut(OutboxTaskOut):
    attempts_log: list[OutboxAttemptOut]
    audit: list[OutboxAuditOut]


class OutboxTaskPageOut(BaseModel):
    items: list[OutboxTaskOut]
    next_cursor: str | None


class ReplayIn(_Strict):
    """Body of ``POST /v1/outbox/tasks/{id}/replay`` (optional)."""

    reason: Reason = "replayed by an operator"


class ResolveIn(_Strict):
    """Body of ``POST /v1/transactions/{id}/resolve``: an operator's decision on a held payment."""

    status: Literal["completed", "failed"] = Field(
        description="the payment's outcome; failed on a completed payment reverses it"
    )
    reason: Reason


class DiscardIn(_Strict):
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


class ReplayFilterIn(_Strict):
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


class ReplayCountOut(BaseModel):
    replayed: int


class OutboxCountOut(BaseModel):
    matching: int = Field(description="tasks a replay with the same filter would take now")
    as_of: str = Field(
        description="when they were counted; a replay given it takes at most these tasks"
    )


class TransactionTasksOut(BaseModel):
    """The outbox tasks that carried one transaction, oldest first."""

    items: list[OutboxTaskOut]


AccountNameLiteral = Literal["available", "held", "owed", "clearing", "fees", "suspense", "settled"]


class AccountRefOut(BaseModel):
    """Which ledger account: a customer's (available, held, owed) or a gateway's
    (clearing, fees, suspense, settled)."""

    holder: Literal["customer", "gateway"]
    owner: str = Field(description="the customer id or the gateway name")
    name: AccountNameLiteral


class LedgerLineOut(BaseModel):
    """One posting of one of the transaction's journal entries."""

    at: str
    entry_id: str
    customer_id: str = Field(description="the transaction's customer")
    account: AccountRefOut
    currency: str
    bucket: AccountNameLiteral = Field(description="the account's name")
    delta: str = Field(
        description="signed decimal string: the change of the account's balance as people read it",
        examples=["-20.00"],
    )
    posting: str = Field(
        description="the same amount signed the accountant's way (debit positive); "
        "an entry's postings sum to zero",
        examples=["20.00"],
    )
    reason: str


class LedgerOut(BaseModel):
    """The balance movements one transaction made, oldest first."""

    items: list[LedgerLineOut]


class LedgerAccountOut(BaseModel):
    """One ledger account and its balance."""

    account: AccountRefOut
    currency: str
    balance: str = Field(
        description="the balance as people read it: positive when normal (what paycon owes "
        "a customer in available and held; what is owed to paycon in owed and clearing)"
    )
    debit_balance: str = Field(
        description="the sum of the account's postings, debit positive (credit negative)"
    )
    updated_at: str


class LedgerAccountPageOut(BaseModel):
    items: list[LedgerAccountOut]
    next_cursor: str | None


class JournalPostingOut(BaseModel):
    account: AccountRefOut
    delta: str = Field(description="the change of the account's balance as people read it")
    posting: str = Field(description="debit positive; an entry's postings sum to zero")


class JournalEntryOut(BaseModel):
    """One movement: postings in one currency that sum to zero."""

    id: str
    transaction_id: str | None
    reason: str
    currency: str
    at: str
    postings: list[JournalPostingOut]


class JournalPageOut(BaseModel):
    items: list[JournalEntryOut]
    next_cursor: str | None


class GatewaySwitchIn(_Strict):
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
    reason: Reason = Field(
        default=FAULTS_REASON, description="why, for the audit trail (not a fault)"
    )


class FaultsOut(BaseModel):
    """An embedded mock gateway's faults in force."""

    latency_ms: int
    latency_jitter_ms: int
    error_rate: float
    timeout_rate: float
    timeout_hang_ms: int
    outage: Literal[False, "503", "refuse"]
    decline_rate: float
    callback_delay_ms: int
    callback_drop_rate: float
    callback_duplicate_rate: float
    callback_reorder: bool


class CallbackOut(BaseModel):
    received: bool
    outcome: Literal["apply", "unchanged", "backwards", "conflict", "duplicate"]


class BreakerOut(BaseModel):
    state: Literal["closed", "open", "half_open"]
    failures: int
    fail_max: int
    opened_at: str | None
    may_half_open_at: str | None = Field(description="when an open breaker lets a trial through")
    open_since: str | None = Field(
        default=None, description="when it opened and has not closed since; null while closed"
    )
    failed_trials: int = Field(
        default=0, description="trial calls that failed since open_since (they reopen it)"
    )


class GatewayRecentOut(BaseModel):
    calls: int
    success_rate: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    outcomes: dict[str, int]


class FaultChangeOut(BaseModel):
    at: str
    actor: str = Field(description="who switched: console:<user>, operator:<key id>, demo, ...")
    action: Literal["faults"]
    reason: str | None
    detail: str = Field(examples=["outage: off → 503; error_rate: 0 → 0.3"])


class GatewayOut(BaseModel):
    name: str
    protocol: str
    enabled: bool = Field(description="false: taken out of routing for new payments")
    breaker: BreakerOut
    recent: GatewayRecentOut
    credentials_refused_since: str | None = Field(
        description="RFC 3339: since when the gateway refuses paycon's credentials (401/403;"
        " its payments wait, none is declined); null while it accepts them"
    )
    recent_errors: list[str] = Field(description="the last failed calls' errors, newest first")
    routing_changes: list[OutboxAuditOut] = Field(
        description="the latest routing switches (disable, enable), newest first"
    )
    faults: FaultsOut | None = Field(description="an embedded mock gateway's faults; else null")
    fault_changes: list[FaultChangeOut] = Field(
        default=[],
        description="an embedded mock gateway's latest fault switches as the mock recorded "
        "them (the demo's, the console's, the API's, a PUT /_mock/faults), newest first; "
        "detail says each value before and after",
    )


class GatewaysOut(BaseModel):
    gateways: list[GatewayOut]


class TrafficOut(BaseModel):
    """Payment requests this process answered over the window."""

    payments_per_s: float = Field(description="accepted (2xx) payment requests per second")
    error_rate: float | None = Field(description="share answered 4xx or 5xx; null without any")
    window_s: float


class OverviewOut(BaseModel):
    """What the operators' dashboard shows, in one read."""

    at: str
    traffic: TrafficOut
    outbox: OutboxStatsOut
    gateways: list[GatewayOut]
    held_for_review: int = Field(ge=0, description="payments held for review, waiting for a person")
    ledger_breaks: int | None = Field(
        ge=0,
        description="broken ledger invariants found by the service's last check "
        "(paycon ledger verify lists them); null before the first check",
    )


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


_PATTERN_MESSAGES = {
    "customer_id": "1-64 letters, digits or _ . : -",
    "amount": 'must be a positive decimal string such as "100.50"',
    "currency": "a three-letter ISO 4217 code in capitals, such as EUR",
    "country": "a two-letter ISO 3166-1 code in capitals, such as DE",
    "notify_url": "an absolute http(s) URL with a host, without spaces or control characters",
    "destination.iban": "an IBAN: country, check digits, then 11-30 letters or digits",
    "reference": VISIBLE_TEXT_RULE,
    "destination.holder": VISIBLE_TEXT_RULE,
    "gateway": VISIBLE_TEXT_RULE,
    "cursor": "the next_cursor of a previous page",
    "reason": REASON_RULE,
}


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Readable, per-field messages from a pydantic ValidationError."""
    result = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "required"
        elif field == "amount" and kind == "string_type":
            message = _PATTERN_MESSAGES["amount"]
        elif kind == "string_pattern_mismatch" and field in _PATTERN_MESSAGES:
            message = _PATTERN_MESSAGES[field]
        else:
            message = error["msg"]
        result.append(FieldError(field, message))
    return result


def parse_model(model: type[M], data: Any) -> M:
    """Validate ``data`` against ``model``. Raises InvalidInput listing every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("the request has invalid fields", errors=field_errors(exc)) from None


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
