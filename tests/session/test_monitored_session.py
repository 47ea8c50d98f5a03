"""TF1_BEHAVIOUR §9 conformance: hooked/coordinated/recoverable layers, MonitoredSession."""

import re
import threading

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.session import _wrappers
from jaxsession.session.coordinator import Coordinator
from jaxsession.session.hooks import SessionRunArgs, SessionRunHook
from jaxsession.session.monitored_session import (
    ChiefSessionCreator,
    MonitoredSession,
    SessionCreator,
    SingularMonitoredSession,
)
from jaxsession.session.scaffold import Scaffold


class _NoSaver:
    """Stands in for a Saver where a test saves nothing."""

    def save(self, *args, **kwargs):
        raise AssertionError("this test saves no checkpoint")

    def restore(self, *args, **kwargs):
        raise AssertionError("this test restores no checkpoint")


def _scaffold(**kwargs):
    kwargs.setdefault("saver", _NoSaver())
    return Scaffold(**kwargs)


def _creator(**kwargs):
    return ChiefSessionCreator(_scaffold(**kwargs))


class FakeHook(SessionRunHook):
    def __init__(self):
        self.calls = []
        self.request = None
        self.should_stop = False
        self.last_values = None
        self.last_context = None

    def begin(self):
        self.calls.append("begin")

    def after_create_session(self, session, coord):
        self.calls.append("after_create_session")

    def before_run(self, run_context):
        self.calls.append("before_run")
        self.last_context = run_context
        return self.request

    def after_run(self, run_context, run_values):
        self.calls.append("after_run")
        self.last_values = run_values
        if self.should_stop:
            run_context.request_stop()

    def end(self, session):
        self.calls.append("end")


class RaiseOnceAtCountN(SessionRunHook):
    def __init__(self, n, ex):
        self.n = n
        self.ex = ex
        self.raised = False

    def before_run(self, run_context):
        self.n -= 1
        if self.n == 0:
            self.raised = True
            raise self.ex


class CountingCreator(SessionCreator):
    def __init__(self, session):
        self.session = session
        self.number_of_sessions_created = 0

    def create_session(self):
        self.number_of_sessions_created += 1
        return self.session


@pytest.fixture
def counter():
    gs = tf.train.get_or_create_global_step()
    return gs, gs.assign_add(1)


# -- 9.5 hooked layer ---------------------------------------------------------------


def test_h3_should_stop_latches_after_the_run():
    c = tf.constant(0)
    hook = FakeHook()
    with tf.Session() as raw:
        sess = _wrappers._HookedSession(raw, [hook])
        sess.run(c)
        assert not sess.should_stop()
        hook.should_stop = True
        sess.run(c)
        assert sess.should_stop()
        with pytest.raises(
            RuntimeError,
            match=re.escape("Run called even after should_stop requested."),
        ):
            sess.run(c)


def test_h4_hook_fetches_are_returned_to_each_hook():
    user = tf.constant([0])
    another = tf.constant([5])
    third = tf.constant([10])
    h1, h2 = FakeHook(), FakeHook()
    h1.request = SessionRunArgs([another])
    h2.request = SessionRunArgs([third])
    with tf.Session() as raw:
        sess = _wrappers._HookedSession(raw, [h1, h2])
        out = sess.run(user)
    np.testing.assert_array_equal(out, [0])
    np.testing.assert_array_equal(h1.last_values.results[0], [5])
    np.testing.assert_array_equal(h2.last_values.results[0], [10])
    assert h1.last_context.original_args == SessionRunArgs(user, None)


def test_h6_h7_hook_and_user_feeds_merge_or_conflict():
    a = tf.placeholder(tf.int32, [1], name="a")
    b = tf.placeholder(tf.int32, [1], name="b")
    c = tf.placeholder(tf.int32, [1], name="c")
    h1, h2 = FakeHook(), FakeHook()
    h1.request = SessionRunArgs(None, feed_dict={a: [5]})
    h2.request = SessionRunArgs(None, feed_dict={b: [10]})
    user_feed = {c: [20]}
    with tf.Session() as raw:
        sess = _wrappers._HookedSession(raw, [h1, h2])
        np.testing.assert_array_equal(sess.run(a + b + c, feed_dict=user_feed), [35])
        assert len(user_feed) == 1
        with pytest.raises(
            RuntimeError,
            match=re.escape("Same tensor is fed by a SessionRunHook and user."),
        ):
            sess.run(a + b + c, feed_dict={a: [1]})
        h2.request = SessionRunArgs(None, feed_dict={a: [10]})
        with pytest.raises(
            RuntimeError, match=re.escape("Same tensor is fed by two hooks.")
        ):
            sess.run(a + c, feed_dict=user_feed)


