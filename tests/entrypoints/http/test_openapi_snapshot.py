"""The served OpenAPI document is committed as docs/openapi.json, so that every change to
the API shows in review as a change to that file. This test fails when they differ; to
accept a change, refresh the file (README, "API clients"):

    UPDATE_OPENAPI_SNAPSHOT=1 ./dev pytest tests/entrypoints/http/test_openapi_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests

SNAPSHOT = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def served_document() -> dict[str, Any]:
    """The document as served with the default shop settings (USD, the default upload
    types and size)."""
    app = create_app(in_memory_container(settings_for_tests()), background_jobs=False)
    with TestClient(app) as client:
        response = client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_committed_snapshot_is_the_served_document() -> None:
    served = render(served_document())
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.write_text(served, encoding="utf-8")

    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""

    assert served == committed, (
        "the served OpenAPI document differs from docs/openapi.json: review the change, "
        "then refresh it with UPDATE_OPENAPI_SNAPSHOT=1 ./dev pytest "
        "tests/entrypoints/http/test_openapi_snapshot.py"
    )
