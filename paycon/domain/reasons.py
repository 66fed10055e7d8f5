"""Operators' reasons, as the audit trail keeps them: what a reason may be.

A reason is shown as it is in the console, the CLI and the API, so it holds
no control characters: a newline would break a log line or a table row, an
escape sequence would drive the operator's terminal, and a bidirectional
override would show the audit trail's text in another order than it was
written.
"""

from __future__ import annotations

import re

from paycon.domain.errors import FieldError, InvalidInput

MAX_REASON_CHARS = 255
# C0 controls, DEL and C1 controls; line and paragraph separators; bidirectional
# marks, embeddings, overrides and isolates.
_CONTROL = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
_HAS_CONTROL = re.compile(f"[{_CONTROL}]")
REASON_RULE = f"1 to {MAX_REASON_CHARS} characters, not only spaces, no control characters"
# The same rule for JSON Schema (the API's request models and its OpenAPI document).
REASON_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"


def check_reason(reason: str) -> str:
    """``reason`` if it keeps REASON_RULE; else InvalidInput naming the field ``reason``."""
    if not reason.strip() or len(reason) > MAX_REASON_CHARS or _HAS_CONTROL.search(reason):
        raise InvalidInput("the reason is invalid", errors=[FieldError("reason", REASON_RULE)])
    return reason