# -- 9.3 wrapped and coordinated layers -----------------------------------------------


def test_w1_w6_c1_c3_wrappers_delegate_and_coordinator_stops():
    c = tf.placeholder(tf.float32, [], name="c")
    v = tf.identity(c)
    with tf.Session() as raw:
        wrapped = _wrappers._WrappedSession(raw)
        assert wrapped.graph is raw.graph and wrapped.sess_str == raw.sess_str
        assert wrapped.run(v, feed_dict={c: 51.0}) == 51.0
        coord = Coordinator()
        coordinated = _wrappers._CoordinatedSession(raw, coord)
        assert coordinated.run(v, feed_dict={c: 42.0}) == 42.0
        assert not coordinated.should_stop()
        coord.request_stop()
        assert coordinated.should_stop()


def test_c4_exception_in_main_thread_does_not_stop_coordinator():
    c = tf.constant(0)
    with tf.Session() as raw:
        coord = Coordinator()
        sess = _wrappers._CoordinatedSession(raw, coord)
        assert sess.run(c) == 0
        with pytest.raises(TypeError):
            sess.run([None])
        assert not coord.should_stop() and not sess.should_stop()


def test_c6_close_stops_and_joins_threads():
    with tf.Session() as raw:
        coord = Coordinator()
        threads = [
            threading.Thread(target=coord.wait_for_stop, args=(5.0,)) for _ in range(3)
        ]
        for t in threads:
            coord.register_thread(t)
            t.start()
        sess = _wrappers._CoordinatedSession(raw, coord)
        sess.close()
        assert coord.should_stop() and coord.joined
        assert not any(t.is_alive() for t in threads)


def test_w3_w4_should_stop_consults_each_layer():
    class StopAfter(_wrappers._WrappedSession):
        def __init__(self, sess, n):
            super().__init__(sess)
            self.n = n

        def _check_stop(self):
            self.n -= 1
            return self.n < 0

    with tf.Session() as raw:
        inner = StopAfter(raw, 4)
        outer = _wrappers._WrappedSession(inner)
        assert [outer.should_stop() for _ in range(5)] == [
            False,
            False,
            False,
            False,
            True,
        ]


# -- 9.4 recovery ---------------------------------------------------------------------


class StopCoordinatorWithException(SessionRunHook):
    """Reports ``ex`` to the coordinator from a thread after the 2nd after_run."""

    def __init__(self, ex):
        self.ex = ex
        self.thread = None
        self.after_runs = 0
        self.reported = threading.Event()
        self.second_run = threading.Event()

    def after_create_session(self, session, coord):
        if self.thread is None:

            def report():
                self.second_run.wait(5.0)
                coord.request_stop(self.ex)
                self.reported.set()

            self.thread = threading.Thread(target=report)
            self.thread.start()

    def after_run(self, run_context, run_values):
        self.after_runs += 1
        if self.after_runs == 2:
            self.second_run.set()
            self.reported.wait(5.0)


def _feed_graph():
    c = tf.placeholder(tf.float32, [], name="c")
    return c, tf.identity(c)


def test_r2_recovery_from_coordinator_preemption_error():
    c, v = _feed_graph()
    with tf.Session() as raw:
        creator = CountingCreator(raw)
        hook = StopCoordinatorWithException(
            tf.errors.AbortedError(None, None, "Aborted")
        )
        sess = MonitoredSession(creator, [hook])
        assert creator.number_of_sessions_created == 1 and not sess.should_stop()
        assert sess.run(v, {c: 51.0}) == 51.0 and not sess.should_stop()
        assert sess.run(v, {c: 42.0}) == 42.0
        assert not sess.should_stop()
        assert creator.number_of_sessions_created == 2


