"""`hexmart migrate` and `hexmart db status`: the schema as a deploy step."""

from __future__ import annotations

import click

from entrypoints.commands.runtime import (
    EXIT_REFUSED,
    guarded,
    json_option,
    load_settings,
    print_json,
    print_record,
)


@click.command()
@click.option("--check", is_flag=True, help="Apply nothing; exit 1 if any migration is pending.")
def migrate(check: bool) -> None:
    """Migrate the database to the latest schema, printing each revision applied."""
    from adapters.sql.migrate import head_revision, pending_revisions, upgrade_step_by_step

    settings = load_settings()
    url = settings.database.url
    if check:
        pending = guarded(lambda: pending_revisions(url))
        if pending:
            click.echo(f"{len(pending)} migration(s) pending:")
            for step in pending:
                click.echo(f"  {step.revision}  {step.description}")
            raise SystemExit(EXIT_REFUSED)
        click.echo(f"database schema is up to date ({head_revision()})")
        return

    def applied(step: object) -> None:
        click.echo(f"applied {step.revision}  {step.description}")  # type: ignore[attr-defined]

    done = guarded(lambda: upgrade_step_by_step(url, applied))
    if done:
        click.echo(f"database schema is at {head_revision()} ({len(done)} migration(s) applied)")
    else:
        click.echo(f"database schema was already up to date ({head_revision()})")


@click.group()
def db() -> None:
    """The database: its migration level."""


@db.command("status")
@json_option
def db_status(as_json: bool) -> None:
    """Which database, at which revision, and what is pending."""
    from adapters.sql.migrate import current_revision, head_revision, pending_revisions

    settings = load_settings()
    url = settings.database.url

    def status() -> dict[str, object]:
        pending = pending_revisions(url)
        return {
            "database": settings.describe_adapters()["database"],
            "current": current_revision(url),
            "head": head_revision(),
            "up_to_date": not pending,
            "pending": [f"{step.revision} {step.description}" for step in pending],
        }

    report = guarded(status)
    if as_json:
        print_json(report)
    else:
        print_record(report)
