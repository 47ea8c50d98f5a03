"""Built-in hooks (TF1_BEHAVIOUR §4, cases X6-X70), driven as MonitoredSession drives them."""

import logging
import re
from types import SimpleNamespace

import jax
import numpy as np
import pytest
from tensorboardX.proto.event_pb2 import SessionLog

import jaxsession as tf
from jaxsession import errors, summary as tf_summary
from jaxsession.session import basic_hooks as hooks_lib
from jaxsession.session._global_step import (
    GLOBAL_STEP_READ_KEY,
    get_or_create_global_step_read,
    increment_global_step,
)
from jaxsession.session.hooks import SessionRunArgs
from jaxsession.session.summary_writer import FileWriterCache
from tests.helpers.clock import FakeClock
from tests.helpers.events import read_events, scalars
from tests.helpers.recording_hook import HookDriver, RecordingHook


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="jaxsession")
    return caplog


def messages(caplog, level=logging.INFO):
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def ordered_step(increment=1):
    """The global step and TF1's ordered increment of it (read before write)."""
    gs = tf.train.get_or_create_global_step()
    return gs, increment_global_step(increment)


def set_step(gs, value):
    return lambda sess: gs.load(value, sess)


def flushed_events(logdir):
    FileWriterCache.get(str(logdir)).flush()
    return read_events(logdir)


# -- global step read ------------------------------------------------------------------


def test_global_step_read_is_cached_and_pre_step():
    assert get_or_create_global_step_read() is None
    gs, train = ordered_step()
    read = get_or_create_global_step_read()
    assert get_or_create_global_step_read() is read
    assert tf.get_collection(GLOBAL_STEP_READ_KEY) == [read]
    with tf.Session() as sess:
        sess.run(gs.initializer)
        assert [int(x) for x in sess.run([read, train])] == [0, 1]
    tf.add_to_collection(GLOBAL_STEP_READ_KEY, read)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "There are multiple items in collection global_step_read_op_cache. "
            "There should be only one."
        ),
    ):
        get_or_create_global_step_read()


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: hooks_lib.StopAtStepHook(num_steps=1), "StopAtStepHook"),
        (lambda: hooks_lib.StepCounterHook(), "StepCounterHook"),
        (
            lambda: hooks_lib.SummarySaverHook(save_steps=1, summary_op=[]),
            "SummarySaverHook",
        ),
        (lambda: hooks_lib.GlobalStepWaiterHook(1), "_GlobalStepWaiterHook"),
    ],
)
def test_hooks_need_a_global_step(make, name):
    with pytest.raises(
        RuntimeError, match=re.escape(f"Global step should be created to use {name}.")
    ):
        make().begin()


def test_profiler_hook_needs_a_global_step(tmp_path):
    hook = hooks_lib.ProfilerHook(save_steps=1, output_dir=str(tmp_path))
    with pytest.raises(
        RuntimeError,
        match=re.escape("Global step should be created to use ProfilerHook."),
    ):
        hook.begin()


# -- RecordingHook and the driver -----------------------------------------------------


def test_recording_hook_logs_the_protocol_in_order():
    calls = []
    gs, train = ordered_step()
    a = RecordingHook(calls, name="a", request=SessionRunArgs(gs), stop_after_run=2)
    b = RecordingHook(calls, name="b")
    driver = HookDriver([a, b])
    driver.run(train)
    assert not driver.stop_requested
    driver.run(train)
    assert driver.stop_requested
    driver.end()
    names = [c[:2] for c in calls]
    assert names == [
        ("a", "begin"),
        ("b", "begin"),
        ("a", "after_create_session"),
        ("b", "after_create_session"),
        ("a", "before_run"),
        ("b", "before_run"),
        ("a", "after_run"),
        ("b", "after_run"),
        ("a", "before_run"),
        ("b", "before_run"),
        ("a", "after_run"),
        ("b", "after_run"),
        ("a", "end"),
        ("b", "end"),
    ]
    a_runs = [c for c in calls if c[:2] == ("a", "after_run")]
    # The global step Variable fetched beside the train op: its end value.
    assert [int(c[3].results) for c in a_runs] == [1, 2]
    assert all(c[3].results is None for c in calls if c[:2] == ("b", "after_run"))
    assert b.names == ["begin", "after_create_session"] + [
        "before_run",
        "after_run",
    ] * 2 + ["end"]


# -- StopAtStepHook -------------------------------------------------------------------


