"""A real S3-compatible server for the tests: moto in server mode on a loopback port.

`moto_server` (session) starts `moto_server` on a free 127.0.0.1 port, waits with a
deadline (never a blind sleep) until it answers, and stops it at the end of the session.
A server that cannot start fails the tests that need it; it does not skip them.
`s3_bucket` (per test) creates a fresh, empty bucket there.

moto accepts any credentials and does not check presigned URLs' signatures or expiry
(a known limit of moto), so tests against it show that the URLs work, not that a
tampered one is refused.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.real_services import free_port

ACCESS_KEY_ID = "moto-test-key"
SECRET_ACCESS_KEY = "moto-test-secret"
REGION = "us-east-1"
_POLL_SECONDS = 0.05


class MotoUnavailable(RuntimeError):
    """moto's server is not installed or did not start in time."""


@dataclass(frozen=True, slots=True)
class MotoServer:
    url: str

    def create_bucket(self) -> str:
        name = f"hexmart-test-{uuid.uuid4().hex[:12]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )
        client.create_bucket(Bucket=name)
        return name


@contextlib.contextmanager
def running_moto_server(start_timeout: float = 30.0) -> Iterator[MotoServer]:
    executable = Path(sys.executable).with_name("moto_server")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "moto.server"]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="moto-") as folder:
        log_path = Path(folder) / "server.log"
        with log_path.open("w") as log:
            # Credentials of its own: nothing from the developer's AWS environment leaks in.
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            }
            process = subprocess.Popen(
                [*command, "-H", "127.0.0.1", "-p", str(port)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            server = MotoServer(f"http://127.0.0.1:{port}")
            _wait_until_answering(server.url, process, log_path, start_timeout)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_answering(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MotoUnavailable(
                f"moto_server exited with code {process.returncode}: "
                + log_path.read_text(errors="replace")[-2000:]
            )
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):  # noqa: S310 (loopback)
                return
        except urllib.error.HTTPError:
            return  # it answers, if not with 200
        except OSError as error:
            last_error = error
        time.sleep(_POLL_SECONDS)
    raise MotoUnavailable(
        f"moto_server did not answer within {timeout}s ({last_error}); is moto[server] "
        "installed? " + log_path.read_text(errors="replace")[-2000:]
    )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with running_moto_server() as server:
        yield server


@pytest.fixture
def s3_bucket(moto_server: MotoServer) -> str:
    """A new empty bucket on the session's moto server."""
    return moto_server.create_bucket()
