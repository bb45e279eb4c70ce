"""Every error a client can see, mapped in this one place to RFC 9457 problem details.

Domain errors map by class (the most specific entry of `DOMAIN_PROBLEMS` in the error's
MRO wins), framework errors by their status code, and anything else becomes a 500 whose
body says nothing about the cause: the cause goes to the log with the request id.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, TooManyRequestsException, ValidationException
from litestar.types import ExceptionHandlersMap

from application.ports.errors import (
    InvalidWebhook,
    PaymentProviderError,
    ProviderKeyReused,
    ServiceUnavailable,
)
from domain.errors import (
    AccountDisabled,
    AuthenticationFailed,
    Conflict,
    CurrencyMismatch,
    DomainError,
    EarlierRefundRecovered,
    EmailAlreadyRegistered,
    EmptyCart,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCredentials,
    InvalidToken,
    InvalidValue,
    InventoryWouldGoNegative,
    NotFound,
    OutOfStock,
    PermissionDenied,
    RefundExceedsPayment,
    RuleViolation,
    WeakPassword,
)
from entrypoints.error_reporting import report_error
from entrypoints.http.metrics import metrics_of, route_template
from entrypoints.http.request_ids import request_id_of
from entrypoints.http.schemas.common import FieldError, Problem

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:hexmart:problem:"
# What Litestar's InternalServerException says when the client hung up while its request
# body was being read.
CLIENT_DISCONNECTED = "client disconnected prematurely"
# What a 503 tells clients to wait before trying again: outages of the database, Redis
# or the payment provider are usually seconds long, and clients back off on their own.
RETRY_UNAVAILABLE_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class ProblemKind:
    status: int
    slug: str
    title: str

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


# The one table from domain errors to HTTP. Every class in domain.errors has an entry (a
# test checks it), so a new error class cannot silently fall back to its parent's code.
DOMAIN_PROBLEMS: dict[type[DomainError], ProblemKind] = {
    DomainError: ProblemKind(400, "bad-request", "Bad request"),
    InvalidValue: ProblemKind(400, "invalid-value", "Invalid value"),
    WeakPassword: ProblemKind(400, "weak-password", "Password too weak"),
    InvalidWebhook: ProblemKind(400, "invalid-webhook", "Invalid webhook"),
    AuthenticationFailed: ProblemKind(401, "unauthenticated", "Authentication required"),
    InvalidCredentials: ProblemKind(401, "invalid-credentials", "Invalid credentials"),
    InvalidToken: ProblemKind(401, "invalid-token", "Invalid token"),
    AccountDisabled: ProblemKind(401, "account-disabled", "Account disabled"),
    PermissionDenied: ProblemKind(403, "forbidden", "Forbidden"),
    NotFound: ProblemKind(404, "not-found", "Not found"),
    Conflict: ProblemKind(409, "conflict", "Conflict"),
    OutOfStock: ProblemKind(409, "out-of-stock", "Out of stock"),
    InventoryWouldGoNegative: ProblemKind(
        409, "inventory-would-go-negative", "Inventory would go negative"
    ),
    EmptyCart: ProblemKind(409, "empty-cart", "Empty cart"),
    IllegalTransition: ProblemKind(409, "illegal-transition", "Illegal status transition"),
    EmailAlreadyRegistered: ProblemKind(409, "email-taken", "Email already registered"),
    IdempotencyKeyReused: ProblemKind(409, "idempotency-key-reused", "Idempotency key reused"),
    EarlierRefundRecovered: ProblemKind(
        409, "earlier-refund-recovered", "An earlier refund went through"
    ),
    CurrencyMismatch: ProblemKind(422, "currency-mismatch", "Currency mismatch"),
    RuleViolation: ProblemKind(422, "rule-violation", "Business rule violated"),
    RefundExceedsPayment: ProblemKind(
        422, "refund-exceeds-payment", "Refund exceeds what was paid"
    ),
    ServiceUnavailable: ProblemKind(503, "service-unavailable", "Service unavailable"),
    PaymentProviderError: ProblemKind(
        503, "payment-provider-unavailable", "Payment provider unavailable"
    ),
    # Only when the refund it refused cannot be found at the provider: to the client,
    # the provider cannot complete the call right now.
    ProviderKeyReused: ProblemKind(
        503, "payment-provider-unavailable", "Payment provider unavailable"
    ),
}

_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}

VALIDATION = ProblemKind(400, "validation-error", "Invalid request")
INTERNAL = ProblemKind(500, "internal-error", "Internal server error")
WWW_AUTHENTICATE = 'Bearer realm="hexmart"'


class RateLimited(TooManyRequestsException):
    """Raised by rate limiting: 429 with `Retry-After` (whole seconds)."""

    def __init__(
        self, retry_after_seconds: int, detail: str = "too many requests", *, rule: str = "other"
    ) -> None:
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        self.rule = rule  # the limit that refused (for the metrics)
        super().__init__(detail=detail, headers={"Retry-After": str(self.retry_after_seconds)})


def problem_kind(error: DomainError) -> ProblemKind:
    for cls in type(error).__mro__:
        if cls in DOMAIN_PROBLEMS:
            return DOMAIN_PROBLEMS[cls]
    raise TypeError(f"{type(error)!r} is not a DomainError")  # pragma: no cover


def problem_response(
    request: Request[Any, Any, Any],
    kind: ProblemKind,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = None,
) -> Response[bytes]:
    status_code = status or kind.status
    problem = Problem(
        type=kind.type,
        title=kind.title,
        status=status_code,
        detail=detail,
        instance=request.url.path,
        errors=errors if errors is not None else msgspec.UNSET,
    )
    return Response(
        content=msgspec.json.encode(problem),
        status_code=status_code,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def domain_error_to_problem(request: Request[Any, Any, Any], error: DomainError) -> Response[bytes]:
    kind = problem_kind(error)
    detail = error.message
    errors = None
    headers = None
    if isinstance(error, InvalidValue):
        errors = [FieldError(field=error.field, message=error.reason)]
    elif isinstance(error, AuthenticationFailed):
        headers = {
            "WWW-Authenticate": f'{WWW_AUTHENTICATE}, error="invalid_token"'
            if isinstance(error, InvalidToken)
            else WWW_AUTHENTICATE
        }
    elif isinstance(error, PaymentProviderError):
        # The provider's own wording can carry its internals; keep it in the log.
        log.warning("payment provider error [%s]: %s", request_id_of(request.scope), error)
        detail = "the payment provider cannot be reached right now; please retry"
    elif isinstance(error, ServiceUnavailable):
        cause = f" ({error.__cause__})" if error.__cause__ is not None else ""
        log.warning("service unavailable [%s]: %s%s", request_id_of(request.scope), error, cause)
    if isinstance(error, ServiceUnavailable):
        headers = {"Retry-After": str(RETRY_UNAVAILABLE_AFTER_SECONDS)}
    return problem_response(request, kind, detail, errors=errors, headers=headers)


_MISSING_PARAMETER = re.compile(r"Missing required (\w+) parameter '([^']+)'")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"Object missing required field `([^`]+)`")


def _field_errors(error: ValidationException) -> list[FieldError]:
    """Litestar reports `{message, key, source}` per problem; clients get `{field, message}`
    with the full dotted path of the field in the body, query or headers."""
    if (missing := _MISSING_PARAMETER.search(error.detail)) is not None:
        return [FieldError(field=missing.group(2), message="is required")]
    errors: list[FieldError] = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "is invalid"))
        key = str(item.get("key", ""))
        parent = "" if key in ("", "data") else key
        for pattern, text in ((_UNKNOWN_FIELD, "is not allowed"), (_MISSING_FIELD, "is required")):
            if (found := pattern.search(message)) is not None:
                key = f"{parent}.{found.group(1)}" if parent else found.group(1)
                message = text
                break
        else:
            if key == "data":
                key, message = "body", "a JSON object body is required"
        errors.append(FieldError(field=key or "body", message=message))
    return errors


def http_error_to_problem(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    status = error.status_code
    if isinstance(error, RateLimited):
        metrics_of(request.app.state).rate_limited.labels(error.rule).inc()
    if isinstance(error, ValidationException):
        errors = _field_errors(error)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "the request is invalid"
        return problem_response(request, VALIDATION, detail, errors=errors)
    if status >= 500 and error.detail == CLIENT_DISCONNECTED:
        # Not a fault of ours: the client gave up (closed the tab, timed out) while its
        # body was on the way. Nobody reads the answer; one line in the log is enough.
        log.info(
            "client disconnected before sending the whole request: %s %s [%s]",
            request.method,
            request.url.path,
            request_id_of(request.scope),
        )
        return problem_response(
            request,
            ProblemKind(400, "client-disconnected", "Client disconnected"),
            "the client disconnected before sending the whole request",
        )
    if status >= 500:
        log.error(
            "HTTP %s [%s]: %s", status, request_id_of(request.scope), error.detail, exc_info=error
        )
        kind = DOMAIN_PROBLEMS[ServiceUnavailable] if status == 503 else INTERNAL
        headers = {"Retry-After": str(RETRY_UNAVAILABLE_AFTER_SECONDS)} if status == 503 else None
        return problem_response(
            request, kind, _server_error_detail(request), status=status, headers=headers
        )
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    kind = ProblemKind(status, _HTTP_SLUGS.get(status, f"http-{status}"), phrase)
    headers = dict(error.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    if status == 429:
        headers.setdefault("Retry-After", "60")
    detail = error.detail if error.detail and error.detail != phrase else phrase.lower()
    if status == 413:
        detail = "the request body is larger than this server accepts"
    return problem_response(request, kind, detail, headers=headers)


def unexpected_error_to_problem(
    request: Request[Any, Any, Any], error: Exception
) -> Response[bytes]:
    log.error(
        "unhandled error in %s %s [%s]",
        request.method,
        request.url.path,
        request_id_of(request.scope),
        exc_info=error,
    )
    report_error(
        error,
        request_id=request_id_of(request.scope),
        route=route_template(request.scope.get("path_template") or "unmatched"),
    )
    return problem_response(request, INTERNAL, _server_error_detail(request))


def _server_error_detail(request: Request[Any, Any, Any]) -> str:
    return (
        "something went wrong on our side; if it persists, quote request id "
        f"{request_id_of(request.scope)}"
    )


def exception_handlers() -> ExceptionHandlersMap:
    return {
        DomainError: domain_error_to_problem,
        HTTPException: http_error_to_problem,
        Exception: unexpected_error_to_problem,
    }
