"""deploy/observability/: the Prometheus alert rules pass `promtool check rules` and their
unit tests (`promtool test rules`), and every hexmart metric the rules and the Grafana
dashboard query is one the app or the worker exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from entrypoints.http.metrics import ShopMetrics
from entrypoints.worker_metrics import WorkerMetrics

FOLDER = Path(__file__).resolve().parents[1] / "deploy" / "observability"


def _promtool(*arguments: str) -> str:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (.ci/run does)"
    done = subprocess.run(
        [promtool, *arguments], cwd=FOLDER, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_alert_rules_are_valid() -> None:
    assert "SUCCESS" in _promtool("check", "rules", "alerts.yml")


def test_the_alert_rules_fire_when_they_should() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "alerts_test.yml")


def _exposed_names() -> set[str]:
    names: set[str] = set()
    for registry in (ShopMetrics().registry, WorkerMetrics().registry):
        for family in registry.collect():
            names.add(family.name)
            names.update(f"{family.name}{suffix}" for suffix in ("_total", "_bucket", "_count"))
    return names


def test_the_rules_and_the_dashboard_query_metrics_that_exist() -> None:
    dashboard = json.loads((FOLDER / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    expressions.append((FOLDER / "alerts.yml").read_text())
    used = {name for text in expressions for name in re.findall(r"\bhexmart_\w+", text)}

    assert used
    assert used <= _exposed_names(), used - _exposed_names()
