"""The contributor docs name real files: a path in backticks that no longer exists fails
here, so a move or a rename cannot leave the docs pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["docs/architecture.md", "CONTRIBUTING.md"]

# A repository path: starts with a top-level folder or file of this repository, and holds
# only path characters (so `adapters/sql/repositories/<aggregate>.py`, a placeholder, and
# commands such as `./dev test` are not paths).
_TOP = ("domain", "application", "adapters", "entrypoints", "tests", "docs", "benchmarks", "deploy")
_PATH = re.compile(rf"^(?:(?:{'|'.join(_TOP)})/[\w./-]*|[\w-]+\.(?:md|toml|py|lock))$")


def named_paths(text: str) -> list[str]:
    """Every backticked span that is a repository path, once each, in order. A command
    quoted in backticks contributes the words that are paths
    (`./dev test tests/domain` names `tests/domain`)."""
    found: list[str] = []
    for span in re.findall(r"`([^`\n]+)`", text):
        for word in span.split():
            word = word.split("::", 1)[0].rstrip(",;:")
            if _PATH.match(word) and word not in found:
                found.append(word)
    return found


def test_named_paths_finds_paths_and_skips_placeholders_and_commands() -> None:
    text = (
        "`application/orders.py`, `./dev test tests/domain -q`, `nox -s bench`, "
        "`adapters/sql/repositories/<aggregate>.py`, `pyproject.toml`, `Orders.place`"
    )

    assert named_paths(text) == ["application/orders.py", "tests/domain", "pyproject.toml"]


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_the_doc_names_exists(doc: str) -> None:
    paths = named_paths((ROOT / doc).read_text())
    missing = [path for path in paths if not (ROOT / path).exists()]

    assert len(paths) > 10, f"{doc} names too few paths for this check to mean anything"
    assert missing == [], f"{doc} names paths that do not exist: {missing}"
