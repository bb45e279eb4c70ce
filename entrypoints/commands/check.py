"""`hexmart check`: the settings, then every configured service, in one table."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from entrypoints.commands.runtime import (
    EXIT_REFUSED,
    composition,
    guarded,
    json_option,
    load_settings,
    print_json,
    print_table,
)

if TYPE_CHECKING:
    from entrypoints.container import Container
    from entrypoints.settings import Settings

# How long one service may take to answer.
CHECK_TIMEOUT_SECONDS = 10.0


async def _database(container: Container) -> str:
    import asyncio

    from adapters.sql.migrate import current_revision, head_revision

    settings = container.settings()
    current = await asyncio.to_thread(current_revision, settings.database.url)
    head = head_revision()
    if current == head:
        return f"reachable, schema at {head} (latest)"
    if settings.database.migrates_on_start:
        return f"reachable, schema at {current or 'nothing yet'}; migrated to {head} on start"
    raise RuntimeError(f"schema at {current or 'nothing'}, code at {head}: run hexmart migrate")


async def _redis(container: Container) -> str:
    await container.redis_client().ping()
    return "PING answered"


async def _stripe(container: Container) -> str:
    mode: str = await container.payment_gateway().check()
    return f"API key accepted ({mode} mode)"


async def _s3(container: Container) -> str:
    """Write, read back and delete a small object, through presigned URLs like clients."""
    import httpx

    storage = container.file_storage()
    key = f"hexmart-check/{secrets.token_hex(8)}"
    body = b"hexmart check"
    upload = await storage.presign_upload(
        key, content_type="text/plain", size=len(body), expires_in=timedelta(minutes=5)
    )
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_SECONDS) as http:
        put = await http.request(
            upload.method,
            upload.url,
            content=body,
            headers={"Content-Type": "text/plain", **upload.headers},
        )
        if put.status_code >= 300:
            raise RuntimeError(f"write refused (HTTP {put.status_code})")
        try:
            url = await storage.presign_download(key, expires_in=timedelta(minutes=5))
            got = await http.get(url)
            if got.content != body:
                raise RuntimeError(f"read back failed (HTTP {got.status_code})")
        finally:
            await storage.delete(key)
    if await storage.head(key) is not None:
        raise RuntimeError("delete did not remove the test object")
    return f"bucket {container.settings().files.s3_bucket}: write, read, delete ok"


async def _local_files(container: Container) -> str:
    await container.file_storage().check()
    return f"folder {container.settings().files_dir} usable"


async def _smtp(container: Container) -> str:
    greeting: str = await container.mailer().greet()
    return f"greeting: {greeting[:80]}"


async def _mail_folder(container: Container) -> str:
    folder = container.settings().mail_dir
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".check-{secrets.token_hex(4)}"
    probe.write_text("ok")
    probe.unlink()
    return f"folder {folder} writable"


Check = Callable[["Container"], Awaitable[str]]


def _checks(settings: Settings) -> list[tuple[str, Check | None, str]]:
    """(service, check or None when not configured, what serves it)."""
    return [
        ("database", _database, settings.describe_adapters()["database"]),
        ("redis", _redis if settings.redis.url else None, "in-process instead"),
        ("payments", _stripe if settings.payments.uses_stripe else None, "local gateway instead"),
        (
            "files",
            _s3 if settings.files.s3_bucket else _local_files,
            "s3" if settings.files.s3_bucket else "",
        ),
        (
            "email",
            _smtp if settings.email.smtp_url else _mail_folder,
            "smtp" if settings.email.smtp_url else "",
        ),
    ]


@click.command()
@json_option
def check(as_json: bool) -> None:
    """Validate the settings, then reach every configured service (database and its
    migration level, Redis, Stripe and its key's mode, the S3 bucket, the SMTP server);
    exit 1 if any fails."""
    import asyncio

    settings = load_settings()
    build = composition().build_container

    async def run_checks() -> list[dict[str, Any]]:
        from entrypoints.container import stop_services

        container = build(settings)
        results: list[dict[str, Any]] = []
        try:
            for service, probe, note in _checks(settings):
                if probe is None:
                    results.append({"service": service, "status": "skipped", "detail": note})
                    continue
                started = time.perf_counter()
                try:
                    detail = await asyncio.wait_for(probe(container), CHECK_TIMEOUT_SECONDS)
                    status = "ok"
                except TimeoutError:
                    status, detail = "failed", f"no answer in {CHECK_TIMEOUT_SECONDS:.0f}s"
                except Exception as error:  # each failure is a row of the report
                    status, detail = (
                        "failed",
                        " ".join(str(error).split())[:200] or (type(error).__name__),
                    )
                results.append(
                    {
                        "service": service,
                        "status": status,
                        "detail": detail,
                        "ms": round((time.perf_counter() - started) * 1000),
                    }
                )
        finally:
            await stop_services(container)
        return results

    results = guarded(lambda: asyncio.run(run_checks()))
    if as_json:
        print_json(results)
    else:
        click.echo("settings: valid")
        print_table(results, ("service", "status", "detail", "ms"))
    if any(result["status"] == "failed" for result in results):
        raise SystemExit(EXIT_REFUSED)
