"""Runs where no hook asks for anything take a shorter path, with TF1's behaviour.

A monitored run whose hooks fetch nothing runs the caller's fetches as they
are and gives every hook one ``SessionRunValues``; timers answer from a
precomputed step or deadline between triggers. These tests check that what
hooks see is the same as on the general path.
"""

import os
import signal

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.checkpoint import PreemptionWatcher
from jaxsession.checkpoint.policies import (
    ChiefDecides,
    EverySecs,
    EverySteps,
    Trigger,
)
from jaxsession.session import timers
from jaxsession.session.checkpoint_hooks import PreemptionStopHook
from jaxsession.session.config import RunMetadata, RunOptions
from jaxsession.session.hooks import SessionRunArgs
from jaxsession.session.monitored_session import ChiefSessionCreator, MonitoredSession
from jaxsession.session.scaffold import Scaffold
from tests.helpers.clock import FakeClock
from tests.helpers.recording_hook import RecordingHook


def _monitored(hooks):
    return MonitoredSession(ChiefSessionCreator(Scaffold()), hooks=hooks)


def _after_runs(hook):
    return [c for c in hook.calls if c[0] == "after_run"]


def test_a_hook_that_fetches_and_feeds_on_some_runs_gets_its_values():
    v = tf.Variable(0, name="v")
    bump = v.assign_add(1)
    x = tf.placeholder(tf.int32, [], name="x")
    twice = x * 2
    runs = []

    def late(run_context):
        runs.append(len(runs) + 1)
        if runs[-1] in (3, 5):
            return SessionRunArgs({"twice": twice}, feed_dict={x: runs[-1]})
        return None

    quiet, asking = RecordingHook(), RecordingHook(request=late)
    with _monitored([quiet, asking]) as sess:
        assert [sess.run(bump) for _ in range(6)] == [1, 2, 3, 4, 5, 6]
    results = [c[2].results for c in _after_runs(asking)]
    assert results == [None, None, {"twice": 6}, None, {"twice": 10}, None]
    assert [c[2].results for c in _after_runs(quiet)] == [None] * 6
    seen = set()
    for q, a in zip(_after_runs(quiet), _after_runs(asking)):
        # One context, one options and one metadata object per run, for all hooks.
        assert q[1] is a[1] and q[1].original_args == SessionRunArgs(bump, None)
        assert q[2].options is a[2].options and isinstance(q[2].options, RunOptions)
        assert q[2].run_metadata is a[2].run_metadata
        assert isinstance(q[2].run_metadata, RunMetadata)
        assert q[2].options.trace_level == RunOptions.NO_TRACE
        seen.add(id(q[2].options))
    assert len(seen) == 6  # a new RunOptions per run


def test_a_stop_requested_on_a_run_nobody_fetches_in_ends_the_loop():
    gs = tf.train.get_or_create_global_step()
    train = gs.assign_add(1)
    first, second = RecordingHook(stop_after_run=2), RecordingHook()
    with _monitored([first, second]) as sess:
        while not sess.should_stop():
            sess.run(train)
        with pytest.raises(RuntimeError, match="Run called even after should_stop"):
            sess.run(train)
    # Both hooks saw both runs; the stop came after the second run finished.
    assert len(_after_runs(first)) == len(_after_runs(second)) == 2
    assert _after_runs(second)[-1][1].stop_requested


def test_options_a_hook_adds_later_trace_that_run_only():
    c = tf.constant(3.0) * 2.0

    def trace_second(run_context):
        trace_second.runs += 1
        if trace_second.runs == 2:
            return SessionRunArgs(
                None, options=RunOptions(trace_level=RunOptions.FULL_TRACE)
            )
        return None

    trace_second.runs = 0
    tracer, other = RecordingHook(request=trace_second), RecordingHook()
    mine = RunOptions(timeout_in_ms=5)
    with _monitored([tracer, other]) as sess:
        assert sess.run(c) == 6.0
        assert sess.run(c) == 6.0
        assert sess.run(c, options=mine) == 6.0
    values = [call[2] for call in _after_runs(other)]
    assert [v.options.trace_level for v in values] == [0, RunOptions.FULL_TRACE, 0]
    stats = [v.run_metadata.step_stats.ByteSize() for v in values]
    assert stats[0] == 0 and stats[1] > 0 and stats[2] == 0
    # The caller's options object itself is what hooks see.
    assert values[2].options is mine and mine.timeout_in_ms == 5


