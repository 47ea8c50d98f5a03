"""TF1_BEHAVIOUR §9.1 (Scaffold), §6 (SessionManager), §5.10 (Coordinator), §4.0 timers."""

import re
import sys
import threading

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.session.coordinator import Coordinator
from jaxsession.session.scaffold import Scaffold
from jaxsession.session.session_manager import SessionManager
from jaxsession.session.timers import NeverTriggerTimer, SecondOrStepTimer


class _Saver:
    def build(self):
        self.built = True


def test_s1_nothing_created_before_finalize():
    s = Scaffold()
    fields = [
        s.init_op,
        s.init_feed_dict,
        s.init_fn,
        s.ready_op,
        s.ready_for_local_init_op,
        s.local_init_op,
        s.saver,
    ]
    assert fields == [None] * 7
    assert tf.get_default_graph().get_operations() == []


def test_s2_defaults_and_readiness_reports():
    tf.Variable(1.0, name="my_var")
    tf.Variable(2.0, name="my_local_var", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    tf.add_to_collection(tf.GraphKeys.SAVERS, _Saver())
    s = Scaffold().finalize()
    assert isinstance(s.init_op, tf.Operation) and isinstance(
        s.local_init_op, tf.Operation
    )
    assert isinstance(s.ready_op, tf.Tensor) and isinstance(
        s.ready_for_local_init_op, tf.Tensor
    )
    assert s.init_feed_dict is None and s.init_fn is None and s.saver.built
    with tf.Session() as sess:
        assert set(sess.run(s.ready_op)) == {b"my_var", b"my_local_var"}
        assert set(sess.run(s.ready_for_local_init_op)) == {b"my_var"}
        sess.run(s.init_op)
        assert sess.run(s.ready_for_local_init_op).size == 0
        sess.run(s.local_init_op)
        assert sess.run(s.ready_op).size == 0


def test_s4_s7_scaffolds_share_pieces_and_finalize_graph():
    tf.Variable(1.0)
    tf.add_to_collection(tf.GraphKeys.SAVERS, _Saver())
    a = Scaffold().finalize()
    tf.get_default_graph()._unsafe_unfinalize()
    b = Scaffold().finalize()
    assert (
        a.init_op,
        a.ready_op,
        a.ready_for_local_init_op,
        a.local_init_op,
        a.saver,
    ) == (b.init_op, b.ready_op, b.ready_for_local_init_op, b.local_init_op, b.saver)
    with pytest.raises(RuntimeError, match="Graph is finalized and cannot be modified"):
        tf.constant(1.0)


def test_s5_more_than_one_saver_is_an_error():
    tf.Variable(1.0)
    tf.add_to_collection(tf.GraphKeys.SAVERS, _Saver())
    tf.add_to_collection(tf.GraphKeys.SAVERS, _Saver())
    with pytest.raises(RuntimeError, match="More than one item"):
        Scaffold().finalize()


def test_s8_s10_copy_from_scaffold():
    base = Scaffold()
    saver = _Saver()
    s = Scaffold(
        init_op=2,
        init_feed_dict=3,
        init_fn=lambda scaffold, sess: (scaffold, sess),
        ready_op=5,
        ready_for_local_init_op=6,
        local_init_op=7,
        local_init_feed_dict=8,
        saver=saver,
        copy_from_scaffold=base,
    )
    assert (
        s.init_op,
        s.init_feed_dict,
        s.ready_op,
        s.ready_for_local_init_op,
        s.local_init_op,
        s.local_init_feed_dict,
        s.saver,
    ) == (2, 3, 5, 6, 7, 8, saver)
    assert s.init_fn("session") == (s, "session")
    copy = Scaffold(copy_from_scaffold=s)
    assert copy.init_op == 2 and copy.init_fn("x") == (copy, "x")
    with pytest.raises(
        TypeError, match="copy_from_scaffold is not a Scaffold instance"
    ):
        Scaffold(copy_from_scaffold=1)


def test_session_manager_prepare_and_errors():
    v = tf.Variable(1.0, name="v")
    ready = tf.report_uninitialized_variables()
    with pytest.raises(
        ValueError, match="If you pass a ready_for_local_init_op you must also pass"
    ):
        SessionManager(ready_for_local_init_op=ready)
    sm = SessionManager(ready_op=ready)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "Model is not initialized and no init_op or init_fn or local_init_op was given"
        ),
    ):
        sm.prepare_session("")
    with pytest.raises(
        RuntimeError, match=re.escape("Init operations did not make model ready. ")
    ):
        sm.prepare_session(
            "",
            init_op=tf.no_op()
            if hasattr(tf, "no_op")
            else tf.variables_initializer([]),
        )
    sess = sm.prepare_session("", init_op=v.initializer)
    assert sess.run(v) == 1.0
    calls = []
    sess = sm.prepare_session(
        "", init_fn=lambda s: (calls.append(1), s.run(v.initializer))
    )
    assert calls == [1] and sess.run(v) == 1.0


