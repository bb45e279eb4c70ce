"""The production topology on this machine: nginx (from Debian, TLS with a throw-away
certificate) in front of two `hexmart serve` processes on their own ports, two
`hexmart worker`s, one PostgreSQL database (migrated by `hexmart migrate`, as a deploy does)
and a Redis of the topology's own. nginx runs the committed deploy/nginx/hexmart.conf, only
its addresses and certificate paths rewritten for this machine; its access log names the
app process that answered each request.

With `HEXMART_TEST_IMAGE` set (what `nox -s image` does), every hexmart process (migrate,
serve, worker) runs in that container image instead, with podman on the host network and
the image's own settings (production, argon2id, its data folder)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from entrypoints.testing import TEST_JWT_SECRET
from tests.polling import eventually_sync
from tests.real_services import PrivateRedis, RecordingSmtpServer, free_port
from tests.sql_fixtures import POSTGRES_SERVER_URL, postgres_dsn

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = PROJECT_ROOT / "deploy" / "nginx" / "hexmart.conf"
ADMIN_EMAIL = "root@example.com"
PASSWORD = "correct horse battery"
START_SECONDS = 120.0  # a cold start on a saturated machine; polls return at once
# The local gateway's payments succeed this long after the order: long enough for a
# WebSocket to be open before `paid`.
COMPLETION_SECONDS = 1.0


@dataclass
class Process:
    """One hexmart process the topology owns; `start` can run it again on the same port."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                self.command, cwd=PROJECT_ROOT, env=self.env, stdout=output,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_until_ready(self) -> None:
        assert self.process is not None
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            if self.port is None:
                return True  # a worker: running is all it shows
            return httpx.get(f"{self.url}/health/ready", timeout=1.0).status_code == 200

        eventually_sync(
            ready,
            within=START_SECONDS,
            interval=0.1,
            ignoring=(httpx.TransportError,),
            message=lambda: f"{self.name} did not start:\n{self.log.read_text()[-3000:]}",
        )

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 40.0) -> int:
        """Send `sig`, wait for the exit, return the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.name} did not stop within {timeout}s") from None


@dataclass
class Topology:
    https_url: str
    http_url: str
    certificate: Path
    database_url: str
    apps: list[Process]
    workers: list[Process]
    smtp: RecordingSmtpServer
    access_log: Path
    ssl_context: ssl.SSLContext = field(init=False)

    def __post_init__(self) -> None:
        self.ssl_context = ssl.create_default_context(cafile=str(self.certificate))

    def client(self, address: str = "127.0.0.2", **options: object) -> httpx.AsyncClient:
        """A client connecting to nginx from `address` (any 127.x address of this host)."""
        transport = httpx.AsyncHTTPTransport(local_address=address, verify=self.ssl_context)
        return httpx.AsyncClient(
            base_url=self.https_url,
            transport=transport,
            timeout=20.0,
            **options,  # type: ignore[arg-type]
        )

    def upstreams_used(self) -> dict[str, int]:
        """How many requests each app process answered, from nginx's access log."""
        counts: dict[str, int] = {}
        for line in self.access_log.read_text().splitlines():
            for upstream in line.split(" upstream=")[-1].split(", "):
                counts[upstream] = counts.get(upstream, 0) + 1
        return counts

    def answers_from(self, app: Process) -> int:
        """How many successful answers nginx got from `app` so far (its access log)."""
        upstream = f"upstream=127.0.0.1:{app.port}"
        return sum(
            1
            for line in self.access_log.read_text().splitlines()
            if line.endswith(upstream) and line.split(" ")[1].startswith("2")
        )

    def wait_until_back_in_rotation(self, app: Process, answers_before: int) -> None:
        """Poll until nginx sends `app` requests again (after a restart, nginx keeps a
        process it saw fail out of rotation for the upstream's fail_timeout)."""
        eventually_sync(
            lambda: self.answers_from(app) > answers_before,
            within=START_SECONDS,
            message=f"nginx never sent {app.name} requests again",
        )

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(postgres_dsn(self.database_url)) as connection:
            return connection.execute(query, params).fetchall()  # type: ignore[arg-type]


def _certificate(folder: Path) -> Path:
    """A throw-away self-signed certificate for 127.0.0.1 (tls.crt, tls.key)."""
    folder.mkdir()
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(folder / "tls.key"), "-out", str(folder / "tls.crt"),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return folder / "tls.crt"


