"""/admin/audit: the audit trail of administrative actions (administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from application.audit import AuditTrail
from application.ports.persistence import AuditQuery
from application.principal import Principal
from domain.errors import InvalidValue
from entrypoints.http.dependencies import Injected
from entrypoints.http.openapi_responses import problems
from entrypoints.http.schemas.audit import AuditPage, audit_entry_out
from entrypoints.http.schemas.common import Cursor, Limit, page_request
from entrypoints.http.security import USER_ONLY, admin_only

# A date, a time and an offset: not the Unix timestamps (`since=0.5`) that a lax
# conversion to datetime would also take.
RFC3339 = (
    r"^(?:[1-9]\d{3}|0[1-9]\d{2}|00[1-9]\d|000[1-9])-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"[Tt ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)


def _moment(field: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(field, "is not an RFC 3339 date and time") from None


class AuditController(Controller):
    path = "/admin/audit"
    tags = ["audit"]
    security = USER_ONLY

    @get("/", guards=[admin_only], responses=problems(400, 401, 403))
    async def list_audit(
        self,
        audit: Injected[AuditTrail],
        principal: Injected[Principal],
        actor: Annotated[
            str | None,
            Parameter(
                description="a user id, an API key id or a CLI operator (cli:<name>)",
                max_length=200,
            ),
        ] = None,
        target: Annotated[
            str | None, Parameter(description="the id of what was acted on", max_length=64)
        ] = None,
        since: Annotated[
            str | None,
            Parameter(
                description="at or after this time (RFC 3339, e.g. 2026-01-31T00:00:00Z)",
                pattern=RFC3339,
            ),
        ] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> AuditPage:
        """Admins: administrative actions and order status changes, newest first."""
        page = await audit.list_entries(
            principal,
            AuditQuery(
                actor=actor,
                target=target,
                since=_moment("since", since),
                page=page_request(limit, cursor),
            ),
        )
        return AuditPage(
            items=[audit_entry_out(entry) for entry in page.items], next_cursor=page.next_cursor
        )
