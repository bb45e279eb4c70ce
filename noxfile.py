"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s bench`, `nox -s mutants`.

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


# What `nox -s mutants` mutates, and the tests that must notice each change.
MUTATION_TARGETS = {
    "domain": ["tests/domain", "tests/application"],
    "application": ["tests/application"],
}
MUTATION_WORKDIR = ".mutmut"


def _mutmut_config(target: str, tests: list[str]) -> str:
    """A setup.cfg [mutmut] section for one target (mutmut reads its options from the
    working directory, and the two targets differ in the tests they run)."""
    lines = "\n    ".join(["-p", "no:randomly", "-p", "no:cacheprovider", "-q", *tests])
    return f"""[mutmut]
source_paths = {target}
pytest_add_cli_args_test_selection =
    {lines}
also_copy =
    adapters
    entrypoints
"""


def _mutation_score(stats: dict[str, int]) -> tuple[float, int]:
    """Killed (or timed out) over all mutants that ran, mutants no test reaches counted
    as survivors; and how many were never checked (a run stopped early)."""
    caught = stats.get("killed", 0) + stats.get("timeout", 0)
    escaped = sum(stats.get(key, 0) for key in ("survived", "no_tests", "suspicious", "segfault"))
    unchecked = stats["total"] - stats.get("skipped", 0) - caught - escaped
    return (100.0 * caught / (caught + escaped) if caught + escaped else 0.0), unchecked


@nox.session
def mutants(session: nox.Session) -> None:
    """Mutation testing with mutmut (not a default session; over an hour on two cores).

    Mutates domain/ (running tests/domain and tests/application), then application/
    (running tests/application), each in its own copy under .mutmut/<target>, and prints
    each score. `-- domain` or `-- application` runs one target; mutant name patterns
    narrow it (`-- application 'application.orders.*'`); `--max-children N` sets the
    parallel test processes (default 2). Inspect survivors afterwards from the copy:
    `cd .mutmut/domain && mutmut results` and `mutmut show <name>`. Survivors known to be
    equivalent are listed in docs/mutation-testing.md.
    """
    import json
    import time
    from pathlib import Path

    _install(session)
    args = list(session.posargs)
    children = "2"
    if "--max-children" in args:
        at = args.index("--max-children")
        children = args[at + 1]
        del args[at : at + 2]
    patterns = [arg for arg in args if "." in arg]
    targets = [arg for arg in args if "." not in arg] or list(MUTATION_TARGETS)
    unknown = [target for target in targets if target not in MUTATION_TARGETS]
    if unknown:
        session.error(f"unknown target(s) {unknown}: choose from {list(MUTATION_TARGETS)}")

    root = Path.cwd()
    scores: list[str] = []
    for target in targets:
        work = root / MUTATION_WORKDIR / target
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        for package in ("domain", "application", "adapters", "entrypoints", "tests"):
            skip = shutil.ignore_patterns("__pycache__")
            shutil.copytree(root / package, work / package, ignore=skip)
        for name in ("pyproject.toml", "uv.lock"):
            shutil.copy(root / name, work / name)
        (work / "setup.cfg").write_text(_mutmut_config(target, MUTATION_TARGETS[target]))
        started = time.monotonic()
        with session.chdir(work):
            # CI=true loads the derandomised Hypothesis profile: a mutant is killed or not
            # the same way on every run.
            session.run("mutmut", "run", "--max-children", children, *patterns, env={"CI": "true"})
            session.run("mutmut", "export-cicd-stats", silent=True)
        minutes = (time.monotonic() - started) / 60
        stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
        score, unchecked = _mutation_score(stats)
        survived = stats.get("survived", 0) + stats.get("no_tests", 0)
        scores.append(
            f"{target}: {score:.1f}% ({stats['total']} mutants, {survived} survived, "
            f"{unchecked} not checked, {minutes:.1f} min)"
        )
    for line in scores:
        session.log(f"mutation score {line}")


BASE_IMAGE = "localhost/hexmart-base:bookworm"
IMAGE = "localhost/hexmart:test"
# podman as this machine runs it: Debian's runc (crun refuses hybrid cgroups), no default
# ulimits and no pids limit (the container runtime here may not set them).
CONTAINERS_CONF = """[containers]
default_ulimits = []
pids_limit = 0

[engine]
runtime = "runc"
"""