def render_nginx_conf(folder: Path, https: int, http: int, app_ports: list[int]) -> Path:
    """The committed configuration with this machine's ports and certificate paths; each
    rewrite must apply exactly once, so a change to the file cannot slip past the tests."""
    text = NGINX_CONF.read_text()
    rewrites = {
        "server app1:8000": f"server 127.0.0.1:{app_ports[0]}",
        "server app2:8000": f"server 127.0.0.1:{app_ports[1]}",
        "    listen 80;\n": f"    listen 127.0.0.1:{http};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{https} ssl http2;\n",
        "    listen [::]:443 ssl http2;\n": "",
        "/etc/nginx/tls/tls.crt": str(folder / "tls" / "tls.crt"),
        "/etc/nginx/tls/tls.key": str(folder / "tls" / "tls.key"),
    }
    for old, new in rewrites.items():
        assert text.count(old) == 1, f"{old!r} is not once in {NGINX_CONF}"
        text = text.replace(old, new)
    (folder / "hexmart.conf").write_text(text)
    main = folder / "nginx.conf"
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 2;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$remote_addr $status $request_method $uri '
                         'rid=$hexmart_request_id upstream=$upstream_addr';
    access_log {folder / "access.log"} upstreams;
{temp}
    include {folder / "hexmart.conf"};
}}
"""
    )
    return main


def _create_database() -> str:
    name = f"hexmart_topology_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_dsn(POSTGRES_SERVER_URL), autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    return make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(postgres_dsn(POSTGRES_SERVER_URL), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def hexmart_env(
    database_url: str, redis_url: str, smtp_url: str, public_url: str, data: Path
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEXMART_")}
    env.update(
        {
            "HEXMART_DATABASE_URL": database_url,
            "HEXMART_REDIS_URL": redis_url,
            "HEXMART_SMTP_URL": smtp_url,
            "HEXMART_PUBLIC_BASE_URL": public_url,
            "HEXMART_DATA_DIR": str(data),
            "HEXMART_JWT_SECRET": TEST_JWT_SECRET,
            "HEXMART_ADMIN_EMAIL": ADMIN_EMAIL,
            "HEXMART_ADMIN_PASSWORD": PASSWORD,
            "HEXMART_LOCAL_PAYMENTS_COMPLETION_SECONDS": str(COMPLETION_SECONDS),
            # Only nginx (connecting from 127.0.0.1) may say who the client is; the test
            # clients connect from other 127.x addresses.
            "HEXMART_TRUSTED_PROXIES": "127.0.0.1",
            "HEXMART_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    return env


@contextlib.contextmanager
def running_topology(folder: Path) -> Iterator[Topology]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise RuntimeError("nginx is not installed (apt-get install nginx; .ci/run does)")
    with contextlib.ExitStack() as stack:
        certificate = _certificate(folder / "tls")
        redis = PrivateRedis(folder)
        redis.start()
        stack.callback(redis.stop)
        smtp = RecordingSmtpServer()
        smtp.start()
        stack.callback(smtp.stop)
        database_url = _create_database()
        stack.callback(_drop_database, database_url)
        https, http = free_port(), free_port()
        public = f"https://127.0.0.1:{https}"
        env = hexmart_env(database_url, redis.url, smtp.url, public, folder / "var")
        image = os.environ.get("HEXMART_TEST_IMAGE")
        if image:
            # The image's own: production, argon2id, its data folder.
            env.pop("HEXMART_DATA_DIR")
            cli = _podman_run(image, env)
        else:
            cli = [sys.executable, "-m", "entrypoints.testing"]
        # The deploy step: migrate once, before any app or worker starts.
        migrated = subprocess.run(
            [*cli, "migrate"], cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=120
        )
        assert migrated.returncode == 0, migrated.stderr.decode()
        apps, workers = [], []
        for n in (1, 2):
            port = free_port()
            app = Process(
                f"app{n}", [*cli, "serve", "--port", str(port)], env, folder / f"app{n}.log", port
            )
            apps.append(app)
            workers.append(Process(f"worker{n}", [*cli, "worker"], env, folder / f"worker{n}.log"))
        for process in (*apps, *workers):
            process.start()
            stack.callback(process.stop)
        conf = render_nginx_conf(folder, https, http, [app.port for app in apps])  # type: ignore[misc]
        nginx_log = folder / "nginx.out"
        with nginx_log.open("w") as output:
            proxy = subprocess.Popen(
                [nginx, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf),
                 "-g", "daemon off;"],
                stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        stack.callback(_stop_nginx, proxy)
        for process in (*apps, *workers):
            process.wait_until_ready()
        topology = Topology(
            public, f"http://127.0.0.1:{http}", certificate, database_url, apps, workers, smtp,
            folder / "access.log",
        )  # fmt: skip
        _wait_for_nginx(topology, proxy, folder)
        yield topology


def _podman_run(image: str, env: dict[str, str]) -> list[str]:
    """`podman run` of `image` (its entry point is `hexmart`), on the host network, with the
    HEXMART_* variables of `env` (podman reads their values from its own environment)."""
    return [
        "podman", "--runtime", "runc", "run", "--rm", "--network", "host", "--init",
        "--no-healthcheck",
        *(f"--env={name}" for name in sorted(env) if name.startswith("HEXMART_")),
        image,
    ]  # fmt: skip


def _stop_nginx(proxy: subprocess.Popen[bytes]) -> None:
    proxy.send_signal(signal.SIGQUIT)  # graceful
    try:
        proxy.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proxy.kill()
        proxy.wait()


def _wait_for_nginx(topology: Topology, proxy: subprocess.Popen[bytes], folder: Path) -> None:
    def live() -> bool:
        if proxy.poll() is not None:
            raise AssertionError(f"nginx exited:\n{(folder / 'error.log').read_text()}")
        answer = httpx.get(
            f"{topology.https_url}/health/live", verify=topology.ssl_context, timeout=1.0
        )
        return answer.status_code == 200

    eventually_sync(
        live,
        within=START_SECONDS,
        interval=0.1,
        ignoring=(httpx.TransportError,),
        message=lambda: f"nginx did not answer:\n{(folder / 'error.log').read_text()}",
    )
