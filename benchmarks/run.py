"""`python -m benchmarks.run` (what `nox -s bench` runs): hexmart beside the physical
limits of this machine, each measured in one run, reported as ratios.

It creates its own database (`hexmart_bench_<random>`, dropped at the end) and uses its own
Redis database number, starts its own app processes on free loopback ports, seeds data in
SQL, and drives the load with wrk and pgbench, every run bounded in time. Results go to
`bench-results/<date>.json` and a markdown table on stdout. Targets are reported, not
asserted: this is a benchmark, not a test."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from adapters.sql.migrate import upgrade_to_head
from benchmarks import capture, seed
from benchmarks.load import pgbench, wrk
from benchmarks.report import markdown_table
from benchmarks.servers import process_tree, rss_sampling, serve
from benchmarks.worker_latency import measure_paid_to_email
from entrypoints.container import build_container, stop_services
from entrypoints.settings import Settings

SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"
SMALL, MEDIUM, LARGE = 1_000, 100_000, 1_000_000


class Bench:
    def __init__(
        self, work: Path, *, seconds: int, connections: int, profile: tuple[str, ...] = ()
    ) -> None:
        self.profile = profile
        self.py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.work = work
        self.seconds = seconds
        self.connections = connections
        self.database = f"hexmart_bench_{secrets.token_hex(5)}"
        self.env = {
            "HEXMART_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}",
            "HEXMART_REDIS_URL": REDIS_URL,
            "HEXMART_JWT_SECRET": secrets.token_urlsafe(48),
            "HEXMART_LOCAL_PAYMENTS_AUTO_COMPLETE": "false",
            "HEXMART_ACCESS_TOKEN_TTL_SECONDS": "7200",
            "HEXMART_DATA_DIR": str(work / "var"),
            "HEXMART_LOG_LEVEL": "WARNING",
            "HEXMART_DATABASE_POOL_SIZE": "20",
            # All the load comes from one address: the per-client limit would measure itself.
            "HEXMART_RATE_LIMIT_GENERAL_PER_CLIENT": "0",
            # Caching is turned on only where a run says so.
            "HEXMART_CATALOG_CACHE_TTL_SECONDS": "0",
        }
        self.results: dict[str, Any] = {}
        self.rss: dict[str, float] = {}

    # -- plumbing ------------------------------------------------------------------------

    @contextlib.contextmanager
    def database_created(self) -> Iterator[None]:
        with psycopg.connect(SERVER_DSN, autocommit=True) as server:
            server.execute(f'CREATE DATABASE "{self.database}"')
        try:
            upgrade_to_head(self.env["HEXMART_DATABASE_URL"])
            yield
        finally:
            with psycopg.connect(SERVER_DSN, autocommit=True) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def sql(self) -> psycopg.Connection:
        return psycopg.connect(
            f"postgresql://postgres@127.0.0.1:5432/{self.database}", autocommit=True
        )

    def settings(self, **extra: str) -> Settings:
        return Settings.from_mapping({**self.env, **extra})

    def tokens_file(self, name: str, user_ids: list[str]) -> Path:
        issuer = build_container(self.settings()).token_issuer()
        path = self.work / f"{name}.tokens"
        path.write_text(
            "\n".join(issuer.issue_access_token(subject=u, role="customer").token for u in user_ids)
        )
        return path

    def note_rss(self, label: str, server: Any) -> None:
        self.rss[label] = round(server.peak_process_rss_mb, 1)

    @contextlib.contextmanager
    def profiled(self, label: str, server: Any) -> Iterator[None]:
        """py-spy on the app process during a run, when --profile names the runs."""
        if label not in self.profile:
            yield
            return
        pids = [p for p in process_tree(server.process.pid) if p != server.process.pid] or [
            server.process.pid
        ]
        out = Path("bench-results") / f"profile-{label}.txt"
        spy = subprocess.Popen(  # noqa: S603
            [
                self.py_spy,
                "record",
                "--format",
                "raw",
                "--nonblocking",
                "-r",
                "200",
                "-d",
                str(self.seconds),
                "-o",
                str(out),
                "--pid",
                str(pids[-1]),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield
        finally:
            spy.wait(timeout=60)
            self.log(f"profile of {label}: {out}")

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # -- 1 and 2: order placement beside pgbench ---------------------------------------------

    def orders(self) -> None:
        with self.sql() as conn:
            seed.add_shoppers(conn, "cap", 1, SMALL)
            seed.add_shoppers(conn, "pgu", self.connections, SMALL)
        captured = asyncio.run(self._capture())
        self.results["sql_per_order_use_case"] = captured.use_case_statements
        self.results["sql_per_order_request"] = len(captured.statements)
        self.results["round_trips_per_order_request"] = captured.round_trips
        self.results["captured_sql"] = [" ".join(s.split())[:160] for s, _ in captured.sent]
        users = max(4000, self.seconds * 600)
        for workers in (1, 2):
            for hot in (False, True):
                label = f"orders_{'hot' if hot else 'spread'}_w{workers}"
                with self.sql() as conn:
                    ids = seed.add_shoppers(conn, f"{label}", users, SMALL, hot=hot)
                tokens = self.tokens_file(label, ids)
                self.log(f"{label}: {users} shoppers with filled carts, wrk {self.seconds}s")
                with serve("hexmart", self.env, self.work, workers=workers) as server:
                    wrk(server.url + "/health/live", self.work, connections=4, seconds=1)
                    with rss_sampling(server), self.profiled(label, server):
                        result = wrk(
                            server.url + "/orders",
                            self.work,
                            connections=self.connections,
                            seconds=self.seconds,
                            orders_tokens=tokens,
                        )
                    self.note_rss(label, server)
                self.results[label] = result
        for hot in (False, True):
            label = f"pgbench_{'hot' if hot else 'spread'}"
            script = self.work / f"{label}.sql"
            script.write_text(capture.pgbench_script(captured, catalog_size=SMALL, hot=hot))
            self.log(f"{label}: pgbench -c {self.connections} -T {self.seconds}")
            self.results[label] = pgbench(
                self.database, script, clients=self.connections, seconds=self.seconds
            )

    async def _capture(self) -> capture.Captured:
        with self.sql() as conn:
            products = [
                row[0]
                for row in conn.execute(
                    "SELECT product_id FROM cart_lines WHERE user_id = 'cap-1' ORDER BY position"
                )
            ]
        container = build_container(self.settings())
        try:
            return await capture.capture_place_order(container, "cap-1", products)
        finally:
            await stop_services(container)

    # -- 3 and 6: catalog reads beside a bare endpoint, on uvicorn and granian ---------------

    def catalog_reads(self) -> None:
        path = "/products?limit=20"
        cached = {**self.env, "HEXMART_CATALOG_CACHE_TTL_SECONDS": "60"}
        runs = [
            ("catalog_uncached_w1", "hexmart", 1, False, self.env),
            ("catalog_cached_w1", "hexmart", 1, False, cached),
            ("catalog_bare_w1", "uvicorn", 1, True, self.env),
            ("catalog_uncached_w2", "hexmart", 2, False, self.env),
            ("catalog_cached_w2", "hexmart", 2, False, cached),
            ("catalog_bare_w2", "uvicorn", 2, True, self.env),
            ("catalog_uvicorn_w1", "uvicorn", 1, False, self.env),
            ("catalog_granian_w1", "granian", 1, False, self.env),
            ("catalog_granian_bare_w1", "granian", 1, True, self.env),
        ]
        for label, kind, workers, bare, env in runs:
            self.log(f"{label}: wrk {self.seconds}s")
            with serve(kind, env, self.work, workers=workers, bare=bare) as server:
                wrk(server.url + path, self.work, connections=8, seconds=1)
                with rss_sampling(server), self.profiled(label, server):
                    self.results[label] = wrk(
                        server.url + path,
                        self.work,
                        connections=self.connections,
                        seconds=self.seconds,
                    )
                if not bare:
                    self.note_rss(label, server)

    # -- 4: catalog size ----------------------------------------------------------------------

    def catalog_sizes(self) -> None:
        seconds = max(3, self.seconds // 2)
        size = SMALL
        for target in (SMALL, MEDIUM, LARGE):
            if target > size:
                started = time.monotonic()
                with self.sql() as conn:
                    seed.add_products(conn, size + 1, target)
                self.results[f"seed_{target}_s"] = round(time.monotonic() - started, 1)
                self.log(f"seeded {target} products in {self.results[f'seed_{target}_s']}s")
                size = target
            with serve("hexmart", self.env, self.work, workers=1) as server:
                for kind, path in (
                    ("list", "/products?limit=20"),
                    ("search", "/products?limit=20&q=word42"),
                ):
                    wrk(server.url + path, self.work, connections=4, seconds=1)
                    self.results[f"size_{target}_{kind}"] = wrk(
                        server.url + path, self.work, connections=8, seconds=seconds
                    )
                self.log(f"catalog of {target}: measured")

    # -- 5: worker latency --------------------------------------------------------------------

    def worker_latency(self) -> None:
        with self.sql() as conn:
            ids = seed.add_shoppers(conn, "wl", 40, SMALL)
            # The orders of the earlier runs left their events unhandled (no worker ran):
            # that backlog is not what this run measures.
            conn.execute(
                "UPDATE outbox SET enqueued_at = now(), handled_at = now() WHERE handled_at IS NULL"
            )
        tokens = self.tokens_file("wl", ids).read_text().splitlines()
        self.log("worker latency: 40 orders paid, emails to a local SMTP server")
        self.results["paid_to_email"] = measure_paid_to_email(self.env, self.work, tokens)

    # -- 6: catalog import ------------------------------------------------------------------

    def catalog_import(self) -> None:
        """`hexmart catalog import` of 100k new products from CSV (a process of its own, as
        an operator runs it), then the same file again (nothing to change)."""
        path = self.work / "catalog.csv"
        with path.open("w") as out:
            out.write("sku,name,description,price,currency,inventory_count,category\n")
            for n in range(MEDIUM):
                out.write(
                    f"BENCH-{n},Imported product {n},Made for the import benchmark {n},"
                    f"{100 + n % 9900},USD,{n % 500},import-{n % 20}\n"
                )
        env = {**os.environ, **self.env}
        for label in ("catalog_import_new", "catalog_import_again"):
            started = time.monotonic()
            done = subprocess.run(  # noqa: S603 (this interpreter, our own command)
                [sys.executable, "-m", "entrypoints.cli", "catalog", "import", str(path), "--json"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            elapsed = time.monotonic() - started
            # The command's own time: reading, checking and writing the rows, without the
            # interpreter's start and imports.
            inside = json.loads(done.stdout)["seconds"]
            self.results[label] = {
                "rows": MEDIUM,
                "seconds": round(elapsed, 1),
                "import_seconds": inside,
            }
            self.log(f"{label}: {MEDIUM} rows in {elapsed:.1f}s ({inside:.1f}s importing)")


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def _ratios(r: dict[str, Any]) -> dict[str, Any]:
    def ok(label: str) -> float | None:
        return r[label]["ok_per_s"] if label in r else None

    def p50(label: str) -> float | None:
        return r[label]["p50_ms"] if label in r else None

    def tps(label: str) -> float | None:
        return r[label]["tps"] if label in r else None

    spread = [v for v in (ok("orders_spread_w1"), ok("orders_spread_w2")) if v is not None]
    ratios: dict[str, Any] = {
        "orders_vs_pgbench": _ratio(max(spread, default=None), tps("pgbench_spread")),
        "pgbench_hot_vs_spread": _ratio(tps("pgbench_hot"), tps("pgbench_spread")),
        "granian_vs_uvicorn_app": _ratio(ok("catalog_granian_w1"), ok("catalog_uvicorn_w1")),
        "granian_vs_uvicorn_bare": _ratio(ok("catalog_granian_bare_w1"), ok("catalog_bare_w1")),
    }
    for w in (1, 2):
        ratios[f"hot_vs_spread_w{w}"] = _ratio(ok(f"orders_hot_w{w}"), ok(f"orders_spread_w{w}"))
        for cache in ("uncached", "cached"):
            ratios[f"catalog_{cache}_vs_bare_w{w}"] = _ratio(
                ok(f"catalog_{cache}_w{w}"), ok(f"catalog_bare_w{w}")
            )
    for kind in ("list", "search"):
        ratios[f"size_1m_vs_1k_{kind}_p50"] = _ratio(
            p50(f"size_{LARGE}_{kind}"), p50(f"size_{SMALL}_{kind}")
        )
    return ratios


def summarize(bench: Bench, started: float) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "connections": bench.connections,
        "seconds_per_run": bench.seconds,
        "results": bench.results,
        "ratios": _ratios(bench.results),
        "peak_rss_mb": bench.rss,
        "runtime_s": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=12, help="length of each load run")
    parser.add_argument("--connections", type=int, default=32, help="HTTP and SQL clients")
    parser.add_argument(
        "--only",
        nargs="*",
        default=["orders", "catalog_reads", "worker_latency", "catalog_sizes", "catalog_import"],
        help="scenarios to run (default: all)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument(
        "--profile",
        nargs="*",
        default=[],
        help="runs to record with py-spy (e.g. orders_spread_w1), into bench-results/",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hexmart-bench-") as tmp:
        bench = Bench(
            Path(tmp),
            seconds=args.seconds,
            connections=args.connections,
            profile=tuple(args.profile),
        )
        _flush_redis()
        try:
            with bench.database_created():
                with bench.sql() as conn:
                    seed.add_products(conn, 1, SMALL)
                for scenario in args.only:
                    try:
                        getattr(bench, scenario)()
                    except Exception as error:
                        traceback.print_exc()
                        bench.results[f"{scenario}_error"] = repr(error)
        finally:
            _flush_redis()
        summary = summarize(bench, started)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"{datetime.now(UTC).date().isoformat()}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(markdown_table(summary))
    print(f"\nresults: {out}; runtime {summary['runtime_s']} s")
    return 0


def _flush_redis() -> None:
    """The bench's own Redis database (13) starts and ends empty."""
    from redis import Redis

    with Redis.from_url(REDIS_URL) as client:
        client.flushdb()


if __name__ == "__main__":
    sys.exit(main())
