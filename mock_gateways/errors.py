"""The mock gateways' exception tree.

Every error a mock raises on purpose derives from ``MockGatewayError``; the
apps map these to responses in one place (``app.py``), by type.
"""

from __future__ import annotations


class MockGatewayError(Exception):
    """Base of every error the mock gateways raise on purpose."""

    code = "mock_error"


class InvalidRequest(MockGatewayError):
    """A gateway request the mock refuses to process (answered 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PaymentDeclined(MockGatewayError):
    """A new payment refused at request time with a documented decline code (422)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class UnknownTransaction(MockGatewayError):
    """No payment with this transaction id is in the ledger (answered 404)."""

    code = "unknown_transaction"


class ConflictingRepeat(MockGatewayError):
    """A repeat submission whose terms differ from the first (answered 409)."""

    code = "conflicting_repeat"


class GhostUnavailable(MockGatewayError):
    """The ``ghost_503_rate`` fault: the payment was recorded, the answer is 503 anyway."""

    code = "service_unavailable"


class InvalidFaults(MockGatewayError):
    """A fault setting that is unknown or out of range (answered 400)."""

    code = "invalid_faults"


class StartError(MockGatewayError):
    """A mock gateway could not start, for example because its port is taken."""

    code = "start_failed"


class ConfigError(MockGatewayError):
    """The mock gateways were started without something they need, like a secret."""

    code = "config_error"
