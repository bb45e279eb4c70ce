"""Real Redis and SMTP servers for the tests that need them.

Redis: the machine's shared server (127.0.0.1:6379, database 9 unless
`HEXMART_TEST_REDIS_URL` says otherwise). Each test works under its own random key prefix
and deletes only keys under it, never FLUSHDB: other suites may share the database. A test
that cannot reach Redis fails; it does not skip.

`PrivateRedis` is a redis-server of the test's own, on a free port in a temporary folder,
for tests that stop and start Redis (never the shared one). `PrivatePostgres` is the same
for PostgreSQL: a cluster of the test's own (initdb + pg_ctl), for database outages.

`RecordingSmtpServer` is an aiosmtpd server on a free loopback port that keeps every
message it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from redis.asyncio import Redis

from application.ports.messaging import EmailMessage
from tests.polling import eventually_sync

SHARED_REDIS_URL = os.environ.get("HEXMART_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unique_prefix(kind: str = "test") -> str:
    return f"hexmart-{kind}-{uuid.uuid4().hex[:12]}:"


async def delete_keys(redis: Redis, pattern: str) -> None:
    async for key in redis.scan_iter(match=pattern, count=500):
        await redis.delete(key)


@contextlib.asynccontextmanager
async def shared_redis(url: str = SHARED_REDIS_URL) -> AsyncIterator[tuple[Redis, str]]:
    """A client of the shared Redis and a fresh key prefix; on exit every key containing
    the prefix is deleted. Raises (so the test fails) if Redis does not answer."""
    redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        await redis.ping()
    except Exception as error:
        await redis.aclose()
        raise RuntimeError(
            f"Redis at {url} is not reachable ({error}); start it with: redis-server "
            '--daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'
        ) from error
    prefix = unique_prefix()
    try:
        yield redis, prefix
    finally:
        await delete_keys(redis, f"*{prefix}*")
        await redis.aclose()


class PrivateRedis:
    """A redis-server this test owns, started on a free port with its data in `folder`.
    With `persistent=False` it keeps nothing on disk, so a restart starts it empty (as a
    cache-only production Redis does)."""

    def __init__(self, folder: Path, *, persistent: bool = True) -> None:
        self.folder = folder
        self.persistent = persistent
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed")
        self._process = subprocess.Popen(
            [
                executable,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "yes" if self.persistent else "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True

        eventually_sync(
            answers,
            interval=0.02,
            ignoring=(OSError,),
            message=f"redis-server did not start on port {self.port}",
        )

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        self._process.wait(timeout=10)
        self._process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing saved, as in a crash or an OOM kill."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait(timeout=10)
        self._process = None


POSTGRES_BINARIES = Path(os.environ.get("HEXMART_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


class PrivatePostgres:
    """A PostgreSQL cluster this test owns (initdb in a temporary folder, a free port,
    trust auth, fsync off), started and stopped with pg_ctl. initdb refuses to run as
    root: as root, the server runs as the `postgres` OS user. `close` removes it all."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.folder = Path(tempfile.mkdtemp(prefix="hexmart-pg-"))
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
            "-E", "UTF8",
        )  # fmt: skip

    def _run(self, binary: str, *arguments: str) -> None:
        command = [str(POSTGRES_BINARIES / binary), *arguments]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        completed = subprocess.run(command, capture_output=True, timeout=60, check=False)
        if completed.returncode != 0:
            output = (completed.stdout + completed.stderr).decode(errors="replace")
            raise RuntimeError(f"{binary} failed ({completed.returncode}): {output}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as in a server restart."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class ReceivedEmail:
    envelope_from: str
    envelope_to: list[str]
    mime: MimeMessage

    def as_message(self) -> EmailMessage:
        """The message as the application sent it (the To header, subject and bodies)."""
        text = self.mime.get_body(preferencelist=("plain",))
        html = self.mime.get_body(preferencelist=("html",))
        return EmailMessage(
            to=str(self.mime["To"]),
            subject=str(self.mime["Subject"]),
            text_body=text.get_content() if text is not None else "",
            html_body=html.get_content() if html is not None else None,
        )


class _Recorder:
    def __init__(
        self,
        received: list[ReceivedEmail],
        lock: threading.Lock,
        recipients_open: threading.Event,
        recipient_held: threading.Event,
    ) -> None:
        self._received = received
        self._lock = lock
        self._recipients_open = recipients_open
        self._recipient_held = recipient_held

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if not self._recipients_open.is_set():
            self._recipient_held.set()
            await asyncio.to_thread(self._recipients_open.wait)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mime = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        with self._lock:
            self._received.append(
                ReceivedEmail(envelope.mail_from, list(envelope.rcpt_tos), mime)  # type: ignore[arg-type]
            )
        return "250 OK"


class RecordingSmtpServer:
    """aiosmtpd on 127.0.0.1, in its own thread; `received` is in arrival order."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._received: list[ReceivedEmail] = []
        self._controller: Controller | None = None
        self._recipients_open = threading.Event()
        self._recipients_open.set()
        self.recipient_held = threading.Event()

    def start(self) -> None:
        """Listen (again: a stopped server can be started anew, on the same port)."""
        if self._controller is None:
            self._controller = Controller(
                _Recorder(self._received, self._lock, self._recipients_open, self.recipient_held),
                hostname="127.0.0.1",
                port=self.port,
            )
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def hold_recipients(self) -> None:
        """Keep every client waiting at RCPT TO (before the message is accepted) until
        `release_recipients`; `recipient_held` is set once a client is kept waiting."""
        self.recipient_held.clear()
        self._recipients_open.clear()

    def release_recipients(self) -> None:
        self._recipients_open.set()

    @property
    def received(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self._received)

    def received_by(self, address: str) -> list[ReceivedEmail]:
        wanted = address.casefold()
        return [r for r in self.received if wanted in (t.casefold() for t in r.envelope_to)]

    async def wait_for(self, count: int, *, within: float = 20.0) -> list[ReceivedEmail]:
        """Poll until at least `count` messages arrived (or `within` seconds passed)."""
        deadline = time.monotonic() + within
        while True:
            received = self.received
            if len(received) >= count or time.monotonic() >= deadline:
                return received
            await asyncio.sleep(0.05)
