"""OpenAPI descriptions of the problem responses a route can give."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from entrypoints.http.errors import PROBLEM_JSON
from entrypoints.http.schemas.common import Problem

_DESCRIPTIONS = {
    400: "Malformed or invalid input (`errors` names each field)",
    401: "No or bad credentials (`WWW-Authenticate: Bearer`)",
    403: "Authenticated, but not allowed",
    404: "Not found (also another user's resource)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Well-formed, but breaks a business rule",
    429: "Rate limited (`Retry-After`)",
    503: "A required backing service is down",
}


def problems(
    *statuses: int, rate_limited: bool = True, **described: str
) -> dict[int, ResponseSpec]:
    """Problem-details responses for `statuses` (400 is always possible, and so is 429 on
    every route under the general rate limit). A route whose error means something
    particular says so: `problems(401, on_400="...")`."""
    descriptions = {int(key.removeprefix("on_")): text for key, text in described.items()}
    always = {400, 429} if rate_limited else {400}
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=descriptions.get(status, _DESCRIPTIONS[status]),
            generate_examples=False,
        )
        for status in sorted({*always, *statuses, *descriptions})
    }
