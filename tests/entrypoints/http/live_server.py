"""A real `hexmart serve --demo` in a subprocess on a free loopback port, for the tests that
need a browser or a real HTTP connection."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.polling import eventually_sync

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# A cold start on a machine whose cores are saturated can take tens of seconds; a healthy
# one answers in about two, and the loop returns as soon as it does.
START_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    admin_email: str
    admin_password: str
    banner: str
    # What the server wrote on stdout (the banner, uvicorn's access log) and stderr.
    stdout: Path
    stderr: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(
    workdir: Path, *, log_level: str = "WARNING", settings: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """`settings`: more `HEXMART_*` variables for the server."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEXMART_")}
    env.update(
        {
            "HEXMART_DATA_DIR": str(workdir / "var"),
            "HEXMART_LOG_LEVEL": log_level,
            "PYTHONPATH": str(PROJECT_ROOT),
            **(settings or {}),
        }
    )
    out, err = workdir / "server.out", workdir / "server.err"
    command = [sys.executable, "-m", "entrypoints.testing", "serve", "--demo", "--port", str(port)]
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=stdout, stderr=stderr)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_ready(url, process, err)
        banner = out.read_text()
        email = re.search(r"demo admin email:\s+(\S+)", banner)
        password = re.search(r"demo admin password:\s+(\S+)", banner)
        assert email is not None, banner
        assert password is not None, banner
        yield LiveServer(url, email.group(1), password.group(1), banner, out, err)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], err: Path) -> None:
    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"hexmart serve exited with {process.returncode}:\n{err.read_text()}"
            )
        return httpx.get(f"{url}/health/ready", timeout=1.0).status_code == 200

    eventually_sync(
        ready,
        within=START_TIMEOUT_SECONDS,
        interval=0.1,
        ignoring=(httpx.TransportError,),
        message="hexmart serve did not answer",
    )