def test_stop_at_step_arguments():
    with pytest.raises(
        ValueError, match=re.escape("One of num_steps or last_step must be specified.")
    ):
        hooks_lib.StopAtStepHook()
    with pytest.raises(
        ValueError,
        match=re.escape("Only one of num_steps or last_step can be specified."),
    ):
        hooks_lib.StopAtStepHook(num_steps=10, last_step=20)


def test_stop_at_step_num_steps_worked_example():
    gs, train = ordered_step()
    hook = hooks_lib.StopAtStepHook(num_steps=3)
    driver = HookDriver([hook], setup=set_step(gs, 10))
    for _ in range(2):
        driver.run(train)
        assert not driver.stop_requested
    driver.run(train)
    assert driver.stop_requested
    assert int(driver.session.run(gs)) == 13
    # A re-created session keeps the target computed the first time.
    hook.after_create_session(driver.session, None)
    assert hook._last_step == 13


def test_stop_at_step_based_on_last_step():
    gs = tf.train.get_or_create_global_step()
    no_op = tf.no_op()
    driver = HookDriver([hooks_lib.StopAtStepHook(last_step=10)], setup=set_step(gs, 5))
    for value, expected in ((5, False), (9, False), (10, True), (11, True)):
        gs.load(value, driver.session)
        driver.stop_requested = False
        driver.run(no_op)
        assert driver.stop_requested is expected


def test_stop_at_step_multiple_steps_from_start_value():
    gs = tf.train.get_or_create_global_step()
    no_op = tf.no_op()
    driver = HookDriver([hooks_lib.StopAtStepHook(num_steps=10)], setup=set_step(gs, 5))
    gs.load(14, driver.session)
    driver.run(no_op)
    assert not driver.stop_requested
    gs.load(15, driver.session)
    driver.run(no_op)
    assert driver.stop_requested


# -- StepCounterHook ------------------------------------------------------------------


def test_step_counter_arguments():
    message = "exactly one of every_n_steps and every_n_secs should be provided."
    with pytest.raises(ValueError, match=re.escape(message)):
        hooks_lib.StepCounterHook(every_n_steps=10, every_n_secs=1.0)
    with pytest.raises(ValueError, match=re.escape(message)):
        hooks_lib.StepCounterHook(every_n_steps=None)


def test_step_counter_every_n_secs(tmp_path, log):
    _, train = ordered_step()
    clock = FakeClock()
    hook = hooks_lib.StepCounterHook(
        every_n_steps=None, every_n_secs=0.1, output_dir=str(tmp_path), clock=clock
    )
    driver = HookDriver([hook])
    driver.run(train)
    clock.now += 0.2
    driver.run(train)
    clock.now += 0.2
    driver.run(train)
    driver.end()
    FileWriterCache.get(str(tmp_path)).flush()
    got = scalars(tmp_path)
    assert [(s, t) for s, t, _ in got] == [
        (2, "global_step/sec"),
        (3, "global_step/sec"),
    ]
    np.testing.assert_allclose([v for _, _, v in got], [5.0, 5.0], rtol=1e-5)
    assert messages(log).count("global_step/sec: 5") == 2


def test_step_counter_uses_global_step_op_name(tmp_path):
    with tf.name_scope("bar"):
        gs = tf.Variable(
            np.int64(0),
            trainable=False,
            name="foo",
            collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.GLOBAL_STEP],
        )
    assert gs.op.name == "bar/foo"
    train = increment_global_step(1)
    writer = tf_summary.FileWriter(str(tmp_path))
    driver = HookDriver(
        [hooks_lib.StepCounterHook(every_n_steps=1, summary_writer=writer)]
    )
    driver.run(train)
    driver.run(train)
    writer.flush()
    assert [(s, t) for s, t, _ in scalars(tmp_path)] == [(2, "bar/foo/sec")]
    writer.close()


@pytest.mark.parametrize(
    ("every_n_steps", "expected"), [(10, [15, 25]), (5, [10, 15, 20, 25])]
)
def test_step_counter_steps_per_run(tmp_path, every_n_steps, expected):
    _, train = ordered_step(5)
    hook = hooks_lib.StepCounterHook(
        every_n_steps=every_n_steps, output_dir=str(tmp_path)
    )
    hook._set_steps_per_run(5)
    driver = HookDriver([hook])
    for _ in range(5):
        driver.run(train)
    assert [
        e.step for e in flushed_events(tmp_path) if e.HasField("summary")
    ] == expected


