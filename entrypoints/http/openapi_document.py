"""The served OpenAPI document made exact: what Litestar generates from the handlers and
msgspec structs, plus every rule the server enforces that those types do not carry.

Clients generate typed code from `/schema/openapi.json` and never read ours, so the
document states each rule the shop applies to a request: the text rule (no control
characters, `domain.text`), required text (non-empty once trimmed, at most N characters
once trimmed, `domain.values.required_text`), ids (`domain.values.could_be_id`), the
shop's one currency, number bounds (`domain.money.MAX_AMOUNT`, `domain.catalog.
MAX_INVENTORY`), unknown body fields refused (`additionalProperties: false`). It also gives
each operation a stable `operationId` (the handler's name), a summary, examples, the
`Allow`-free HEAD/OPTIONS aside, OpenAPI links between the calls that create things and
the calls that use them, and the problem `type`s each error status can carry.

`refine(document)` is pure: it returns a new document built from Litestar's.
"""

from __future__ import annotations

import copy
import functools
import unicodedata
from typing import Any

from application.orders import MAX_IDEMPOTENCY_KEY_LENGTH
from application.ports.persistence import MAX_PAGE_SIZE
from domain.catalog import MAX_DESCRIPTION_LENGTH, MAX_INVENTORY, MAX_SKU_LENGTH
from domain.money import MAX_AMOUNT
from domain.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Role, Scope
from domain.values import MAX_EMAIL_LENGTH, MAX_ID_LENGTH, MAX_QUANTITY, MIN_QUANTITY
from entrypoints.http.controllers.audit import RFC3339
from entrypoints.http.problem_types import problem_types_for
from entrypoints.settings import Settings

# Regular expressions that mean the same in ECMA-262 (the JSON Schema dialect) and in
# Python (which schemathesis and most validators run).
_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
_TEXT_CHAR = f"[^{_CONTROL}]"
_SPACE = f"[^\\S{_CONTROL}]"  # white space that is not a control character
_SOLID = f"[^\\s{_CONTROL}]"  # neither white space nor a control character


def _ranges(codes: list[int]) -> str:
    """Code points as the body of a regular-expression character class."""
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(
        _one(start) if start == end else f"{_one(start)}-{_one(end)}" for start, end in ranges
    )


def _one(code: int) -> str:
    # An escape for the Basic Multilingual Plane; beyond it the character itself, which
    # a pattern reads as one code point (JSON carries it as a surrogate pair).
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


def _breaks_an_email(character: str) -> bool:
    """Whether `character` cannot stand in an address part: white space, `@`, `.`, a
    control or invisible (Cf) character, or one whose NFKC form holds one of those (an
    address is checked in that form: `domain.values.Email`)."""
    if unicodedata.category(character) == "Cf":
        return True
    normal = unicodedata.normalize("NFKC", character).lower()
    return any(c.isspace() or c in "@." or unicodedata.category(c) in ("Cc", "Cf") for c in normal)


@functools.cache
def email_pattern() -> str:
    """Addresses `domain.values.Email` takes: parts without white space or `@`, a dot in
    the domain, surrounding white space allowed (it is trimmed). Characters that NFKC
    turns into one of those, and invisible ones (in every plane), are left out."""
    excluded = [
        code
        for code in range(0x110000)
        if not 0xD800 <= code <= 0xDFFF and code != 0x2E and _breaks_an_email(chr(code))
    ]
    part = f"[^{_ranges(excluded)}]+"
    return f"^{_SPACE}*{part}@{part}\\.{part}{_SPACE}*$"


ID_PATTERN = f"^[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}$"
CURSOR_PATTERN = "^[A-Za-z0-9_-]{0,1024}$"
# Printable characters (str.isprintable) an HTTP header can carry as Latin-1: visible
# ASCII, the space, and Latin-1 letters and signs but no-break space and soft hyphen.
IDEMPOTENCY_KEY_PATTERN = f"^[ -~\\u00a1-\\u00ac\\u00ae-\\u00ff]{{1,{MAX_IDEMPOTENCY_KEY_LENGTH}}}$"


