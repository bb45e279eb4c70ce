"""The `hexmart` command: the server, the worker, and the admin commands.

    hexmart serve [--host 127.0.0.1] [--port 8000] [--workers 1] [--demo]
    hexmart worker
    hexmart migrate | db status | users ... | api-keys ... | catalog ... | ...  (--help)

Reads the configuration from `HEXMART_*` variables (and `.env`); a bad value is reported
one line per problem with exit code 2, never as a traceback. Only click and the command
modules (which import only click) load at start-up: everything else is imported by the
command that needs it, so `hexmart --help` answers at once.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click

from entrypoints.commands import register_admin_commands
from entrypoints.commands.runtime import composition, guarded, load_settings

if TYPE_CHECKING:
    from entrypoints.container import Container
    from entrypoints.demo import DemoAdmin
    from entrypoints.settings import Settings

EXIT_CONFIGURATION = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hexmart", prog_name="hexmart", message="%(prog)s %(version)s")
def main() -> None:
    """hexmart: a small, fast, correct e-commerce backend.

    Every command reads the same HEXMART_* settings as the server and goes through the
    same use cases as the HTTP API. Errors are one line on stderr; exit code 1 means the
    action was refused, 2 bad usage or settings.
    """


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
    import asyncio
    import functools
    import os

    import uvicorn

    from entrypoints.demo import demo_admin, seed_demo_shop
    from entrypoints.error_reporting import init_error_reporting
    from entrypoints.http.app import create_app
    from entrypoints.http.processes import serve_in_processes
    from entrypoints.logs import configure_logging
    from entrypoints.metrics import make_multiprocess_dir, remove_multiprocess_dir
    from entrypoints.tracing import init_tracing

    # Unless HEXMART_PUBLIC_BASE_URL says otherwise, links point where this server listens.
    settings = load_settings().served_at(host, port)
    _check_admin_settings(settings)
    _check_schema(settings)
    composed = composition()
    container = composed.build_container(settings)
    if workers > 1 and (settings.redis.url is None or settings.database.uses_sqlite):
        _fail(
            "--workers > 1 needs HEXMART_REDIS_URL and a PostgreSQL HEXMART_DATABASE_URL: "
            "sessions and rate limits live in one process otherwise"
        )
    configure_logging(settings.observability.log_level, settings.observability.log_format)
    admin = demo_admin(settings.data_dir) if demo else None
    _print_banner(settings, container, host, port, workers, admin)
    options = {
        "host": host,
        "port": port,
        "log_level": settings.observability.log_level.lower(),
        "proxy_headers": bool(settings.http.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.http.trusted_proxies) or None,
        "server_header": False,
        # hexmart configured the logging (one format for every logger) and writes its own
        # access line per request (entrypoints/http/access_log.py).
        "log_config": None,
        "access_log": False,
    }
    if workers == 1:
        init_error_reporting(settings, component="app")
        init_tracing(settings, service="hexmart-app")
        tasks = [functools.partial(seed_demo_shop, admin=admin)] if admin is not None else []
        uvicorn.run(create_app(container, startup_tasks=tasks), **options)  # type: ignore[arg-type]
        return
    if admin is not None:
        # Workers share the database, so the parent seeds it once, before they start.
        asyncio.run(_seed_once(container, admin))
    # The worker processes read their settings from the environment; they cannot see
    # --host and --port.
    os.environ["HEXMART_PUBLIC_BASE_URL"] = settings.base_url
    # One scrape of /metrics sums every process: they share a fresh metrics directory.
    metrics_dir = make_multiprocess_dir()
    try:
        serve_in_processes(composed.app_factory, factory=True, workers=workers, **options)
    finally:
        remove_multiprocess_dir(metrics_dir)


@main.command()
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve Prometheus metrics on this port at /metrics "
    "(default: HEXMART_WORKER_METRICS_PORT, else none).",
)
def worker(metrics_port: int | None) -> None:
    """Run the background worker (arq on Redis) until SIGTERM: emails from the outbox,
    expiring unpaid orders, reconciling payments, purging old records."""
    from entrypoints.worker import run_worker

    settings = load_settings()
    if settings.redis.url is None:
        _fail(
            "hexmart worker needs HEXMART_REDIS_URL; without Redis, hexmart serve runs the "
            "background work in its own process"
        )
    _check_schema(settings)
    run_worker(settings, metrics_port=metrics_port, compose=composition().build_container)


def _check_schema(settings: Settings) -> None:
    """Unless this process migrates as it starts (the embedded default, or
    HEXMART_MIGRATE_ON_START=true), refuse to start on an outdated schema."""
    if settings.database.migrates_on_start:
        return
    from adapters.sql.migrate import ensure_database

    guarded(lambda: ensure_database(settings.database.url, migrate=False))


def _check_admin_settings(settings: Settings) -> None:
    """Refuse a first-admin account the start-up would fail to create."""
    from domain.errors import InvalidValue
    from domain.users import check_password_strength
    from domain.values import Email

    if settings.auth.admin_email is None or settings.auth.admin_password is None:
        return
    try:
        Email(settings.auth.admin_email)
        check_password_strength(settings.auth.admin_password)
    except InvalidValue as error:
        setting = "HEXMART_ADMIN_EMAIL" if error.field == "email" else "HEXMART_ADMIN_PASSWORD"
        click.echo("hexmart: invalid configuration:", err=True)
        click.echo(f"  {setting}: {error.reason}", err=True)
        sys.exit(EXIT_CONFIGURATION)


async def _seed_once(container: Container, admin: DemoAdmin) -> None:
    from entrypoints.container import start_services, stop_services
    from entrypoints.demo import seed_demo_shop

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
    click.echo(f"  links (uploads, images, emails) point at {settings.base_url}")
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


register_admin_commands(main)

if __name__ == "__main__":
    main()
