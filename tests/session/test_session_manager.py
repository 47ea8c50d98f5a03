"""SessionManager (TF1_BEHAVIOUR §6, cases SM2-SM21) with a real Saver."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.checkpoint import Saver, get_checkpoint_state, latest_checkpoint
from jaxsession.session.session_manager import SessionManager


def local(initial, name):
    """A local variable; ``initial`` may read another variable (then it must be ready)."""
    return tf.Variable(
        initial, name=name, collections=[tf.GraphKeys.LOCAL_VARIABLES], trainable=False
    )


def save_v(directory, value):
    """Writes a checkpoint of a global ``v`` = value into ``directory``, in its own graph."""
    with tf.Graph().as_default():
        v = tf.Variable(value, name="v")
        saver = Saver()
        with tf.Session() as sess:
            sess.run(v.initializer)
            saver.save(sess, str(directory / "model"), global_step=1)
            saver.wait_until_finished()


def test_sm2_init_feed_dict():
    p = tf.placeholder(tf.float32, [3], name="p")
    v = tf.Variable(p, name="v")
    sm = SessionManager(ready_op=tf.report_uninitialized_variables())
    sess = sm.prepare_session(
        "", init_op=v.initializer, init_feed_dict={p: [1.0, 2.0, 3.0]}
    )
    np.testing.assert_array_equal(sess.run(v), [1.0, 2.0, 3.0])


def test_sm3_init_fn():
    v = tf.Variable([125.0], name="v")
    sm = SessionManager(ready_op=tf.report_uninitialized_variables())
    sess = sm.prepare_session("", init_fn=lambda s: s.run(v.initializer))
    np.testing.assert_array_equal(sess.run(v), [125.0])


def test_sm5_recover_session(tmp_path):
    v = tf.Variable(2.0, name="v")
    sm = SessionManager(ready_op=tf.report_uninitialized_variables())
    saver = Saver()
    sess, initialized = sm.recover_session(
        "", saver=saver, checkpoint_dir=str(tmp_path)
    )
    assert initialized is False
    save_v(tmp_path, 1.0)
    sess, initialized = sm.recover_session(
        "", saver=saver, checkpoint_dir=str(tmp_path)
    )
    assert initialized is True and sess.run(v) == 1.0
    latest = latest_checkpoint(str(tmp_path))
    sess, initialized = sm.recover_session(
        "", saver=saver, checkpoint_filename_with_path=latest
    )
    assert initialized is True and sess.run(v) == 1.0
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Can not provide both checkpoint_dir and checkpoint_filename_with_path."
        ),
    ):
        sm.recover_session(
            "",
            saver=saver,
            checkpoint_dir=str(tmp_path),
            checkpoint_filename_with_path=latest,
        )


def test_restored_session_runs_neither_init_op_nor_init_fn(tmp_path):
    v = tf.Variable(2.0, name="v")
    save_v(tmp_path, 1.0)
    calls = []
    sm = SessionManager(ready_op=tf.report_uninitialized_variables())
    sess = sm.prepare_session(
        "",
        init_op=v.initializer,
        saver=Saver(),
        checkpoint_dir=str(tmp_path),
        init_fn=calls.append,
    )
    assert sess.run(v) == 1.0 and calls == []


def test_restore_gives_the_saver_the_existing_checkpoints(tmp_path):
    v = tf.Variable(2.0, name="v")
    saver = Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in (1, 2):
            saver.save(sess, str(tmp_path / "model"), global_step=step)
        saver.wait_until_finished()
    restarted = Saver(max_to_keep=2)
    sm = SessionManager(ready_op=tf.report_uninitialized_variables())
    sess = sm.prepare_session("", saver=restarted, checkpoint_dir=str(tmp_path))
    assert restarted.last_checkpoints == [
        str(tmp_path / "model-1"),
        str(tmp_path / "model-2"),
    ]
    restarted.save(sess, str(tmp_path / "model"), global_step=3)
    restarted.wait_until_finished()
    # Retention continues across the restart: model-1 is deleted.
    state = get_checkpoint_state(str(tmp_path))
    assert list(state.all_model_checkpoint_paths) == [
        str(tmp_path / "model-2"),
        str(tmp_path / "model-3"),
    ]
    assert not (tmp_path / "model-1").exists()


def test_wait_for_checkpoint_polls_until_max_wait(tmp_path, monkeypatch):
    tf.Variable(2.0, name="v")
    sleeps = []
    monkeypatch.setattr("jaxsession.session.session_manager.time.sleep", sleeps.append)
    sm = SessionManager(
        ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=2
    )
    sess, initialized = sm.recover_session(
        "",
        saver=Saver(),
        checkpoint_dir=str(tmp_path),
        wait_for_checkpoint=True,
        max_wait_secs=5,
    )
    assert initialized is False and sleeps == [2, 2, 2]


def test_sm6_wait_for_session_deadline_without_sleeping_past_it(monkeypatch):
    tf.Variable(1.0, name="v")
    sleeps = []
    monkeypatch.setattr("jaxsession.session.session_manager.time.sleep", sleeps.append)
    sm = SessionManager(
        ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=30
    )
    with pytest.raises(
        tf.errors.DeadlineExceededError,
        match=re.escape("Session was not ready after waiting 3 secs."),
    ):
        sm.wait_for_session("", max_wait_secs=3)
    # max_wait_secs < recovery_wait_secs: raised after one attempt, no sleep.
    assert sleeps == []


def test_sm12_worker_waits_then_runs_its_local_init():
    v = tf.Variable(1.0, name="v")
    w = local(v, "w")
    attempts = []

    def worker_session(master, graph=None, config=None):
        sess = tf.Session(master, graph=graph, config=config)
        attempts.append(sess)
        if len(attempts) == 3:  # the chief has initialized the globals by now
            sess.run(v.initializer)
        return sess

    sm = SessionManager(
        local_init_op=w.initializer,
        ready_op=tf.report_uninitialized_variables(),
        ready_for_local_init_op=tf.report_uninitialized_variables(
            tf.global_variables()
        ),
        recovery_wait_secs=0.01,
        session_factory=worker_session,
    )
    sess = sm.wait_for_session("", max_wait_secs=5)
    assert len(attempts) == 3 and sess is attempts[-1]
    assert (sess.run(v), sess.run(w)) == (1.0, 1.0)


def test_sm8_recover_with_ready_for_local_init_op(tmp_path):
    save_v(tmp_path, 1.0)
    v = tf.Variable(2.0, name="v")
    w = local(v, "w")
    sm = SessionManager(
        local_init_op=w.initializer,
        ready_op=tf.report_uninitialized_variables(),
        ready_for_local_init_op=tf.report_uninitialized_variables(
            tf.global_variables()
        ),
    )
    sess, initialized = sm.recover_session(
        "", saver=Saver(var_list=[v]), checkpoint_dir=str(tmp_path)
    )
    assert initialized is True
    assert (sess.run(v), sess.run(w)) == (1.0, 1.0)


def test_sm9_recover_fails_when_not_ready_for_local_init(tmp_path):
    save_v(tmp_path, 1.0)
    v = tf.Variable(2.0, name="v")
    w = local(v.initialized_value(), "w")
    sm = SessionManager(
        local_init_op=w.initializer,
        ready_op=tf.report_uninitialized_variables(),
        ready_for_local_init_op=tf.report_uninitialized_variables(),
    )
    sess, initialized = sm.recover_session(
        "", saver=Saver(var_list=[v]), checkpoint_dir=str(tmp_path)
    )
    assert initialized is False
    assert sess.run(v) == 1.0
    assert list(sess.run(tf.report_uninitialized_variables())) == [b"w"]


def test_sm11_failed_recovery_still_runs_local_init(tmp_path):
    v = tf.Variable(2.0, name="v")
    w = local(1.0, "w")
    sm = SessionManager(
        local_init_op=w.initializer, ready_op=tf.report_uninitialized_variables()
    )
    sess, initialized = sm.recover_session(
        "", saver=Saver(var_list=[v]), checkpoint_dir=str(tmp_path)
    )
    assert initialized is False
    assert list(sess.run(tf.report_uninitialized_variables())) == [b"v"]
    assert sess.run(w) == 1.0


def test_sm14_wait_for_session_insufficient_ready_for_local_init_check(monkeypatch):
    monkeypatch.setattr("jaxsession.session.session_manager.time.sleep", lambda s: None)
    v = tf.Variable(1.0, name="v")
    w = local(v.initialized_value(), "w")
    sm = SessionManager(
        local_init_op=w.initializer,
        ready_op=tf.report_uninitialized_variables(),
        recovery_wait_secs=0.01,
    )
    with pytest.raises(tf.errors.DeadlineExceededError) as info:
        sm.wait_for_session("", max_wait_secs=0.05)
    assert "Session was not ready after waiting" in str(info.value)
    assert "Variables not initialized: v" in str(info.value)


def test_sm15_prepare_with_ready_for_local_init_op():
    v = tf.Variable(1.0, name="v")
    w = local(v, "w")
    x = local(3.0 * v, "x")
    sm = SessionManager(
        local_init_op=tf.group(w.initializer, x.initializer),
        ready_op=tf.report_uninitialized_variables(),
        ready_for_local_init_op=tf.report_uninitialized_variables(
            tf.global_variables()
        ),
    )
    sess = sm.prepare_session("", init_op=v.initializer)
    assert (sess.run(v), sess.run(w), sess.run(x)) == (1.0, 1.0, 3.0)


@pytest.mark.parametrize("as_list", [False, True])
def test_sm17_sm18_init_op_that_leaves_a_local_uninitialized(as_list):
    v = tf.Variable(1.0, name="v")
    local(v.initialized_value(), "w")
    sm = SessionManager(ready_op=tf.report_uninitialized_variables())
    init_op = [v.initializer] if as_list else v.initializer
    with pytest.raises(RuntimeError) as info:
        sm.prepare_session("", init_op=init_op)
    assert str(info.value).startswith("Init operations did not make model ready. ")
    assert "Variables not initialized: w" in str(info.value)


def test_sm20_prepare_with_insufficient_ready_for_local_init_check():
    v = tf.Variable(1.0, name="v")
    w = local(v.initialized_value(), "w")
    sm = SessionManager(
        local_init_op=w.initializer, ready_op=tf.report_uninitialized_variables()
    )
    with pytest.raises(
        RuntimeError, match=re.escape("Init operations did not make model ready. ")
    ) as info:
        sm.prepare_session("", init_op=None)
    assert "Variables not initialized: v" in str(info.value)


def test_local_init_failure_names_the_reason():
    v = tf.Variable(1.0, name="v")
    w = local(v.initialized_value(), "w")
    sm = SessionManager(
        local_init_op=w.initializer,
        ready_op=tf.report_uninitialized_variables(),
        ready_for_local_init_op=tf.report_uninitialized_variables(
            tf.global_variables()
        ),
    )
    with pytest.raises(RuntimeError) as info:
        sm.prepare_session("", init_fn=lambda s: None)
    assert str(info.value).startswith(
        "Init operations did not make model ready for local_init. "
    )
    assert "Variables not initialized: v" in str(info.value)


def test_sm21_obsolete_boolean_ready_op():
    v = tf.Variable(1.0, name="v")
    sm = SessionManager(ready_op=tf.assert_variables_initialized())
    with pytest.raises(
        RuntimeError, match=re.escape("Init operations did not make model ready. ")
    ):
        sm.prepare_session("", init_op=tf.group())
    sess = sm.prepare_session("", init_op=v.initializer)
    assert sess.run(v) == 1.0
