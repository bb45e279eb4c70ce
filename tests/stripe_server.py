"""A real `localstripe` server for the tests: loopback only, state kept in memory.

localstripe's own entry point binds every interface (`::`) and pickles its whole state to
/tmp/localstripe.pickle after each write, loading it back on the next start. Neither is
configurable, so `python -m tests.stripe_server` serves localstripe's aiohttp app itself:
it turns the pickling off, binds 127.0.0.1 on a port the kernel picks, and prints
`listening on <port>` for the parent to read (no free-port guessing, no race).

`running_localstripe()` starts that as a subprocess, waits (with a deadline, never a blind
sleep) until it answers, and stops it on exit. A server that cannot start raises
`LocalStripeUnavailable`, so tests that need it fail instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# localstripe accepts any key of this shape; it is not a credential.
API_KEY = "sk_test_localstripe"
_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_READY_LINE = "listening on "
# How often to look again while waiting for the server, always under a deadline.
_POLL_SECONDS = 0.05


class LocalStripeUnavailable(RuntimeError):
    """localstripe is not installed or did not start in time."""


@dataclass(frozen=True, slots=True)
class LocalStripe:
    """A running server: point the Stripe SDK at `url` with `API_KEY`."""

    url: str

    def register_webhook(
        self, webhook_id: str, url: str, secret: str, events: list[str] | None = None
    ) -> None:
        """Ask localstripe to POST events (all of them, or only `events`) to `url`,
        signed with `secret`. Registering the same id again replaces it."""
        fields: list[tuple[str, str]] = [("url", url), ("secret", secret)]
        fields += [(f"events[{n}]", name) for n, name in enumerate(events or [])]
        self._post(f"/_config/webhooks/{webhook_id}", fields)

    def unregister_webhook(self, webhook_id: str) -> None:
        """localstripe cannot delete a webhook: aim it at a closed loopback port."""
        self.register_webhook(webhook_id, f"http://127.0.0.1:{closed_port()}/", "whsec_off")

    def _post(self, path: str, fields: list[tuple[str, str]]) -> None:
        request = urllib.request.Request(  # noqa: S310 (the URL is ours, on loopback)
            self.url + path, data=urllib.parse.urlencode(fields).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            if response.status != 200:
                raise RuntimeError(f"localstripe refused {path}: HTTP {response.status}")


@contextlib.contextmanager
def running_localstripe(start_timeout: float = 20.0) -> Iterator[LocalStripe]:
    with tempfile.TemporaryDirectory(prefix="localstripe-") as folder:
        log_path = Path(folder) / "server.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.stripe_server"],
                cwd=_PROJECT_ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + start_timeout
            port = _read_port(process, log_path, deadline)
            server = LocalStripe(f"http://127.0.0.1:{port}")
            _wait_until_answering(server.url, process, deadline)
            yield server
        finally:
            _stop(process)


def _read_port(process: subprocess.Popen[bytes], log_path: Path, deadline: float) -> int:
    while time.monotonic() < deadline:
        output = log_path.read_text(errors="replace")
        for line in output.splitlines():
            if line.startswith(_READY_LINE):
                return int(line.removeprefix(_READY_LINE))
        if process.poll() is not None:
            break
        time.sleep(_POLL_SECONDS)
    _stop(process)
    raise LocalStripeUnavailable(
        "localstripe did not start (is it installed in this environment?): "
        + (log_path.read_text(errors="replace").strip()[-2000:] or f"exit {process.poll()}")
    )


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStripeUnavailable(f"localstripe exited with code {process.returncode}")
        request = urllib.request.Request(  # noqa: S310 (loopback)
            url + "/v1/payment_intents", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=1):  # noqa: S310
                return
        except urllib.error.HTTPError:
            return  # it answers, even if not with 200
        except OSError as exc:
            last_error = exc
        time.sleep(_POLL_SECONDS)
    _stop(process)
    raise LocalStripeUnavailable(f"localstripe did not answer at {url}: {last_error}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released: refused until reused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _serve() -> None:
    """The subprocess: localstripe's app without persistence, on 127.0.0.1."""
    from aiohttp import web
    from localstripe import resources, server  # type: ignore[import-untyped]

    # A fresh, private state for every run: never read or write /tmp/localstripe.pickle.
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    print(f"{_READY_LINE}{sock.getsockname()[1]}", flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    _serve()
