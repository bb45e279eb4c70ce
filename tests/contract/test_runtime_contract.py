from __future__ import annotations

from adapters.system.clock import FixedClock, SystemClock
from adapters.system.ids import SequentialIds, UuidGenerator
from application.ports.runtime import Clock, IdGenerator
from tests.contract.runtime_contract import ClockContract, IdGeneratorContract


class TestSystemClock(ClockContract):
    def make_clock(self) -> Clock:
        return SystemClock()


class TestFixedClock(ClockContract):
    def make_clock(self) -> Clock:
        return FixedClock()


class TestUuidGenerator(IdGeneratorContract):
    def make_ids(self) -> IdGenerator:
        return UuidGenerator()


class TestSequentialIds(IdGeneratorContract):
    def make_ids(self) -> IdGenerator:
        return SequentialIds()


class TestPrefixedSequentialIds(IdGeneratorContract):
    def make_ids(self) -> IdGenerator:
        return SequentialIds("order-")
