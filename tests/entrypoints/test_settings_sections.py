"""The sections of the settings and the `HEXMART_*` variables they are read from: one
variable per field and one field per variable, every documented variable still read."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from entrypoints.container import build_container
from entrypoints.settings import PREFIX, VARIABLES, Settings, SettingsError
from entrypoints.testing import container_for_tests, settings_for_tests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    PROJECT_ROOT / "README.md",
    *sorted((PROJECT_ROOT / "docs").rglob("*.md")),
    *sorted((PROJECT_ROOT / "deploy").rglob("*.yaml")),
    *sorted((PROJECT_ROOT / "deploy").rglob("*.example")),
]
# Names the documents use that are not settings of the app.
NOT_SETTINGS = {"HEXMART_BASE_IMAGE", "HEXMART_TEST_IMAGE"}


def _fields() -> list[tuple[str | None, str]]:
    """(section, field) for every field a variable can fill."""
    fields: list[tuple[str | None, str]] = []
    for top in dataclasses.fields(Settings):
        section = getattr(Settings(), top.name)
        if dataclasses.is_dataclass(section):
            fields += [(top.name, item.name) for item in dataclasses.fields(section)]
        else:
            fields.append((None, top.name))
    return fields


def test_every_field_is_read_from_exactly_one_variable() -> None:
    filled = [(variable.section, variable.attribute) for variable in VARIABLES.values()]

    assert sorted(filled, key=str) == sorted(_fields(), key=str)
    assert len(set(filled)) == len(filled)


def test_each_variable_sets_its_own_field() -> None:
    for name, variable in VARIABLES.items():
        assert name.startswith(PREFIX)
        settings = Settings.from_mapping({name: ""}) if _optional(variable.hint) else None
        if settings is None:
            continue
        holder = settings if variable.section is None else getattr(settings, variable.section)
        assert getattr(holder, variable.attribute) is None, name


def _optional(hint: object) -> bool:
    return "None" in str(hint)


def test_every_documented_variable_is_a_setting() -> None:
    documented = set()
    for document in DOCUMENTS:
        documented |= set(re.findall(r"\bHEXMART_[A-Z0-9_]*[A-Z0-9]\b", document.read_text()))

    assert documented - NOT_SETTINGS <= set(VARIABLES)
    assert len(documented - NOT_SETTINGS) > 30  # the documents were found and read


def test_values_by_variable_name_land_in_their_section() -> None:
    settings = Settings.from_values(
        database_pool_size=3, redis_cache_url="redis://c", redis_url="redis://m", email_from="x"
    )

    assert settings.database.pool_size == 3
    assert settings.redis.url_for("cache") == "redis://c"
    assert settings.email.sender == "x"
    with pytest.raises(TypeError, match="unknown settings: database_pool_sise"):
        Settings.from_values(database_pool_sise=3)


def test_a_bad_value_given_by_name_is_refused_with_its_variable() -> None:
    with pytest.raises(SettingsError, match="HEXMART_DATABASE_POOL_SIZE: must be positive"):
        Settings.from_values(database_pool_size=0)


def test_sections_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.database.url = "postgresql://elsewhere/shop"  # type: ignore[misc]


@pytest.mark.parametrize("name", ["HEXMART_PASSWORD_HASHING"])
def test_knobs_only_tests_used_are_not_settings(name: str) -> None:
    """Cheap password hashing is entrypoints.testing's composition, never a deployed
    shop's setting."""
    with pytest.raises(SettingsError, match=f"{name}: unknown setting"):
        Settings.from_mapping({name: "fast-insecure-for-tests"})


async def test_cheap_password_hashing_is_the_test_composition_only() -> None:
    settings = settings_for_tests()

    deployed = await build_container(settings).password_hasher().hash("correct horse battery")
    tested = await container_for_tests(settings).password_hasher().hash("correct horse battery")

    assert "$m=65536,t=3,p=4$" in deployed
    assert "$m=8,t=1,p=1$" in tested
