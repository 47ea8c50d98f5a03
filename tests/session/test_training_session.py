"""MonitoredTrainingSession with a real Saver (TF1_BEHAVIOUR §1, §4.11, cases T1-T7, D2, D3).

Event files are read back with TensorBoard's own reader.
"""

import logging
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.checkpoint import get_checkpoint_state, latest_checkpoint
from jaxsession.engine.executable import COMPILATION_CACHE_SUBDIR
from jaxsession.session import basic_hooks
from jaxsession.session.hooks import SessionRunHook
from tests.helpers.recording_hook import RecordingHook
from tests.helpers.tensorboard import scalar_values, session_logs


@pytest.fixture
def counter():
    gs = tf.train.get_or_create_global_step()
    return gs, gs.assign_add(1)


def checkpoint_steps(directory):
    """The steps of the checkpoints listed in ``directory``'s state file, oldest first."""
    state = get_checkpoint_state(str(directory))
    if state is None:
        return []
    return [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]


def wait_for_saves():
    """Waits for the asynchronous saves in flight."""
    for saver in tf.get_collection(tf.GraphKeys.SAVERS):
        saver.wait_until_finished()


def written_by_the_task(directory):
    """What a task wrote to ``directory``, besides the shared compilation cache."""
    if not directory.exists():
        return []
    return [p.name for p in directory.iterdir() if p.name != COMPILATION_CACHE_SUBDIR]


def tf1_hooks(sess):
    """The hooks TF1 would install: all but the trailing PreemptionStopHook."""
    hooks = list(sess._hooks)
    if hooks and isinstance(hooks[-1], tf.train.PreemptionStopHook):
        hooks.pop()
    return hooks


def hook_types(sess):
    return [type(h).__name__ for h in tf1_hooks(sess)]


# -- T1: checkpoint at creation and at end, resume ---------------------------------------


def test_t1_checkpoint_at_creation_and_end_then_resume(tmp_path, counter):
    gs, inc = counter
    w = tf.Variable(0.0, name="w")
    step_w = w.assign_add(0.5)
    ckpt = str(tmp_path)
    with tf.train.MonitoredTrainingSession(is_chief=True, checkpoint_dir=ckpt) as sess:
        wait_for_saves()
        assert checkpoint_steps(tmp_path) == [0]
        assert sess.run(gs) == 0
        assert sess.run(inc) == 1
        sess.run(step_w)
        assert sess.run(inc) == 2
    assert checkpoint_steps(tmp_path) == [0, 2]
    assert latest_checkpoint(ckpt) == str(tmp_path / "model.ckpt-2")
    with tf.train.MonitoredTrainingSession(checkpoint_dir=ckpt) as sess:
        assert sess.run(gs) == 2
        assert sess.run(w) == 0.5
        assert sess.run(inc) == 3
    # The restart saves at its creation step (2 again) and at the end (3).
    assert checkpoint_steps(tmp_path) == [0, 2, 3]


def test_default_chief_hooks_in_tf1_order_and_callback_order(tmp_path, counter):
    gs, inc = counter
    calls = []
    chief = RecordingHook(calls, name="chief")
    user = RecordingHook(calls, name="user")
    seen_at_user_end = []

    class CheckpointSeen(SessionRunHook):
        def end(self, session):
            seen_at_user_end.append(latest_checkpoint(str(tmp_path)))

    sess = tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path),
        chief_only_hooks=[chief],
        hooks=[user, CheckpointSeen()],
    )
    assert hook_types(sess) == [
        "RecordingHook",
        "StepCounterHook",
        "SummarySaverHook",
        "CheckpointSaverHook",
        "RecordingHook",
        "CheckpointSeen",
    ]
    assert tf1_hooks(sess)[0] is chief and tf1_hooks(sess)[4] is user
    sess.run(inc)
    sess.close()
    assert [c[:2] for c in calls] == [
        ("chief", "begin"),
        ("user", "begin"),
        ("chief", "after_create_session"),
        ("user", "after_create_session"),
        ("chief", "before_run"),
        ("user", "before_run"),
        ("chief", "after_run"),
        ("user", "after_run"),
        ("chief", "end"),
        ("user", "end"),
    ]
    # The default checkpoint hook's end ran (and its save landed) before user hooks' end.
    assert seen_at_user_end == [str(tmp_path / "model.ckpt-1")]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, ["StepCounterHook", "SummarySaverHook", "CheckpointSaverHook"]),
        ({"log_step_count_steps": 0}, ["SummarySaverHook", "CheckpointSaverHook"]),
        ({"log_step_count_steps": None}, ["SummarySaverHook", "CheckpointSaverHook"]),
        ({"save_summaries_steps": 0}, ["StepCounterHook", "CheckpointSaverHook"]),
        ({"save_summaries_steps": None}, ["StepCounterHook", "CheckpointSaverHook"]),
        ({"save_checkpoint_secs": 0}, ["StepCounterHook", "SummarySaverHook"]),
        ({"save_checkpoint_secs": None}, ["StepCounterHook", "SummarySaverHook"]),
        ({"save_checkpoint_steps": 0}, ["StepCounterHook", "SummarySaverHook"]),
    ],
)
def test_default_hooks_are_disabled_by_zero_or_none(
    tmp_path, counter, kwargs, expected
):
    sess = tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), **kwargs)
    try:
        assert hook_types(sess) == expected
    finally:
        sess.close()


