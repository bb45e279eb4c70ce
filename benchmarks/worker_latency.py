"""Order paid → payment email accepted by an SMTP server, through the real worker.

The app (local payment gateway completing each payment by itself) and `hexmart worker`
run against Redis; aiosmtpd on a loopback port records when each "Payment received"
email arrives. Orders are placed a little apart; each is polled until it reads `paid`,
and the latency is the email's arrival minus that moment."""

from __future__ import annotations

import asyncio
import re
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from benchmarks.servers import free_port, serve, start_worker, stop

_NUMBER = re.compile(rb"Payment received for order #(\d+)")
ADDRESS = {
    "name": "Bench Shopper",
    "line1": "1 Load St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


class _Inbox:
    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = _NUMBER.search(envelope.original_content or b"")
        if found:
            with self._lock:
                self.arrived.setdefault(int(found.group(1)), time.monotonic())
        return "250 OK"


async def _place_and_time(client: httpx.AsyncClient, token: str, inbox: _Inbox, n: int) -> float:
    await asyncio.sleep(n * 0.1)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"wl-{n}"}
    response = await client.post("/orders", json={"shipping_address": ADDRESS}, headers=headers)
    response.raise_for_status()
    order = response.json()["order"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = (await client.get(f"/orders/{order['id']}", headers=headers)).json()["status"]
        if status == "paid":
            break
        await asyncio.sleep(0.01)
    else:
        raise TimeoutError(f"order {order['number']} never paid")
    paid_at = time.monotonic()
    while time.monotonic() < deadline:
        if order["number"] in inbox.arrived:
            return inbox.arrived[order["number"]] - paid_at
        await asyncio.sleep(0.01)
    raise TimeoutError(f"no payment email for order {order['number']}")


def measure_paid_to_email(env: dict[str, str], work: Path, tokens: list[str]) -> dict[str, Any]:
    inbox = _Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {
        **env,
        "HEXMART_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "HEXMART_LOCAL_PAYMENTS_AUTO_COMPLETE": "true",
    }
    worker = start_worker(env, work)
    try:
        with serve("hexmart", env, work, workers=1) as server:

            async def all_orders() -> list[float]:
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                    return list(
                        await asyncio.gather(
                            *(_place_and_time(client, t, inbox, n) for n, t in enumerate(tokens))
                        )
                    )

            latencies = sorted(asyncio.run(all_orders()))
    finally:
        stop(worker)
        smtp.stop()
    return {
        "samples": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }
