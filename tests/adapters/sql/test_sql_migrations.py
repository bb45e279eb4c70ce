"""Migrations: every step up and down works on both databases, and the result is exactly
what adapters/sql/tables.py describes."""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, bindparam, create_engine, inspect, pool, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url

from adapters.sql.engine import sync_url
from adapters.sql.migrate import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    downgrade,
    ensure_database,
    head_revision,
    upgrade_to_head,
)
from adapters.sql.tables import include_in_schema, metadata, users
from tests.sql_fixtures import POSTGRES_SERVER_URL, postgres_dsn


def revisions_oldest_first() -> list[str]:
    walk = ScriptDirectory(str(MIGRATIONS)).walk_revisions("base", "heads")
    return [script.revision for script in reversed(list(walk))]


def schema_differences(url: str) -> list[object]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            dialect = connection.dialect.name
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_object": lambda obj, *_: include_in_schema(obj, dialect),
                },
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'stairs.db'}"


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A database of this test's own, with nothing in it."""
    name = f"hexmart_test_{secrets.token_hex(6)}_stairs"
    url = make_database_url(name)
    with psycopg.connect(postgres_dsn(POSTGRES_SERVER_URL), autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url
        finally:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_database_url(name: str) -> str:
    return make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest) -> str:
    fixture = "empty_sqlite_url" if request.param == "sqlite" else "empty_postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


def test_every_revision_upgrades_and_downgrades_one_step_at_a_time(
    empty_database_url: str,
) -> None:
    """The stairway: up one, down one, up again, for every revision in turn."""
    previous = "base"
    for revision in revisions_oldest_first():
        upgrade_one(empty_database_url, revision)
        assert current_revision(empty_database_url) == revision
        downgrade(empty_database_url, previous)
        assert current_revision(empty_database_url) == (None if previous == "base" else previous)
        upgrade_one(empty_database_url, revision)
        previous = revision
    assert previous == head_revision()
    downgrade(empty_database_url, "base")
    assert table_names(empty_database_url) == set()


def upgrade_one(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)


def test_the_migrated_schema_matches_the_tables_module(empty_database_url: str) -> None:
    upgrade_to_head(empty_database_url)
    assert schema_differences(empty_database_url) == []


def test_upgrading_twice_changes_nothing(empty_sqlite_url: str) -> None:
    upgrade_to_head(empty_sqlite_url)
    upgrade_to_head(empty_sqlite_url)
    assert current_revision(empty_sqlite_url) == head_revision()