def test_period_resolution_reaches_the_hooks(tmp_path, counter):
    sess = tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_summaries_secs=30, save_checkpoint_steps=7
    )
    try:
        _, summary_hook, ckpt_hook = tf1_hooks(sess)
        assert (summary_hook._timer.every_secs, summary_hook._timer.every_steps) == (
            30,
            None,
        )
        assert (ckpt_hook._timer.every_secs, ckpt_hook._timer.every_steps) == (
            None,
            7,
        )
    finally:
        sess.close()
    sess = tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_graph_def=False
    )
    try:
        _, summary_hook, ckpt_hook = tf1_hooks(sess)
        assert summary_hook._timer.every_steps == 100
        assert ckpt_hook._timer.every_secs == 600
        assert ckpt_hook._save_graph_def is False
    finally:
        sess.close()


def test_no_directory_means_no_default_hooks(counter):
    gs, inc = counter
    with tf.train.MonitoredTrainingSession() as sess:
        assert tf1_hooks(sess) == []
        assert sess.run(inc) == 1


# -- T3 and cadence ------------------------------------------------------------------------


def test_t3_save_checkpoint_secs(tmp_path, counter):
    gs, inc = counter
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_checkpoint_secs=0.1, log_step_count_steps=10
    ) as sess:
        sess.run(inc)
        time.sleep(0.2)
        for _ in range(10):
            sess.run(inc)
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path)) as sess:
        assert sess.run(gs) == 11
    # At least: creation (0), once after the sleep, the end (11); slow runs may
    # add saves (and retention then drops the oldest).
    steps = checkpoint_steps(tmp_path)
    assert len(steps) >= 3 and steps[-1] == 11


def test_save_checkpoint_steps_cadence(tmp_path, counter):
    gs, inc = counter
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_checkpoint_steps=2
    ) as sess:
        for _ in range(5):
            sess.run(inc)
    assert checkpoint_steps(tmp_path) == [0, 2, 4, 5]


def test_save_checkpoint_secs_cadence_with_an_injected_clock(tmp_path, counter):
    gs, inc = counter
    now = [1000.0]
    sess = tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path),
        save_checkpoint_secs=10,
        log_step_count_steps=None,
        save_summaries_steps=None,
    )
    (hook,) = tf1_hooks(sess)
    # Re-arm the timer at the creation save (step 0) on the injected clock.
    hook._timer._clock = lambda: now[0]
    hook._timer.update_last_triggered_step(0)
    with sess:
        for tick in (1.0, 8.0, 1.5, 3.0, 3.0, 10.0):
            now[0] += tick
            sess.run(inc)
    # Creation at 0 (t=1000); t=1010.5 -> step 3; t=1026.5 -> step 6; end -> 6 again.
    assert checkpoint_steps(tmp_path) == [0, 3, 6]


# -- T6, D2, D3 ------------------------------------------------------------------------------


def test_t6_chief_only_hooks_and_no_checkpoint_when_secs_is_zero(tmp_path, counter):
    gs, inc = counter
    fake = RecordingHook()
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), chief_only_hooks=[fake], save_checkpoint_secs=0
    ) as sess:
        assert [sess.run(gs), sess.run(inc), sess.run(inc)] == [0, 1, 2]
    assert fake.names.count("begin") == 1
    assert latest_checkpoint(str(tmp_path)) is None
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path)) as sess:
        assert sess.run(gs) == 0


