"""JSON request bodies are decoded strictly: `"1200"` is not an integer.

Litestar decodes a body to plain Python values and then converts those, together with the
path, query and header parameters, to the handler's types in one lax (`strict=False`)
msgspec conversion: lax is right for parameters, which arrive as strings, but it would
also turn a body's `"amount": "1200"` into 1200. the contract says bodies are JSON validated with
msgspec, where a string is not a number; so the request class checks the body against
the handler's `data` type with a strict msgspec decode first, and refuses what that
refuses, naming the field. Parameters still convert from strings.

The same reader applies the text rule to bodies (text_rules.py): a body that is not valid
UTF-8, or a string in it holding control characters, is refused before anything else.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from entrypoints.http.text_rules import check_body_text, refusal

# msgspec ends a validation message with the path of the offending value.
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")

# Bodies the handler takes as they came (a webhook's signed bytes): nothing to check.
_RAW = (bytes, bytearray, str, Any)


def _json(body: bytes) -> Any:
    return msgspec.json.decode(body)


def _whole_numbers(value: Any) -> Any:
    """`value` with every float that is a whole number (`2.0`) as an int: JSON has one
    kind of number, and JSON Schema's `integer` admits `2.0`, so clients may send it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def _problem(error: msgspec.ValidationError) -> dict[str, str]:
    """Litestar's own shape for a body error (`errors.py` turns it into `{field,
    message}`): the key of a whole-body error is `data`, a field's is its dotted path."""
    message = str(error)
    key = "data"
    if (found := _PATH.search(message)) is not None:
        message = message[: found.start()]
        key = found.group("path").removeprefix(".") or "data"
    return {"message": message, "key": key, "source": "body"}


class StrictBodyRequest(Request[Any, Any, Any]):
    """A request whose JSON body must match the handler's `data` type exactly."""

    async def json(self) -> Any:
        field = self.route_handler.parsed_data_field
        body = await self.body()
        if body and field is not None and field.annotation not in _RAW:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                raise refusal("body", "body", "must be valid UTF-8 JSON") from None
            try:
                msgspec.convert(_whole_numbers(_json(body)), field.annotation, strict=True)
            except msgspec.ValidationError as error:
                raise ValidationException(
                    detail=f"Validation failed for {self.method} {self.url.path}",
                    extra=[_problem(error)],
                ) from None
            except msgspec.DecodeError:
                pass  # not JSON at all: Litestar's own decoding reports it
        value = await super().json()
        if field is not None and field.annotation not in _RAW:
            check_body_text(value)
        return value
