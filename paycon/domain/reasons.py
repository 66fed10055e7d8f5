"""Operators' reasons, as the audit trail keeps them: what a reason may be.

A reason is free text shown as it is in the console, the CLI and the API, so
it keeps the rule of ``paycon.domain.text``: something visible, no control
characters.
"""

from __future__ import annotations

from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.text import VISIBLE_TEXT_PATTERN, is_visible_text

MAX_REASON_CHARS = 255
REASON_RULE = f"1 to {MAX_REASON_CHARS} characters, not only spaces, no control characters"
# The same rule for JSON Schema (the API's request models and its OpenAPI document).
REASON_PATTERN = VISIBLE_TEXT_PATTERN


def check_reason(reason: str) -> str:
    """``reason`` if it keeps REASON_RULE; else InvalidInput naming the field ``reason``."""
    if len(reason) > MAX_REASON_CHARS or not is_visible_text(reason):
        raise InvalidInput("the reason is invalid", errors=[FieldError("reason", REASON_RULE)])
    return reason
