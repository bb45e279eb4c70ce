"""`hexmart catalog import/export` and `hexmart inventory adjust`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.entrypoints.cli.conftest import Hexmart, one_line_error

HEADER = "sku,name,description,price,currency,inventory_count,category\n"
GOOD = HEADER + 'MUG-1,Mug,"A mug, big",12.50,USD,10,Kitchen\nBOWL-1,Bowl,,900,,5,kitchen\n'


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def exported(hexmart: Hexmart, *args: str) -> str:
    result = hexmart("catalog", "export", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_import_then_reimport_changes_nothing_and_export_round_trips(
    hexmart: Hexmart, database: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "shop.csv", GOOD)

    dry = hexmart("catalog", "import", path, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would create MUG-1" in dry.stdout
    assert exported(hexmart) == HEADER

    first = hexmart("catalog", "import", path, "--json")
    assert json.loads(first.stdout)["created"] == 2
    again = json.loads(hexmart("catalog", "import", path, "--json").stdout)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)

    csv_out = exported(hexmart)
    assert csv_out == HEADER + (
        'MUG-1,Mug,"A mug, big",1250,USD,10,kitchen\nBOWL-1,Bowl,,900,USD,5,kitchen\n'
    )
    jsonl = tmp_path / "out.jsonl"
    assert hexmart("catalog", "export", "--format", "jsonl", "--output", str(jsonl)).exit_code == 0
    for file in (write(tmp_path, "again.csv", csv_out), str(jsonl)):
        report = json.loads(hexmart("catalog", "import", file, "--json").stdout)
        assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 2)


def test_a_file_with_bad_rows_writes_nothing_and_names_each_problem(
    hexmart: Hexmart, database: str, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        HEADER + "A,ok,,1,,1,c\nB,,,1.234,EUR,1,c\nC,ok,,1,,x,c\nA,dup,,1,,1,c\n",
    )

    result = hexmart("catalog", "import", path)

    assert result.exit_code == 2
    errors = result.stderr.strip().splitlines()
    assert sorted(errors[:-1]) == sorted(
        [
            f"{path}:line 3: name: is required",
            f"{path}:line 3: price: '1.234' has more decimals than USD allows",
            f"{path}:line 3: currency: must be the shop's currency USD",
            f"{path}:line 4: inventory_count: must be a whole number (got 'x')",
            f"{path}:line 5: sku: A is also on line 2",
        ]
    )
    assert errors[-1] == f"hexmart: 3 invalid row(s) in {path}; nothing was imported"
    assert exported(hexmart) == HEADER

    skipped = hexmart("catalog", "import", path, "--skip-invalid", "--json")
    assert skipped.exit_code == 0, skipped.stderr
    assert json.loads(skipped.stdout)["created"] == 1
    assert json.loads(skipped.stdout)["skipped_invalid"] == 3


def test_extra_columns_are_refused_by_name(hexmart: Hexmart, tmp_path: Path) -> None:
    path = write(
        tmp_path, "x.csv", "sku,name,price,inventory_count,category,colour\nA,a,1,1,c,red\n"
    )
    result = hexmart("catalog", "import", path)
    assert result.exit_code == 2
    assert "unknown column(s) colour" in one_line_error(result)


def test_json_lines_problems_have_line_numbers(hexmart: Hexmart, tmp_path: Path) -> None:
    good = json.dumps(
        {"sku": "A", "name": "a", "price": 100, "inventory_count": 1, "category": "c"}
    )
    path = write(
        tmp_path, "x.jsonl", f"{good}\n\nnot json\n[1]\n{json.dumps({'sku': 'B', 'size': 1})}\n"
    )
    result = hexmart("catalog", "import", path)
    assert result.exit_code == 2
    assert f"{path}:line 3: line: is not valid JSON" in result.stderr
    assert f"{path}:line 4: line: must be a JSON object" in result.stderr
    assert f"{path}:line 5: size: unknown column" in result.stderr
    assert exported(hexmart) == HEADER


def test_a_file_of_unknown_format_is_bad_usage(hexmart: Hexmart, tmp_path: Path) -> None:
    result = hexmart("catalog", "import", write(tmp_path, "x.txt", GOOD))
    assert result.exit_code == 2
    assert "--format" in one_line_error(result)


def test_inventory_adjust_by_sku(hexmart: Hexmart, database: str, tmp_path: Path) -> None:
    hexmart("catalog", "import", write(tmp_path, "shop.csv", GOOD))

    done = hexmart("inventory", "adjust", "MUG-1", "--delta", "-3", "--reason", "broken", "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["inventory_count"] == 7

    too_many = hexmart("inventory", "adjust", "MUG-1", "--delta", "-8", "--reason", "x")
    assert too_many.exit_code == 1
    assert "would make it negative" in one_line_error(too_many)
    unknown = hexmart("inventory", "adjust", "NOPE", "--delta", "1", "--reason", "x")
    assert unknown.exit_code == 1
    assert "NOPE not found" in one_line_error(unknown)
    assert hexmart("inventory", "adjust", "MUG-1", "--delta", "1").exit_code == 2
    assert ",7," in exported(hexmart)


@pytest.mark.parametrize("batch_size", ["1", "2"])
def test_small_batches_import_everything(hexmart: Hexmart, tmp_path: Path, batch_size: str) -> None:
    rows = "".join(f"S{n},n{n},,{n},,{n},c\n" for n in range(5))
    path = write(tmp_path, "s.csv", HEADER + rows)
    report = json.loads(
        hexmart("catalog", "import", path, "--batch-size", batch_size, "--json").stdout
    )
    assert report["created"] == 5
    assert exported(hexmart).count("\n") == 6
