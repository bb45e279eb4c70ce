"""App processes for the benchmark: `hexmart serve`, uvicorn or granian on a free
loopback port, the arq worker, and their peak memory read from /proc."""

# ruff: noqa: S603  (fixed commands, run on purpose)

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# The test composition (cheap password hashing: the runs sign up many customers).
APP_FACTORY = "entrypoints.testing:create_app_from_env"
HEXMART = [sys.executable, "-m", "entrypoints.testing"]
BARE_FACTORY = "benchmarks.bare_app:create_bare_app"


def _tool(name: str) -> str:
    """A console script of this interpreter's environment (the bench venv)."""
    return str(Path(sys.executable).parent / name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    peak_rss_mb: dict[int, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sample_rss(self) -> None:
        for pid in process_tree(self.process.pid):
            self.peak_rss_mb[pid] = max(self.peak_rss_mb.get(pid, 0.0), rss_mb(pid))

    @property
    def peak_process_rss_mb(self) -> float:
        """The largest peak of one process that serves requests (not a supervisor)."""
        return max(self.peak_rss_mb.values(), default=0.0)


@contextlib.contextmanager
def rss_sampling(server: Server, every: float = 0.2) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            server.sample_rss()
            stop.wait(every)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _wait_ready(server: Server, path: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + path, timeout=2) as response:  # noqa: S310
                if response.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready in {timeout}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve(
    kind: str, env: dict[str, str], logs: Path, *, workers: int = 1, bare: bool = False
) -> Iterator[Server]:
    """`kind` is "hexmart" (`hexmart serve`), "uvicorn" or "granian" (the ASGI factory)."""
    port = free_port()
    factory = BARE_FACTORY if bare else APP_FACTORY
    if kind == "hexmart":
        command = [*HEXMART, "serve", "--port", str(port), "--workers", str(workers)]
    elif kind == "uvicorn":
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
            "--no-server-header",
        ]
    elif kind == "granian":
        command = [
            _tool("granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-ws",
            factory,
        ]
    else:
        raise ValueError(kind)
    name = f"{kind}{'-bare' if bare else ''}-w{workers}"
    log = logs / f"{name}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, port)
    try:
        _wait_ready(server, "/products?limit=1" if bare else "/health/live", log)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_worker(env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    with (logs / "worker.log").open("wb") as out:
        return subprocess.Popen(
            [*HEXMART, "worker"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