def test_r3_non_preemption_error_in_coordinator_stops_and_raises_at_close():
    c, v = _feed_graph()
    with tf.Session() as raw:
        creator = CountingCreator(raw)
        hook = StopCoordinatorWithException(
            tf.errors.UnknownError(None, None, "Unknown")
        )
        sess = MonitoredSession(creator, [hook])
        assert sess.run(v, {c: 51.0}) == 51.0
        assert sess.run(v, {c: 42.0}) == 42.0
        assert sess.should_stop()
        assert creator.number_of_sessions_created == 1
        with pytest.raises(tf.errors.UnknownError):
            sess.close()


# -- 9.6 / 9.7 MonitoredSession and SingularMonitoredSession ---------------------------


def test_m1_initializes_automatically_and_hook_order():
    v = tf.Variable(0.0, name="v")
    hook = FakeHook()
    with MonitoredSession(_creator(), [hook]) as sess:
        assert sess.run(v) == 0.0
        assert sess.graph is tf.get_default_graph()
    assert hook.calls == [
        "begin",
        "after_create_session",
        "before_run",
        "after_run",
        "end",
    ]


def test_m5_m7_retry_initialization_on_preemption(counter):
    gs, _ = counter
    for error in (tf.errors.AbortedError, tf.errors.UnavailableError):
        calls = []

        def init_fn(scaffold, session, error=error, calls=calls):
            calls.append(1)
            if len(calls) == 1:
                raise error(None, None, "preempted")

        with MonitoredSession(_creator(init_fn=init_fn)) as sess:
            assert not sess.should_stop()
            assert sess.run(gs) == 0
        assert len(calls) == 2


def test_m10_m11_m13_exceptions_in_with_body(counter):
    gs, inc = counter
    hook = RaiseOnceAtCountN(4, StopIteration("stop"))
    with MonitoredSession(_creator(), [hook]) as sess:
        assert [sess.run(gs), sess.run(inc), sess.run(inc)] == [0, 1, 2]
        sess.run(inc)
    assert hook.raised and sess.should_stop()

    hook = RaiseOnceAtCountN(4, RuntimeError("regular exception"))
    end_hook = FakeHook()
    with pytest.raises(RuntimeError, match="regular exception"):
        with MonitoredSession(_creator(), [hook, end_hook]) as sess:
            assert [sess.run(gs), sess.run(inc), sess.run(inc)] == [0, 1, 2]
            sess.run(inc)
    assert hook.raised and sess.should_stop()
    assert "end" not in end_hook.calls


def test_m14_m17_stop_cleanly_and_graph_unfinalized_after_exit(counter):
    gs, inc = counter
    with MonitoredSession(_creator()) as sess:
        assert tf.get_default_graph().finalized
        assert sess.run(inc) == 1 and sess.run(inc) == 2
        assert not sess.should_stop()
    assert sess.should_stop() and sess.graph is None
    assert not tf.get_default_graph().finalized


def test_m21_close_inside_with_makes_exit_raise():
    tf.Variable(0.0)
    with pytest.raises(RuntimeError, match=re.escape("Session is already closed.")):
        with MonitoredSession(_creator()) as sess:
            sess.close()


def test_m22_m26_m28_m29_step_fn():
    c, v = _feed_graph()

    def step_fn(step_context):
        return step_context.run_with_hooks(v, feed_dict={c: 3.2})

    class Model:
        def step_fn(self, step_context):
            return step_context.run_with_hooks(v, feed_dict={c: 3.2})

        def bad(self, step_context, extra_foo):
            return None

    with MonitoredSession(_creator()) as sess:
        assert sess.run_step_fn(step_fn) == pytest.approx(3.2)
        assert sess.run_step_fn(Model().step_fn) == pytest.approx(3.2)
        assert sess.run_step_fn(lambda step_context: "a type") == "a type"
        with pytest.raises(
            ValueError, match="`step_fn` may either have one `step_context` argument"
        ):
            sess.run_step_fn(Model().bad)


def test_m23_m25_m32_request_stop_in_step_fn_ends_block_without_hooks():
    c, v = _feed_graph()
    hook = FakeHook()

    def stopper(step_context):
        step_context.request_stop()

    with MonitoredSession(_creator(), [hook]) as sess:
        while not sess.should_stop():
            sess.run_step_fn(stopper)
    assert "before_run" not in hook.calls and "after_run" not in hook.calls
    assert hook.calls[-1] == "end"


