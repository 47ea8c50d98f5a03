"""SharedTimer: local decisions in one process, the chief's in a job (faked here)."""

import pytest

import jaxsession as tf
from jaxsession.distributed import kv, process
from jaxsession.session import timers


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_one_process_decides_like_second_or_step_timer():
    clock = _Clock()
    shared = timers.SharedTimer(every_secs=10, clock=clock, name="t")
    plain = timers.SecondOrStepTimer(every_secs=10, clock=clock)
    seen = []
    for step in range(1, 8):
        clock.now = step * 4.0
        a, b = shared.should_trigger_for_step(step), plain.should_trigger_for_step(step)
        assert a == b
        if a:
            shared.update_last_triggered_step(step)
            plain.update_last_triggered_step(step)
            seen.append(step)
    assert seen == [1, 4, 7]
    assert not shared.shared
    assert shared.last_triggered_step() == 7


class _FakeJob:
    """The coordination service of a 2-process job, as distributed's functions see it."""

    def __init__(self, monkeypatch, index):
        self.store = {}
        self.index = index
        monkeypatch.setattr(process, "is_initialized", lambda: True)
        monkeypatch.setattr(process, "process_count", lambda: 2)
        monkeypatch.setattr(process, "process_index", lambda: self.index)
        monkeypatch.setattr(
            process, "log_prefix", lambda *a: f"[process {self.index}/2]"
        )
        monkeypatch.setattr(kv, "key_set", self.store.__setitem__)
        monkeypatch.setattr(kv, "key_delete", self.store.pop)
        monkeypatch.setattr(kv, "key_wait", self.wait)
        self.waits = []

    def wait(self, key, timeout_secs, what):
        self.waits.append((key, timeout_secs, what))
        if key not in self.store:
            raise tf.errors.DeadlineExceededError(None, None, f"waited for {what}")
        return self.store[key]


def test_the_chief_publishes_each_decision_and_a_worker_takes_it(monkeypatch):
    job = _FakeJob(monkeypatch, 0)
    fast, slow = _Clock(), _Clock()
    chief = timers.SharedTimer(every_secs=1.0, clock=slow, name="checkpoints")
    worker = timers.SharedTimer(
        every_secs=1.0, clock=fast, name="checkpoints", wait_secs=3
    )
    assert chief.cadence.key != worker.cadence.key  # two timers of one process
    worker.cadence.key = chief.cadence.key  # the same timer in the other process
    decisions = []
    for step in (1, 2, 3):
        slow.now, fast.now = step * 0.6, step * 100.0
        job.index = 0
        decided = chief.should_trigger_for_step(step)
        if decided:
            chief.update_last_triggered_step(step)
        job.index = 1
        # The worker's fast clock would fire at every step; it follows the chief.
        assert worker.should_trigger_for_step(step) == decided
        decisions.append(decided)
    assert decisions == [True, False, True]
    assert job.waits[0] == (
        f"{chief.cadence.key}/1",
        3,
        "the chief's decision whether checkpoints are due at step 1",
    )


def test_a_worker_at_another_step_than_the_chief_is_an_internal_error(monkeypatch):
    job = _FakeJob(monkeypatch, 0)
    chief = timers.SharedTimer(every_secs=1.0, clock=_Clock(), name="summaries")
    chief.should_trigger_for_step(5)
    job.index = 1
    with pytest.raises(tf.errors.InternalError) as e:
        worker = timers.SharedTimer(every_secs=1.0, clock=_Clock(), name="summaries")
        worker.cadence.key = chief.cadence.key
        worker.should_trigger_for_step(6)
    assert str(e.value) == (
        "[process 1/2] asked whether summaries are due at step 6, but the chief "
        f"asked at step 5 (key '{chief.cadence.key}/1'): the processes ran different steps"
    )


def test_a_worker_without_the_chief_decision_gets_deadline_exceeded(monkeypatch):
    _FakeJob(monkeypatch, 1)
    worker = timers.SharedTimer(every_secs=1.0, name="summaries", wait_secs=0.5)
    with pytest.raises(
        tf.errors.DeadlineExceededError, match="summaries are due at step 2"
    ):
        worker.should_trigger_for_step(2)


def test_step_cadences_are_never_shared(monkeypatch):
    job = _FakeJob(monkeypatch, 1)
    timer = timers.SharedTimer(every_steps=2, name="summaries")
    assert timer.should_trigger_for_step(1) and not timer.shared
    assert job.waits == [] and job.store == {}


def test_old_decisions_are_deleted_from_the_service(monkeypatch):
    job = _FakeJob(monkeypatch, 0)
    timer = timers.SharedTimer(every_secs=1.0, clock=_Clock(), name="x")
    for step in range(1, 71):
        timer.should_trigger_for_step(step)
    assert sorted(int(k.rsplit("/", 1)[1]) for k in job.store) == list(range(7, 71))