@pytest.mark.parametrize("kind", ["steps", "secs"])
def test_a_timer_answers_as_its_cadence_at_every_step_and_time(kind):
    clock = FakeClock(0.0)
    if kind == "steps":
        timer = timers.SecondOrStepTimer(every_steps=3, clock=clock)
        cadence = EverySteps(3)
    else:
        timer = timers.SecondOrStepTimer(every_secs=2.0, clock=clock)
        cadence = EverySecs(2.0)
    rng = np.random.default_rng(0)
    step, last, fired = 0, None, 0
    for i in range(400):
        step += int(rng.integers(-1, 3))  # stands still or goes back at times
        clock.now += float(rng.choice([0.0, 0.5, 1.5]))
        due = cadence.is_due(step, clock.now, last)
        assert timer.should_trigger_for_step(step) == due, (i, step, clock.now)
        if due and rng.random() < 0.8:
            timer.update_last_triggered_step(step)
            last, fired = Trigger(step, clock.now), fired + 1
        if i == 200:
            timer.reset()
            last = None
        if i == 300:
            # A new cadence applies at once.
            cadence = timer.cadence = EverySteps(5)
    assert fired > 40


def test_a_step_timer_reads_no_clock_between_triggers():
    readings = []

    def clock():
        readings.append(1)
        return 0.0

    timer = timers.SecondOrStepTimer(every_steps=100, clock=clock)
    timer.update_last_triggered_step(0)
    readings.clear()
    assert not any(timer.should_trigger_for_step(s) for s in range(1, 100))
    assert readings == []
    assert timer.should_trigger_for_step(100)


class _SharedChannel:
    """A chief's channel in a job of two processes: records what it publishes."""

    def __init__(self):
        self.published = {}

    def shared(self):
        return True

    def is_chief(self):
        return True

    def publish(self, key, value):
        self.published[key] = value

    def delete(self, key):
        self.published.pop(key)

    def log_prefix(self):
        return "[process 0/2]"


def _every_4_secs(timer, clock):
    """The timer's answers at steps 1..7, one every 4 s; it records each trigger."""
    answers = []
    for step in range(1, 8):
        clock.now = step * 4.0
        answers.append(timer.should_trigger_for_step(step))
        if answers[-1]:
            timer.update_last_triggered_step(step)
    return answers


def test_a_timer_the_chief_decides_asks_its_cadence_at_every_call():
    clock = FakeClock(0.0)
    channel = _SharedChannel()
    timer = timers.SecondOrStepTimer(every_secs=10.0, clock=clock)
    timer.cadence = ChiefDecides(EverySecs(10.0), "t", channel=channel, key="k")
    assert _every_4_secs(timer, clock) == [True, False, False, True, False, False, True]
    # Every call was the chief's decision, published for the worker.
    assert len(channel.published) == 7
    assert channel.published["k/2"] == "0 2" and channel.published["k/4"] == "1 4"


def test_one_process_shared_timer_answers_from_its_deadline_once_decided():
    clock = FakeClock(0.0)
    timer = timers.SharedTimer(every_secs=10.0, clock=clock, name="quiet")
    timer.update_last_triggered_step(0)  # as CheckpointSaverHook at creation
    assert _every_4_secs(timer, clock) == [
        False,
        False,
        True,
        False,
        False,
        True,
        False,
    ]
    assert not timer.shared


class _StopAt(PreemptionWatcher):
    """A watcher of its own: says stop at a step, signal or not."""

    def __init__(self, at):
        super().__init__(signals=(signal.SIGUSR1,))
        self.at, self.asked = at, []

    def should_save_and_stop(self, step):
        self.asked.append(step)
        return step >= self.at


def test_the_preemption_hook_asks_a_watcher_of_its_own_at_every_run():
    gs = tf.train.get_or_create_global_step()
    train = gs.assign_add(1)
    watcher = _StopAt(3)
    with _monitored([PreemptionStopHook(watcher)]) as sess:
        while not sess.should_stop():
            sess.run(train)
    # Asked after each run, with the step it started at; stopped at step 3.
    assert watcher.asked == [0, 1, 2, 3]


def test_the_preemption_hook_stops_after_the_run_the_signal_came_in():
    gs = tf.train.get_or_create_global_step()
    train = gs.assign_add(1)
    hook = PreemptionStopHook(PreemptionWatcher(signals=(signal.SIGUSR1,)))
    before = signal.getsignal(signal.SIGUSR1)
    made = 0
    with _monitored([hook]) as sess:
        while not sess.should_stop():
            sess.run(train)
            made += 1
            if made == 4:
                os.kill(os.getpid(), signal.SIGUSR1)
            assert made < 10
    assert made == 5  # the signal came during the loop after run 4
    assert signal.getsignal(signal.SIGUSR1) is before