def test_m34_step_fn_recovers_after_preemption():
    c, v = _feed_graph()
    var = tf.Variable(0.0, name="var")
    add = var.assign_add(0.31)
    trace = []

    def step_fn(step_context):
        trace.append(1)
        step_context.session.run(add)
        value = step_context.run_with_hooks(v, feed_dict={c: 3.2})
        if len(trace) == 1:
            raise tf.errors.AbortedError(None, None, "Abort")
        return value

    with MonitoredSession(_creator()) as sess:
        assert sess.run_step_fn(step_fn) == pytest.approx(3.2)
        assert len(trace) == 2
        # Variables live in the session: the re-created session was initialized
        # again (no checkpoint), so only the retried step's add remains.
        assert sess.run(var) == pytest.approx(0.31)


def test_m35_g2_singular_session_does_not_recover():
    c, v = _feed_graph()

    def step_fn(step_context):
        raise tf.errors.AbortedError(None, None, "Abort")

    with SingularMonitoredSession(scaffold=_scaffold()) as sess:
        with pytest.raises(tf.errors.AbortedError, match="Abort"):
            sess.run_step_fn(step_fn)
        assert sess.raw_session() is not None
    assert sess.raw_session() is None


def test_g5_singular_stop_cleanly(counter):
    gs, inc = counter
    with SingularMonitoredSession(scaffold=_scaffold()) as sess:
        assert isinstance(sess.raw_session(), tf.Session)
        assert sess.run(inc) == 1 and sess.run(inc) == 2
        assert not sess.should_stop()
    assert sess.should_stop() and sess.raw_session() is None


def test_out_of_range_in_run_ends_cleanly_and_calls_end():
    tf.Variable(0.0)
    hook = FakeHook()
    with MonitoredSession(_creator(), [hook]) as sess:
        raise tf.errors.OutOfRangeError(None, None, "end of data")
    assert hook.calls[-1] == "end"
    assert sess.should_stop()


def test_steps_per_run_is_validated():
    tf.Variable(0.0)
    with pytest.raises(ValueError, match="steps_per_run must be >= 1, got 0"):
        MonitoredSession(_creator(), steps_per_run=0)


# -- more of 9.3-9.7 and the derived cases ---------------------------------------------


def test_h1_run_passes_all_arguments_to_the_wrapped_session():
    seen = []

    class FakeSession:
        graph = None

        def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
            seen.append((feed_dict, options, run_metadata))
            return [0 for _ in fetches] if isinstance(fetches, list) else 0

    sess = _wrappers._HookedSession(FakeSession(), [])
    out = sess.run(
        "t", feed_dict="a_feed", options="an_option", run_metadata="a_metadata"
    )
    assert out == 0
    assert seen == [("a_feed", "an_option", "a_metadata")]


def test_c7_coordinated_layer_reraises_the_original_exception():
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.identity(x)
    with tf.Session() as raw:
        sess = _wrappers._CoordinatedSession(raw, Coordinator())
        with pytest.raises(Exception) as direct:
            raw.run(y)
        with pytest.raises(type(direct.value)) as wrapped:
            sess.run(y)
    # Same type and message; the innermost frame is in the session code, not the wrapper.
    assert str(wrapped.value) == str(direct.value)
    tb = wrapped.value.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert "_wrappers.py" not in tb.tb_frame.f_code.co_filename


def test_coordinated_run_raises_the_stored_preemption_error_as_root_cause():
    with tf.Session() as raw:
        coord = Coordinator(clean_stop_exception_types=[])
        sess = _wrappers._CoordinatedSession(raw, coord)
        preempted = tf.errors.AbortedError(None, None, "peer went away")
        coord.request_stop(preempted)
        with pytest.raises(tf.errors.AbortedError, match="peer went away"):
            sess.run([None])


