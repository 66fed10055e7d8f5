"""What operators ask for: list filters and a decision on a held payment, checked the
same way whether they come over HTTP or from the console and the CLI."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from outbox import TaskState
from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.reasons import MAX_REASON_CHARS, REASON_PATTERN, REASON_RULE
from paycon.domain.status import Kind, Status
from paycon.domain.text import VISIBLE_TEXT_RULE
from paycon.domain.transactions import TRANSACTION_ID_PATTERN

M = TypeVar("M", bound=BaseModel)

CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
CustomerId = Annotated[str, Field(pattern=CUSTOMER_ID_PATTERN, examples=["cus_42"])]
# An operator's reason for the audit trail (paycon.domain.reasons says what it may be).
Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON_CHARS, pattern=REASON_PATTERN)]


class Strict(BaseModel):
    """A request body: unknown fields and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ResolveIn(Strict):
    """Body of ``POST /v1/transactions/{id}/resolve``: an operator's decision on a held payment."""

    status: Literal["completed", "failed"] = Field(
        description="the payment's outcome; failed on a completed payment reverses it"
    )
    reason: Reason


class TaskListQuery(BaseModel):
    """Query parameters of ``GET /v1/outbox/tasks``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: TaskState | None = None
    kind: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    gateway: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="only submit tasks bound for this gateway"
    )
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[str, Field(max_length=64)] | None = None


class TransactionListQuery(BaseModel):
    """Query parameters of ``GET /v1/transactions``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status | None = None
    kind: Kind | None = None
    gateway: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    customer_id: CustomerId | None = None
    reference: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="exactly this merchant reference"
    )
    review: Literal["true"] | None = Field(
        default=None, description="only payments held for review (an operator key)"
    )
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, Field(pattern=TRANSACTION_ID_PATTERN)] | None = Field(
        default=None, description="next_cursor of the previous page"
    )


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