def test_step_counter_warns_first_five_times_when_step_stands_still(caplog):
    tf.train.get_or_create_global_step()
    no_op = tf.no_op()
    driver = HookDriver([hooks_lib.StepCounterHook(every_n_steps=1)])
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        for _ in range(8):
            driver.run(no_op)
    warnings = messages(caplog, logging.WARNING)
    assert len(warnings) == 5
    assert warnings[0].startswith(
        "It seems that global step (tf.train.get_global_step) has not been increased. "
        "Current value (could be stable): 0 vs previous value: 0."
    )


# -- LoggingTensorHook ----------------------------------------------------------------


def test_logging_tensor_arguments():
    for bad in (0, -10):
        with pytest.raises(ValueError, match="nvalid every_n_iter"):
            hooks_lib.LoggingTensorHook(tensors=["t"], every_n_iter=bad)
    with pytest.raises(ValueError, match="xactly one of"):
        hooks_lib.LoggingTensorHook(tensors=["t"], every_n_iter=5, every_n_secs=5)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "either at_end and/or exactly one of every_n_iter and every_n_secs must be provided."
        ),
    ):
        hooks_lib.LoggingTensorHook(tensors=["t"])


@pytest.mark.parametrize("at_end", [False, True])
def test_logging_every_n_iter(log, at_end):
    t = tf.constant(42.0, name="foo")
    no_op = tf.no_op()
    for _ in range(2):  # a new hook in the same graph behaves identically
        log.clear()
        hook = hooks_lib.LoggingTensorHook(
            tensors=[t.name], every_n_iter=10, at_end=at_end, clock=FakeClock()
        )
        driver = HookDriver([hook])
        driver.run(no_op)
        assert messages(log) == ["foo:0 = 42.0"]
        for _ in range(3):
            log.clear()
            for _ in range(9):
                driver.run(no_op)
            assert messages(log) == []
            driver.run(no_op)
            assert messages(log) == ["foo:0 = 42.0 (0.000 sec)"]
        log.clear()
        driver.run(no_op)
        driver.end()
        assert messages(log) == (["foo:0 = 42.0 (0.000 sec)"] if at_end else [])


@pytest.mark.parametrize("at_end", [False, True])
def test_logging_every_n_secs(log, at_end):
    t = tf.constant(42.0, name="foo")
    no_op = tf.no_op()
    clock = FakeClock()
    hook = hooks_lib.LoggingTensorHook(
        tensors=[t.name], every_n_secs=1.0, at_end=at_end, clock=clock
    )
    driver = HookDriver([hook])
    driver.run(no_op)
    assert messages(log) == ["foo:0 = 42.0"]
    log.clear()
    driver.run(no_op)
    assert messages(log) == []
    clock.now += 1.0
    driver.run(no_op)
    assert messages(log) == ["foo:0 = 42.0 (1.000 sec)"]
    log.clear()
    driver.end()
    assert messages(log) == (["foo:0 = 42.0 (0.000 sec)"] if at_end else [])


def test_logging_dict_order_formatter_and_print_options(log):
    small = tf.constant([1e-5, 1.0], name="small")
    big = tf.constant(3, name="big")
    no_op = tf.no_op()
    hook = hooks_lib.LoggingTensorHook({"z": small, "a": "big"}, every_n_iter=1)
    seen = []
    formatted = hooks_lib.LoggingTensorHook(
        {"b": big}, at_end=True, formatter=lambda v: seen.append(v) or f"B is {v['b']}"
    )
    driver = HookDriver([hook, formatted])
    driver.run(no_op)
    driver.end()
    logged = messages(log)
    assert logged[0] == "a = 3, z = [0.00001 1.     ]"
    assert logged[-1] == "B is 3"
    assert np.get_printoptions()["suppress"] is False
    assert list(seen[0]) == ["b"]


def test_logging_tensor_name_resolution():
    a, _ = tf.split(tf.constant([1.0, 2.0]), 2, name="pair")
    hook = hooks_lib.LoggingTensorHook(["pair"], every_n_iter=1)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Name pair is ambiguous, as this `Operation` has multiple outputs (at least 2)."
        ),
    ):
        hook.begin()
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1.0)
    with pytest.raises(ValueError, match="should have graph attribute that is equal"):
        hooks_lib.LoggingTensorHook([foreign], every_n_iter=1).begin()
    ok = hooks_lib.LoggingTensorHook(["pair:1", a], every_n_iter=1)
    ok.begin()
    assert list(ok._current_tensors.values()) == [a.op.outputs[1], a]


