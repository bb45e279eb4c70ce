"""GET /password-reset: the page a reset email links to when HEXMART_PASSWORD_RESET_URL is
not set, so that the link works for a person out of the box.

The token travels in the URL fragment (`/password-reset#token=...`): browsers never send
a fragment to the server, so it reaches no access log, proxy log or Referer header. The
page's script reads it, takes it out of the address bar and history, and posts it with
the new password to POST /auth/password-reset/confirm.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from litestar import Response, get

from entrypoints.settings import PASSWORD_RESET_PAGE

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; }
label { display: block; margin-top: 1rem; }
input { width: 100%; padding: .5rem; box-sizing: border-box; }
button { margin-top: 1.5rem; padding: .5rem 1.5rem; }
#outcome { margin-top: 1.5rem; }
"""

_SCRIPT = """
const token = new URLSearchParams(location.hash.slice(1)).get("token");
history.replaceState(null, "", location.pathname);
const form = document.getElementById("reset");
const outcome = document.getElementById("outcome");
if (!token) {
  form.hidden = true;
  outcome.textContent = "This link holds no reset token. Open the link from the email again.";
}
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = form.elements.password.value;
  if (password !== form.elements.again.value) {
    outcome.textContent = "The two passwords differ.";
    return;
  }
  form.elements.send.disabled = true;
  const answer = await fetch("auth/password-reset/confirm", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token: token, new_password: password}),
  }).catch(() => null);
  form.elements.send.disabled = false;
  if (answer && answer.status === 204) {
    form.hidden = true;
    outcome.textContent =
      "Your password is changed. Sign in with it; every other session was signed out.";
    return;
  }
  const problem = answer ? await answer.json().catch(() => ({})) : {};
  outcome.textContent = problem.detail || "The shop did not answer; try again in a moment.";
});
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Choose a new password</title>
<style>{style}</style>
</head>
<body>
<h1>Choose a new password</h1>
<form id="reset" method="post">
<label>New password (at least 10 characters)
<input name="password" type="password" autocomplete="new-password" minlength="10" required>
</label>
<label>The same again
<input name="again" type="password" autocomplete="new-password" minlength="10" required>
</label>
<button name="send" type="submit">Set the new password</button>
</form>
<p id="outcome" role="status"></p>
<script>{script}</script>
</body>
</html>
"""


def _sha256(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


@functools.cache
def _page() -> tuple[str, str]:
    """The page and its Content-Security-Policy (only its own script and style run)."""
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src '{_sha256(_SCRIPT)}'",
            f"style-src '{_sha256(_STYLE)}'",
            "connect-src 'self'",
            "form-action 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return _PAGE.format(style=_STYLE, script=_SCRIPT), policy


@get(PASSWORD_RESET_PAGE, include_in_schema=False, sync_to_thread=False)
def password_reset_page() -> Response[str]:
    page, policy = _page()
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": policy, "Cache-Control": "no-store"},
    )
