"""Retention policies, without I/O and with an injected clock."""

from dataclasses import dataclass, field

from jaxsession.checkpoint import AnyOf, CheckpointEntry, KeepEvery, KeepLatest

HOUR = 3600.0


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Recording:
    answer: bool
    calls: list = field(default_factory=list)

    def should_keep(self, entry, newer):
        self.calls.append((entry.path, newer))
        return self.answer


def test_keep_latest_keeps_n_newest():
    policy = KeepLatest(2)
    entry = CheckpointEntry("m-1", 0.0)
    assert [policy.should_keep(entry, newer) for newer in range(4)] == [
        True,
        True,
        False,
        False,
    ]


def test_keep_every_starts_n_hours_after_creation():
    clock = FakeClock(1000.0)
    policy = KeepEvery(2.0, clock)
    assert policy.next_keep_time == 1000.0 + 2 * HOUR
    assert not policy.should_keep(CheckpointEntry("a", 1000.0 + 2 * HOUR), 5)
    assert policy.should_keep(CheckpointEntry("b", 1000.0 + 2 * HOUR + 1), 5)
    assert policy.next_keep_time == 1000.0 + 4 * HOUR


def test_keep_every_advances_once_per_kept_checkpoint_as_tf1():
    policy = KeepEvery(1.0, FakeClock(0.0))
    # Ten hours late: kept, but the next keep time moves by one hour only, so
    # the next expiring checkpoint is kept too.
    assert policy.should_keep(CheckpointEntry("a", 10 * HOUR), 5)
    assert policy.next_keep_time == 2 * HOUR
    assert policy.should_keep(CheckpointEntry("b", 10 * HOUR + 1), 5)
    assert policy.next_keep_time == 3 * HOUR


def test_keep_every_reads_the_clock_at_creation_only():
    clock = FakeClock(0.0)
    policy = KeepEvery(1.0, clock)
    clock.now = 100 * HOUR
    assert not policy.should_keep(CheckpointEntry("a", 0.5 * HOUR), 5)


def test_any_of_asks_in_order_and_stops_at_yes():
    first, second = Recording(True), Recording(False)
    entry = CheckpointEntry("m-3", 1.0)
    assert AnyOf((first, second)).should_keep(entry, 4)
    assert first.calls == [("m-3", 4)]
    assert second.calls == []


def test_any_of_keep_every_is_only_asked_for_expiring_checkpoints():
    every = KeepEvery(1.0, FakeClock(0.0))
    policy = AnyOf((KeepLatest(2), every))
    late = CheckpointEntry("m-9", 5 * HOUR)
    assert policy.should_keep(late, 1)
    assert every.next_keep_time == HOUR
    assert policy.should_keep(late, 2)
    assert every.next_keep_time == 2 * HOUR


def test_any_of_with_nothing_keeps_nothing():
    assert not AnyOf(()).should_keep(CheckpointEntry("m", 0.0), 0)