def test_d2_worker_gets_only_hooks_waits_and_names_what_is_not_ready(tmp_path, counter):
    tf.Variable(1.0, name="weights")
    chief_hook, user_hook = RecordingHook(), RecordingHook()
    ckpt = tmp_path / "ckpt"
    with pytest.raises(tf.errors.DeadlineExceededError) as info:
        tf.train.MonitoredTrainingSession(
            is_chief=False,
            checkpoint_dir=str(ckpt),
            chief_only_hooks=[chief_hook],
            hooks=[user_hook],
            max_wait_secs=0.5,
        )
    message = str(info.value)
    assert "Session was not ready after waiting 0.5 secs." in message
    assert re.search(r"Variables not initialized: .*global_step.*weights", message)
    assert user_hook.names == ["begin"] and chief_hook.names == []
    assert written_by_the_task(ckpt) == []
    # A failed construction leaves the graph editable (a notebook cell can be re-run).
    assert not tf.get_default_graph().finalized


def test_worker_hook_list_is_exactly_hooks_and_its_session_runs(tmp_path):
    # Only local state: the worker's local init makes it ready without a chief.
    local = tf.Variable(
        3.0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES], trainable=False
    )
    chief_hook, user_hook = RecordingHook(), RecordingHook()
    with tf.train.MonitoredTrainingSession(
        is_chief=False,
        checkpoint_dir=str(tmp_path),
        chief_only_hooks=[chief_hook],
        hooks=[user_hook],
        max_wait_secs=0.5,
    ) as sess:
        assert tf1_hooks(sess) == [user_hook]
        assert sess.run(local) == 3.0
    assert chief_hook.names == []
    assert user_hook.names == [
        "begin",
        "after_create_session",
        "before_run",
        "after_run",
        "end",
    ]
    assert written_by_the_task(tmp_path) == []


def test_d3_both_checkpoint_periods_is_an_error(tmp_path, counter):
    with pytest.raises(
        ValueError, match=re.escape("Can not provide both every_secs and every_steps.")
    ):
        tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path),
            save_checkpoint_secs=60,
            save_checkpoint_steps=10,
        )
    with pytest.raises(
        ValueError, match=re.escape("Can not provide both every_secs and every_steps.")
    ):
        tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path),
            save_summaries_secs=60,
            save_summaries_steps=10,
        )
    # Without a directory the hooks are not built, so nothing complains.
    with tf.train.MonitoredTrainingSession(
        save_checkpoint_secs=60, save_checkpoint_steps=10
    ) as sess:
        assert tf1_hooks(sess) == []


# -- T4, summary_dir: events read back with TensorBoard -------------------------------------


def test_t4_summaries_and_step_rate_in_tensorboard(tmp_path, counter):
    gs, inc = counter
    tf.summary.scalar("my_summary_tag", tf.cast(inc, tf.float32) * 2.0)
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_summaries_steps=5, log_step_count_steps=2
    ) as sess:
        for _ in range(11):
            sess.run(inc)
    values = scalar_values(tmp_path)
    assert values["my_summary_tag"] == [(1, 2.0), (6, 12.0), (11, 22.0)]
    rate = values["global_step/sec"]
    assert [step for step, _ in rate] == [3, 5, 7, 9, 11]
    assert all(v > 0 for _, v in rate)
    logs = session_logs(tmp_path)
    assert ("START", 1, "") in logs
    prefix = str(tmp_path / "model.ckpt")
    assert [log for log in logs if log[0] == "CHECKPOINT"] == [
        ("CHECKPOINT", 0, prefix),
        ("CHECKPOINT", 11, prefix),
    ]


def test_summary_dir_receives_summaries_checkpoint_dir_the_checkpoint_logs(
    tmp_path, counter
):
    gs, inc = counter
    tf.summary.scalar("loss", tf.cast(gs, tf.float32))
    ckpt, summaries = tmp_path / "ckpt", tmp_path / "summaries"
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(ckpt),
        summary_dir=str(summaries),
        save_summaries_steps=1,
        log_step_count_steps=1,
    ) as sess:
        for _ in range(3):
            sess.run(inc)
    values = scalar_values(summaries)
    assert [step for step, _ in values["loss"]] == [1, 2, 3]
    assert [step for step, _ in values["global_step/sec"]] == [2, 3]
    assert scalar_values(ckpt) == {}
    assert [log[:2] for log in session_logs(ckpt)] == [
        ("CHECKPOINT", 0),
        ("CHECKPOINT", 3),
    ]


