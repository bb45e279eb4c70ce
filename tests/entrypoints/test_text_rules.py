"""The HTTP edge's text rule on decoded JSON bodies: every string and key is checked and
named by its path; only descriptions may keep tabs and line breaks."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.exceptions import ValidationException

from entrypoints.http.text_rules import check_body_text


def refused_field(body: Any) -> str | None:
    try:
        check_body_text(body)
    except ValidationException as error:
        problems = error.extra if isinstance(error.extra, list) else [{}]
        return str(problems[0].get("key"))
    return None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "a\x00b"}, "full_name"),
        ({"shipping_address": {"city": "x\x1b"}}, "shipping_address.city"),
        ({"scopes": ["orders:read", "x\x7f"]}, "scopes[1]"),
        ({"items": [{"name": "\x85"}]}, "items[0].name"),
        ({"na\x00me": "x"}, "na\x00me"),
        ("\x00", "body"),
        ({"name": "two\nlines"}, "name"),
        ({"description": {"nested": "a\tb"}}, "description.nested"),
    ],
)
def test_the_first_string_breaking_the_rule_is_named_by_its_path(body: Any, field: str) -> None:
    assert refused_field(body) == field


@pytest.mark.parametrize(
    "body",
    [
        {"description": "Sturdy.\n\tHolds 300 ml.\r\n"},
        {"name": "Café ☕ 東京", "count": 3, "ok": True, "none": None},
        [],
        {},
    ],
)
def test_bodies_within_the_rule_pass(body: Any) -> None:
    assert refused_field(body) is None
