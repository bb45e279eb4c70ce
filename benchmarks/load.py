"""Load generators: wrk (HTTP) and pgbench (SQL), each bounded in time, against loopback
addresses only, their results parsed into plain dicts.

wrk comes from Debian (`apt-get install wrk`): a C load generator that keeps up with a
fast server on one core, where a Python generator (locust) would be the bottleneck on a
2-core machine. Its Lua scripts report JSON from `done()`."""

# ruff: noqa: S603  (fixed commands, run on purpose)

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

_REPORT = """
function done(summary, latency, requests)
  io.write("BENCH_JSON ")
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
    .. '"timeouts": %d, "p50_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write,
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000))
end
"""

# Each connection places orders as its own users: thread t of T takes tokens t, t+T, ...
# (one user, one filled cart, one order), each with a unique Idempotency-Key. Only order
# requests are sent, so every counted request is one order.
_ORDERS = """
local counter = 0
local tokens = {}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads - 1)
end
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  thread_count = tonumber(args[2])
  exhausted = false
end
local body = '{"shipping_address": {"name": "Bench Shopper", "line1": "1 Load St", '
  .. '"city": "Springfield", "postal_code": "12345", "country": "US"}}'
function request()
  local index = tid + counter * thread_count + 1
  counter = counter + 1
  if index > #tokens then
    exhausted = true
    index = #tokens
  end
  return wrk.format("POST", "/orders", {
    ["Authorization"] = "Bearer " .. tokens[index],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. tid .. "-" .. counter,
  }, body)
end
"""


def _script(work: Path, name: str, text: str) -> Path:
    path = work / f"{name}.lua"
    path.write_text(text + _REPORT)
    return path


def wrk(
    url: str,
    work: Path,
    *,
    connections: int,
    seconds: int,
    threads: int = 2,
    orders_tokens: Path | None = None,
) -> dict[str, float]:
    """Run wrk for `seconds` against `url` (a loopback address); requests/s and latency."""
    assert url.startswith(("http://127.0.0.1:", "http://localhost:")), url
    if orders_tokens is None:
        script, extra = _script(work, "read", ""), []
    else:
        script, extra = _script(work, "orders", _ORDERS), ["--", str(orders_tokens), str(threads)]
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        *extra,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    result: dict[str, float] = json.loads(line.removeprefix("BENCH_JSON "))
    ok = result["requests"] - result["non_2xx"]
    result["ok_per_s"] = ok / (result["duration_us"] / 1e6)
    return result


def pgbench(dsn_database: str, script: Path, *, clients: int, seconds: int) -> dict[str, float]:
    """Run the script on `clients` connections for `seconds`; transactions/s."""
    command = [
        "pgbench",
        "-n",
        "-h",
        "127.0.0.1",
        "-p",
        "5432",
        "-U",
        "postgres",
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(seconds),
        "--max-tries",
        "10",
        "-f",
        str(script),
        dsn_database,
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    if run.returncode != 0 and "tps" not in run.stdout:
        raise RuntimeError(f"pgbench failed:\n{run.stdout}\n{run.stderr[-3000:]}")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", run.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", run.stdout)
    if tps is None:
        raise RuntimeError(f"pgbench printed no TPS:\n{run.stdout}\n{run.stderr[-3000:]}")
    return {
        "tps": float(tps.group(1)),
        "mean_ms": float(latency.group(1)) if latency else float("nan"),
        "failed": int(failed.group(1)) if failed else 0,
    }
