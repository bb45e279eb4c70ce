"""No credential reaches a log line: the redaction rule for each kind of credential, and
the filter that applies it to every record whoever logs it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from entrypoints.log_redaction import RedactCredentials, redact, redact_credentials_in_logs

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
RESET_TOKEN = "n0Tq3QzXo1c8Vt5lYkP4sH7mW2rB6eJ9aU0dGfZyXwE"
API_KEY = "hxm_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"
REFRESH = "3f2b9c1e-8a7d-4e6f-9b0a-1c2d3e4f5a6b.s3cr3tP4rtOfTh3R3fr3shT0k3nXYZ123456"


@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        # query parameters: the WebSocket's access token, others' spellings, signed URLs
        (f'127.0.0.1:5 - "WebSocket /ws/orders/1?token={JWT}" [accepted]', JWT, "?token="),
        (f"GET /ws/orders/1?x=1&access_token={JWT} HTTP/1.1", JWT, "&access_token="),
        ("GET /files/a.png?expires=99&sig=0a1b2c3d4e5f HTTP/1.1", "0a1b2c3d4e5f", "expires=99"),
        (f"GET /x?api_key={API_KEY}", API_KEY, "?api_key="),
        # Authorization and X-API-Key headers, however they are printed
        (f"Authorization: Bearer {JWT}", JWT, "Authorization: Bearer"),
        ("{'authorization': 'Basic YW5uOmh1bnRlcjI='}", "YW5uOmh1bnRlcjI=", "'authorization'"),
        (f'headers={{"X-API-Key": "{API_KEY}"}}', API_KEY, '"X-API-Key"'),
        (f"x-api-key: {API_KEY}", API_KEY, "x-api-key"),
        (f"key {API_KEY} refused", API_KEY, "refused"),
        (f"sent Bearer {RESET_TOKEN} upstream", RESET_TOKEN, "upstream"),
        # passwords: JSON bodies, dict reprs, forms, settings, URLs
        ('{"email": "a@b.c", "password": "hunter2 horse"}', "hunter2 horse", '"a@b.c"'),
        ("{'current_password': 'old one', 'new_password': 'new one'}", "new one", "new_"),
        ("{'current_password': 'old one', 'new_password': 'new one'}", "old one", "current"),
        ("password=hunter2hunter2&email=a@b.c", "hunter2hunter2", "email=a@b.c"),
        ("HEXMART_ADMIN_PASSWORD=hunter2hunter2", "hunter2hunter2", "HEXMART_ADMIN"),
        ("smtp://shop:m41lp4ss@mail.example:587", "m41lp4ss", "mail.example:587"),
        ("postgresql+psycopg://app:db-pass@db/shop", "db-pass", "@db/shop"),
        ("redis://:r3dis@cache:6379/0", "r3dis", "cache:6379"),
        # reset tokens: the emailed link, the confirm body
        (f"https://shop.example/password-reset#token={RESET_TOKEN}", RESET_TOKEN, "#token="),
        (f'{{"token": "{RESET_TOKEN}", "new_password": "x y z w v"}}', RESET_TOKEN, "token"),
        (f"payload={{'token': '{RESET_TOKEN}'}}", RESET_TOKEN, "payload="),
        # access and refresh tokens wherever they appear
        (f"decoded {JWT} for user 1", JWT, "for user 1"),
        (f'{{"refresh_token": "{REFRESH}"}}', REFRESH.split(".")[1], "refresh_token"),
        (f"family of {REFRESH} revoked", REFRESH.split(".")[1], "3f2b9c1e-8a7d"),
    ],
)
def test_each_kind_of_credential_is_redacted(line: str, secret: str, kept: str) -> None:
    redacted = redact(line)

    assert secret not in redacted
    assert "[redacted]" in redacted
    assert kept in redacted
    assert redact(redacted) == redacted  # filters on two handlers see the same record


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1:5 - "GET /products?limit=20&cursor=eyJpZCI6IDF9&q=mug HTTP/1.1" 200',
        "sent password_reset email for event 00000000-0000-4000-8000-000000000006",
        "invalid or expired password reset token",
        "{'token_type': 'bearer', 'expires_in': 900}",
        "payload={'user_id': 'u-1', 'expires_at': '2026-01-01T01:00:00+00:00'}",
    ],
)
def test_lines_without_credentials_are_left_alone(line: str) -> None:
    assert redact(line) == line


@pytest.fixture
def access_log() -> Iterator[tuple[logging.Logger, list[str]]]:
    """A logger whose handler formats like uvicorn's access log and keeps the lines."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    logger = logging.getLogger("tests.redaction.access")
    handler = Keep()
    handler.setFormatter(
        AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    )
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, lines
    logger.removeHandler(handler)


def test_the_filter_redacts_uvicorns_access_lines_and_keeps_their_shape(
    access_log: tuple[logging.Logger, list[str]],
) -> None:
    logger, lines = access_log
    logger.handlers[0].addFilter(RedactCredentials())

    logger.info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/ws/orders/1?token={JWT}", "1.1", 101
    )

    assert lines == [
        '127.0.0.1:5 - "GET /ws/orders/1?token=[redacted] HTTP/1.1" 101 Switching Protocols'
    ]


def test_the_filter_redacts_arguments_tracebacks_and_leaves_numbers(
    access_log: tuple[logging.Logger, list[str]],
) -> None:
    logger, lines = access_log
    handler = logger.handlers[0]
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactCredentials())

    logger.info("job %d failed; payload=%r", 7, {"token": RESET_TOKEN, "n": 1})
    try:
        raise ValueError(f"bad login for password={RESET_TOKEN}")
    except ValueError:
        logger.exception("sign-in failed")

    assert lines[0] == "job 7 failed; payload={'token': '[redacted]', 'n': 1}"
    assert RESET_TOKEN not in lines[1]
    assert "ValueError: bad login for password=[redacted]" in lines[1]


def test_installing_puts_one_filter_on_every_configured_handler(
    access_log: tuple[logging.Logger, list[str]],
) -> None:
    logger, lines = access_log
    root_handler = logging.StreamHandler(sys.stderr)
    logging.getLogger().addHandler(root_handler)
    try:
        redact_credentials_in_logs()
        redact_credentials_in_logs()

        for handler in (logger.handlers[0], root_handler):
            assert [type(f) for f in handler.filters] == [RedactCredentials]
        logger.info('%s - "%s %s HTTP/%s" %d', "c", "GET", f"/x?token={JWT}", "1.1", 200)
        assert JWT not in lines[0]
    finally:
        logging.getLogger().removeHandler(root_handler)


@pytest.mark.parametrize(
    "filler",
    ["aZ0_-" * 200_000, "a." * 500_000, 'password="' * 100_000, "x://y:" * 150_000],
    ids=["base64-run", "dotted", "unclosed-quotes", "url-like"],
)
def test_a_huge_line_is_still_redacted_in_one_pass(filler: str) -> None:
    """A megabyte of hostile text (a long query string, a blob in a payload) is scanned
    once; a pattern that rescanned it from every position would hang the logging."""
    redacted = redact(f"{filler} Authorization: Bearer {JWT}")

    assert JWT not in redacted
    assert redacted.endswith("Authorization: Bearer [redacted]")
