"""Contracts for the Clock and IdGenerator ports (light: both are tiny)."""

from __future__ import annotations

import abc
import threading
from datetime import timedelta

from application.ports.runtime import Clock, IdGenerator


class ClockContract(abc.ABC):
    @abc.abstractmethod
    def make_clock(self) -> Clock: ...

    def test_now_is_timezone_aware_utc(self) -> None:
        now = self.make_clock().now()
        assert now.tzinfo is not None
        assert now.utcoffset() == timedelta(0)

    def test_time_never_runs_backwards(self) -> None:
        clock = self.make_clock()
        readings = [clock.now() for _ in range(1000)]
        assert readings == sorted(readings)


class IdGeneratorContract(abc.ABC):
    @abc.abstractmethod
    def make_ids(self) -> IdGenerator: ...

    def test_ids_are_non_empty_strings(self) -> None:
        new_id = self.make_ids().new_id()
        assert isinstance(new_id, str)
        assert new_id.strip() == new_id != ""

    def test_ten_thousand_ids_are_all_different(self) -> None:
        ids = self.make_ids()
        assert len({ids.new_id() for _ in range(10_000)}) == 10_000

    def test_ids_made_by_several_threads_at_once_are_all_different(self) -> None:
        ids = self.make_ids()
        made: list[str] = []
        start = threading.Barrier(8)

        def make_many() -> None:
            start.wait()
            batch = [ids.new_id() for _ in range(2_000)]
            made.extend(batch)  # list.extend is atomic under the GIL

        threads = [threading.Thread(target=make_many) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(made) == len(set(made)) == 16_000
