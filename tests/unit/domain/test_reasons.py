from __future__ import annotations

import pytest

from paycon.domain.errors import InvalidInput
from paycon.domain.reasons import check_reason


@pytest.mark.parametrize(
    "reason", ["A is down", "x", "x" * 255, "Störung bei A — ticket #42", "תקלה אצל A", "A 停机"]
)
def test_a_reason_may_be_any_visible_text(reason: str) -> None:
    assert check_reason(reason) == reason


@pytest.mark.parametrize(
    "reason",
    [
        "", "   ", "x" * 256, "a\x00b", "a\nb", "a\tb", "a\rb", "\x1b[31mred", "a\x7fb", "a\x1f",
        "a\x85b", "\x9b31mred", "a\u2028b", "refund \u202eDCBA", "a\u2066b\u2069", "a\u200fb",
    ],
    ids=[
        "empty", "spaces", "long", "nul", "newline", "tab", "cr", "escape", "del", "unit-sep",
        "c1-next-line", "c1-csi", "line-separator", "right-to-left-override", "isolate", "rl-mark",
    ],
)  # fmt: skip
def test_blank_long_or_control_reasons_are_refused_naming_the_field(reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_reason(reason)
    assert [e.field for e in refused.value.errors] == ["reason"]
