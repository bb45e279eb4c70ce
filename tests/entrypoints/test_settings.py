"""Settings: the embedded default with nothing set, and one clear message per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import DatabaseSettings, Settings, SettingsError


def test_nothing_set_gives_the_embedded_default() -> None:
    settings = Settings.from_env({}, env_file=None)

    assert settings.database.uses_sqlite
    assert not settings.payments.uses_stripe
    assert settings.redis.url is None
    adapters = settings.describe_adapters()
    assert adapters["payments"] == "local gateway"
    assert adapters["email"].startswith("folder")


def test_values_are_parsed_to_their_types() -> None:
    settings = Settings.from_env(
        {
            "HEXMART_DATABASE_POOL_SIZE": "25",
            "HEXMART_DATABASE_POOL_TIMEOUT": "2.5",
            "HEXMART_CORS_ORIGINS": "https://shop.example, https://admin.example",
            "HEXMART_LOCAL_PAYMENTS_AUTO_COMPLETE": "off",
            "HEXMART_DATA_DIR": "/srv/hexmart",
            "HEXMART_REDIS_URL": "",
            "PATH": "/usr/bin",
        },
        env_file=None,
    )

    assert settings.database.pool_size == 25
    assert settings.database.pool_timeout == 2.5
    assert settings.http.cors_origins == ("https://shop.example", "https://admin.example")
    assert settings.payments.local_auto_complete is False
    assert settings.data_dir == Path("/srv/hexmart")
    assert settings.redis.url is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HEXMART_DATABASE_POOL_SIZE", "many", "must be a whole number"),
        ("HEXMART_DATABASE_POOL_SIZE", "0", "must be positive"),
        ("HEXMART_LIVE_UPDATES_RECHECK_SECONDS", "0", "must be positive"),
        ("HEXMART_DATABASE_URL", "mysql://db/shop", "must start with sqlite+aiosqlite://"),
        ("HEXMART_ENVIRONMENT", "staging", "must be one of development, production, test"),
        ("HEXMART_LOCAL_PAYMENTS_AUTO_COMPLETE", "maybe", "must be true or false"),
        ("HEXMART_LOCAL_PAYMENTS_COMPLETION_SECONDS", "-1", "must be between 0 and 3600"),
        ("HEXMART_LOCAL_PAYMENTS_COMPLETION_SECONDS", "nan", "must be between 0 and 3600"),
        ("HEXMART_LOCAL_PAYMENTS_COMPLETION_SECONDS", "soon", "must be a number"),
        ("HEXMART_LOCAL_PAYMENTS_RETENTION_DAYS", "0", "must be positive"),
        ("HEXMART_JWT_SECRET", "short", "must be at least 32 bytes"),
        ("HEXMART_REDIS_URL", "http://cache", "must be a redis://"),
        ("HEXMART_SMTP_URL", "mail.example:25", "must be smtp://"),
        ("HEXMART_CURRENCY", "usd", "current ISO 4217 currency code"),
        ("HEXMART_CURRENCY", "QQQ", "current ISO 4217 currency code"),
        ("HEXMART_CURRENCY", "HRK", "current ISO 4217 currency code"),
        ("HEXMART_CORS_ORIGINS", "*", "'*' is not allowed"),
        ("HEXMART_PUBLIC_BASE_URL", "shop.example", "must be an http:// or https:// URL"),
        ("HEXMART_PUBLIC_BASE_URL", "https://", "must be an http:// or https:// URL with a host"),
        ("HEXMART_PASSWORD_RESET_URL", "https://shop.example/reset", "must contain {token}"),
        ("HEXMART_PASSWORD_RESET_URL", "javascript:alert({token})", "must be an http://"),
        ("HEXMART_PASSWORD_RESET_URL", "ftp://shop.example/{token}", "must be an http://"),
        ("HEXMART_DATABSE_URL", "sqlite+aiosqlite:///x.db", "unknown setting"),
    ],
)
def test_a_bad_value_is_named_with_a_clear_message(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value}, env_file=None)

    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert problem.startswith(f"{name}: ")
    assert message in problem


def test_settings_that_go_together_are_refused_alone() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {"HEXMART_STRIPE_API_KEY": "sk_test_x", "HEXMART_ADMIN_EMAIL": "root@example.com"},
            env_file=None,
        )

    text = str(caught.value)
    assert "HEXMART_STRIPE_WEBHOOK_SECRET" in text
    assert "HEXMART_ADMIN_PASSWORD" in text


def test_parse_errors_and_cross_field_problems_are_reported_together() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {"HEXMART_DATABASE_POOL_SIZE": "lots", "HEXMART_CORS_ORIGINS": "*"}, env_file=None
        )

    assert len(caught.value.problems) == 2


def test_production_on_a_shared_database_needs_a_jwt_secret() -> None:
    with pytest.raises(SettingsError, match="HEXMART_JWT_SECRET: is required in production"):
        Settings.from_env(
            {
                "HEXMART_ENVIRONMENT": "production",
                "HEXMART_DATABASE_URL": "postgresql+psycopg://shop@db/shop",
            },
            env_file=None,
        )


def test_env_file_values_are_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# local overrides\n"
        "HEXMART_SHOP_NAME='Corner Shop'\n"
        "export HEXMART_CURRENCY=EUR\n"
        "UNRELATED=1\n"
    )

    settings = Settings.from_env({"HEXMART_CURRENCY": "GBP"}, env_file=env_file)

    assert settings.shop.name == "Corner Shop"
    assert settings.shop.currency == "GBP"


def test_a_malformed_env_file_line_names_the_file_and_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("HEXMART_SHOP_NAME=ok\nthis line has no equals sign\n")

    with pytest.raises(SettingsError, match=r"\.env:2: expected NAME=value"):
        Settings.from_env({}, env_file=env_file)


def test_passwords_in_urls_are_not_shown_in_the_adapter_summary() -> None:
    settings = Settings(database=DatabaseSettings(url="postgresql+psycopg://shop:s3cret@db/shop"))

    assert "s3cret" not in str(settings.describe_adapters())


def test_rate_limits_and_the_catalog_cache_have_sane_defaults() -> None:
    settings = Settings.from_env({}, env_file=None)

    assert settings.rate_limits.window_seconds == 60
    assert settings.rate_limits.login_per_ip == 10
    assert settings.rate_limits.login_per_account == 5
    assert settings.rate_limits.general_per_client == 600
    assert 0 < settings.http.catalog_cache_ttl_seconds <= 10
    assert settings.http.trusted_proxies == ()


def test_rate_limits_trusted_proxies_and_cache_ttl_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "HEXMART_RATE_LIMIT_LOGIN_PER_IP": "3",
            "HEXMART_RATE_LIMIT_GENERAL_PER_CLIENT": "0",
            "HEXMART_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7, ::1",
            "HEXMART_CATALOG_CACHE_TTL_SECONDS": "2",
        },
        env_file=None,
    )

    assert settings.rate_limits.login_per_ip == 3
    assert settings.rate_limits.general_per_client == 0  # that limit is off
    assert settings.http.trusted_proxies == ("10.0.0.0/8", "192.0.2.7", "::1")
    assert settings.http.catalog_cache_ttl_seconds == 2


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HEXMART_RATE_LIMIT_LOGIN_PER_ACCOUNT", "-1", "must not be negative"),
        ("HEXMART_RATE_LIMIT_WINDOW_SECONDS", "0", "must be positive"),
        ("HEXMART_CATALOG_CACHE_TTL_SECONDS", "-5", "must not be negative"),
        ("HEXMART_TRUSTED_PROXIES", "10.0.0.1, proxy.local", "'proxy.local' is not an IP"),
    ],
)
def test_bad_rate_limit_and_proxy_settings_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({name: value}, env_file=None)

    assert name in str(raised.value)
    assert message in str(raised.value)
