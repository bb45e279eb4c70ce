"""`configure_logging`: one handler, one format (text or JSON) for every library's lines,
the Stripe SDK and SQLAlchemy quiet unless debugging, credentials redacted in JSON too."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from entrypoints.logs import configure_logging, log_context


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name in ("stripe", "sqlalchemy", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_every_library_writes_json_lines_through_one_handler(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("uvicorn.error").addHandler(logging.StreamHandler())  # as uvicorn does
    configure_logging("INFO", "json")

    for name in ("uvicorn.error", "uvicorn.access", "arq.worker", "alembic", "hexmart.x"):
        logging.getLogger(name).info("hello from %s", name)
    with log_context("req-7"):
        logging.getLogger("hexmart.x").warning("inside")

    entries = _lines(capsys.readouterr().err)
    assert [e["logger"] for e in entries] == [
        "uvicorn.error",
        "uvicorn.access",
        "arq.worker",
        "alembic",
        "hexmart.x",
        "hexmart.x",
    ]
    assert entries[0]["message"] == "hello from uvicorn.error"
    assert entries[0]["level"] == "INFO"
    assert "request_id" not in entries[0]
    assert entries[-1]["request_id"] == "req-7"


def test_stripe_and_sqlalchemy_speak_only_from_warning_unless_debugging(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("stripe").info("Request to Stripe api")
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")
    logging.getLogger("httpx").info("HTTP Request: POST https://api.stripe.com/v1/x")
    logging.getLogger("stripe").warning("Stripe is slow")
    assert [e["message"] for e in _lines(capsys.readouterr().err)] == ["Stripe is slow"]

    configure_logging("DEBUG", "json")
    logging.getLogger("stripe").info("Request to Stripe api")
    assert [e["message"] for e in _lines(capsys.readouterr().err)] == ["Request to Stripe api"]


def test_json_lines_redact_messages_fields_and_tracebacks(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    secret = "hxm_abcdefghijklmnopqrstuvwxyz012345"
    log = logging.getLogger("hexmart.x")
    log.info("key %s", secret, extra={"path": f"/users/me?api_key={secret}"})
    try:
        raise ValueError(f"password={secret}")
    except ValueError:
        log.exception("failed")

    err = capsys.readouterr().err
    assert secret not in err
    first, second = _lines(err)
    assert first["path"] == "/users/me?api_key=[redacted]"
    assert "ValueError: password=[redacted]" in str(second["exception"])


def test_text_lines_put_the_fields_and_request_id_after_the_message(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "text")
    with log_context("req-9"):
        logging.getLogger("hexmart.access").info("GET /x 200", extra={"status": 200})

    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("INFO hexmart.access: GET /x 200 status=200 request_id=req-9")