def _debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 or one-line sources)."""
    import re
    from pathlib import Path

    for path in sorted(Path("/etc/apt").glob("sources.list*")) + sorted(
        Path("/etc/apt/sources.list.d").glob("*")
    ):
        if not path.is_file():
            continue
        text = path.read_text()
        found = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.MULTILINE) or re.search(
            r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)\s", text, re.MULTILINE
        )
        if found:
            return found.group(1)
    raise RuntimeError("no Debian mirror in /etc/apt: pass one as HEXMART_DEBIAN_MIRROR")


def _ca_secret() -> list[str]:
    """The machine's CA bundle as the build's `ca` secret, for a network that inspects
    TLS (the image itself never contains it)."""
    import os
    from pathlib import Path

    for candidate in (os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return ["--secret", f"id=ca,src={candidate}"]
    return []


@nox.session
def image(session: nox.Session) -> None:
    """Build the container image (deploy/Dockerfile) on a Debian bookworm base made here
    with debootstrap, then run the customer journey through nginx against it: migrate,
    two `serve` and two `worker` containers (podman, host network). Needs root, PostgreSQL
    and Redis on 127.0.0.1; installs podman, runc, debootstrap and nginx from Debian.
    `-- --rebuild-base` makes the base again."""
    import os
    import subprocess
    import tempfile
    from pathlib import Path

    _install(session)
    tools = {"podman": "podman", "runc": "runc", "debootstrap": "debootstrap"}
    missing = [package for tool, package in tools.items() if shutil.which(tool) is None]
    if not Path("/usr/sbin/nginx").exists():
        missing.append("nginx")
    if missing:
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", *missing, external=True)
    work = Path(tempfile.mkdtemp(prefix="hexmart-image-"))
    conf = work / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    env = {"CONTAINERS_CONF": str(conf)}
    podman = ["podman", "--runtime", "runc"]

    # Where a registry is reachable (GitHub's runners), HEXMART_BASE_IMAGE names a base to
    # pull instead, e.g. the official python:3.11-slim-bookworm.
    base = os.environ.get("HEXMART_BASE_IMAGE") or BASE_IMAGE
    exists = [*podman, "image", "exists", base]
    has_base = subprocess.run(exists, env={**os.environ, **env}, check=False).returncode == 0  # noqa: S603
    if base != BASE_IMAGE:
        if not has_base:
            session.run(*podman, "pull", base, external=True, env=env)
    elif "--rebuild-base" in session.posargs or not has_base:
        # Debian's python3 on bookworm is 3.11; the venv module is all the build needs.
        mirror = os.environ.get("HEXMART_DEBIAN_MIRROR") or _debian_mirror()
        rootfs = work / "rootfs"
        session.run(
            "debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
            "bookworm", str(rootfs), mirror, external=True, silent=True,
        )  # fmt: skip
        session.run(
            "sh", "-c", f"tar -C {rootfs} -c . | podman --runtime runc import - {BASE_IMAGE}",
            external=True, env=env, silent=True,
        )  # fmt: skip
        shutil.rmtree(rootfs, ignore_errors=True)
    session.run(
        *podman, "build", "--format", "docker", "--network", "host",
        "--build-arg", f"BASE_IMAGE={base}", *_ca_secret(),
        "-f", "deploy/Dockerfile", "-t", IMAGE, ".",
        external=True, env=env,
    )  # fmt: skip
    # The image runs as a non-root user and has no compiler.
    session.run(
        *podman, "run", "--rm", "--network", "host", "--entrypoint", "sh", IMAGE, "-c",
        'test "$(id -u)" = 10001 && ! command -v gcc && ! command -v cc && hexmart --version',
        external=True, env=env,
    )  # fmt: skip
    session.run(
        "pytest", "-p", "no:cacheprovider", "-q",
        "tests/deploy/test_behind_nginx.py::test_the_customer_journey_through_nginx",
        env={**env, "HEXMART_TEST_IMAGE": IMAGE},
    )  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
