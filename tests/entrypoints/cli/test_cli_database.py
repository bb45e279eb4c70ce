"""`hexmart --version/--help`, `migrate`, `migrate --check`, `db status`, and the refusal of
serve and worker to start on an outdated PostgreSQL schema."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import uvicorn

from adapters.sql.migrate import current_revision, head_revision, upgrade_to_head
from entrypoints import worker
from tests.entrypoints.cli.conftest import Hexmart, one_line_error


def test_version_and_help(hexmart: Hexmart) -> None:
    assert hexmart("--version").stdout.startswith("hexmart ")
    result = hexmart("--help")
    assert result.exit_code == 0
    for command in ("migrate", "db", "serve", "worker"):
        assert f"  {command} " in result.stdout


def test_help_imports_nothing_heavy() -> None:
    """`hexmart --help` loads only click and the command modules: no SQLAlchemy, Litestar,
    rich or the container (the start-up time in README depends on it)."""
    code = (
        "import sys; from entrypoints.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "heavy = {'sqlalchemy', 'litestar', 'rich', 'entrypoints.container', 'alembic',"
        " 'asyncio'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_migrate_applies_each_revision_then_finds_nothing_to_do(
    hexmart: Hexmart, env: dict[str, str]
) -> None:
    check = hexmart("migrate", "--check")
    assert check.exit_code == 1
    assert "0001" in check.stdout

    result = hexmart("migrate")

    assert result.exit_code == 0, result.stderr
    assert "applied 0001" in result.stdout
    assert f"applied {head_revision()}" in result.stdout
    assert current_revision(env["HEXMART_DATABASE_URL"]) == head_revision()
    again = hexmart("migrate")
    assert "already up to date" in again.stdout
    assert hexmart("migrate", "--check").exit_code == 0


def test_migrate_on_postgres(hexmart: Hexmart, empty_postgres_url: str) -> None:
    pending = hexmart("migrate", "--check", HEXMART_DATABASE_URL=empty_postgres_url)
    assert pending.exit_code == 1

    result = hexmart("migrate", HEXMART_DATABASE_URL=empty_postgres_url)

    assert result.exit_code == 0, result.stderr
    assert current_revision(empty_postgres_url) == head_revision()
    status = hexmart("db", "status", "--json", HEXMART_DATABASE_URL=empty_postgres_url)
    report = json.loads(status.stdout)
    assert report["current"] == head_revision()
    assert report["up_to_date"] is True
    assert report["pending"] == []


def test_db_status_lists_what_is_pending(hexmart: Hexmart) -> None:
    result = hexmart("db", "status", "--json")
    report = json.loads(result.stdout)
    assert report["current"] is None
    assert report["up_to_date"] is False
    assert report["pending"][0].startswith("0001 ")
    assert "pending" in hexmart("db", "status").stdout


def test_an_unreachable_database_is_one_line_and_exit_1(hexmart: Hexmart) -> None:
    result = hexmart("migrate", HEXMART_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert one_line_error(result).startswith("hexmart: ")


def test_bad_settings_exit_2(hexmart: Hexmart) -> None:
    result = hexmart("migrate", HEXMART_DATABASE_URL="mysql://x")
    assert result.exit_code == 2
    assert "HEXMART_DATABASE_URL" in result.stderr


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(a))
    monkeypatch.setattr(worker, "run_worker", calls.append)
    return calls


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_an_outdated_postgres_schema(
    hexmart: Hexmart, empty_postgres_url: str, served: list[Any], command: str
) -> None:
    result = hexmart(
        command,
        HEXMART_DATABASE_URL=empty_postgres_url,
        HEXMART_REDIS_URL="redis://127.0.0.1:6379/9",
    )

    assert result.exit_code == 2
    assert "run `hexmart migrate`" in one_line_error(result)
    assert served == []
    assert current_revision(empty_postgres_url) is None


def test_migrate_on_start_lets_serve_migrate_postgres(
    hexmart: Hexmart, empty_postgres_url: str, served: list[Any]
) -> None:
    result = hexmart(
        "serve", HEXMART_DATABASE_URL=empty_postgres_url, HEXMART_MIGRATE_ON_START="true"
    )
    assert result.exit_code == 0, result.stderr
    assert len(served) == 1


def test_serve_starts_on_an_up_to_date_postgres_schema(
    hexmart: Hexmart, empty_postgres_url: str, served: list[Any]
) -> None:
    upgrade_to_head(empty_postgres_url)
    result = hexmart("serve", HEXMART_DATABASE_URL=empty_postgres_url)
    assert result.exit_code == 0, result.stderr
    assert len(served) == 1


async def test_start_services_refuses_an_outdated_postgres_schema(
    env: dict[str, str], empty_postgres_url: str
) -> None:
    """The app's lifespan and the worker start through start_services: they check too."""
    from adapters.sql.migrate import SchemaOutdated
    from entrypoints.container import start_services, stop_services
    from entrypoints.settings import Settings
    from entrypoints.testing import container_for_tests

    settings = Settings.from_mapping(env | {"HEXMART_DATABASE_URL": empty_postgres_url})
    container = container_for_tests(settings)
    try:
        with pytest.raises(SchemaOutdated, match="run `hexmart migrate`"):
            await start_services(container)
    finally:
        await stop_services(container)
    assert current_revision(empty_postgres_url) is None
