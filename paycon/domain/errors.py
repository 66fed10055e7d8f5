"""The exception tree of paycon's domain and use cases.

Every error carries a machine-readable ``code`` (it becomes the problem ``type``)
and an HTTP-ish ``status`` so the API maps them in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One invalid input field: where it is and what is wrong with it."""

    field: str
    message: str


class PayconError(Exception):
    """Base of every error paycon raises on purpose."""

    code = "paycon_error"
    status = 500
    title = "Internal error"
    # Seconds after which a retry may succeed (the Retry-After header), for temporary refusals.
    retry_after_s: int | None = None

    def __init__(self, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class InvalidInput(PayconError):
    """The request is malformed or a field is invalid."""

    code = "invalid_request"
    status = 400
    title = "Invalid request"


class UnprocessablePayment(PayconError):
    """The request is well-formed but cannot be accepted as a payment."""

    code = "unprocessable"
    status = 422
    title = "Payment cannot be accepted"


class InsufficientFunds(UnprocessablePayment):
    code = "insufficient_funds"
    title = "Insufficient funds"


class GatewayNotAllowed(UnprocessablePayment):
    code = "gateway_not_allowed"
    title = "Gateway cannot serve this payment"


class AmountOverLimit(UnprocessablePayment):
    code = "amount_over_limit"
    title = "Amount over the limit"


class NoRoute(UnprocessablePayment):
    code = "no_route"
    title = "No gateway serves this payment"


class RoutingPaused(PayconError):
    """Every gateway that serves the payment is out of routing: an operator's
    decision, usually for a short while, so the merchant should retry later."""

    code = "gateways_out_of_routing"
    status = 503
    title = "Every gateway for this payment is out of routing"
    retry_after_s = 60


class NotifyUrlRefused(UnprocessablePayment):
    """The ``notify_url`` is not a place paycon sends notifications to (not
    https, not a public address, or a name that does not resolve)."""

    code = "notify_url_refused"
    title = "notify_url refused"


class IdempotencyKeyReused(PayconError):
    code = "idempotency_key_reused"
    status = 422
    title = "Idempotency key reused with another request"


class IdempotencyInFlight(PayconError):
    code = "idempotency_in_flight"
    status = 409
    title = "A request with this idempotency key is still running"


class NotFound(PayconError):
    code = "not_found"
    status = 404
    title = "Not found"


class ConfigError(PayconError):
    """The configuration is invalid; ``detail`` names the setting."""

    code = "config_error"
    title = "Invalid configuration"


class PortUnavailable(PayconError):
    """A port paycon must listen on (the API's, an embedded mock gateway's) is taken or refused;
    ``detail`` names it and says what to change."""

    code = "port_unavailable"
    title = "Port unavailable"


class BodyTooLarge(InvalidInput):
    code = "body_too_large"
    status = 413
    title = "Request body too large"


class UnsupportedMediaType(InvalidInput):
    code = "unsupported_media_type"
    status = 415
    title = "Unsupported media type"


class Unauthorized(PayconError):
    code = "unauthorized"
    status = 401
    title = "Unauthorized"


class Forbidden(PayconError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


class Conflict(PayconError):
    """The action does not fit the current state of what it acts on."""

    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class NotFinalYet(PayconError):
    """A gateway has no final answer yet; the task asks again later (a retry)."""

    code = "not_final_yet"
    status = 409
    title = "No final answer yet"


class NotifyFailed(PayconError):
    """The merchant's notify_url did not take a notification; it is retried."""

    code = "notify_failed"
    status = 502
    title = "Merchant notification failed"


class FacadeUnavailable(PayconError):
    """The console or CLI cannot reach the service or its database; ``detail`` says which."""

    code = "unavailable"
    status = 503
    title = "Service unavailable"
