"""The deployment files in deploy/ checked offline: every Kubernetes manifest against the
schemas of a pinned Kubernetes version (kubernetes-validate, strict: an unknown field is an
error), and the numbers that must agree with the app's (drain times, body limits, probes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from entrypoints.settings import Settings
from entrypoints.worker import SHUTDOWN_GRACE_SECONDS
from entrypoints.worker_process import CLOSE_SECONDS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES_VERSION = "1.31.0"


def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append(
                    (f"{path.name}:{document['kind']}/{document['metadata']['name']}", document)
                )
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


@pytest.mark.parametrize(("name", "document"), manifests(), ids=[n for n, _ in manifests()])
def test_each_manifest_is_valid_for_the_pinned_kubernetes_version(
    name: str, document: dict[str, Any]
) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_an_invalid_manifest_is_refused() -> None:
    deployment = by_kind("Deployment")["hexmart-app"]
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    files = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")}
    assert set(kustomization["resources"]) == files - {"kustomization.yaml", "secret.example.yaml"}


def test_the_app_is_probed_on_its_health_routes_and_drains_before_it_is_killed() -> None:
    pod = by_kind("Deployment")["hexmart-app"]["spec"]["template"]["spec"]
    (app,) = pod["containers"]
    assert app["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert app["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert pod["terminationGracePeriodSeconds"] > app["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert {"requests", "limits"} <= app["resources"].keys()


def test_the_worker_gets_its_whole_drain_time() -> None:
    pod = by_kind("Deployment")["hexmart-worker"]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= SHUTDOWN_GRACE_SECONDS + CLOSE_SECONDS
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    grace = compose["services"]["worker"]["stop_grace_period"]
    assert int(grace.removesuffix("s")) >= SHUTDOWN_GRACE_SECONDS + CLOSE_SECONDS


def test_every_deployment_has_a_disruption_budget_and_an_autoscaler() -> None:
    budgets = {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
               for d in by_kind("PodDisruptionBudget").values()}  # fmt: skip
    scaled = {
        d["spec"]["scaleTargetRef"]["name"] for d in by_kind("HorizontalPodAutoscaler").values()
    }
    assert budgets == {"app", "worker"}
    assert scaled == set(by_kind("Deployment"))


def _mebibytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([km]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


def test_the_proxies_body_limits_match_the_apps() -> None:
    defaults = Settings()
    conf = (DEPLOY / "nginx" / "hexmart.conf").read_text()
    limits = re.findall(r"client_max_body_size (\w+);", conf)
    assert [_mebibytes(v) for v in limits] == [
        defaults.http.max_request_body_bytes,
        defaults.files.upload_max_bytes,
    ]
    ingress = by_kind("Ingress")["hexmart"]["metadata"]["annotations"]
    assert _mebibytes(ingress["nginx.ingress.kubernetes.io/proxy-body-size"]) == (
        defaults.files.upload_max_bytes
    )


def test_compose_runs_the_topology() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert {"nginx", "app1", "app2", "worker", "migrate", "postgres", "redis"} <= services.keys()
    for app in ("app1", "app2", "worker"):
        waits = services[app]["depends_on"]
        assert waits["migrate"] == {"condition": "service_completed_successfully"}
    for store in ("postgres", "redis"):
        assert "healthcheck" in services[store]
        assert services[store]["volumes"]
