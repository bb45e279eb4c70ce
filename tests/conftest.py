"""Test-suite wide settings. Fixtures for real services live next to the tests using them."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# PostgreSQL and SQLite databases (created, migrated, emptied, dropped) for any test.
pytest_plugins = ["tests.sql_fixtures"]

# Example databases are kept out of the tree; CI runs derandomised so a failure reproduces.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
