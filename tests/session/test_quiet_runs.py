"""Runs where no hook asks for anything take a shorter path, with TF1's behaviour.

A monitored run whose hooks fetch nothing runs the caller's fetches as they
are and gives every hook one ``SessionRunValues``; timers answer from a
precomputed step or deadline between triggers. These tests check that what
hooks see is the same as on the general path.
"""

import logging
import os
import signal
from pathlib import Path
from types import SimpleNamespace

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
from jaxsession.session import _wrappers, quiet_runs, timers
from jaxsession.session.checkpoint_hooks import CheckpointSaverHook, PreemptionStopHook
from jaxsession.session.config import RunMetadata, RunOptions
from jaxsession.session.hooks import SessionRunArgs
from jaxsession.session.monitored_session import ChiefSessionCreator, MonitoredSession
from jaxsession.session.scaffold import Scaffold
from jaxsession.session.summary_writer import SessionLog
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


_STILL = (
    "It seems that global step (tf.train.get_global_step) has not been "
    "increased. Current value (could be stable)"
)


def _train_and_record(directory, hooks, caplog):
    """MTS's default hooks and a StopAtStepHook(last_step=28) over 30 runs.

    Two runs do not step; ``hooks`` come after those. Returns what the
    hooks wrote, logged and saved.
    """
    with tf.Graph().as_default():
        gs = tf.train.get_or_create_global_step()
        v = tf.Variable(0.0)
        tf.summary.scalar("v", v)
        train = tf.group(v.assign_add(1.0), gs.assign_add(1))
        still = v.assign_add(10.0).op
        caplog.clear()
        with caplog.at_level(logging.INFO, "jaxsession"):
            with tf.train.MonitoredTrainingSession(
                checkpoint_dir=str(directory),
                save_summaries_steps=7,
                log_step_count_steps=6,
                save_checkpoint_steps=10,
                hooks=[tf.train.StopAtStepHook(last_step=28), *(hooks or [])],
            ) as sess:
                runs = 0
                while not sess.should_stop():
                    sess.run(still if runs in (9, 10) else train)
                    runs += 1
        assert runs == 30
        logs = [
            r.getMessage().split(":")[0]
            for r in caplog.records
            if "global_step/sec" in r.getMessage()
            or "not been increased" in r.getMessage()
        ]
    events = []
    for path in sorted(directory.glob("events.out.tfevents.*")):
        for event in tf.train.summary_iterator(str(path)):
            for value in event.summary.value:
                simple = value.simple_value if value.tag == "v" else None
                events.append((event.step, value.tag, simple))
            if event.HasField("session_log"):
                events.append((event.step, "log", event.session_log.status))
    state = tf.train.get_checkpoint_state(str(directory))
    checkpoints = [Path(p).name for p in state.all_model_checkpoint_paths]
    return events, logs, checkpoints


@pytest.fixture
def quiet_runs_made(monkeypatch):
    """Whether each run that started quiet was quiet (``QuietRuns.finish``)."""
    made = []
    finish = quiet_runs.QuietRuns.finish

    def counted(self, start):
        made.append(finish(self, start))
        return made[-1]

    monkeypatch.setattr(quiet_runs.QuietRuns, "finish", counted)
    return made


def test_quiet_runs_write_what_hooks_called_at_every_run_write(
    tmp_path, caplog, quiet_runs_made
):
    quiet = _train_and_record(tmp_path / "quiet", None, caplog)
    assert 5 < sum(quiet_runs_made) < 30
    quiet_runs_made.clear()
    # A hook of the user's takes no part: every run calls every hook.
    every = _train_and_record(tmp_path / "every", [RecordingHook()], caplog)
    assert quiet_runs_made == []
    assert quiet == every
    events, logs, checkpoints = quiet
    assert events == [
        (0, "log", SessionLog.CHECKPOINT),
        (1, "log", SessionLog.START),
        (1, "v", 0.0),
        (7, "global_step/sec", None),
        (8, "v", 7.0),
        (10, "log", SessionLog.CHECKPOINT),
        (13, "global_step/sec", None),
        (15, "v", 34.0),
        (19, "global_step/sec", None),
        (20, "log", SessionLog.CHECKPOINT),
        (22, "v", 41.0),
        (25, "global_step/sec", None),
        (28, "log", SessionLog.CHECKPOINT),
    ]
    # The two runs that did not step each found the step where it was.
    assert logs == ["global_step/sec"] + 2 * [_STILL] + 3 * ["global_step/sec"]
    assert checkpoints == [f"model.ckpt-{s}" for s in (0, 10, 20, 28)]


@pytest.fixture
def late(monkeypatch):
    """The start steps of runs found quiet before they ran but not after."""
    starts = []
    after_late = _wrappers._HookedSession._after_late

    def spy(self, quiet, start, *args):
        starts.append(start)
        return after_late(self, quiet, start, *args)

    monkeypatch.setattr(_wrappers._HookedSession, "_after_late", spy)
    return starts


