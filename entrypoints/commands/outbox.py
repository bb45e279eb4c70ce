"""`hexmart outbox ...` and `hexmart workers status`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from entrypoints.commands import runtime
from entrypoints.commands.runtime import (
    acting,
    json_option,
    print_json,
    print_record,
    print_table,
    run,
    show,
)

if TYPE_CHECKING:
    from application.principal import Principal
    from entrypoints.container import Container


@click.group()
def outbox() -> None:
    """Messages (emails, live updates) waiting to be handed to the task queue."""


def _age(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


@outbox.command("status")
@json_option
@acting
def outbox_status(as_json: bool) -> None:
    """Messages not handled yet, by kind: how many, the oldest one's age, the most
    attempts."""

    async def status(container: Container, actor: Principal) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind.name,
                "unhandled": kind.unhandled,
                "oldest_age": _age(kind.oldest_unhandled_at),
                "oldest_at": kind.oldest_unhandled_at,
                "most_attempts": kind.most_attempts,
            }
            for kind in await container.outbox_admin().status(actor)
        ]

    rows = run(status)
    if as_json:
        print_json(rows)
    elif rows:
        print_table(rows, ("kind", "unhandled", "oldest_age", "most_attempts"))
    else:
        click.echo("nothing waiting: every message was handled")


@outbox.command("show")
@click.argument("message_id", metavar="ID")
@json_option
@acting
def outbox_show(message_id: str, as_json: bool) -> None:
    """One message, its payload with secrets redacted."""

    async def get(container: Container, actor: Principal) -> dict[str, Any]:
        entry = await container.outbox_admin().show(actor, message_id)
        return {
            "id": entry.message.id,
            "kind": entry.message.name,
            "created_at": entry.message.created_at,
            "attempts": entry.message.attempts,
            "enqueued_at": entry.enqueued_at,
            "handled_at": entry.handled_at,
            "payload": entry.message.payload,
        }

    record = run(get)

    def render() -> None:
        payload = record.pop("payload")
        print_record(record)
        click.echo("payload:")
        print_json(payload)

    show(record, as_json, render)


@outbox.command("retry")
@click.option("--id", "message_id", metavar="ID", help="The message to hand on again.")
@click.option(
    "--failed",
    is_flag=True,
    help="Every message enqueued but not handled (its job failed, gave up or was lost).",
)
@acting
def outbox_retry(message_id: str | None, failed: bool) -> None:
    """Hand one message (--id) or every failed one (--failed) on again at the next relay,
    without waiting for the redelivery timeout. Handlers act once per message id, so what
    was done already is not done twice."""
    if (message_id is None) == (not failed):
        runtime.fail("give exactly one of --id ID and --failed", runtime.EXIT_USAGE)

    if failed:

        async def retry_failed(container: Container, actor: Principal) -> int:
            count: int = await container.outbox_admin().retry_failed(actor)
            return count

        count = run(retry_failed)
        click.echo(f"{count} failed outbox message(s) will be handed on again")
        return

    async def retry(container: Container, actor: Principal) -> None:
        await container.outbox_admin().retry(actor, str(message_id))

    run(retry)
    click.echo(f"outbox message {message_id} will be handed on again")


@click.group()
def workers() -> None:
    """Background workers."""


@workers.command("status")
@json_option
def workers_status(as_json: bool) -> None:
    """The workers alive (their heartbeats: host, pid, start, last beat, jobs done) and
    the task queue's length. A worker that stopped, or missed its beats for 15 s, is not
    listed."""
    settings = runtime.load_settings()
    if settings.redis.url is None:
        runtime.fail(
            "no HEXMART_REDIS_URL: without Redis there are no workers, hexmart serve runs "
            "the background work in its own process",
            runtime.EXIT_USAGE,
        )

    async def status(container: Container, actor: Principal) -> dict[str, Any]:
        length: int = await container.task_queue().queue_length()
        alive = await container.workers().alive()
        return {
            "jobs_waiting": length,
            "workers": [
                {
                    "worker_id": beat.worker_id,
                    "host": beat.host,
                    "pid": beat.pid,
                    "started_at": beat.started_at,
                    "last_beat_age": _age(beat.last_beat_at),
                    "jobs_done": beat.jobs_done,
                }
                for beat in alive
            ],
        }

    report = run(status, settings=settings)

    def render() -> None:
        click.echo(f"jobs waiting  {report['jobs_waiting']}")
        if report["workers"]:
            columns = ("worker_id", "host", "pid", "started_at", "last_beat_age", "jobs_done")
            print_table(report["workers"], columns)
        else:
            click.echo("no worker alive: emails, live updates and scheduled jobs wait")

    show(report, as_json, render)
