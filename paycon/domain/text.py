"""Free text that people read: what it may hold, and how it is shown where it may not.

Merchant fields (a reference, a holder's name) and operators' reasons are shown
as they are in the console, the CLI, the API and the logs. So they hold no
control characters: a newline would break a log line or a table row (or forge
one), an escape sequence would drive the reader's terminal, and a
bidirectional override would show the text in another order than it was
written. Logs escape such characters in whatever they are given
(``escape_controls``).
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls; line and paragraph separators; bidirectional
# marks, embeddings, overrides and isolates.
CONTROL_CLASS = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
_CONTROL = re.compile(f"[{CONTROL_CLASS}]")
# Text with at least one visible character and no control character, for JSON
# Schema (the API's request models and its OpenAPI document) and for ``re``.
VISIBLE_TEXT_PATTERN = f"^[^{CONTROL_CLASS}]*[^\\s{CONTROL_CLASS}][^{CONTROL_CLASS}]*$"
VISIBLE_TEXT_RULE = (
    "not only spaces, no control characters (C0, DEL, C1, line separators, bidirectional marks)"
)


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a character that VISIBLE_TEXT_PATTERN refuses as a control."""
    return _CONTROL.search(text) is not None


def is_visible_text(text: str) -> bool:
    """Whether ``text`` holds something visible and no control character."""
    return bool(text.strip()) and not has_controls(text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with each control character written as ``\\xNN`` or ``\\uNNNN``."""
    if not has_controls(text):  # the common case costs one search
        return text
    return _CONTROL.sub(_escaped, text)