def required_text(max_length: int, description: str | None = None) -> dict[str, Any]:
    """Text that is not empty once trimmed and at most `max_length` characters once
    trimmed (surrounding white space is dropped), without control characters."""
    schema: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "pattern": (f"^{_SPACE}*{_SOLID}(?:{_TEXT_CHAR}{{0,{max_length - 2}}}{_SOLID})?{_SPACE}*$"),
    }
    if description:
        schema["description"] = description
    return schema


def optional_text(max_length: int) -> dict[str, Any]:
    """Text that may be empty or white space (read as absent), else as `required_text`."""
    return {
        "type": "string",
        "pattern": (
            f"^{_SPACE}*(?:{_SOLID}(?:{_TEXT_CHAR}{{0,{max_length - 2}}}{_SOLID})?)?{_SPACE}*$"
        ),
    }


def plain_text(max_length: int) -> dict[str, Any]:
    """Any text without control characters, at most `max_length` characters."""
    return {"type": "string", "maxLength": max_length, "pattern": f"^{_TEXT_CHAR}*$"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _money(currency: str, *, minimum: int) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount", "currency"],
        "properties": {
            "amount": {
                "type": "integer",
                "minimum": minimum,
                "maximum": MAX_AMOUNT,
                "description": "minor units (cents for USD)",
            },
            "currency": {
                "type": "string",
                "enum": [currency],
                "description": "the shop's currency (ISO 4217)",
            },
        },
        "example": {"amount": 1250, "currency": currency},
    }


def _password(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": MIN_PASSWORD_LENGTH,
        "maxLength": MAX_PASSWORD_LENGTH,
        "pattern": f"^{_TEXT_CHAR}*$",
        "description": description,
    }


NEW_PASSWORD = (
    f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters; a common password, or one "
    "of fewer than 3 different characters, is refused (400 `weak-password`)"
)


def email() -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": MAX_EMAIL_LENGTH,
        "pattern": email_pattern(),
        "description": "compared in Unicode NFKC form, lower-cased and trimmed; an address "
        "holding invisible characters (zero-width, bidi controls) is refused",
        "example": "ann@example.com",
    }


