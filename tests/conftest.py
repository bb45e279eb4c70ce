"""Test-suite wide settings. Fixtures for real services live next to the tests using them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# PostgreSQL and SQLite databases (created, migrated, emptied, dropped) for any test, and
# an S3-compatible server (moto) with a fresh bucket per test.
pytest_plugins = ["tests.sql_fixtures", "tests.s3_server"]


def running_in_ci() -> bool:
    """Whether the CI environment variable is set to a true value (CI sets CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


# Example databases are kept out of the tree; CI runs derandomised so a failure reproduces.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("ci" if running_in_ci() else "default")


class SkippedTestsFailTheRun:
    """Under CI a skipped test is a failed run: a skip would otherwise read as a pass (a
    missing service, a test that does not apply collected anyway). Expected failures are
    not skips: strict ones already fail the run when they pass."""

    def __init__(self, rootpath: Path) -> None:
        self.rootpath = rootpath
        self.skipped: dict[str, str] = {}  # node id -> reason

    def _note(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skipped.setdefault(report.nodeid or "<session>", self._reason(report))

    def _reason(self, report: pytest.CollectReport | pytest.TestReport) -> str:
        if not isinstance(report.longrepr, tuple):
            return str(report.longrepr)
        path, line, message = report.longrepr  # (where pytest.skip was called, 1-based, ...)
        where = os.path.relpath(path, self.rootpath) if os.path.isabs(path) else path
        return f"{message.removeprefix('Skipped: ')} ({where}:{line})"

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._note(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._note(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.skipped:
            return
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        lines = [
            f"{len(self.skipped)} skipped test(s) fail this run because CI is set; "
            "make each one run or remove it:",
            *(f"  {node_id}: {reason}" for node_id, reason in self.skipped.items()),
        ]
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            print("\n".join(lines))
            return
        reporter.write_sep("=", "skipped tests under CI", red=True, bold=True)
        for line in lines:
            reporter.write_line(line, red=True)


def pytest_configure(config: pytest.Config) -> None:
    if running_in_ci():
        plugin = SkippedTestsFailTheRun(config.rootpath)
        config.pluginmanager.register(plugin, "hexmart-skipped-tests-fail-ci")
