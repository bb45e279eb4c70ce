"""Every problem `type` the API can answer with, in one place: its status, its title and
what a client should do about it. Served as the page `/problems` (and `/problems.json`),
listed in the OpenAPI document per error status. A test checks that every kind in the
error table (`entrypoints.http.errors`) is here."""

from __future__ import annotations

import html
from dataclasses import dataclass

from litestar import MediaType, get

from entrypoints.http.errors import PROBLEM_TYPE_PREFIX


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    status: int
    title: str
    what_to_do: str

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


PROBLEM_TYPES = (
    ProblemType(
        "validation-error",
        400,
        "Invalid request",
        "Fix the request: `errors` names each field (body, query, path or header) and "
        "what is wrong with it. Do not retry unchanged.",
    ),
    ProblemType(
        "invalid-value",
        400,
        "Invalid value",
        "A value breaks a rule of the shop (an empty name, another currency, an unknown "
        "cursor); `errors` names the field. Fix it; do not retry unchanged.",
    ),
    ProblemType(
        "weak-password",
        400,
        "Password too weak",
        "Ask the user for another password: 10 to 256 characters, not a common one.",
    ),
    ProblemType(
        "bad-request",
        400,
        "Bad request",
        "The request cannot be read (malformed JSON, a body where none belongs). Fix it.",
    ),
    ProblemType(
        "invalid-webhook",
        400,
        "Invalid webhook",
        "Payment provider only: the signature is wrong or stale; check the webhook secret.",
    ),
    ProblemType(
        "client-disconnected",
        400,
        "Client disconnected",
        "The client hung up while sending its body; nothing was done. Send it again.",
    ),
    ProblemType(
        "unauthenticated",
        401,
        "Authentication required",
        "Send `Authorization: Bearer <access token>` or `X-API-Key`. An expired access "
        "token: spend the refresh token at POST /auth/refresh, then retry.",
    ),
    ProblemType(
        "invalid-credentials",
        401,
        "Invalid credentials",
        "Wrong email or password: let the user try again (sign-in is rate limited).",
    ),
    ProblemType(
        "invalid-token",
        401,
        "Invalid token",
        "The token is expired, revoked or not ours: sign in again (a refresh token that "
        "was already spent ends its whole family).",
    ),
    ProblemType(
        "account-disabled",
        401,
        "Account disabled",
        "The account was deactivated by an administrator: do not retry.",
    ),
    ProblemType(
        "forbidden",
        403,
        "Forbidden",
        "Signed in, but the role or API key scopes do not allow this. Do not retry.",
    ),
    ProblemType(
        "not-found",
        404,
        "Not found",
        "No such thing, or not yours to see (another user's order is 404 too). Refresh "
        "the list you took the id from.",
    ),
    ProblemType(
        "method-not-allowed",
        405,
        "Method not allowed",
        "`Allow` lists the methods this path serves.",
    ),
    ProblemType(
        "conflict",
        409,
        "Conflict",
        "The request clashes with the current state (a taken SKU, too many cart lines). "
        "Reload the resource, then decide.",
    ),
    ProblemType(
        "out-of-stock",
        409,
        "Out of stock",
        "Not enough stock for a cart line: show the user, reduce the quantity or remove it.",
    ),
    ProblemType(
        "inventory-would-go-negative",
        409,
        "Inventory would go negative",
        "The correction is larger than the stock on hand: reload the product and retry.",
    ),
    ProblemType(
        "empty-cart",
        409,
        "Empty cart",
        "Add something to the cart before checking out.",
    ),
    ProblemType(
        "illegal-transition",
        409,
        "Illegal status transition",
        "The order is not in a state that allows this (shipping an unpaid order, "
        "cancelling a shipped one). Reload the order.",
    ),
    ProblemType(
        "email-taken",
        409,
        "Email already registered",
        "Offer to sign in or reset the password instead.",
    ),
    ProblemType(
        "idempotency-key-reused",
        409,
        "Idempotency key reused",
        "This `Idempotency-Key` was used with a different body: use a new key for a new "
        "checkout; resend the original body to get the original order.",
    ),
    ProblemType(
        "earlier-refund-recovered",
        409,
        "An earlier refund went through",
        "The provider had a refund the shop had not recorded; it is recorded now and "
        "`detail` says what is left. Reload the payments before refunding more.",
    ),
    ProblemType(
        "body-too-large",
        413,
        "Request body too large",
        "Send a smaller body (files go to the presigned upload URL, not to the API).",
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        "Unsupported media type",
        "Send JSON bodies as `Content-Type: application/json`.",
    ),
    ProblemType(
        "currency-mismatch",
        422,
        "Currency mismatch",
        "Amounts must be in the shop's currency.",
    ),
    ProblemType(
        "rule-violation",
        422,
        "Business rule violated",
        "Well-formed, but a rule of the shop forbids it (`detail` says which). Do not "
        "retry unchanged.",
    ),
    ProblemType(
        "refund-exceeds-payment",
        422,
        "Refund exceeds what was paid",
        "Refund at most what is left (GET /orders/{id}/payments).",
    ),
    ProblemType(
        "too-many-requests",
        429,
        "Too many requests",
        "Wait the `Retry-After` seconds, then retry.",
    ),
    ProblemType(
        "internal-error",
        500,
        "Internal server error",
        "A bug: retry later, and report the `X-Request-ID` of the response.",
    ),
    ProblemType(
        "service-unavailable",
        503,
        "Service unavailable",
        "A backing service (database, Redis) is down: wait `Retry-After` seconds and "
        "retry; POST /orders is safe to retry with the same `Idempotency-Key`.",
    ),
    ProblemType(
        "payment-provider-unavailable",
        503,
        "Payment provider unavailable",
        "Retry later; a checkout retried with the same `Idempotency-Key` never charges twice.",
    ),
)
BY_SLUG = {problem.slug: problem for problem in PROBLEM_TYPES}


def problem_types_for(status: int) -> list[str]:
    """The `type` URIs a problem with `status` can carry."""
    return [problem.type for problem in PROBLEM_TYPES if problem.status == status]


def _page() -> str:
    rows = "\n".join(
        f'<tr id="{problem.slug}"><td><code>{html.escape(problem.type)}</code></td>'
        f"<td>{problem.status}</td><td>{html.escape(problem.title)}</td>"
        f"<td>{html.escape(problem.what_to_do)}</td></tr>"
        for problem in PROBLEM_TYPES
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hexmart problem types</title></head>
<body><h1>Problem types</h1>
<p>Every error is an RFC 9457 problem (<code>application/problem+json</code>) whose
<code>type</code> is one of these. Validation problems add <code>errors</code>:
<code>[{{"field", "message"}}]</code>.</p>
<table><thead><tr><th>type</th><th>status</th><th>title</th><th>what to do</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


@get("/problems", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def problem_types_page() -> str:
    """Every problem type, with what a client should do about it."""
    return _page()


@get("/problems.json", include_in_schema=False, sync_to_thread=False)
def problem_types_json() -> list[dict[str, object]]:
    return [
        {
            "type": problem.type,
            "status": problem.status,
            "title": problem.title,
            "what_to_do": problem.what_to_do,
        }
        for problem in PROBLEM_TYPES
    ]
