"""A TypeScript client generated from the served OpenAPI document (openapi-typescript for
the types, openapi-fetch for the calls; versions pinned in tests/clients/typescript/
package-lock.json) type-checks with `tsc --strict` and runs the customer journey and the
main refusals under Node's test runner against a real `hexmart serve --demo`.

The npm packages come from `npm ci` in tests/clients/typescript, which `.ci/run` does
(tests never reach the internet): run it once by hand before this test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.entrypoints.http.live_server import LiveServer

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"
BIN = PACKAGE / "node_modules" / ".bin"


def _run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=PACKAGE,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_generated_typescript_client_type_checks_and_runs_the_journey(
    live_server: LiveServer,
) -> None:
    assert (BIN / "tsc").exists(), f"run `npm ci` in {PACKAGE} first (.ci/run does)"
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the TypeScript client test"
    generated = PACKAGE / "generated"
    generated.mkdir(exist_ok=True)
    document = generated / "openapi.json"
    document.write_bytes(httpx.get(f"{live_server.url}/schema/openapi.json").content)
    shutil.rmtree(PACKAGE / "dist", ignore_errors=True)

    types = _run(str(BIN / "openapi-typescript"), str(document), "-o", "generated/schema.d.ts")
    assert types.returncode == 0, types.stdout + types.stderr
    checked = _run(str(BIN / "tsc"), "-p", "tsconfig.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    journey = _run(
        node,
        "--test",
        "dist/",
        env={
            "SHOP_URL": live_server.url,
            "ADMIN_EMAIL": live_server.admin_email,
            "ADMIN_PASSWORD": live_server.admin_password,
        },
    )

    assert journey.returncode == 0, journey.stdout + journey.stderr
    assert "# pass 2" in journey.stdout, journey.stdout
    assert "# fail 0" in journey.stdout, journey.stdout
