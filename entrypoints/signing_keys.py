"""The secrets that sign tokens and file URLs when the settings name none: made once, kept
in the data folder (mode 0600), so that every process of the embedded default on one data
folder agrees."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from entrypoints.settings import Settings


def _kept_secret(data_dir: Path, name: str) -> str:
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def jwt_secret(settings: Settings) -> str:
    """HEXMART_JWT_SECRET, else the embedded default's secret in the data folder."""
    return settings.auth.jwt_secret or _kept_secret(settings.data_dir, "jwt-secret")


def file_url_key(settings: Settings) -> bytes:
    """The key that signs the local file storage's URLs: derived from the configured JWT
    secret (every app process sharing it agrees), else made once and kept in the data
    folder, like the embedded default's JWT secret."""
    if settings.auth.jwt_secret is not None:
        return hmac.new(
            settings.auth.jwt_secret.encode(), b"hexmart local file URLs", hashlib.sha256
        ).digest()
    return _kept_secret(settings.data_dir, "files-secret").encode()