def test_summary_dir_without_checkpoint_dir(tmp_path, counter):
    gs, inc = counter
    tf.summary.scalar("value", tf.cast(gs, tf.float32) + 0.5)
    with tf.train.MonitoredTrainingSession(
        summary_dir=str(tmp_path), save_summaries_steps=2
    ) as sess:
        assert hook_types(sess) == ["StepCounterHook", "SummarySaverHook"]
        for _ in range(4):
            sess.run(inc)
    # Summaries are evaluated in the run, before the increment lands.
    assert scalar_values(tmp_path)["value"] == [(1, 0.5), (3, 2.5)]
    assert not list(tmp_path.glob("model.ckpt*"))


# -- the end of training: clean and not -----------------------------------------------------


def test_out_of_range_ends_the_loop_cleanly_with_a_final_checkpoint(tmp_path):
    gs = tf.train.get_or_create_global_step()
    total = tf.Variable(0.0, name="total")
    element = tf.data.make_one_shot_iterator(
        tf.data.Dataset.from_tensor_slices(np.array([1.0, 2.0, 3.0], np.float32))
    ).get_next()
    train = tf.group(total.assign_add(element), gs.assign_add(1))
    hook = RecordingHook()
    runs = 0
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), hooks=[hook]
    ) as sess:
        while not sess.should_stop():
            sess.run(train)
            runs += 1
    assert runs == 3
    assert hook.names.count("after_run") == 3 and hook.names[-1] == "end"
    assert hook.names.count("before_run") == 4
    assert checkpoint_steps(tmp_path) == [0, 3]
    reader = tf.train.load_variable(latest_checkpoint(str(tmp_path)), "total")
    assert float(reader) == 6.0


class _RaiseInAfterRun(SessionRunHook):
    def __init__(self, at, error):
        self.at, self.error, self.runs = at, error, 0

    def after_run(self, run_context, run_values):
        self.runs += 1
        if self.runs == self.at:
            raise self.error


def test_error_in_a_hook_propagates_skips_end_and_final_checkpoint(tmp_path, counter):
    gs, inc = counter
    after = RecordingHook()
    with pytest.raises(ValueError, match="hook failed"):
        with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path),
            hooks=[_RaiseInAfterRun(2, ValueError("hook failed")), after],
        ) as sess:
            while not sess.should_stop():
                sess.run(inc)
    # The raising hook stops later hooks' after_run for that run; end is skipped.
    assert after.names == [
        "begin",
        "after_create_session",
        "before_run",
        "after_run",
        "before_run",
    ]
    wait_for_saves()
    assert checkpoint_steps(tmp_path) == [0]
    assert not tf.get_default_graph().finalized


def test_nan_loss_stops_training_with_its_error(tmp_path, counter):
    gs, inc = counter
    loss = tf.cast(inc, tf.float32) * tf.constant(float("nan"))
    with pytest.raises(basic_hooks.NanLossDuringTrainingError, match="NaN loss"):
        with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), hooks=[tf.train.NanTensorHook(loss)]
        ) as sess:
            sess.run(loss)
    wait_for_saves()
    assert checkpoint_steps(tmp_path) == [0]


def test_stop_at_step_ends_training_and_checkpoint_holds_last_step(tmp_path, counter):
    gs, inc = counter
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), hooks=[tf.train.StopAtStepHook(last_step=4)]
    ) as sess:
        while not sess.should_stop():
            sess.run(inc)
    assert checkpoint_steps(tmp_path) == [0, 4]
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), hooks=[tf.train.StopAtStepHook(num_steps=2)]
    ) as sess:
        steps = []
        while not sess.should_stop():
            steps.append(int(sess.run(inc)))
    assert steps == [5, 6]


# -- recovery -------------------------------------------------------------------------------


class _RaiseOnceAtCountN(SessionRunHook):
    def __init__(self, n, error):
        self.n, self.error, self.raised = n, error, False

    def before_run(self, run_context):
        self.n -= 1
        if self.n == 0:
            self.raised = True
            raise self.error


@pytest.mark.parametrize("error", [tf.errors.AbortedError, tf.errors.UnavailableError])
def test_m8_d6_recovers_from_latest_checkpoint_and_retries(tmp_path, counter, error):
    gs, inc = counter
    raiser = _RaiseOnceAtCountN(4, error(None, None, "preempted"))
    record = RecordingHook()
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_checkpoint_steps=1, hooks=[raiser, record]
    ) as sess:
        assert [sess.run(gs), sess.run(inc), sess.run(inc)] == [0, 1, 2]
        assert not sess.should_stop()
        # The 4th run fails before running; the new session restores step 2 and retries.
        assert sess.run(inc) == 3
        assert raiser.raised and not sess.should_stop()
        assert sess.run(inc) == 4
    assert record.names.count("begin") == 1
    assert record.names.count("after_create_session") == 2
    assert record.names.count("end") == 1
    # The raising run reached no after_run.
    assert record.names.count("after_run") == 5


