from __future__ import annotations

import time
import uuid

from adapters.system.ids import SequentialIds, UuidGenerator


def test_uuid_generator_makes_rfc_9562_version_7_uuids() -> None:
    made = uuid.UUID(UuidGenerator().new_id())
    assert made.version == 7
    assert made.variant == uuid.RFC_4122


def test_uuid_generator_ids_start_with_the_creation_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(UuidGenerator().new_id())
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_uuid_generator_ids_sort_in_creation_order_even_within_one_millisecond() -> None:
    ids = UuidGenerator()
    made = [ids.new_id() for _ in range(5_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_uuid_generator_ids_keep_increasing_when_the_wall_clock_steps_back(
    monkeypatch,
) -> None:
    ids = UuidGenerator()
    first = ids.new_id()
    real_time_ns = time.time_ns()
    monkeypatch.setattr(time, "time_ns", lambda: real_time_ns - 3_600_000_000_000)
    later = [ids.new_id() for _ in range(100)]
    assert [first, *later] == sorted([first, *later])
    assert all(uuid.UUID(made).version == 7 for made in later)


def test_sequential_ids_count_up_as_valid_uuids() -> None:
    ids = SequentialIds()
    assert [ids.new_id() for _ in range(2)] == [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ]
    assert uuid.UUID(ids.new_id()).version == 4


def test_sequential_ids_with_a_prefix_are_zero_padded_to_sort_as_strings() -> None:
    ids = SequentialIds("user-", start=9)
    assert [ids.new_id() for _ in range(2)] == ["user-000009", "user-000010"]
