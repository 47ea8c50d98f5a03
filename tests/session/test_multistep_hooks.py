"""Hooks in multi-step runs: per-step values (EveryStep), shortened runs."""

import logging
import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.engine.executable import executables
from jaxsession.session import basic_hooks as hooks_lib
from jaxsession.session._global_step import increment_global_step
from jaxsession.session.hooks import (
    EveryStep,
    SessionRunArgs,
    SessionRunContext,
    SessionRunHook,
)
from jaxsession.session.monitored_session import ChiefSessionCreator, MonitoredSession
from jaxsession.session.scaffold import Scaffold


class _NoSaver:
    def save(self, *args, **kwargs):
        raise AssertionError("these tests save no checkpoint")

    def restore(self, *args, **kwargs):
        raise AssertionError("these tests restore no checkpoint")


def _monitored(hooks, steps_per_run):
    creator = ChiefSessionCreator(Scaffold(saver=_NoSaver()))
    return MonitoredSession(creator, hooks=hooks, steps_per_run=steps_per_run)


def _messages(caplog, level=logging.INFO):
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def _logs(caplog):
    """LoggingTensorHook's lines."""
    return [r.getMessage() for r in caplog.records if r.funcName == "_log_tensors"]


class _Clock:
    def __call__(self):
        return 100.0


class _Recorder(SessionRunHook):
    """Records each run's step count and the values of what ``request`` asks."""

    def __init__(self, request=None):
        self.request = request
        self.steps = []
        self.results = []

    def before_run(self, run_context):
        return None if self.request is None else SessionRunArgs(self.request)

    def after_run(self, run_context, run_values):
        self.steps.append(run_context.steps_per_run)
        self.results.append(run_values.results)


def _step_graph(values):
    """A train op over a dataset of ``values``: x is the element, gs counts steps."""
    gs = tf.train.get_or_create_global_step()
    x = tf.data.Dataset.from_tensor_slices(np.asarray(values, np.float32))
    x = x.make_one_shot_iterator().get_next()
    total = tf.Variable(0.0, name="total")
    with tf.control_dependencies([total.assign_add(x)]):
        train = increment_global_step(1)
    return gs, x, train


# -- EveryStep: the mechanism ----------------------------------------------------------


