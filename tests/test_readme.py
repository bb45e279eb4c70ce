"""README's promises, checked: the library example runs, and the two commands are there."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _first_block_after(heading: str) -> str:
    section = README.split(f"## {heading}\n", 1)[1]
    return re.search(r"```\w*\n(.*?)```", section, re.S).group(1).strip()


def test_quick_start_serves_and_tests_section_runs_the_suite() -> None:
    assert _first_block_after("Quick start") == "./dev serve"
    assert _first_block_after("Tests") == "./dev test"
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "./dev test" in ci


async def test_library_example_in_readme_runs() -> None:
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    await namespace["test_a_customer_can_buy_a_mug"]()  # type: ignore[operator]