def test_recovery_reinitializes_when_there_is_no_checkpoint(counter):
    gs, inc = counter
    raiser = _RaiseOnceAtCountN(3, tf.errors.AbortedError(None, None, "preempted"))
    with tf.train.MonitoredTrainingSession(hooks=[raiser]) as sess:
        assert [sess.run(inc), sess.run(inc)] == [1, 2]
        assert sess.run(inc) == 1


# -- run_step_fn ---------------------------------------------------------------------------


def test_run_step_fn_runs_hooks_only_through_run_with_hooks(tmp_path, counter):
    gs, inc = counter
    record = RecordingHook()

    def step_fn(step_context):
        raw_step = step_context.session.run(gs)
        return raw_step, step_context.run_with_hooks(inc)

    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_checkpoint_steps=2, hooks=[record]
    ) as sess:
        results = [sess.run_step_fn(step_fn) for _ in range(3)]
        assert isinstance(sess._tf_sess(), tf.Session)
    assert results == [(0, 1), (1, 2), (2, 3)]
    assert record.names.count("before_run") == 3
    assert checkpoint_steps(tmp_path) == [0, 2, 3]


def test_step_fn_request_stop_does_not_set_should_stop(counter):
    with tf.train.MonitoredTrainingSession() as sess:
        with pytest.raises(StopIteration, match="step_fn has requested"):
            sess.run_step_fn(lambda step_context: step_context.request_stop())
        assert not sess.should_stop()


# -- stop_grace_period_secs --------------------------------------------------------------


def test_stop_grace_period_bounds_the_wait_for_threads(caplog, counter):
    caplog.set_level(logging.INFO, logger="jaxsession")
    release = threading.Event()

    class StartsAStubbornThread(SessionRunHook):
        def after_create_session(self, session, coord):
            self.thread = threading.Thread(
                target=release.wait, args=(10.0,), name="stubborn"
            )
            coord.register_thread(self.thread)
            self.thread.start()

    hook = StartsAStubbornThread()
    sess = tf.train.MonitoredTrainingSession(hooks=[hook], stop_grace_period_secs=0.2)
    start = time.monotonic()
    sess.close()
    elapsed = time.monotonic() - start
    try:
        assert 0.15 <= elapsed < 2.0
        assert hook.thread.is_alive()
        assert "Coordinator stopped with threads still running: stubborn" in [
            r.getMessage() for r in caplog.records
        ]
    finally:
        release.set()
        hook.thread.join()


# -- notebooks: graph un-finalized on close -------------------------------------------------


def test_graph_is_unfinalized_on_close_so_cells_can_be_rerun(tmp_path, counter):
    gs, inc = counter
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path)) as sess:
        assert tf.get_default_graph().finalized
        sess.run(inc)
    assert not tf.get_default_graph().finalized
    # A re-run cell adds ops to the same graph and resumes from the checkpoint.
    double = gs * 2
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path)) as sess:
        assert sess.run(double) == 2
    assert not tf.get_default_graph().finalized
    # After an error too.
    with pytest.raises(RuntimeError, match="boom"):
        with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path)):
            raise RuntimeError("boom")
    assert not tf.get_default_graph().finalized
    # reset_default_graph starts over.
    tf.reset_default_graph()
    assert tf.get_default_graph().get_operations() == []


def test_m18_graph_finalized_before_stays_finalized(counter):
    tf.get_default_graph().finalize()
    with pytest.raises(RuntimeError, match="Graph is finalized"):
        tf.train.MonitoredTrainingSession()  # the default Saver cannot be added
    tf.get_default_graph()._unsafe_unfinalize()
    scaffold = tf.train.Scaffold().finalize()
    assert tf.get_default_graph().finalized
    with tf.train.MonitoredTrainingSession(scaffold=scaffold) as sess:
        sess.run(counter[1])
    assert tf.get_default_graph().finalized


def test_checkpoint_dir_is_created_and_path_is_returned_as_given(tmp_path, counter):
    ckpt = tmp_path / "a" / "b"
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(ckpt)):
        pass
    assert Path(latest_checkpoint(str(ckpt))) == ckpt / "model.ckpt-0"
