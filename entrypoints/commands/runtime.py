"""What every admin command shares: settings, the container, the operator, errors, output.

Only click and the standard library are imported at module level, so that `hexmart --help`
stays fast; the container, the use cases and rich are imported when a command runs.

Exit codes: 0 success; 1 the shop refused the action (not found, conflict, a rule) or a
service failed; 2 bad usage, a bad value or bad settings. Errors are one line on stderr,
never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import shutil
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from application.principal import Principal
    from entrypoints.container import Container
    from entrypoints.settings import Settings

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

EXIT_REFUSED = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    click.echo(f"hexmart: {message}", err=True)
    sys.exit(code)


# The app factory uvicorn imports in each process of `hexmart serve --workers N`.
APP_FACTORY = "entrypoints.http.asgi:create_app_from_env"


@dataclass(frozen=True)
class Composition:
    """How the commands build their container, given as click's `obj` to `cli.main`;
    without one, `entrypoints.container.build_container` (entrypoints.testing gives the
    test composition). `app_factory` is the module:function uvicorn imports in each
    process of `serve --workers N`, and must build its container the same way."""

    build_container: Callable[[Settings], Container]
    app_factory: str = APP_FACTORY


def composition() -> Composition:
    """The composition of the command running now."""
    ctx = click.get_current_context(silent=True)
    given = ctx.find_object(Composition) if ctx is not None else None
    if given is not None:
        return given
    from entrypoints.container import build_container

    return Composition(build_container=build_container)


def build_container(settings: Settings) -> Container:
    """The container for `settings`, built as this command's composition says."""
    return composition().build_container(settings)


def load_settings() -> Settings:
    from entrypoints.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as error:
        click.echo("hexmart: invalid configuration:", err=True)
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_USAGE)


def operator_name() -> str:
    """`cli:<os user>`, as the audit trail names an operator at the console."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"cli:{user}"


def acting(command: F) -> F:
    """Add `--as EMAIL` (act as that staff or admin user instead of the console operator)."""
    return click.option(
        "--as",
        "as_email",
        metavar="EMAIL",
        default=None,
        expose_value=False,
        callback=_remember_as,
        help="Act as this staff or admin user (default: the console operator, an admin).",
    )(command)


def _remember_as(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    ctx.meta["hexmart.as_email"] = value


def json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(command)


def run(
    work: Callable[[Container, Principal], Awaitable[T]],
    *,
    settings: Settings | None = None,
) -> T:
    """Run `work` with a started container and the operator's principal; turn every error
    into one line on stderr and an exit code."""
    settings = settings or load_settings()
    ctx = click.get_current_context(silent=True)
    as_email = ctx.meta.get("hexmart.as_email") if ctx is not None else None
    import asyncio

    build = composition().build_container
    return guarded(lambda: asyncio.run(_run(build, settings, work, as_email)))


async def _run(
    build: Callable[[Settings], Container],
    settings: Settings,
    work: Callable[[Container, Principal], Awaitable[T]],
    as_email: str | None,
) -> T:
    from entrypoints.container import start_services, stop_services

    container = build(settings)
    try:
        await start_services(container)
        actor = await _principal(container, as_email)
        return await work(container, actor)
    finally:
        await stop_services(container)


async def _principal(container: Container, as_email: str | None) -> Principal:
    from application.principal import Principal
    from domain.errors import InvalidValue
    from domain.users import Role
    from domain.values import Email

    operator = operator_name()
    if as_email is None:
        return Principal.console(operator)
    try:
        address = Email(as_email)
    except InvalidValue as error:
        fail(f"--as: {error.reason}", EXIT_USAGE)
    async with container.unit_of_work()() as uow:
        user = await uow.users.get_by_email(address)
    if user is None:
        fail(f"--as: no user with the email {as_email}", EXIT_USAGE)
    if not user.is_active or user.role not in (Role.ADMIN, Role.STAFF):
        fail(f"--as: {as_email} is not an active staff or admin user", EXIT_USAGE)
    return Principal(user_id=user.id, role=user.role, operator=operator)


def guarded(call: Callable[[], T]) -> T:
    """Call `call`, mapping the errors a command may meet to one line and an exit code."""
    from adapters.sql.migrate import SchemaOutdated
    from application.ports.errors import ServiceUnavailable
    from domain.errors import DomainError, InvalidValue

    try:
        return call()
    except InvalidValue as error:
        fail(str(error), EXIT_USAGE)
    except ServiceUnavailable as error:
        fail(f"service unavailable: {error}")
    except DomainError as error:
        fail(str(error))
    except SchemaOutdated as error:
        fail(str(error), EXIT_USAGE)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except (SystemExit, click.exceptions.Exit, click.Abort):
        raise
    except Exception as error:  # a failed connection, a driver error: one line, no traceback
        fail(_describe(error))


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if hasattr(error, "orig") and error.orig is not None:  # SQLAlchemy's DBAPI wrapper
        text = " ".join(str(error.orig).split())
        return f"database error: {text[:300]}"
    if isinstance(error, OSError):
        return f"cannot reach a service: {text[:300]}"
    return f"{type(error).__name__}: {text[:300]}"


# Output ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value  # enums
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def print_json(data: Any) -> None:
    click.echo(json.dumps(_plain(data), indent=2, ensure_ascii=False))


def print_table(rows: Sequence[dict[str, Any]], columns: Iterable[str], *, title: str = "") -> None:
    """A readable table (rich) of `rows`, one column per name in `columns`."""
    from rich.console import Console
    from rich.table import Table

    columns = list(columns)
    table = Table(title=title or None, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    console = Console(
        file=sys.stdout, soft_wrap=False, width=max(120, shutil.get_terminal_size().columns)
    )
    if rows:
        console.print(table)
    else:
        click.echo("(none)")


def print_record(record: dict[str, Any]) -> None:
    """One thing, field by field."""
    width = max((len(key) for key in record), default=0)
    for key, value in record.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {_cell(value)}")


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def show(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        print_json(data)
    else:
        render()


@contextlib.contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (count, rate, ETA) while the block runs, when stderr is
    a terminal; yields the function to call with each step's count."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f}/s" if speed else "-/s")

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda count: progress.advance(task, count)


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive action unless `--yes`; a no (or no terminal) stops it."""
    if yes:
        return
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort:  # no answer (end of input, Ctrl-C)
        confirmed = False
    if not confirmed:
        fail("cancelled, nothing changed (pass --yes to skip this question)")


yes_option = functools.partial(
    click.option, "--yes", "-y", is_flag=True, help="Do not ask for confirmation."
)
