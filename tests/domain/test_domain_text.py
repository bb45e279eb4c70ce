"""The one rule for outside text: no control characters (multi-line text may keep tabs
and line breaks)."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.text import control_character

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
    ("text", "first"),
    [
        ("a\x00b", "\x00"),
        ("\x1b[31mred", "\x1b"),
        ("tab\there", "\t"),
        ("del\x7f", "\x7f"),
        ("c1\x85", "\x85"),
        ("\ud800", "\ud800"),
        ("two\x01\x02", "\x01"),
    ],
)
def test_the_first_refused_character_is_named(text: str, first: str) -> None:
    assert control_character(text) == first


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_text_without_control_characters_passes(text: str) -> None:
    assert control_character(text) is None
    assert control_character(text, multiline=True) is None