def test_every_step_values_are_stacked_and_the_rest_is_the_last_step():
    gs, x, train = _step_graph(np.arange(8.0))
    recorder = _Recorder({"each": EveryStep([x, gs]), "last": x, "gs": gs})
    got = []
    with _monitored([recorder], steps_per_run=3) as sess:
        while not sess.should_stop():
            got.append(float(sess.run([train, x])[1]))
    # 8 elements: runs of 3, 3 and 2 steps, then the end of the data.
    assert got == [2.0, 5.0, 7.0]
    # after_run sees the steps each run made: the last run found 2 elements.
    assert recorder.steps == [3, 3, 2]
    each = [r["each"] for r in recorder.results]
    np.testing.assert_array_equal(each[0][0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(each[1][0], [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(each[2][0], [6.0, 7.0])
    # The global step Variable in each step: its value after that step, as a
    # TF1 ref variable fetched beside the train op.
    assert [list(e[1]) for e in each] == [[1, 2, 3], [4, 5, 6], [7, 8]]
    assert [float(r["last"]) for r in recorder.results] == [2.0, 5.0, 7.0]
    # Fetched with the train op, the plain global step is the run's end.
    assert [int(r["gs"]) for r in recorder.results] == [3, 6, 8]
    # Only the requested tensors are stacked, in the compiled run's key.
    stacked = {
        sig.stacked for sig in executables(tf.get_default_graph()) if sig.steps > 1
    }
    # gs is fetched as a Variable: its key is its read's, marked "end".
    assert stacked == {((x.op.id, 0), (gs._snapshot.op.id, 0, "end"))}


def test_every_step_in_a_one_step_run_has_a_step_axis_of_one():
    gs, x, train = _step_graph(np.arange(2.0))
    recorder = _Recorder(EveryStep(x))
    with _monitored([recorder], steps_per_run=1) as sess:
        sess.run(train)
    np.testing.assert_array_equal(recorder.results[0], [0.0])
    assert recorder.steps == [1]


def test_every_step_of_a_host_computed_value_is_refused_before_running():
    gs, x, train = _step_graph(np.arange(6.0))
    summary = tf.summary.scalar("x", x)
    recorder = _Recorder(EveryStep(summary))
    with _monitored([recorder], steps_per_run=3) as sess:
        with pytest.raises(
            ValueError,
            match=re.escape(
                f"Cannot fetch {summary.name!r} at every step of a multi-step run: it "
                "is computed on the host (a summary, a string or a host-served value); "
                "fetch it for the last step instead."
            ),
        ):
            sess.run(train)
        # Nothing ran and no element was consumed.
        assert float(sess._tf_sess().run(x)) == 0.0


def test_limit_steps_needs_at_least_one_step():
    ctx = SessionRunContext(SessionRunArgs(None), None, steps_per_run=4)
    ctx.limit_steps(6)
    assert ctx.steps_per_run == 4
    ctx.limit_steps(2)
    assert ctx.steps_per_run == 2
    with pytest.raises(
        ValueError, match=re.escape("a run makes at least one step, got limit_steps(0)")
    ):
        ctx.limit_steps(0)


# -- StopAtStepHook ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hook", "runs"),
    [
        (lambda: hooks_lib.StopAtStepHook(last_step=25), [10, 10, 5]),
        (lambda: hooks_lib.StopAtStepHook(last_step=20), [10, 10]),
        (lambda: hooks_lib.StopAtStepHook(num_steps=7), [7]),
    ],
)
def test_stop_at_step_shortens_the_last_run_to_end_on_its_step(hook, runs):
    gs, x, train = _step_graph(np.arange(40.0))
    recorder = _Recorder(EveryStep(x))
    with _monitored([hook(), recorder], steps_per_run=10) as sess:
        while not sess.should_stop():
            sess.run(train)
        final = int(sess._tf_sess().run(gs))
        total = float(sess._tf_sess().run(tf.global_variables()[-1]))
    assert recorder.steps == runs
    assert [len(r) for r in recorder.results] == runs
    assert final == sum(runs)
    # No element was skipped or repeated.
    assert total == sum(range(sum(runs)))


def test_stop_at_step_reached_before_a_run_still_runs_one_step():
    # As TF1: a run is never skipped, the stop comes after it.
    gs, x, train = _step_graph(np.arange(10.0))
    recorder = _Recorder()
    hook = hooks_lib.StopAtStepHook(last_step=0)
    with _monitored([hook, recorder], steps_per_run=4) as sess:
        sess.run(train)
        assert sess.should_stop()
        assert int(sess._tf_sess().run(gs)) == 1
    assert recorder.steps == [1]


# -- LoggingTensorHook -------------------------------------------------------------------


def _logged(caplog, steps_per_run, every_n_iter, n=12):
    tf.reset_default_graph()
    gs, x, train = _step_graph(np.arange(n) * 0.5)
    hook = hooks_lib.LoggingTensorHook(
        {"x": x, "step": gs}, every_n_iter=every_n_iter, clock=_Clock()
    )
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jaxsession"):
        with _monitored([hook], steps_per_run=steps_per_run) as sess:
            while not sess.should_stop():
                sess.run(train)
    return _logs(caplog)


@pytest.mark.parametrize(("steps_per_run", "every_n_iter"), [(5, 3), (4, 4), (3, 7)])
def test_logging_hook_logs_the_steps_single_runs_would(
    caplog, steps_per_run, every_n_iter
):
    single = _logged(caplog, 1, every_n_iter)
    multi = _logged(caplog, steps_per_run, every_n_iter)
    assert multi == single
    logged = range(0, 12, every_n_iter)
    # TF 2.21 logs "step = 1, x = 0.0", "step = 4, x = 1.5", ...: the step
    # Variable after the run that read x.
    assert single == [
        f"step = {i + 1}, x = {i * 0.5}" + " (0.000 sec)" * (i > 0) for i in logged
    ]


def test_logging_hook_counts_steps_of_runs_it_does_not_log(caplog):
    # every_n_iter=10 and K=4: runs 0-3 (logs 0), 4-7 (asks nothing), 8-11 (logs 10).
    gs, x, train = _step_graph(np.arange(12.0))
    hook = hooks_lib.LoggingTensorHook({"gs": gs}, every_n_iter=10, clock=_Clock())
    recorder = _Recorder()
    with caplog.at_level(logging.INFO, logger="jaxsession"):
        with _monitored([hook, recorder], steps_per_run=4) as sess:
            while not sess.should_stop():
                sess.run(train)
    assert _logs(caplog) == ["gs = 1", "gs = 11 (0.000 sec)"]
    assert recorder.steps == [4, 4, 4]


# -- NanTensorHook -----------------------------------------------------------------------


def _nan_graph():
    values = np.arange(1.0, 13.0)
    values[7] = -1.0  # log(-1) is NaN: the step at global step 7
    gs, x, train = _step_graph(values)
    loss = tf.log(x, name="loss")
    return gs, loss, tf.group(train, loss)


def test_nan_hook_catches_a_nan_in_any_step_and_names_its_global_step(caplog):
    gs, loss, train = _nan_graph()
    hook = hooks_lib.NanTensorHook(loss)
    with caplog.at_level(logging.ERROR, logger="jaxsession"):
        sess = _monitored([hook], steps_per_run=5)
        sess.run(train)
        with pytest.raises(hooks_lib.NanLossDuringTrainingError) as info:
            sess.run(train)
    assert str(info.value) == "NaN loss during training at global step 7."
    assert info.value.global_step == 7
    (error,) = _messages(caplog, logging.ERROR)
    assert error.startswith(
        "Model diverged with loss = NaN at global step 7 (step 3 of 5 of the run). "
        "(loss loss:0 created at"
    )
    assert "test_multistep_hooks.py" in error
    sess.close()


def test_nan_hook_without_failing_stops_after_the_run(caplog):
    gs, loss, train = _nan_graph()
    hook = hooks_lib.NanTensorHook(loss, fail_on_nan_loss=False)
    runs = 0
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        with _monitored([hook], steps_per_run=4) as sess:
            while not sess.should_stop():
                sess.run(train)
                runs += 1
            assert int(sess._tf_sess().run(gs)) == 8
    assert runs == 2
    (warning,) = _messages(caplog, logging.WARNING)
    assert warning.startswith(
        "Model diverged with loss = NaN at global step 7 (step 4 of 4 of the run)."
    )


def test_nan_hook_without_a_global_step_names_the_step_of_the_run(caplog):
    values = np.array([1.0, 2.0, -1.0, 3.0], np.float32)
    x = tf.data.Dataset.from_tensor_slices(values).make_one_shot_iterator().get_next()
    loss = tf.log(x, name="loss")
    hook = hooks_lib.NanTensorHook(loss)
    with caplog.at_level(logging.ERROR, logger="jaxsession"):
        with pytest.raises(hooks_lib.NanLossDuringTrainingError) as info:
            with _monitored([hook], steps_per_run=4) as sess:
                sess.run(loss)
    assert str(info.value) == "NaN loss during training."
    (error,) = _messages(caplog, logging.ERROR)
    assert error.startswith(
        "Model diverged with loss = NaN (step 3 of 4 of the run). (loss loss:0"
    )


# -- run options and metadata in multi-step runs ----------------------------------------


class _MetadataRecorder(SessionRunHook):
    """Records, per run, the node names of the run metadata the hooks got."""

    def __init__(self):
        self.names = []

    def after_run(self, run_context, run_values):
        stats = run_values.run_metadata.step_stats
        self.names.append(
            [n.node_name for dev in stats.dev_stats for n in dev.node_stats]
        )


def test_a_traced_multi_step_run_with_per_step_hooks_fills_the_run_metadata(
    tmp_path, caplog
):
    # NanTensorHook asks per-step values (EveryStep) while ProfilerHook asks
    # for a FULL_TRACE of the second run: both requests are served.
    gs, loss, train = _nan_graph()
    profiler = hooks_lib.ProfilerHook(save_steps=1, output_dir=str(tmp_path))
    recorder = _MetadataRecorder()
    nan = hooks_lib.NanTensorHook(loss, fail_on_nan_loss=False)
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        with _monitored([nan, profiler, recorder], steps_per_run=3) as sess:
            sess.run(train)
            sess.run(train)
            assert not sess.should_stop()
            sess.run(train)  # global steps 6-8: the NaN at step 7
            assert sess.should_stop()
    assert recorder.names[0] == []
    assert recorder.names[1] == ["_run_3_steps"]
    assert (tmp_path / "timeline-6.json").exists()
    (warning,) = _messages(caplog, logging.WARNING)
    assert warning.startswith(
        "Model diverged with loss = NaN at global step 7 (step 2 of 3 of the run)."
    )
