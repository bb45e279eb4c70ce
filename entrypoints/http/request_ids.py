"""`X-Request-ID`: echoed when the client sends a sane one, generated otherwise, and kept
in the ASGI scope so that logs and error responses can quote it."""

from __future__ import annotations

import re
import uuid
from typing import Any

REQUEST_ID_HEADER = "x-request-id"
_STATE_KEY = "hexmart.request_id"
# Printable, no spaces or quotes: safe to echo in a header and to write to a log line.
_SANE = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")


def request_id_of(scope: Any) -> str:
    """The request's id, decided once per request."""
    state = scope.setdefault("state", {})
    request_id = state.get(_STATE_KEY)
    if request_id is None:
        request_id = _incoming(scope) or uuid.uuid4().hex
        state[_STATE_KEY] = request_id
    return str(request_id)


def _incoming(scope: Any) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            return text if _SANE.fullmatch(text) else None
    return None