# -- SummarySaverHook -----------------------------------------------------------------


def test_summary_saver_arguments():
    op = tf.constant("")
    message = "Exactly one of scaffold or summary_op must be provided."
    with pytest.raises(ValueError, match=re.escape(message)):
        hooks_lib.SummarySaverHook(save_steps=1)
    with pytest.raises(ValueError, match=re.escape(message)):
        hooks_lib.SummarySaverHook(save_steps=1, scaffold=object(), summary_op=op)
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        hooks_lib.SummarySaverHook(summary_op=op)


def counting_summary():
    """A scalar summary of ``var += 1``, so it counts its own evaluations."""
    var = tf.Variable(0.0)
    return tf_summary.scalar("my_summary", var.assign_add(1.0))


def saved(logdir):
    events = flushed_events(logdir)
    starts = [e.step for e in events if e.session_log.status == SessionLog.START]
    return starts, {s: v for s, _, v in scalars(logdir)}


def test_summary_saver_save_steps(tmp_path):
    _, train = ordered_step()
    hook = hooks_lib.SummarySaverHook(
        save_steps=8, output_dir=str(tmp_path), summary_op=counting_summary()
    )
    driver = HookDriver([hook])
    for _ in range(30):
        driver.run(train)
    driver.end()
    assert saved(tmp_path) == ([1], {1: 1.0, 9: 2.0, 17: 3.0, 25: 4.0})


@pytest.mark.parametrize(
    ("save_secs", "tick", "runs", "expected"),
    [
        (0.5, 0.5, 4, {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0}),
        (9, 3.1, 8, {1: 1.0, 4: 2.0, 7: 3.0}),
    ],
)
def test_summary_saver_save_secs(tmp_path, save_secs, tick, runs, expected):
    _, train = ordered_step()
    clock = FakeClock()
    scaffold = SimpleNamespace(summary_op=counting_summary())
    hook = hooks_lib.SummarySaverHook(
        save_secs=save_secs, output_dir=str(tmp_path), scaffold=scaffold, clock=clock
    )
    driver = HookDriver([hook])
    for _ in range(runs):
        driver.run(train)
        clock.now += tick
    driver.end()
    assert saved(tmp_path) == ([1], expected)


def test_summary_saver_without_writer_records_nothing():
    _, train = ordered_step()
    hook = hooks_lib.SummarySaverHook(save_steps=100, summary_op=counting_summary())
    driver = HookDriver([hook])
    for _ in range(3):
        driver.run(train)
    # next_step never advances, so every run evaluates the summary again.
    var = tf.global_variables()[-1]
    assert driver.session.run(var) == 3.0
    driver.end()


# -- NanTensorHook --------------------------------------------------------------------


def test_nan_tensor_hook_fails_or_stops(caplog):
    loss = tf.placeholder(tf.float32, shape=[], name="loss")
    no_op = tf.no_op()
    driver = HookDriver([hooks_lib.NanTensorHook(loss)])
    driver.run(no_op, {loss: 1.0})
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        with pytest.raises(hooks_lib.NanLossDuringTrainingError) as info:
            driver.run(no_op, {loss: np.nan})
    assert str(info.value) == "NaN loss during training."
    assert isinstance(info.value, RuntimeError)
    (error,) = messages(caplog, logging.ERROR)
    assert error.startswith("Model diverged with loss = NaN. (loss loss:0 created at")
    assert "test_basic_hooks.py" in error

    stopper = HookDriver([hooks_lib.NanTensorHook(loss, fail_on_nan_loss=False)])
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        stopper.run(no_op, {loss: np.nan})
    assert stopper.stop_requested
    assert messages(caplog, logging.WARNING)[0].startswith(
        "Model diverged with loss = NaN."
    )


# -- GlobalStepWaiterHook -------------------------------------------------------------


def test_waiter_does_not_wait_for_step_zero():
    tf.train.get_or_create_global_step()
    no_op = tf.no_op()

    def no_sleep(secs):
        raise AssertionError("slept")

    driver = HookDriver([hooks_lib.GlobalStepWaiterHook(0, sleep=no_sleep)])
    driver.run(no_op)


