"""GET /password-reset: the page a reset email links to by default, usable by a person."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from entrypoints.container import Container
from tests.application.shopping import mailer, reset_token_in
from tests.entrypoints.http.shop_api import Account, Client, emailed_reset_token


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


async def test_the_reset_email_links_to_the_page_the_app_serves(
    client: Client, container: Container, customer: Account
) -> None:
    await client.post("/auth/password-reset", json={"email": customer.email})
    token = await emailed_reset_token(container, customer.email)
    [email] = [m for m in mailer(container).sent if "Reset" in m.subject]
    [link] = [line for line in email.text_body.splitlines() if line.startswith("http")]

    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == "http://127.0.0.1:8000"
    assert parts.fragment == f"token={token}"
    assert parts.query == ""  # the token never travels to a server
    page = await client.get(parts.path)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert reset_token_in(email) == token


async def test_the_reset_page_runs_only_its_own_script_which_posts_to_confirm(
    client: Client,
) -> None:
    page = await client.get("/password-reset")

    [script] = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    [style] = re.findall(r"<style>(.*?)</style>", page.text, re.DOTALL)
    policy = page.headers["content-security-policy"]
    assert f"script-src {_csp_hash(script)}" in policy
    assert f"style-src {_csp_hash(style)}" in policy
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert "location.hash" in script
    assert 'fetch("auth/password-reset/confirm"' in script
    assert "JSON.stringify({token: token, new_password: password})" in script
    assert 'type="password"' in page.text
    # Without its script, the form could never put the password in a URL.
    assert '<form id="reset" method="post">' in page.text
    assert "form-action 'none'" in policy
