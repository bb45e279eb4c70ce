"""The `hexmart` command.

    hexmart serve [--host 127.0.0.1] [--port 8000] [--workers 1] [--demo]
    hexmart worker

Reads the configuration from `HEXMART_*` variables (and `.env`); a bad value is reported
one line per problem with exit code 2, never as a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from typing import NoReturn

import click
import uvicorn

from domain.errors import InvalidValue
from domain.users import check_password_strength
from domain.values import Email
from entrypoints.container import Container, build_container, start_services, stop_services
from entrypoints.demo import DemoAdmin, demo_admin, seed_demo_shop
from entrypoints.http.app import create_app
from entrypoints.http.processes import serve_in_processes
from entrypoints.settings import Settings, SettingsError
from entrypoints.worker import run_worker

EXIT_CONFIGURATION = 2
FACTORY = "entrypoints.http.asgi:create_app_from_env"


@click.group()
def main() -> None:
    """hexmart: a small, fast, correct e-commerce backend."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes serving requests (more than 1 needs Redis and a shared database).",
)
@click.option("--demo", is_flag=True, help="Seed a demo catalog and a demo administrator.")
def serve(host: str, port: int, workers: int, demo: bool) -> None:
    """Serve the HTTP API (on the embedded default when nothing is configured)."""
    settings = _load_settings()
    _check_admin_settings(settings)
    container = build_container(settings)
    if workers > 1 and (settings.redis_url is None or settings.uses_sqlite):
        _fail(
            "--workers > 1 needs HEXMART_REDIS_URL and a PostgreSQL HEXMART_DATABASE_URL: "
            "sessions, rate limits and the local payment gateway live in one process otherwise"
        )
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    admin = demo_admin(settings.data_dir) if demo else None
    _print_banner(settings, container, host, port, workers, admin)
    options = {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.trusted_proxies) or None,
        "server_header": False,
    }
    if workers == 1:
        tasks = [functools.partial(seed_demo_shop, admin=admin)] if admin is not None else []
        uvicorn.run(create_app(container, startup_tasks=tasks), **options)  # type: ignore[arg-type]
        return
    if admin is not None:
        # Workers share the database, so the parent seeds it once, before they start.
        asyncio.run(_seed_once(container, admin))
    serve_in_processes(FACTORY, factory=True, workers=workers, **options)


@main.command()
def worker() -> None:
    """Run the background worker (arq on Redis) until SIGTERM: emails from the outbox,
    expiring unpaid orders, reconciling payments, purging old records."""
    settings = _load_settings()
    if settings.redis_url is None:
        _fail(
            "hexmart worker needs HEXMART_REDIS_URL; without Redis, hexmart serve runs the "
            "background work in its own process"
        )
    run_worker(settings)


def _load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        click.echo("hexmart: invalid configuration:", err=True)
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_CONFIGURATION)


def _check_admin_settings(settings: Settings) -> None:
    """Refuse a first-admin account the start-up would fail to create."""
    if settings.admin_email is None or settings.admin_password is None:
        return
    try:
        Email(settings.admin_email)
        check_password_strength(settings.admin_password)
    except InvalidValue as error:
        setting = "HEXMART_ADMIN_EMAIL" if error.field == "email" else "HEXMART_ADMIN_PASSWORD"
        click.echo("hexmart: invalid configuration:", err=True)
        click.echo(f"  {setting}: {error.reason}", err=True)
        sys.exit(EXIT_CONFIGURATION)


async def _seed_once(container: Container, admin: DemoAdmin) -> None:
    await start_services(container)
    try:
        await seed_demo_shop(container, admin)
    finally:
        await stop_services(container)


def _print_banner(
    settings: Settings,
    container: Container,
    host: str,
    port: int,
    workers: int,
    admin: DemoAdmin | None,
) -> None:
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"
    adapters = settings.describe_adapters()
    click.echo(f"hexmart listening on {url} ({workers} worker{'s' if workers > 1 else ''})")
    click.echo(f"  API documentation: {url}/schema")
    click.echo("adapters:")
    for port_name, adapter in adapters.items():
        click.echo(f"  {port_name}: {adapter}")
    if admin is not None:
        click.echo("demo shop: ~50 products in stock; sign in as its administrator with")
        click.echo(f"  demo admin email:    {admin.email}")
        click.echo(f"  demo admin password: {admin.password}")


def _fail(message: str) -> NoReturn:
    click.echo(f"hexmart: {message}", err=True)
    sys.exit(EXIT_CONFIGURATION)


if __name__ == "__main__":
    main()