def test_waiter_polls_until_the_step_is_reached(log):
    gs = tf.train.get_or_create_global_step()
    no_op = tf.no_op()
    sleeps = []
    driver = None

    def fake_sleep(secs):
        sleeps.append(secs)
        assert len(sleeps) <= 2, "slept a third time"
        gs.load(500 if len(sleeps) == 1 else 1100, driver.session)

    hook = hooks_lib.GlobalStepWaiterHook(1000, sleep=fake_sleep)
    driver = HookDriver([hook])
    assert hook.before_run(SimpleNamespace(session=driver.session)) is None
    assert sleeps == [0.5, 0.5]
    assert messages(log)[0] == "Waiting for global step 1000 before starting training."
    driver.run(no_op)  # started: no more polling
    assert len(sleeps) == 2


# -- FinalOpsHook and FeedFnHook ----------------------------------------------------------


def test_final_ops_values():
    values = [1, 6, 3, 5, 2, 4]
    final = tf.constant(values)
    hook = hooks_lib.FinalOpsHook(final)
    driver = HookDriver([hook])
    assert hook.final_ops_values is None
    driver.end()
    np.testing.assert_array_equal(hook.final_ops_values, values)


def test_final_ops_out_of_range_logs_and_reraises(caplog):
    iterator = tf.data.Dataset.from_tensors(1).make_one_shot_iterator()
    element = iterator.get_next()
    hook = hooks_lib.FinalOpsHook(element)
    driver = HookDriver([hook])
    assert driver.session.run(element) == 1
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        with pytest.raises(errors.OutOfRangeError, match="End of sequence"):
            hook.end(driver.session)
    assert (
        "dependency back to some input source" in messages(caplog, logging.WARNING)[0]
    )


def test_feed_fn_hook_feeds_every_run():
    x = tf.placeholder(tf.float32, shape=[])
    y = x + 1
    values = iter([1.0, 5.0])
    driver = HookDriver([hooks_lib.FeedFnHook(lambda: {x: next(values)})])
    assert driver.run(y) == 2.0
    assert driver.run(y) == 6.0


# -- ProfilerHook ---------------------------------------------------------------------


def timelines(logdir):
    return sorted(p.name for p in logdir.glob("timeline-*.json"))


def test_profiler_arguments(tmp_path):
    with pytest.raises(
        ValueError, match="Can not provide both every_secs and every_steps"
    ):
        hooks_lib.ProfilerHook(save_secs=10, save_steps=20, output_dir=str(tmp_path))


def test_profiler_save_steps_skips_first_step_and_writes_traces(tmp_path):
    _, train = ordered_step()
    driver = HookDriver(
        [hooks_lib.ProfilerHook(save_steps=2, output_dir=str(tmp_path))]
    )
    assert timelines(tmp_path) == []
    counts = []
    for _ in range(5):
        driver.run(train)
        counts.append(len(timelines(tmp_path)))
    driver.end()
    assert counts == [0, 1, 1, 2, 2]
    assert timelines(tmp_path) == ["timeline-2.json", "timeline-4.json"]
    assert (tmp_path / "timeline-2.json").read_text().lstrip().startswith("{")
    for step in (2, 4):
        profile = tmp_path / "plugins" / "profile" / f"step_{step}"
        assert list(profile.glob("*.xplane.pb"))
    assert not list(tmp_path.glob(".profile-*"))


def test_profiler_save_secs_and_run_metadata_tags(tmp_path):
    _, train = ordered_step()
    clock = FakeClock()
    hook = hooks_lib.ProfilerHook(save_secs=2, output_dir=str(tmp_path), clock=clock)
    driver = HookDriver([hook])
    counts = []
    for t in (0.0, 2.5, 2.6, 4.4, 4.5):
        clock.now = 100.0 + t
        driver.run(train)
        counts.append(len(timelines(tmp_path)))
    driver.end()
    assert counts == [0, 1, 1, 1, 2]
    tags = [
        e.tagged_run_metadata.tag
        for e in flushed_events(tmp_path)
        if e.HasField("tagged_run_metadata")
    ]
    assert tags == ["step_2", "step_5"]


def test_profiler_discards_a_trace_left_open_by_a_failed_run(tmp_path):
    _, train = ordered_step()
    hook = hooks_lib.ProfilerHook(save_steps=1, output_dir=str(tmp_path))
    driver = HookDriver([hook])
    driver.run(train)
    ctx = SimpleNamespace(session=driver.session)
    hook.before_run(ctx)  # starts a trace; the run then "raises": no after_run
    assert hook._trace_dir is not None
    hook.end(driver.session)
    assert not list(tmp_path.glob(".profile-*"))
    assert timelines(tmp_path) == []
    jax.profiler.start_trace(str(tmp_path / "again"))  # no trace is left active
    jax.profiler.stop_trace()