def test_m2_stop_at_last_step_and_restore_with_init_fn(tmp_path, counter):
    gs, inc = counter
    hook = tf.train.StopAtStepHook(last_step=3)
    with MonitoredSession(hooks=[hook]) as sess:
        got = [(int(sess.run(gs)), sess.should_stop())]
        for _ in range(3):
            got.append((int(sess.run(inc)), sess.should_stop()))
        saver = tf.get_collection(tf.GraphKeys.SAVERS)[0]
        saver.save(sess._tf_sess(), str(tmp_path / "step-3"))
        saver.wait_until_finished()
    assert got == [(0, False), (1, False), (2, False), (3, True)]

    def load_ckpt(scaffold, session):
        scaffold.saver.restore(session, str(tmp_path / "step-3"))

    creator = ChiefSessionCreator(Scaffold(init_fn=load_ckpt))
    with MonitoredSession(creator, [tf.train.StopAtStepHook(last_step=5)]) as sess:
        got = [(int(sess.run(gs)), sess.should_stop())]
        for _ in range(2):
            got.append((int(sess.run(inc)), sess.should_stop()))
    assert got == [(3, False), (4, False), (5, True)]


def test_m4_recovery_from_checkpoint_dir_or_file(tmp_path, counter):
    gs, inc = counter
    scaffold = Scaffold()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1, scaffold=scaffold)
    creator = ChiefSessionCreator(scaffold, checkpoint_dir=str(tmp_path))
    with MonitoredSession(creator, [hook]) as sess:
        assert [int(sess.run(gs)), int(sess.run(inc)), int(sess.run(inc))] == [0, 1, 2]
    with MonitoredSession(
        ChiefSessionCreator(scaffold, checkpoint_dir=str(tmp_path))
    ) as sess:
        assert int(sess.run(gs)) == 2
    latest = tf.train.latest_checkpoint(str(tmp_path))
    creator = ChiefSessionCreator(scaffold, checkpoint_filename_with_path=latest)
    with MonitoredSession(creator) as sess:
        assert int(sess.run(gs)) == 2


def test_m16_g1_g7_graph_initialization_and_raw_session(counter):
    v = tf.Variable(0.0, name="v")
    with SingularMonitoredSession(scaffold=_scaffold()) as sess:
        assert sess.graph is tf.get_default_graph()
        assert sess.run(v) == 0.0
        raw = sess.raw_session()
        assert isinstance(raw, tf.Session)
        assert raw.run(v) == 0.0
    assert sess.raw_session() is None and sess.graph is None


def test_m24_step_fn_stop_iteration_does_not_set_should_stop():
    c, v = _feed_graph()
    with MonitoredSession(_creator()) as sess:
        with pytest.raises(
            StopIteration,
            match=re.escape("step_fn has requested the iterations to stop."),
        ):
            sess.run_step_fn(lambda step_context: step_context.request_stop())
        assert not sess.should_stop()


def test_r5_r6_step_fn_recovery_from_coordinator_exception():
    for error, expect_stop, sessions in (
        (tf.errors.AbortedError(None, None, "Aborted"), False, 2),
        (tf.errors.UnknownError(None, None, "Unknown"), True, 1),
    ):
        tf.reset_default_graph()
        c, v = _feed_graph()
        with tf.Session() as raw:
            creator = CountingCreator(raw)
            sess = MonitoredSession(creator, [StopCoordinatorWithException(error)])

            def feed(value, c=c, v=v):
                return lambda step_context: step_context.run_with_hooks(
                    v, feed_dict={c: value}
                )

            assert sess.run_step_fn(feed(51.0)) == 51.0
            assert sess.run_step_fn(feed(42.0)) == 42.0
            assert sess.should_stop() is expect_stop
            assert creator.number_of_sessions_created == sessions
            if expect_stop:
                with pytest.raises(tf.errors.UnknownError, match="Unknown"):
                    sess.close()
            else:
                sess.close()


def test_d5_end_is_called_only_on_a_clean_close(counter):
    gs, inc = counter
    hooks = []
    for exit_with in (
        tf.errors.OutOfRangeError(None, None, "eof"),
        RuntimeError("x"),
        None,
    ):
        hook = RecordingHookLike()
        hooks.append(hook)
        if exit_with is None:
            sess = MonitoredSession(_creator(), [hook])
            sess.run(inc)
            sess.close()
            continue
        try:
            with MonitoredSession(_creator(), [hook]) as sess:
                sess.run(inc)
                raise exit_with
        except RuntimeError:
            pass
    assert [h.calls.count("end") for h in hooks] == [1, 0, 1]


