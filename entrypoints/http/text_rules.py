"""The edge rule for text: every string a client sends meets `domain.text`'s rule once,
here, before any handler, guard or query sees it.

- Query parameters, path segments and header values: no control characters (tabs
  included); the query string must be valid UTF-8 once percent-decoded.
- JSON bodies (see strict_bodies.py): valid UTF-8, and no control characters in any
  string, keys included; only a `description` may keep tabs and line breaks.
- A path parameter naming an id (`{..._id}`) that cannot be an id (`domain.values.
  could_be_id`) is 404 at once: no lookup is worth a query.

A breach is a 400 validation problem naming the parameter, header or body field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from domain.text import control_character
from domain.values import could_be_id

# Body fields holding multi-line text.
MULTILINE_FIELDS = frozenset({"description"})

REFUSED = "must not contain control characters"


def refusal(source: str, field: str, message: str = REFUSED) -> ValidationException:
    """The 400 problem for `field` of `source` (query, header, path or body)."""
    return ValidationException(
        detail=f"invalid {source}",
        extra=[{"message": message, "key": field, "source": source}],
    )


def check_body_text(value: Any, path: str = "") -> None:
    """Raise the 400 refusal for the first string in a decoded JSON body that breaks the
    rule, naming it by its dotted path (`shipping_address.name`, `scopes[1]`)."""
    for field, text, multiline in _strings(value, path, multiline=False):
        if control_character(text, multiline=multiline) is not None:
            raise refusal("body", field or "body")


def _strings(value: Any, path: str, *, multiline: bool) -> Iterator[tuple[str, str, bool]]:
    if isinstance(value, str):
        yield path, value, multiline
    elif isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield field, key, False
            yield from _strings(item, field, multiline=key in MULTILINE_FIELDS)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]", multiline=False)


def _check_query(query_string: bytes) -> None:
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise refusal("query", "query", "must be valid UTF-8 once percent-decoded") from None
    for name, value in pairs:
        if control_character(name) is not None or control_character(value) is not None:
            raise refusal("query", name)


def _check_headers(headers: list[tuple[bytes, bytes]]) -> None:
    for name, value in headers:
        # A value that is not UTF-8 is read as Latin-1 downstream: replacing the bytes
        # keeps its bytes 0x80-0x9F from passing for C1 controls here.
        if control_character(value.decode("utf-8", "replace")) is not None:
            raise refusal("header", name.decode("latin-1"))


def _check_path(scope: Scope) -> None:
    if control_character(str(scope["path"])) is not None:
        raise refusal("path", "path")
    for name, value in (scope.get("path_params") or {}).items():
        if name.endswith("_id") and isinstance(value, str) and not could_be_id(value):
            # The value is not echoed: it can be anything, of any length.
            raise NotFoundException(detail=f"no such {name.removesuffix('_id')}")


class TextRulesMiddleware(ASGIMiddleware):
    """Refuses requests whose path, query or headers break the text rule, and answers
    404 for path ids that cannot be ids (see the module docstring)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        _check_path(scope)
        _check_query(scope.get("query_string", b""))
        _check_headers(list(scope.get("headers", [])))
        await next_app(scope, receive, send)
