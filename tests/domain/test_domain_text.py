"""The one rule for outside text: no control characters (multi-line text may keep tabs
and line breaks)."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.text import control_character, refuse_control_characters

LINE_BREAKS = "\t\n\r"


def test_the_rule_refuses_exactly_the_control_characters_and_lone_surrogates() -> None:
    refused = {chr(c) for c in range(sys.maxunicode + 1) if control_character(chr(c))}

    expected = {
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("Cc", "Cs")
    }
    assert refused == expected


def test_multi_line_text_may_keep_tabs_and_line_breaks_and_nothing_else() -> None:
    for c in range(0x100):
        text = f"a{chr(c)}b"
        if chr(c) in LINE_BREAKS:
            assert control_character(text, multiline=True) is None
        else:
            assert control_character(text, multiline=True) == control_character(text)


@pytest.mark.parametrize(
    "text", ["a\x00b", "\x1b[31mred", "tab\there", "del\x7f", "c1\x85", "\ud800"]
)
def test_refusing_names_the_field_and_the_character(text: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        refuse_control_characters("full_name", text)

    assert raised.value.field == "full_name"
    assert "U+" in raised.value.reason


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_text_without_control_characters_passes_unchanged(text: str) -> None:
    assert refuse_control_characters("name", text) == text
    assert refuse_control_characters("description", text, multiline=True) == text
