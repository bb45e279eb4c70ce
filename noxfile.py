"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s bench`.

Each session installs the locked dependencies (uv.lock) into its own environment."""

from __future__ import annotations

import shutil

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]


def _install(session: nox.Session) -> None:
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        "--all-groups",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session
def tests(session: nox.Session) -> None:
    """The full test suite (needs PostgreSQL and Redis on 127.0.0.1)."""
    _install(session)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, the import-linter layer contracts, and mypy --strict on domain/ and application/."""
    _install(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks beside the machine's own limits (not a default session; ~10 minutes).

    Needs PostgreSQL (with pgbench) and Redis on 127.0.0.1. Installs wrk from Debian when
    it is missing, and granian and py-spy into this session's environment only. Options
    after `--` go to `python -m benchmarks.run` (e.g. `-- --seconds 5`).
    """
    _install(session)
    session.install("granian>=2", "py-spy>=0.4")
    if shutil.which("wrk") is None:
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", "wrk", external=True)
    if shutil.which("pgbench") is None:
        session.error("pgbench not found: it ships with the PostgreSQL server package")
    session.run("python", "-m", "benchmarks.run", *session.posargs)
