"""`hexmart serve`: clear configuration errors, the start-up banner, how uvicorn is run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from litestar import Litestar

from entrypoints import cli, worker
from entrypoints.commands.runtime import APP_FACTORY
from entrypoints.http import processes
from entrypoints.http.asgi import create_app_from_env
from entrypoints.http.state import CONTAINER_KEY


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A clean HEXMART_* environment in an empty working folder (no stray .env)."""
    for name in list(os.environ):
        if name.startswith("HEXMART_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return {
        "HEXMART_DATA_DIR": str(tmp_path / "var"),
    }


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    return calls


def test_bad_settings_are_listed_one_per_line_with_exit_code_2(env: dict[str, str]) -> None:
    env |= {"HEXMART_ACCESS_TOKEN_TTL_SECONDS": "soon", "HEXMART_PORTT": "1"}

    result = CliRunner().invoke(cli.main, ["serve"], env=env)

    assert result.exit_code == 2
    assert "HEXMART_ACCESS_TOKEN_TTL_SECONDS: must be a whole number (got 'soon')" in result.output
    assert "HEXMART_PORTT: unknown setting" in result.output
    assert "Traceback" not in result.output


def test_a_weak_first_admin_password_is_refused_before_serving(
    env: dict[str, str], served: list[Any]
) -> None:
    env |= {"HEXMART_ADMIN_EMAIL": "root@example.com", "HEXMART_ADMIN_PASSWORD": "short"}

    result = CliRunner().invoke(cli.main, ["serve"], env=env)

    assert result.exit_code == 2
    assert "HEXMART_ADMIN_PASSWORD: must be at least 10 characters" in result.output
    assert served == []


def test_several_workers_need_shared_state(env: dict[str, str], served: list[Any]) -> None:
    result = CliRunner().invoke(cli.main, ["serve", "--workers", "2"], env=env)

    assert result.exit_code == 2
    assert "--workers > 1 needs HEXMART_REDIS_URL" in result.output
    assert served == []


def test_serve_prints_where_it_listens_and_runs_the_app(
    env: dict[str, str], served: list[tuple[tuple[Any, ...], dict[str, Any]]]
) -> None:
    result = CliRunner().invoke(
        cli.main, ["serve", "--host", "127.0.0.2", "--port", "8123", "--demo"], env=env
    )

    assert result.exit_code == 0, result.output
    assert "hexmart listening on http://127.0.0.2:8123 (1 worker)" in result.output
    assert "API documentation: http://127.0.0.2:8123/schema" in result.output
    assert "payments: local gateway" in result.output
    assert "demo admin email:    admin@demo.hexmart.test" in result.output
    assert "demo admin password: " in result.output
    [(args, kwargs)] = served
    assert isinstance(args[0], Litestar)
    assert kwargs["host"] == "127.0.0.2"
    assert kwargs["port"] == 8123
    assert kwargs["proxy_headers"] is False


def test_trusted_proxies_turn_on_forwarded_headers(
    env: dict[str, str], served: list[tuple[tuple[Any, ...], dict[str, Any]]]
) -> None:
    env |= {"HEXMART_TRUSTED_PROXIES": "10.0.0.1,10.0.0.2"}

    result = CliRunner().invoke(cli.main, ["serve"], env=env)

    assert result.exit_code == 0, result.output
    [(_, kwargs)] = served
    assert kwargs["proxy_headers"] is True
    assert kwargs["forwarded_allow_ips"] == "10.0.0.1,10.0.0.2"


def test_the_worker_factory_builds_the_app_from_the_environment(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert isinstance(create_app_from_env(), Litestar)
    assert APP_FACTORY == "entrypoints.http.asgi:create_app_from_env"


def test_the_worker_refuses_to_start_without_redis(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr(worker, "run_worker", started.append)

    result = CliRunner().invoke(cli.main, ["worker"], env=env)

    assert result.exit_code == 2
    assert "hexmart worker needs HEXMART_REDIS_URL" in result.output
    assert started == []


def test_the_worker_runs_with_the_settings_from_the_environment(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr(worker, "run_worker", lambda settings, **_: started.append(settings))
    env |= {"HEXMART_REDIS_URL": "redis://127.0.0.1:6379/9"}

    result = CliRunner().invoke(cli.main, ["worker"], env=env)

    assert result.exit_code == 0, result.output
    assert [settings.redis.url for settings in started] == ["redis://127.0.0.1:6379/9"]


def test_the_worker_serves_metrics_on_the_port_it_is_given(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ports: list[Any] = []
    monkeypatch.setattr(
        worker, "run_worker", lambda _, metrics_port, **composed: ports.append(metrics_port)
    )
    env |= {"HEXMART_REDIS_URL": "redis://127.0.0.1:6379/9"}

    result = CliRunner().invoke(cli.main, ["worker", "--metrics-port", "9123"], env=env)
    refused = CliRunner().invoke(cli.main, ["worker", "--metrics-port", "0"], env=env)

    assert result.exit_code == 0, result.output
    assert ports == [9123]
    assert refused.exit_code == 2
    assert "--metrics-port" in refused.output


@pytest.mark.parametrize(
    ("arguments", "settings", "links"),
    [
        (["--port", "8123"], {}, "http://127.0.0.1:8123"),
        (["--host", "0.0.0.0", "--port", "8124"], {}, "http://127.0.0.1:8124"),  # noqa: S104
        (["--host", "::", "--port", "8125"], {}, "http://[::1]:8125"),
        (["--host", "shop.lan", "--port", "80"], {}, "http://shop.lan:80"),
        (
            ["--port", "8126"],
            {"HEXMART_PUBLIC_BASE_URL": "https://shop.example/"},
            "https://shop.example",
        ),
    ],
)
def test_links_point_where_the_server_listens_unless_a_public_url_is_set(
    env: dict[str, str],
    served: list[tuple[tuple[Any, ...], dict[str, Any]]],
    arguments: list[str],
    settings: dict[str, str],
    links: str,
) -> None:
    result = CliRunner().invoke(cli.main, ["serve", *arguments], env=env | settings)

    assert result.exit_code == 0, result.output
    assert f"links (uploads, images, emails) point at {links}\n" in result.output
    [((app,), _)] = served
    container = app.state[CONTAINER_KEY]
    assert container.settings().base_url == links
    assert container.shop().password_reset_url == f"{links}/password-reset#token={{token}}"


def test_worker_processes_are_told_the_public_url_of_the_port_served(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []
    monkeypatch.setattr(
        processes,
        "serve_in_processes",
        lambda *a, **kw: seen.append(os.environ.get("HEXMART_PUBLIC_BASE_URL")),
    )
    env |= {
        "HEXMART_REDIS_URL": "redis://127.0.0.1:6379/9",
        "HEXMART_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/unused",
        "HEXMART_JWT_SECRET": "x" * 32,
        # Migrating is the app's start-up's business here: no schema check against a
        # database that does not exist.
        "HEXMART_MIGRATE_ON_START": "true",
    }

    result = CliRunner().invoke(
        cli.main,
        ["serve", "--workers", "2", "--port", "8127"],
        env={**env, "HEXMART_PUBLIC_BASE_URL": None},  # type: ignore[dict-item]
    )

    assert result.exit_code == 0, result.output
    assert seen == ["http://127.0.0.1:8127"]
    assert "HEXMART_PUBLIC_BASE_URL" not in os.environ