@pytest.mark.parametrize("user_hook", [False, True])
@pytest.mark.parametrize("stop_at", [False, True])
def test_a_signal_during_a_quiet_run_stops_after_it(user_hook, stop_at, late):
    gs = tf.train.get_or_create_global_step()
    made = []

    def count(step):
        if int(step) == 4 and 4 not in made:
            os.kill(os.getpid(), signal.SIGUSR1)  # arrives during run 5
        made.append(int(step))
        return np.float32(0)

    seen = tf.py_func(count, [gs.read_value()], tf.float32)
    with tf.control_dependencies([seen]):
        train = gs.assign_add(1)
    hook = PreemptionStopHook(PreemptionWatcher(signals=(signal.SIGUSR1,)))
    extra = [RecordingHook()] if user_hook else []
    # StopAtStepHook fetches the global step even at quiet runs: a run found
    # not quiet after it ran must hand it that step (a chaos test found it).
    extra += [tf.train.StopAtStepHook(last_step=100)] if stop_at else []
    with _monitored([hook, *extra]) as sess:
        while not sess.should_stop():
            sess.run(train)
    # Stopped after the run the signal came in, whichever path it took.
    assert sorted(set(made)) == [0, 1, 2, 3, 4]
    assert hook._runs == 5
    # Without a hook of the user's, run 5 was quiet until the signal.
    assert late == ([] if user_hook else [4])


@pytest.mark.parametrize("user_hook", [False, True])
def test_seconds_deadlines_passing_between_or_during_runs_fire_as_before(
    tmp_path, monkeypatch, user_hook, late
):
    clock = FakeClock(0.0)
    # The hooks' clock is the one quiet runs read (time.monotonic's stand-in).
    fake_time = SimpleNamespace(monotonic=clock)
    monkeypatch.setattr(quiet_runs, "time", fake_time)
    monkeypatch.setattr(timers, "time", fake_time)
    gs = tf.train.get_or_create_global_step()
    v = tf.Variable(0.0)
    summary = tf.summary.scalar("v", v)

    def tick(step):
        if int(step) == 5:
            clock.now = 10.5  # the checkpoint's deadline passes during this run
        return np.float32(0)

    with tf.control_dependencies([tf.py_func(tick, [gs.read_value()], tf.float32)]):
        train = tf.group(v.assign_add(1.0), gs.assign_add(1))
    hooks = [
        CheckpointSaverHook(str(tmp_path), save_secs=10, clock=clock),
        tf.train.SummarySaverHook(
            save_secs=20, output_dir=str(tmp_path), summary_op=summary, clock=clock
        ),
    ]
    hooks += [RecordingHook()] if user_hook else []
    with _monitored(hooks) as sess:
        for step in range(12):
            if step == 8:
                clock.now = 20.5  # the summaries' deadline passes before run 9
            sess.run(train)
    state = tf.train.get_checkpoint_state(str(tmp_path))
    saved = [Path(p).name for p in state.all_model_checkpoint_paths]
    assert saved == ["model.ckpt-0", "model.ckpt-6", "model.ckpt-9", "model.ckpt-12"]
    writes = [
        (event.step, value.simple_value)
        for path in sorted(tmp_path.glob("events.out.tfevents.*"))
        for event in tf.train.summary_iterator(str(path))
        for value in event.summary.value
    ]
    assert writes == [(1, 0.0), (9, 8.0)]
    assert late == ([] if user_hook else [5])


class _CreationWatcher(tf.train.SessionRunHook):
    """A hook of the user's with only begin, after_create_session and end."""

    def __init__(self):
        self.calls = []

    def begin(self):
        self.calls.append("begin")

    def after_create_session(self, session, coord):
        self.calls.append("after_create_session")

    def end(self, session):
        self.calls.append("end")


def test_a_hook_with_no_run_callbacks_leaves_the_runs_quiet(
    tmp_path, caplog, quiet_runs_made
):
    watcher = _CreationWatcher()
    watched = _train_and_record(tmp_path / "watched", [watcher], caplog)
    assert watcher.calls == ["begin", "after_create_session", "end"]
    assert sum(quiet_runs_made) > 5
    # The same files, logs and checkpoints as with every hook at every run.
    assert watched == _train_and_record(tmp_path / "every", [RecordingHook()], caplog)
    # An instance given its own after_run is called at every run.
    runs = []
    watcher = _CreationWatcher()
    watcher.after_run = lambda context, values: runs.append(values.results)
    quiet_runs_made.clear()
    _train_and_record(tmp_path / "patched", [watcher], caplog)
    assert quiet_runs_made == [] and runs == [None] * 30


def test_a_patched_callback_of_a_default_hook_is_called_at_every_run(
    tmp_path, caplog, monkeypatch
):
    calls = []
    after_run = tf.train.StepCounterHook.after_run

    def counted(self, run_context, run_values):
        calls.append(run_values.results)
        return after_run(self, run_context, run_values)

    monkeypatch.setattr(tf.train.StepCounterHook, "after_run", counted)
    _train_and_record(tmp_path, None, caplog)
    assert calls == [None] * 30


