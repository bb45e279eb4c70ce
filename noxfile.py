"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s bench`.

Each session installs the locked dependencies (uv.lock) into its own environment."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]


def _install(session: nox.Session) -> None:
    session.run_install(
        "uv", "sync", "--frozen", "--all-groups",
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
