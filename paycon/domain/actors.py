"""Who did it, as the audit trail names them.

Actions through the operator API are audited as ``operator:<key id>``. A key
shared by a team hides the person, so a client may add who is at the
keyboard in the ``X-Operator-Name`` header: the entry then reads
``operator:<key id>/<name>``. The name is the client's word (the key is what
was authenticated); it is kept short and plain so that it shows as it is.
"""

from __future__ import annotations

import re

from paycon.domain.errors import FieldError, InvalidInput

OPERATOR_NAME_HEADER = "X-Operator-Name"
MAX_OPERATOR_NAME_CHARS = 32
# The same rule for JSON Schema (the OpenAPI document).
OPERATOR_NAME_PATTERN = rf"^[A-Za-z0-9._@+-]{{1,{MAX_OPERATOR_NAME_CHARS}}}$"
_OPERATOR_NAME = re.compile(OPERATOR_NAME_PATTERN)
OPERATOR_NAME_RULE = (
    f"1 to {MAX_OPERATOR_NAME_CHARS} letters, digits or . _ @ + - (who is at the keyboard)"
)


def is_operator_name(name: str) -> bool:
    """Whether ``name`` keeps OPERATOR_NAME_RULE."""
    return _OPERATOR_NAME.fullmatch(name) is not None


def operator_actor(key_id: str, name: str | None) -> str:
    """``operator:<key id>``, with ``/<name>`` when the client named the operator.

    Raises InvalidInput naming the header when ``name`` breaks OPERATOR_NAME_RULE.
    """
    if name is None:
        return f"operator:{key_id}"
    if not is_operator_name(name):
        raise InvalidInput(
            f"the {OPERATOR_NAME_HEADER} header is invalid",
            errors=[FieldError(OPERATOR_NAME_HEADER, OPERATOR_NAME_RULE)],
        )
    return f"operator:{key_id}/{name}"