def test_the_embedded_database_creates_its_file_on_first_start(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data" / "hexmart.db"
    url = f"sqlite:///{path}"
    ensure_database(url)
    assert path.is_file()
    assert current_revision(url) == head_revision()
    ensure_database(url)  # the second start finds it ready
    assert "orders" in table_names(url)


def test_ids_and_names_compare_by_code_point_on_postgres(postgres_url: str) -> None:
    """Alembic does not compare collations, so this pins the ones keyset pagination needs."""
    engine = create_engine(sync_url(postgres_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            collations: dict[str, str | None] = dict(
                connection.execute(
                    text(
                        "SELECT table_name || '.' || column_name, collation_name"
                        " FROM information_schema.columns"
                        " WHERE table_schema = 'public' AND table_name IN ('products', 'orders')"
                        " AND column_name IN ('id', 'name', 'user_id')"
                    )
                )
                .tuples()
                .all()
            )
    finally:
        engine.dispose()
    assert collations == {
        "products.id": "C",
        "products.name": "C",
        "orders.id": "C",
        "orders.user_id": "C",
    }


def test_postgres_gets_trigram_indexes_for_the_text_filter(postgres_url: str) -> None:
    engine = create_engine(sync_url(postgres_url), poolclass=pool.NullPool)
    try:
        indexes = {index["name"] for index in inspect(engine).get_indexes("products")}
    finally:
        engine.dispose()
    assert {"ix_products_search_name_trgm", "ix_products_search_description_trgm"} <= indexes


def test_processes_starting_together_migrate_one_after_the_other(
    empty_database_url: str,
) -> None:
    # Separate processes, as in production: Alembic keeps per-run state in module globals,
    # so it cannot run twice at once inside one process anyway.
    script = (
        "import sys; from adapters.sql.migrate import ensure_database; ensure_database(sys.argv[1])"
    )
    starters = [
        subprocess.Popen([sys.executable, "-c", script, empty_database_url]) for _ in range(3)
    ]
    try:
        assert [starter.wait(timeout=60) for starter in starters] == [0, 0, 0]
    finally:
        for starter in starters:
            starter.kill()
    assert current_revision(empty_database_url) == head_revision()
    assert schema_differences(empty_database_url) == []


def test_threads_of_one_process_migrate_one_after_the_other(empty_sqlite_url: str) -> None:
    """The app and an in-process worker may both make the database ready at start-up."""
    with ThreadPoolExecutor(max_workers=3) as starters:
        started = [starters.submit(ensure_database, empty_sqlite_url) for _ in range(3)]
        for each in started:
            each.result(timeout=60)
    assert current_revision(empty_sqlite_url) == head_revision()


# --- 0006: stored emails in their normal form --------------------------------------------


def _add_users(url: str, emails: dict[str, str]) -> None:
    """Rows as an older release wrote them (`emails`: user id -> address as stored)."""
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            for user_id, email in emails.items():
                connection.execute(
                    users.insert().values(
                        id=user_id,
                        email=email,
                        full_name="Someone",
                        password_hash="x",
                        role="customer",
                        is_active=True,
                        created_at=moment,
                        updated_at=moment,
                        version=1,
                    )
                )
    finally:
        engine.dispose()


def _emails(url: str) -> dict[str, str]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(select(users.c.id, users.c.email)).tuples().all())
    finally:
        engine.dispose()


def test_0006_rewrites_stored_emails_in_their_normal_form(empty_database_url: str) -> None:
    upgrade_one(empty_database_url, "0004")
    _add_users(
        empty_database_url,
        {"u1": "\uff43\uff41\uff4c@example.com", "u2": "dee@example.com", "u3": " Eve@EXAMPLE.com"},
    )

    upgrade_one(empty_database_url, "0006")

    assert _emails(empty_database_url) == {
        "u1": "cal@example.com",
        "u2": "dee@example.com",
        "u3": "eve@example.com",
    }


def test_0006_leaves_colliding_and_invisible_addresses_alone_and_names_them(
    empty_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = {
        "u1": "bob@example.com",
        "u2": "\uff42\uff4f\uff42@example.com",  # bob@example.com in fullwidth letters
        "u3": "\uff41\uff4e\uff4e@example.com",  # ann@ twice, neither in normal form
        "u4": "\uff21\uff2e\uff2e@example.com",
        "u5": "zed\u200b@example.com",  # a zero-width space
        "u6": "\uff46\uff52\uff45\uff44@example.com",  # no clash: normalised
    }
    upgrade_one(empty_database_url, "0004")
    _add_users(empty_database_url, before)

    with caplog.at_level(logging.WARNING, logger="hexmart.migrations"):
        upgrade_one(empty_database_url, "0006")

    assert current_revision(empty_database_url) == "0006"
    assert _emails(empty_database_url) == {**before, "u6": "fred@example.com"}
    report = caplog.text
    assert "u1, u2" in report
    assert "u3, u4" in report
    assert "u5" in report
    assert "u6" not in report


def test_reset_tokens_written_by_earlier_versions_leave_the_outbox(
    empty_database_url: str,
) -> None:
    forgetting = ScriptDirectory(str(MIGRATIONS)).get_revision("0010")
    assert isinstance(forgetting.down_revision, str)
    upgrade_one(empty_database_url, forgetting.down_revision)
    engine = create_engine(sync_url(empty_database_url), poolclass=pool.NullPool)
    reset = {"user_id": "u-1", "email": "a@b.c", "token": "s3cret", "expires_at": "2026-01-01"}
    other = {"order_id": "o-1", "token": "not a reset"}
    insert = text(
        "INSERT INTO outbox (id, name, payload, created_at, attempts) "
        "VALUES (:id, :name, :payload, :at, 0)"
    ).bindparams(bindparam("payload", type_=JSON().with_variant(JSONB(), "postgresql")))
    try:
        with engine.begin() as connection:
            for number, (name, payload) in enumerate(
                [("password_reset_requested", reset), ("order_placed", other)]
            ):
                message_id = f"00000000-0000-4000-8000-00000000000{number}"
                at = datetime(2026, 1, 1, tzinfo=UTC)
                connection.execute(
                    insert, {"id": message_id, "name": name, "payload": payload, "at": at}
                )

        upgrade_one(empty_database_url, "0010")

        with engine.connect() as connection:
            rows = dict(connection.execute(text("SELECT name, payload FROM outbox")).all())
    finally:
        engine.dispose()
    payloads = {
        name: json.loads(payload) if isinstance(payload, str) else payload
        for name, payload in rows.items()
    }
    assert payloads["password_reset_requested"] == {
        "user_id": "u-1",
        "email": "a@b.c",
        "expires_at": "2026-01-01",
    }
    assert payloads["order_placed"] == other