def test_wait_for_session_times_out_with_the_reason():
    tf.Variable(1.0, name="never_ready")
    sm = SessionManager(
        ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=0.01
    )
    with pytest.raises(tf.errors.DeadlineExceededError) as info:
        sm.wait_for_session("", max_wait_secs=0.05)
    assert "Session was not ready after waiting 0.05 secs." in str(info.value)
    assert "Variables not initialized: never_ready" in str(info.value)


def test_recover_session_without_checkpoint_is_not_ready():
    tf.Variable(1.0)
    sm = SessionManager(ready_op=tf.report_uninitialized_variables())
    sess, initialized = sm.recover_session("")
    assert initialized is False and isinstance(sess, tf.Session)


def test_coordinator_records_first_exception_and_join_raises_it():
    coord = Coordinator()

    def worker(n):
        with coord.stop_on_exception():
            if n == 1:
                raise ValueError("boom from thread")
            coord.wait_for_stop(5.0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    assert coord.wait_for_stop(5.0)
    with pytest.raises(ValueError, match="boom from thread"):
        coord.join(threads)
    assert coord.joined
    with pytest.raises(KeyError):
        coord.request_stop(KeyError("after join"))


def test_coordinator_clean_stop_types_and_exc_info():
    coord = Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "done"))
    assert coord.should_stop()
    coord.join()
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined
    try:
        raise RuntimeError("with info")
    except RuntimeError:
        coord.request_stop(sys.exc_info())
    with pytest.raises(RuntimeError, match="with info"):
        coord.raise_requested_exception()


def test_coordinator_join_reports_stragglers():
    coord = Coordinator()
    gate = threading.Event()
    t = threading.Thread(target=gate.wait, args=(5.0,), name="straggler")
    t.start()
    coord.request_stop()
    with pytest.raises(
        RuntimeError, match="Coordinator stopped with threads still running: straggler"
    ):
        coord.join([t], stop_grace_period_secs=0.01)
    gate.set()
    t.join()


def test_x1_x3_x4_timers():
    with pytest.raises(
        ValueError, match=re.escape("Can not provide both every_secs and every_steps.")
    ):
        SecondOrStepTimer(every_secs=2.0, every_steps=10)
    with pytest.raises(
        ValueError,
        match=re.escape("Either every_secs or every_steps should be provided."),
    ):
        SecondOrStepTimer()
    now = [100.0]
    timer = SecondOrStepTimer(every_secs=1.0, clock=lambda: now[0])
    assert timer.should_trigger_for_step(1)
    assert timer.update_last_triggered_step(1) == (None, None)
    assert not timer.should_trigger_for_step(1) and not timer.should_trigger_for_step(2)
    now[0] += 1.0
    assert not timer.should_trigger_for_step(1) and timer.should_trigger_for_step(2)
    assert timer.update_last_triggered_step(5) == (1.0, 4)
    steps = SecondOrStepTimer(every_steps=3)
    assert steps.should_trigger_for_step(1)
    steps.update_last_triggered_step(1)
    assert [steps.should_trigger_for_step(s) for s in (1, 2, 3, 4)] == [
        False,
        False,
        False,
        True,
    ]
    assert steps.last_triggered_step() == 1
    never = NeverTriggerTimer()
    assert not never.should_trigger_for_step(0) and never.last_triggered_step() is None
    np.testing.assert_equal(never.update_last_triggered_step(3), (None, None))


def test_d12_coordinator_with_no_clean_stop_types_reports_out_of_range():
    coord = Coordinator(clean_stop_exception_types=[])
    try:
        raise tf.errors.OutOfRangeError(None, None, "End of sequence")
    except tf.errors.OutOfRangeError as e:
        coord.request_stop(e)
    with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
        coord.join()
    # The first exception is kept; a later one is ignored.
    coord = Coordinator()
    coord.request_stop(ValueError("first"))
    coord.request_stop(KeyError("second"))
    with pytest.raises(ValueError, match="first"):
        coord.join()