def request_schemas(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every request body's schema, exactly as the server checks it."""
    currency = settings.shop.currency

    def body(
        properties: dict[str, Any], required: list[str], example: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": properties,
            "required": required,
            "examples": [example],
        }

    address = body(
        {
            "name": required_text(200),
            "line1": required_text(200),
            "line2": _nullable(optional_text(200)),
            "city": required_text(100),
            "postal_code": required_text(20),
            "country": {
                "type": "string",
                "pattern": f"^{_SPACE}*[A-Za-z]{{2}}{_SPACE}*$",
                "description": "ISO 3166-1 alpha-2 code, e.g. US",
            },
        },
        ["name", "line1", "city", "postal_code", "country"],
        {
            "name": "Ann Archer",
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
    )
    file_announcement = body(
        {
            "filename": required_text(255),
            "content_type": {"type": "string", "enum": sorted(settings.files.upload_content_types)},
            "size": {"type": "integer", "minimum": 1, "maximum": settings.files.upload_max_bytes},
        },
        ["filename", "content_type", "size"],
        {"filename": "mug.png", "content_type": "image/png", "size": 20480},
    )
    sku = {
        "type": "string",
        "pattern": f"^{_SPACE}*{_SOLID}{{1,{MAX_SKU_LENGTH}}}{_SPACE}*$",
        "description": "the shop's own product code, unique; no spaces",
    }
    description = {
        "type": "string",
        "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$",
        "maxLength": MAX_DESCRIPTION_LENGTH,
        "description": "may hold tabs and line breaks",
    }
    product_fields = {
        "name": required_text(200),
        "description": description,
        "price": _money(currency, minimum=0),
        "inventory_count": {"type": "integer", "minimum": 0, "maximum": MAX_INVENTORY},
        "category": required_text(100),
    }
    return {
        "Registration": body(
            {
                "email": email(),
                "password": _password(NEW_PASSWORD),
                "full_name": required_text(200),
            },
            ["email", "password", "full_name"],
            {
                "email": "ann@example.com",
                "password": "correct horse battery",
                "full_name": "Ann Archer",
            },
        ),
        "Login": body(
            {"email": email(), "password": {"type": "string", "pattern": f"^{_TEXT_CHAR}*$"}},
            ["email", "password"],
            {"email": "ann@example.com", "password": "correct horse battery"},
        ),
        "RefreshRequest": body(
            {"refresh_token": {"type": "string", "pattern": f"^{_TEXT_CHAR}*$"}},
            ["refresh_token"],
            {"refresh_token": "the refresh_token of the last token pair"},
        ),
        "PasswordResetRequest": body({"email": email()}, ["email"], {"email": "ann@example.com"}),
        "PasswordResetConfirmation": body(
            {
                "token": {"type": "string", "pattern": f"^{_TEXT_CHAR}*$"},
                "new_password": _password(NEW_PASSWORD),
            },
            ["token", "new_password"],
            {"token": "the token from the email", "new_password": "a new long passphrase"},
        ),
        "ProfileChanges": {
            **body(
                {
                    "full_name": required_text(200),
                    "current_password": {"type": "string", "pattern": f"^{_TEXT_CHAR}*$"},
                    "new_password": _password(NEW_PASSWORD),
                },
                [],
                {"full_name": "Ann B. Archer"},
            ),
            "dependentRequired": {
                "current_password": ["new_password"],
                "new_password": ["current_password"],
            },
        },
        "UserChanges": body(
            {
                "role": {"type": "string", "enum": [role.value for role in Role]},
                "is_active": {"type": "boolean"},
            },
            [],
            {"role": "staff"},
        ),
        "NewApiKey": body(
            {
                "name": required_text(100),
                "scopes": {
                    "type": "array",
                    "items": {"type": "string", "enum": [scope.value for scope in Scope]},
                    "minItems": 1,
                    "maxItems": 10,
                },
            },
            ["name", "scopes"],
            {"name": "warehouse sync", "scopes": ["orders:read"]},
        ),
        "NewProduct": body(
            {**product_fields, "sku": _nullable(sku)},
            ["name", "price", "inventory_count", "category"],
            {
                "name": "Mug",
                "description": "A mug",
                "price": {"amount": 1250, "currency": currency},
                "inventory_count": 10,
                "category": "kitchen",
                "sku": "MUG-001",
            },
        ),
        "ProductChanges": body(
            {**product_fields, "sku": sku},
            [],
            {"price": {"amount": 1150, "currency": currency}},
        ),
        "InventoryAdjustment": body(
            {
                "delta": {
                    "type": "integer",
                    "minimum": -MAX_INVENTORY,
                    "maximum": MAX_INVENTORY,
                    "not": {"const": 0},
                    "description": "a restock (positive) or a correction (negative), not 0",
                }
            },
            ["delta"],
            {"delta": 25},
        ),
        "FileAnnouncement": file_announcement,
        "CartLine": body(
            {"quantity": {"type": "integer", "minimum": MIN_QUANTITY, "maximum": MAX_QUANTITY}},
            ["quantity"],
            {"quantity": 2},
        ),
        "ShippingAddress": address,
        "Checkout": body(
            {"shipping_address": {"$ref": "#/components/schemas/ShippingAddress"}},
            ["shipping_address"],
            {"shipping_address": address["examples"][0]},
        ),
        "Shipment": body(
            {"tracking_number": _nullable(required_text(100))},
            [],
            {"tracking_number": "1Z999AA10123456784"},
        ),
        "RefundRequest": body(
            {
                "amount": _nullable(_money(currency, minimum=1)),
                "reason": _nullable(plain_text(500)),
            },
            [],
            {"amount": {"amount": 500, "currency": currency}, "reason": "damaged in transit"},
        ),
    }


# Query parameters by name, wherever they appear.
def query_parameters(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        "cursor": {
            "type": "string",
            "pattern": CURSOR_PATTERN,
            "description": "`next_cursor` of the previous page, as the API gave it; any "
            "other value is 400",
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 20},
        "q": plain_text(200),
        "category": plain_text(100),
        "actor": plain_text(200),
        "target": plain_text(64),
        # `null` (the word) reads as absent, as for every optional parameter.
        "min_price": _nullable({"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT}),
        "max_price": _nullable({"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT}),
        "currency": {"type": "string", "enum": [settings.shop.currency]},
        "since": _nullable({"type": "string", "format": "date-time", "pattern": RFC3339}),
    }


EXAMPLE_ID = "0196b0f2-8c1e-7c3a-9d1f-2f6f5a0e4b1c"
QUERY_EXAMPLES: dict[str, Any] = {
    "limit": 20,
    "q": "mug",
    "category": "kitchen",
    "min_price": 500,
    "max_price": 5000,
    "in_stock": True,
    "sort": "price",
    "status": "paid",
    "since": "2026-01-01T00:00:00Z",
}


# (path, method) -> {link name: (target operationId, {parameter: runtime expression})}
_ORDER = "$response.body#/order/id"
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str]]]] = {
    ("/orders", "post"): {
        "GetOrder": ("get_order", {"order_id": _ORDER}),
        "CancelOrder": ("cancel_order", {"order_id": _ORDER}),
        "ShipOrder": ("ship_order", {"order_id": _ORDER}),
        "DeliverOrder": ("deliver_order", {"order_id": _ORDER}),
        "ListPayments": ("list_payments", {"order_id": _ORDER}),
        "RefundOrder": ("refund_order", {"order_id": _ORDER}),
    },
    ("/products", "post"): {
        "GetProduct": ("get_product", {"product_id": "$response.body#/id"}),
        "ChangeProduct": ("change_product", {"product_id": "$response.body#/id"}),
        "ArchiveProduct": ("archive_product", {"product_id": "$response.body#/id"}),
        "AdjustInventory": ("adjust_inventory", {"product_id": "$response.body#/id"}),
        "RequestImageUpload": ("request_image_upload", {"product_id": "$response.body#/id"}),
        "PutInCart": ("set_item", {"product_id": "$response.body#/id"}),
    },
    ("/products/{product_id}/images", "post"): {
        "CompleteImageUpload": (
            "complete_image_upload",
            {"product_id": "$request.path.product_id", "image_id": "$response.body#/image_id"},
        ),
    },
    ("/api-keys", "post"): {"RevokeKey": ("revoke_key", {"key_id": "$response.body#/id"})},
    ("/uploads", "post"): {"GetUpload": ("get_upload", {"upload_id": "$response.body#/upload_id"})},
    ("/auth/register", "post"): {
        "GetUser": ("get_user", {"user_id": "$response.body#/user/id"}),
        "ChangeUser": ("change_user", {"user_id": "$response.body#/user/id"}),
        "Refresh": ("refresh", {"refresh_token": "$response.body#/refresh_token"}),
    },
    ("/auth/login", "post"): {
        "GetUser": ("get_user", {"user_id": "$response.body#/user/id"}),
        "Refresh": ("refresh", {"refresh_token": "$response.body#/refresh_token"}),
    },
    ("/users", "get"): {"NextPage": ("list_users", {"cursor": "$response.body#/next_cursor"})},
    ("/api-keys", "get"): {"NextPage": ("list_keys", {"cursor": "$response.body#/next_cursor"})},
    ("/products", "get"): {
        "NextPage": ("list_products", {"cursor": "$response.body#/next_cursor"})
    },
    ("/orders", "get"): {"NextPage": ("list_orders", {"cursor": "$response.body#/next_cursor"})},
    ("/admin/audit", "get"): {
        "NextPage": ("list_audit", {"cursor": "$response.body#/next_cursor"})
    },
}
# Body fields a link fills in (OpenAPI links can only name parameters; `requestBody`
# carries a body field).
_BODY_LINK_FIELDS = {"refresh_token"}

# The token a sign-in hands out is the bearer credential of every later call.
_TOKEN_NOTE = (
    "Send `access_token` as `Authorization: Bearer <access_token>` on later calls; spend "
    "`refresh_token` at `POST /auth/refresh` for a new pair before `expires_in` seconds."
)


def _summary(handler_name: str) -> str:
    words = handler_name.replace("_", " ")
    return words[0].upper() + words[1:]


def refine(document: dict[str, Any], settings: Settings, version: str) -> dict[str, Any]:
    """The exact document: `document` (as Litestar made it) with the server's rules."""
    doc = copy.deepcopy(document)
    doc["info"]["version"] = version
    schemas: dict[str, Any] = doc["components"]["schemas"]
    requests = request_schemas(settings)
    for name, schema in requests.items():
        schemas[name] = {"title": name, **schema}
    queries = query_parameters(settings)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            _refine_operation(path, method, operation, requests, queries)
    _document_problems(doc)
    return doc


def _refine_operation(
    path: str,
    method: str,
    operation: dict[str, Any],
    requests: dict[str, Any],
    queries: dict[str, Any],
) -> None:
    if " " not in operation.get("summary", ""):  # Litestar's CamelCase of the handler name
        operation["summary"] = _summary(operation["operationId"])
    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        if where == "path" and name.endswith("_id"):
            parameter["schema"] = {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "an id the API gave; anything else is 404",
            }
            parameter["example"] = EXAMPLE_ID
        elif where == "query" and name in queries:
            described = parameter.get("description")
            parameter["schema"] = dict(queries[name])
            if described:
                parameter["schema"].setdefault("description", described)
        if where == "query" and name in QUERY_EXAMPLES:
            parameter["example"] = QUERY_EXAMPLES[name]
        if where == "header" and name == "Idempotency-Key":
            parameter["schema"] = {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN}
            parameter["example"] = "checkout-7f3b2c"
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None:
        reference = content["schema"].get("$ref", "")
        name = reference.rsplit("/", 1)[-1]
        inline = {
            "/orders/{order_id}/ship": "Shipment",
            "/orders/{order_id}/refunds": ("RefundRequest"),
        }.get(path)
        if inline is not None:
            # `Shipment | None`, `RefundRequest | None`: no body at all is fine too.
            name = inline
            operation["requestBody"]["required"] = False
        if inline is not None:
            # JSON `null` reads as no body.
            content["schema"] = _nullable({"$ref": f"#/components/schemas/{name}"})
        elif name in requests:
            content["schema"] = {"$ref": f"#/components/schemas/{name}"}
    links = LINKS.get((path, method), {})
    if links:
        success = next(status for status in operation["responses"] if status.startswith("2"))
        response = operation["responses"][success]
        response["links"] = {
            name: _link(target, parameters) for name, (target, parameters) in links.items()
        }
        if path in ("/auth/register", "/auth/login"):
            response["description"] = f"{response.get('description', '')} {_TOKEN_NOTE}".strip()


def _link(target: str, parameters: dict[str, str]) -> dict[str, Any]:
    link: dict[str, Any] = {"operationId": target}
    in_body = {name: value for name, value in parameters.items() if name in _BODY_LINK_FIELDS}
    in_path = {name: value for name, value in parameters.items() if name not in in_body}
    if in_path:
        link["parameters"] = in_path
    if in_body:
        [(name, value)] = in_body.items()
        link["requestBody"] = {name: value}
    return link


def _document_problems(doc: dict[str, Any]) -> None:
    """Each error status names the problem `type`s it can carry (see `PROBLEM_TYPES`)."""
    schemas = doc["components"]["schemas"]
    for item in doc["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")) or "content" not in response:
                    continue
                types = problem_types_for(int(status))
                if not types:
                    continue
                name = f"Problem{status}"
                schemas[name] = {
                    "title": name,
                    "allOf": [
                        {"$ref": "#/components/schemas/Problem"},
                        {
                            "type": "object",
                            "properties": {"type": {"type": "string", "enum": types}},
                        },
                    ],
                    "description": "see /problems for what each type means and what to do",
                }
                for media in response["content"].values():
                    media["schema"] = {"$ref": f"#/components/schemas/{name}"}
