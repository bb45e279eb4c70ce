"""The markdown table printed at the end of a benchmark run (and pasted into README)."""

from __future__ import annotations

import contextlib
from typing import Any


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value}{unit}"


def _verdict(value: float | None, target: float, *, at_most: bool = False) -> str:
    if value is None:
        return "n/a"
    met = value <= target if at_most else value >= target
    return "met" if met else "missed"


def markdown_table(summary: dict[str, Any]) -> str:
    r, q = summary["results"], summary["ratios"]
    rows: list[tuple[str, str, str, str]] = []

    def row(what: str, measured: str, target: str = "", verdict: str = "") -> None:
        rows.append((what, measured, target, verdict))

    with contextlib.suppress(KeyError):
        for w in (1, 2):
            for kind in ("spread", "hot"):
                o = r[f"orders_{kind}_w{w}"]
                row(
                    f"POST /orders, 3-line carts, {kind}, {w} worker(s)",
                    f"{_fmt(o['ok_per_s'])} orders/s, p50 {_fmt(o['p50_ms'])} ms, "
                    f"p99 {_fmt(o['p99_ms'])} ms, non-2xx {o['non_2xx']}",
                )
        for kind in ("spread", "hot"):
            p = r[f"pgbench_{kind}"]
            row(
                f"pgbench, the same SQL, {kind}",
                f"{_fmt(p['tps'])} TPS, mean {_fmt(p['mean_ms'])} ms, failed {p['failed']}",
            )
        ratio = q["orders_vs_pgbench"]
        row(
            "orders/s ÷ pgbench TPS (best worker count)", _fmt(ratio), "≥ 0.5", _verdict(ratio, 0.5)
        )
        n = r["sql_per_order_use_case"]
        row(
            "SQL statements per order (use case; + token check)",
            f"{n} ({r['sql_per_order_request']} per request with the token check; "
            f"{r['round_trips_per_order_request']} round trips with BEGIN/COMMIT)",
            "≤ 12",
            _verdict(float(n), 12, at_most=True),
        )
        for w in (1, 2):
            hot = q[f"hot_vs_spread_w{w}"]
            row(f"hot ÷ spread, {w} worker(s)", _fmt(hot), "≥ 0.5", _verdict(hot, 0.5))
        row("pgbench hot ÷ spread (the database's own limit)", _fmt(q["pgbench_hot_vs_spread"]))
    with contextlib.suppress(KeyError):
        for w in (1, 2):
            off, on, bare = (r[f"catalog_{k}_w{w}"] for k in ("uncached", "cached", "bare"))
            row(
                f"GET /products?limit=20, {w} worker(s): uncached / cached / bare",
                f"{_fmt(off['ok_per_s'])} / {_fmt(on['ok_per_s'])} / {_fmt(bare['ok_per_s'])}"
                f" req/s (p50 {_fmt(off['p50_ms'])} / {_fmt(on['p50_ms'])} / "
                f"{_fmt(bare['p50_ms'])} ms)",
            )
            for cache, target in (("uncached", 0.3), ("cached", 0.6)):
                ratio = q[f"catalog_{cache}_vs_bare_w{w}"]
                row(
                    f"{cache} ÷ bare, {w} worker(s)",
                    _fmt(ratio),
                    f"≥ {target}",
                    _verdict(ratio, target),
                )
        row(
            "app on uvicorn / granian (1 worker)",
            f"{_fmt(r['catalog_uvicorn_w1']['ok_per_s'])} / "
            f"{_fmt(r['catalog_granian_w1']['ok_per_s'])} req/s; granian ÷ uvicorn "
            f"{_fmt(q['granian_vs_uvicorn_app'])}",
        )
        row(
            "bare on uvicorn / granian (1 worker)",
            f"{_fmt(r['catalog_bare_w1']['ok_per_s'])} / "
            f"{_fmt(r['catalog_granian_bare_w1']['ok_per_s'])} req/s; granian ÷ uvicorn "
            f"{_fmt(q['granian_vs_uvicorn_bare'])}",
        )
    with contextlib.suppress(KeyError):
        for kind in ("list", "search"):
            p50 = [r[f"size_{n}_{kind}"]["p50_ms"] for n in (1_000, 100_000, 1_000_000)]
            row(
                f"{kind} p50 at 1k / 100k / 1M products",
                " / ".join(f"{_fmt(v)} ms" for v in p50),
            )
            ratio = q[f"size_1m_vs_1k_{kind}_p50"]
            row(f"{kind}: 1M ÷ 1k (p50)", _fmt(ratio), "≤ 1.5", _verdict(ratio, 1.5, at_most=True))
        row("seeding 1M products (SQL)", f"{_fmt(r.get('seed_1000000_s'))} s")
    with contextlib.suppress(KeyError):
        e = r["paid_to_email"]
        row(
            "order paid → email accepted (worker), p50 / p99",
            f"{_fmt(e['p50_ms'])} / {_fmt(e['p99_ms'])} ms ({e['samples']} orders)",
            "p50 ≤ 1000 ms",
            _verdict(e["p50_ms"], 1000, at_most=True),
        )
    with contextlib.suppress(KeyError):
        new, again = r["catalog_import_new"], r["catalog_import_again"]
        rate = new["rows"] / new["import_seconds"]
        row(
            "hexmart catalog import, 100k new products (CSV, PostgreSQL); the same file again",
            f"{_fmt(rate)} rows/s ({new['import_seconds']} s importing, {new['seconds']} s "
            f"with the process start); again {again['import_seconds']} s",
            "≥ 10,000 rows/s",
            _verdict(rate, 10_000),
        )
    for key, error in r.items():
        if key.endswith("_error"):
            row(f"{key.removesuffix('_error')} failed", f"`{error}`")
    if summary["peak_rss_mb"]:
        peak = max(summary["peak_rss_mb"].values())
        row(
            "peak RSS of one app process under load",
            f"{_fmt(peak)} MB",
            "≤ 150 MB",
            _verdict(peak, 150, at_most=True),
        )
    lines = [
        f"{summary['cores']} cores, {summary['connections']} connections, "
        f"{summary['seconds_per_run']} s per run, {summary['date']}",
        "",
        "| measurement | result | target | |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
    ]
    return "\n".join(lines)
