"""The four layer packages must be this project's, not same-named packages from PyPI."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", ["domain", "application", "adapters", "entrypoints"])
def test_layer_package_resolves_to_this_project(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == PROJECT_ROOT / package


def test_domain_imports_only_the_standard_library() -> None:
    import ast
    import sys

    allowed = set(sys.stdlib_module_names) | {"domain"}
    for path in (PROJECT_ROOT / "domain").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
