"""Free text: what it may hold, and how the logs show what it may not."""

from __future__ import annotations

import re

import pytest

from paycon.domain.text import (
    VISIBLE_TEXT_PATTERN,
    escape_controls,
    has_controls,
    is_visible_text,
)

CONTROLS = ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029",
            "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069"]  # fmt: skip


@pytest.mark.parametrize("char", CONTROLS)
def test_every_control_is_refused_by_the_rule_and_its_pattern(char: str) -> None:
    text = f"Jane{char}Doe"
    assert has_controls(text)
    assert not is_visible_text(text)
    assert re.fullmatch(VISIBLE_TEXT_PATTERN, text) is None
    assert not has_controls(escape_controls(text))


@pytest.mark.parametrize(
    "text", ["Jane Doe", "Zoë Ødegård", "ORDER-2026/11 #4", "李小龙", "מזל טוב"]
)
def test_ordinary_text_in_any_script_is_kept_as_it_is(text: str) -> None:
    assert is_visible_text(text)
    assert re.fullmatch(VISIBLE_TEXT_PATTERN, text)
    assert escape_controls(text) is text


def test_blank_text_is_not_visible() -> None:
    assert not is_visible_text("   ")
    assert re.fullmatch(VISIBLE_TEXT_PATTERN, "   ") is None


def test_escaped_controls_read_as_their_code_points() -> None:
    assert escape_controls("a\nb\x1b\u202ec") == "a\\x0ab\\x1b\\u202ec"
