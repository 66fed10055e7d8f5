"""Problem details (RFC 9457) bodies for paycon's errors."""

from __future__ import annotations

from typing import Any

from paycon.domain.errors import FieldError, PayconError


def problem_body(
    *,
    code: str,
    title: str,
    status: int,
    detail: str,
    errors: tuple[FieldError, ...] = (),
) -> dict[str, Any]:
    """A problem+json body; ``code`` is the stable machine-readable name."""
    body: dict[str, Any] = {
        "type": f"urn:paycon:problem:{code}",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return body


def problem_for(error: PayconError) -> dict[str, Any]:
    """The problem body for one of paycon's own errors."""
    return problem_body(
        code=error.code,
        title=error.title,
        status=error.status,
        detail=error.detail,
        errors=error.errors,
    )
