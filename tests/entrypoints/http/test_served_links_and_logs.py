"""`hexmart serve --port <free port>` for real: the links it hands out work on that port
(uploads, product images, the reset email), and its logs hold no credential."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.exceptions import ConnectionClosed

from adapters.inprocess.folder_mailer import read_eml
from tests.application.shopping import reset_token_in
from tests.entrypoints.http.live_server import LiveServer, running_server
from tests.polling import eventually_sync

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
ANN = {"email": "ann@example.com", "password": "my long passphrase", "full_name": "Ann"}


def _upload(http: httpx.Client, presigned: dict[str, Any], content: bytes) -> httpx.Response:
    return http.request(
        presigned["upload_method"],
        presigned["upload_url"],
        content=content,
        headers=presigned["upload_headers"],
    )


def test_upload_and_image_urls_point_at_the_port_served(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10.0) as http:
        admin = http.post(
            "/auth/login",
            json={"email": live_server.admin_email, "password": live_server.admin_password},
        )
        auth = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        body = {"filename": "mug.jpg", "content_type": "image/jpeg", "size": len(JPEG)}

        upload = http.post("/uploads", json=body, headers=auth).json()
        assert upload["upload_url"].startswith(f"{live_server.url}/files/")
        assert _upload(http, upload, JPEG).status_code == 200
        download = http.get(f"/uploads/{upload['upload_id']}", headers=auth).json()
        assert download["download_url"].startswith(f"{live_server.url}/files/")
        assert http.get(download["download_url"]).content == JPEG

        [product] = http.get("/products", params={"limit": 1}).json()["items"]
        image = http.post(f"/products/{product['id']}/images", json=body, headers=auth).json()
        assert image["upload_url"].startswith(f"{live_server.url}/files/")
        assert _upload(http, image, JPEG).status_code == 200
        completed = http.post(
            f"/products/{product['id']}/images/{image['image_id']}/complete", headers=auth
        )
        assert completed.status_code == 200, completed.text
        [shown] = completed.json()["images"]
        assert shown["url"].startswith(f"{live_server.url}/files/")
        assert http.get(shown["url"]).content == JPEG
    assert f"links (uploads, images, emails) point at {live_server.url}" in live_server.banner


def _emailed_reset_link(mail_dir: Path) -> str:
    def reset_emails() -> list[Path]:
        return sorted(mail_dir.glob("*.eml")) if mail_dir.is_dir() else []

    def with_reset(paths: list[Path]) -> bool:
        return any("Reset your" in read_eml(path).subject for path in paths)

    paths = eventually_sync(reset_emails, with_reset)
    [email] = [m for m in map(read_eml, paths) if "Reset your" in m.subject]
    [link] = [line for line in email.text_body.splitlines() if line.startswith("http")]
    assert reset_token_in(email) in link
    return link


async def _watch_an_order_with_the_token_in_the_query(url: str, token: str) -> None:
    ws_url = url.replace("http://", "ws://")
    with contextlib.suppress(ConnectionClosed):
        async with websockets.connect(f"{ws_url}/ws/orders/no-such-order?token={token}") as ws:
            await asyncio.wait_for(ws.recv(), timeout=10)


def test_no_token_password_or_reset_token_reaches_the_served_logs(tmp_path: Path) -> None:
    with (
        running_server(tmp_path, log_level="INFO") as server,
        httpx.Client(base_url=server.url, timeout=10.0) as http,
    ):
        tokens = http.post("/auth/register", json=ANN).json()
        access, refresh = tokens["access_token"], tokens["refresh_token"]
        asyncio.run(_watch_an_order_with_the_token_in_the_query(server.url, access))
        http.get("/products", params={"limit": 1, "access_token": access})
        http.get("/users/me", params={"api_key": "hxm_abcdefghijklmnopqrstuvwxyz0123"})
        http.post("/auth/password-reset", json={"email": ANN["email"]})
        link = _emailed_reset_link(tmp_path / "var" / "mail")
        token = reset_token_in_link(link)
        assert link == f"{server.url}/password-reset#token={token}"
        assert http.get(link.split("#")[0]).status_code == 200
        confirmed = http.post(
            "/auth/password-reset/confirm",
            json={"token": token, "new_password": "another long passphrase"},
        )
        assert confirmed.status_code == 204, confirmed.text

        def websocket_logged() -> str:
            return server.stdout.read_text() + server.stderr.read_text()

        eventually_sync(websocket_logged, lambda logs: "WebSocket /ws/orders/" in logs)
    logs = server.stdout.read_text() + server.stderr.read_text()

    assert '"WebSocket /ws/orders/no-such-order?token=[redacted]"' in logs
    assert "access_token=[redacted]" in logs
    for secret in (access, refresh, token, "hxm_abcdefghijklmnopqrstuvwxyz0123", ANN["password"]):
        assert secret not in logs
    assert "password-reset/confirm" in logs  # the requests were logged, without secrets


def reset_token_in_link(link: str) -> str:
    found = re.search(r"#token=([A-Za-z0-9_-]+)$", link)
    assert found, link
    return found.group(1)