def _checkpoint_steps(directory):
    state = tf.train.get_checkpoint_state(str(directory))
    return [int(Path(p).name.split("-")[-1]) for p in state.all_model_checkpoint_paths]


def _train_to_step_8(directory, extra, monkeypatch):
    """StopAtStepHook(last_step=8) with a checkpoint every 10 s of a fake clock.

    The clock passes the deadline during the run from step 3. Returns the
    steps of the runs made and the checkpoints saved.
    """
    clock = FakeClock(0.0)
    fake_time = SimpleNamespace(monotonic=clock)
    monkeypatch.setattr(quiet_runs, "time", fake_time)
    monkeypatch.setattr(timers, "time", fake_time)
    with tf.Graph().as_default():
        gs = tf.train.get_or_create_global_step()

        def tick(step):
            if int(step) == 3:
                clock.now = 10.5
            return np.float32(0)

        seen = tf.py_func(tick, [gs.read_value()], tf.float32)
        with tf.control_dependencies([seen]):
            train = gs.assign_add(1)
        hooks = [
            tf.train.StopAtStepHook(last_step=8),
            CheckpointSaverHook(str(directory), save_secs=10, clock=clock),
            *extra,
        ]
        steps = []
        with _monitored(hooks) as sess:
            while not sess.should_stop():
                steps.append(int(sess.run([train, gs])[1]))
                assert len(steps) < 20
    return steps, _checkpoint_steps(directory)


def test_stop_at_step_hook_runs_on_after_a_deadline_passes_in_a_quiet_run(
    tmp_path, monkeypatch, late
):
    quiet = _train_to_step_8(tmp_path / "quiet", [], monkeypatch)
    assert late == [3]
    every = _train_to_step_8(tmp_path / "every", [RecordingHook()], monkeypatch)
    assert late == [3]  # a hook of the user's: no quiet runs
    # Stops at step 8 as when every hook is called at every run; the
    # checkpoint is saved after the run the deadline passed in.
    assert quiet == every == ([1, 2, 3, 4, 5, 6, 7, 8], [0, 4, 8])


def test_stop_at_step_hook_runs_on_after_a_run_sets_the_step_by_a_computed_value(
    late,
):
    gs = tf.train.get_or_create_global_step()
    inc = gs.assign_add(1)
    # The host cannot follow this one: the step is unknown after it.
    computed = gs.assign(gs.read_value() + 1)
    hook = tf.train.StopAtStepHook(last_step=6)
    made = []
    with _monitored([hook]) as sess:
        while not sess.should_stop():
            made.append(int(sess.run(computed if len(made) == 2 else inc)))
    assert made == [1, 2, 3, 4, 5, 6]
    assert late == [2]


def test_hooks_may_begin_after_the_hooked_session_is_made():
    gs = tf.train.get_or_create_global_step()
    train = gs.assign_add(1)
    hook = tf.train.StopAtStepHook(last_step=2)
    with tf.Session() as raw:
        raw.run(tf.global_variables_initializer())
        # As TF1's _HookedSession: the hooks are not looked at until a run.
        sess = _wrappers._HookedSession(raw, [hook])
        hook.begin()
        hook.after_create_session(raw, None)
        made = []
        while not sess.should_stop():
            made.append(int(sess.run(train)))
    assert made == [1, 2]


@pytest.mark.parametrize("user_hook", [False, True])
@pytest.mark.parametrize(
    "runs, expected",
    [
        # Two runs that step, two that do not (an eval run), 40 runs.
        ("aann" * 10, [1, 6, 12, 18]),
        # A train op adding 2 to the global step, 16 runs.
        ("2" * 16, [2, 12, 22, 32]),
    ],
)
def test_summaries_count_on_from_the_step_before_each_run_as_tf1(
    tmp_path, runs, expected, user_hook
):
    # The steps are TensorFlow 2.21's (tf.compat.v1) for the same program.
    gs = tf.train.get_or_create_global_step()
    v = tf.Variable(0.0)
    ops = {
        "a": tf.group(v.assign_add(1.0), gs.assign_add(1)),
        "2": tf.group(v.assign_add(1.0), gs.assign_add(2)),
        "n": v.assign_add(10.0).op,
    }
    hooks = [
        tf.train.SummarySaverHook(
            save_steps=7, output_dir=str(tmp_path), summary_op=tf.summary.scalar("v", v)
        ),
        tf.train.StepCounterHook(every_n_steps=6),
        *([RecordingHook()] if user_hook else []),
    ]
    with _monitored(hooks) as sess:
        for kind in runs:
            sess.run(ops[kind])
    steps = [
        event.step
        for path in tmp_path.glob("events.out.tfevents.*")
        for event in tf.train.summary_iterator(str(path))
        if event.summary.value
    ]
    assert steps == expected