class RecordingHookLike(FakeHook):
    pass


def test_d6_recovery_calls_after_create_session_again_not_begin(counter):
    gs, inc = counter
    record = FakeHook()
    hooks = [RaiseOnceAtCountN(2, tf.errors.AbortedError(None, None, "a")), record]
    with MonitoredSession(_creator(), hooks) as sess:
        sess.run(inc)
        sess.run(inc)
    assert record.calls == [
        "begin",
        "after_create_session",
        "before_run",
        "after_run",
        "after_create_session",
        "before_run",
        "after_run",
        "end",
    ]


def test_d8_stop_requested_in_before_run_still_runs(counter):
    gs, inc = counter

    class StopEarly(SessionRunHook):
        def before_run(self, run_context):
            run_context.request_stop()

    with MonitoredSession(_creator(), [StopEarly()]) as sess:
        assert sess.run(inc) == 1
        assert sess.should_stop()
        with pytest.raises(
            RuntimeError,
            match=re.escape("Run called even after should_stop requested."),
        ):
            sess.run(inc)


def test_d14_close_twice_raises():
    tf.Variable(0.0)
    sess = MonitoredSession(_creator())
    sess.close()
    with pytest.raises(RuntimeError, match=re.escape("Session is already closed.")):
        sess.close()


def test_d15_g4_singular_should_stop_raises_the_coordinator_error():
    tf.Variable(0.0)
    with pytest.raises(RuntimeError, match="thread failed"):
        with SingularMonitoredSession(scaffold=_scaffold()) as sess:
            coord = sess._coordinated_creator.coord
            try:
                raise RuntimeError("thread failed")
            except RuntimeError as e:
                coord.request_stop(e)
            with pytest.raises(RuntimeError, match="thread failed"):
                sess.should_stop()
    # MonitoredSession reports True instead, and raises at close (M13).
    sess = MonitoredSession(_creator())
    try:
        raise RuntimeError("thread failed")
    except RuntimeError as e:
        sess._coordinated_creator.coord.request_stop(e)
    assert sess.should_stop() is True
    with pytest.raises(RuntimeError, match="thread failed"):
        sess.close()


def test_callback_order_with_recording_hooks_through_recovery(counter):
    from tests.helpers.recording_hook import RecordingHook

    gs, inc = counter
    calls = []
    a = RecordingHook(calls, name="a")
    b = RecordingHook(calls, name="b", request=SessionRunArgs(gs))
    raiser = RaiseOnceAtCountN(2, tf.errors.UnavailableError(None, None, "gone"))
    with MonitoredSession(_creator(), [a, raiser, b]) as sess:
        sess.run(inc)
        sess.run(inc)
    assert [c[:2] for c in calls] == [
        ("a", "begin"),
        ("b", "begin"),
        ("a", "after_create_session"),
        ("b", "after_create_session"),
        ("a", "before_run"),
        ("b", "before_run"),
        ("a", "after_run"),
        ("b", "after_run"),
        ("a", "before_run"),  # the raiser fails this attempt
        ("a", "after_create_session"),
        ("b", "after_create_session"),
        ("a", "before_run"),
        ("b", "before_run"),
        ("a", "after_run"),
        ("b", "after_run"),
        ("a", "end"),
        ("b", "end"),
    ]
    # The recovered session was re-initialized: b saw step 1 after both runs.
    assert [int(c[3].results) for c in calls if c[:2] == ("b", "after_run")] == [1, 1]
    # Each run shares one context across hooks; contexts hold the raw session.
    contexts = [c[2] for c in calls if c[1] == "before_run"]
    assert contexts[0] is contexts[1]
    assert all(isinstance(ctx.session, tf.Session) for ctx in contexts)


