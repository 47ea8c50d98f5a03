"""Save cadences, without I/O: pure decisions, and the chief's over a fake channel."""

import re

import pytest

import jaxsession as tf
from jaxsession.checkpoint.policies import (
    ChiefDecides,
    EverySecs,
    EverySteps,
    Never,
    Trigger,
)


def test_every_cadence_fires_first_and_never_twice_at_one_step():
    for cadence in (EverySteps(3), EverySecs(10.0)):
        assert cadence.is_due(7, now=0.0, last=None)
        assert not cadence.is_due(7, now=1e9, last=Trigger(7, 0.0))


def test_every_steps_counts_steps_since_the_last_trigger():
    last = Trigger(10, 0.0)
    due = [EverySteps(3).is_due(s, now=1e9, last=last) for s in (11, 12, 13, 20)]
    assert due == [False, False, True, True]


def test_every_secs_reads_the_given_clock_only():
    last = Trigger(10, 100.0)
    assert not EverySecs(5.0).is_due(11, now=104.9, last=last)
    assert EverySecs(5.0).is_due(11, now=105.0, last=last)
    assert not EverySecs(5.0).is_due(10_000, now=100.0, last=last)


def test_never_is_never_due():
    assert not Never().is_due(0, now=0.0, last=None)


class FakeChannel:
    """Two processes' view of one decision store; ``chief`` says who asks."""

    def __init__(self, store, chief, processes=2):
        self.store, self.chief, self.processes = store, chief, processes
        self.deleted = []

    def shared(self):
        return self.processes > 1

    def is_chief(self):
        return self.chief

    def publish(self, key, value):
        self.store[key] = value

    def delete(self, key):
        self.deleted.append(key)
        del self.store[key]

    def wait(self, key, timeout_secs, what):
        if key not in self.store:
            raise tf.errors.DeadlineExceededError(None, None, f"waited for {what}")
        return self.store[key]

    def log_prefix(self):
        return "[worker]" if not self.chief else "[chief]"


def _pair(name="checkpoints"):
    store = {}
    chief = ChiefDecides(EverySecs(1.0), name, channel=FakeChannel(store, True))
    worker = ChiefDecides(
        EverySecs(1.0), name, channel=FakeChannel(store, False), key=chief.key
    )
    return chief, worker


def test_a_worker_takes_the_chief_decision_whatever_its_own_clock():
    chief, worker = _pair()
    last = None
    for step, chief_now in [(1, 0.0), (2, 0.5), (3, 1.2)]:
        decided = chief.is_due(step, chief_now, last)
        # The worker's clock (1e9) would make its own cadence fire every time.
        assert worker.is_due(step, 1e9, last) == decided
        if decided:
            last = Trigger(step, chief_now)
    assert [chief.calls, worker.calls] == [3, 3]
    assert chief.channel.store[f"{chief.key}/2"] == "0 2"


def test_a_worker_at_another_step_is_an_internal_error():
    chief, worker = _pair("summaries")
    chief.is_due(5, 0.0, None)
    message = (
        "[worker] asked whether summaries are due at step 6, but the chief asked "
        f"at step 5 (key '{chief.key}/1'): the processes ran different steps"
    )
    with pytest.raises(tf.errors.InternalError, match=re.escape(message)):
        worker.is_due(6, 0.0, None)


def test_one_process_decides_locally_and_publishes_nothing():
    store = {}
    alone = ChiefDecides(EverySteps(2), "x", channel=FakeChannel(store, True, 1))
    assert alone.is_due(1, 0.0, None) and not alone.shared
    assert store == {} and alone.calls == 0


def test_keys_are_numbered_per_name_in_creation_order():
    first = ChiefDecides(Never(), "ordinals-test", channel=FakeChannel({}, True))
    second = ChiefDecides(Never(), "ordinals-test", channel=FakeChannel({}, True))
    ordinal = int(first.key.rsplit("/", 1)[1])
    assert first.key == f"cadence/ordinals-test/{ordinal}"
    assert second.key == f"cadence/ordinals-test/{ordinal + 1}"


def test_the_chief_keeps_only_recent_decisions():
    chief, _ = _pair("kept")
    for step in range(1, 71):
        chief.is_due(step, float(step), None)
    kept = sorted(int(k.rsplit("/", 1)[1]) for k in chief.channel.store)
    assert kept == list(range(7, 71))
