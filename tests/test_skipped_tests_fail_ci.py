"""Under CI a skipped test fails the run (tests/conftest.py), so a skip never reads as a pass.

Each test runs a small suite with the project's own conftest loaded as a plugin.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

A_SKIP_AND_A_PASS = """
import pytest

def test_that_runs():
    assert True

def test_that_is_skipped():
    pytest.skip("the payment provider has no webhooks")
"""

EXPECTED_FAILURES_ONLY = """
import pytest

def test_that_runs():
    assert True

@pytest.mark.xfail(strict=True, reason="known gap")
def test_that_fails_as_expected():
    assert False

@pytest.mark.xfail(strict=False, reason="sometimes fixed")
def test_that_passes_unexpectedly():
    assert True
"""


def run_suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str, *, ci: str | None
) -> pytest.RunResult:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_suite=source)
    return pytester.runpytest("-p", "tests.conftest", "-p", "no:cacheprovider")


@pytest.mark.parametrize("ci", ["true", "1", "True"])
def test_a_skipped_test_fails_a_ci_run_and_is_named(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    result = run_suite(pytester, monkeypatch, A_SKIP_AND_A_PASS, ci=ci)
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*1 skipped test(s) fail this run because CI is set*",
            "  test_suite.py::test_that_is_skipped: the payment provider has no webhooks"
            " (test_suite.py:7)",
        ]
    )


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_a_skipped_test_does_not_fail_a_run_outside_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    result = run_suite(pytester, monkeypatch, A_SKIP_AND_A_PASS, ci=ci)
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*fail this run because CI is set*")


def test_expected_failures_are_not_skips_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_suite(pytester, monkeypatch, EXPECTED_FAILURES_ONLY, ci="true")
    result.assert_outcomes(passed=1, xfailed=1, xpassed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*fail this run because CI is set*")


def test_a_module_skipped_at_collection_fails_a_ci_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_other="def test_that_runs():\n    assert True\n")
    source = 'import pytest\n\npytest.importorskip("a_module_nobody_installed")\n'
    result = run_suite(pytester, monkeypatch, source, ci="true")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_suite.py: could not import 'a_module_nobody_installed'*"])


def test_a_run_that_already_failed_keeps_failing_and_names_its_skips(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = A_SKIP_AND_A_PASS + "\ndef test_that_fails():\n    assert False\n"
    result = run_suite(pytester, monkeypatch, source, ci="true")
    result.assert_outcomes(passed=1, skipped=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_suite.py::test_that_is_skipped: *"])