def test_hooks_may_add_ops_in_begin_but_not_after_create_session():
    tf.Variable(0.0)
    added = []

    class AddsOps(SessionRunHook):
        def begin(self):
            added.append(tf.constant(7.0, name="from_begin"))

        def after_create_session(self, session, coord):
            tf.constant(1.0, name="too_late")

    with pytest.raises(RuntimeError, match="Graph is finalized and cannot be modified"):
        MonitoredSession(_creator(), [AddsOps()])
    assert added[0].graph is tf.get_default_graph()
    # The failed construction left the graph editable again.
    assert not tf.get_default_graph().finalized

    class UsesBeginOp(SessionRunHook):
        def begin(self):
            self.op = tf.constant(7.0, name="from_begin_2")

        def before_run(self, run_context):
            return SessionRunArgs(self.op)

        def after_run(self, run_context, run_values):
            self.value = run_values.results

    hook = UsesBeginOp()
    with MonitoredSession(_creator(), [hook]) as sess:
        sess.run(tf.get_default_graph().get_tensor_by_name("from_begin:0"))
    assert hook.value == 7.0


class _OptionsHook(SessionRunHook):
    def __init__(self, options):
        self.options = options
        self.seen = []

    def before_run(self, run_context):
        return SessionRunArgs(None, options=self.options)

    def after_run(self, run_context, run_values):
        self.seen.append((run_values.options, run_values.run_metadata))


def _debug(*watches, reset=False):
    from types import SimpleNamespace

    return SimpleNamespace(
        debug_tensor_watch_opts=list(watches), reset_disk_byte_usage=reset
    )


def _summary(options):
    return (
        options.trace_level,
        options.timeout_in_ms,
        options.output_partition_graphs,
        options.debug_options.debug_tensor_watch_opts,
        options.report_tensor_allocations_upon_oom,
    )


def test_m19_merge_run_options_from_hooks():
    c = tf.constant(42)
    a = _OptionsHook(
        tf.RunOptions(
            trace_level=2,
            timeout_in_ms=30000,
            output_partition_graphs=False,
            debug_options=_debug("A"),
            report_tensor_allocations_upon_oom=False,
        )
    )
    b = _OptionsHook(
        tf.RunOptions(
            trace_level=3,
            timeout_in_ms=60000,
            output_partition_graphs=True,
            debug_options=_debug("B", reset=True),
            report_tensor_allocations_upon_oom=True,
        )
    )
    with MonitoredSession(_creator(), [a, b]) as sess:
        assert sess.run(c) == 42
    assert len(b.seen) == 1
    options, metadata = b.seen[0]
    assert _summary(options) == (3, 60000, True, ["A", "B"], True)
    assert options.debug_options.reset_disk_byte_usage is True
    assert isinstance(metadata, tf.RunMetadata)
    # Every hook sees the same merged options and metadata objects.
    assert a.seen[0][0] is options and a.seen[0][1] is metadata
    # The hooks' own options are left as they were.
    assert a.options.debug_options.debug_tensor_watch_opts == ["A"]


def test_m20_merge_caller_and_hook_run_options():
    c = tf.constant(42)
    hook = _OptionsHook(
        tf.RunOptions(
            trace_level=2,
            timeout_in_ms=60000,
            output_partition_graphs=False,
            debug_options=_debug("H"),
            report_tensor_allocations_upon_oom=False,
        )
    )
    caller = tf.RunOptions(
        trace_level=3,
        timeout_in_ms=30000,
        output_partition_graphs=True,
        debug_options=_debug("C"),
        report_tensor_allocations_upon_oom=True,
    )
    metadata = tf.RunMetadata()
    with MonitoredSession(_creator(), [hook]) as sess:
        assert sess.run(c, options=caller, run_metadata=metadata) == 42
    options, seen_metadata = hook.seen[0]
    assert options is caller and seen_metadata is metadata
    assert _summary(options) == (3, 60000, True, ["C", "H"], True)


def test_g2_singular_session_does_not_recover_from_a_hook_error():
    tf.Variable(0.0)
    c = tf.constant(1.0)

    class AlwaysAbort(SessionRunHook):
        def before_run(self, run_context):
            raise tf.errors.AbortedError(None, None, "Abort")

    with SingularMonitoredSession(hooks=[AlwaysAbort()], scaffold=_scaffold()) as sess:
        with pytest.raises(tf.errors.AbortedError, match="Abort"):
            sess.run(c)
    assert sess.raw_session() is None
    with pytest.raises(tf.errors.AbortedError, match="Abort"):
        with SingularMonitoredSession(
            hooks=[AlwaysAbort()], scaffold=_scaffold()
        ) as sess:
            sess.run(c)
