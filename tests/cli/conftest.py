"""Running `hexmart` admin commands in-process with click's CliRunner.

`env` is a clean HEXMART_* environment in an empty working folder (the embedded default:
a SQLite file there); `hexmart(...)` runs a command with it and returns click's result,
with stdout and stderr apart."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from entrypoints import cli
from tests.sql_fixtures import POSTGRES_SERVER_URL, postgres_dsn

Hexmart = Callable[..., Result]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith("HEXMART_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return {
        "HEXMART_DATA_DIR": str(tmp_path / "var"),
        "HEXMART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hexmart.db'}",
        "HEXMART_PASSWORD_HASHING": "fast-insecure-for-tests",
    }


@pytest.fixture
def hexmart(env: dict[str, str]) -> Hexmart:
    def run(*args: str, input: str | None = None, **more_env: str) -> Result:
        return CliRunner().invoke(
            cli.main, list(args), env=env | more_env, input=input, catch_exceptions=False
        )

    return run


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, never migrated."""
    name = f"hexmart_test_{secrets.token_hex(6)}_cli"
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(postgres_dsn(POSTGRES_SERVER_URL), autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url
        finally:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_line_error(result: Result) -> str:
    """The command's error: exactly one line on stderr, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, env: dict[str, str]) -> str:
    """Both databases: the embedded SQLite file, and the session's PostgreSQL database
    (migrated, emptied for this test). Sets HEXMART_DATABASE_URL in `env`."""
    if request.param == "postgresql":
        env["HEXMART_DATABASE_URL"] = request.getfixturevalue("clean_postgres_url")
    return env["HEXMART_DATABASE_URL"]
