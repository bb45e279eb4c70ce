"""The known gaps between the OpenAPI document and the server, each explained, for the
schemathesis run of test_schemathesis.py (loaded through `SCHEMATHESIS_HOOKS`).

A gap is a rule no JSON Schema can state: a value only the server can issue (a page
cursor, a refresh or reset token, the current password), or the shop's list of common
passwords. Only a 400 whose problem names exactly such a field, for that reason, is
let through; every other refusal of a schema-valid request still fails the run.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

# problem `type` suffix -> fields -> why the document cannot rule these values out.
EXPLAINED_GAPS: dict[str, dict[str, str]] = {
    "invalid-value": {
        # Opaque: only a `next_cursor` the API gave is a cursor; the document gives the
        # alphabet and length, the stateful phase follows the `NextPage` links.
        "cursor": "a cursor the API did not issue",
        # Logout names the refresh token to end: one the API never issued is 400.
        "refresh_token": "a refresh token the API did not issue",
        # Only the account's own password changes the password.
        "current_password": "not the account's current password",
        # A rule between two parameters: JSON Schema bounds each on its own.
        "min_price": "min_price above max_price",
        # The pattern names control characters and spaces; Python's `isprintable` also
        # refuses unassigned, private-use and format code points, which no portable
        # regular expression lists.
        "sku": "a code point that is not printable",
    },
    "validation-error": {"cursor": "a cursor the API did not issue"},
    # The emailed one-time token cannot be generated.
    "invalid-token": {"token": "a reset token the API did not issue"},
    # A list of common passwords and "at least 3 different characters": not a regex.
    "weak-password": {
        "password": "a common password",
        "new_password": "a common password",
    },
}


def explained(response_body: Any, operation_path: str = "") -> str | None:
    """Why a 400 to a schema-valid request is a known gap, or None if it is not one."""
    if not isinstance(response_body, dict):
        return None
    kind = str(response_body.get("type", "")).rsplit(":", 1)[-1]
    gaps = EXPLAINED_GAPS.get(kind)
    if gaps is None:
        return None
    fields = {error.get("field") for error in response_body.get("errors") or []}
    if fields == {"inventory_count"} and operation_path.endswith("/inventory"):
        # A restock is bounded by the stock already there (at most 10^9 in all).
        return "a restock past the most a product can hold"
    if kind == "weak-password":
        return gaps["password"]
    if fields and fields <= set(gaps):
        return "; ".join(gaps[str(field)] for field in sorted(map(str, fields)))
    return None


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure except a refusal `explained` above."""
    if isinstance(failure, RejectedPositiveData) and response.status_code in (400, 401):
        try:
            body = json.loads(response.content)
        except ValueError:
            return True
        return explained(body, case.operation.path) is None
    return True
