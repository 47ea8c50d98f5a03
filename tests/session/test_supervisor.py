"""tf.train.Supervisor as 2016-17 TF1 programs drive it."""

from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf


def _model():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    tf.summary.scalar("w_sq", tf.reduce_sum(tf.square(w)))
    return x, y, w, loss, step, train


def _batch():
    xs = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    return xs, np.array([[1.0], [2.0]], np.float32)


def _train(logdir, steps, **kwargs):
    tf.reset_default_graph()
    x, y, w, loss, step, train = _model()
    sv = tf.train.Supervisor(logdir=logdir, **kwargs)
    xs, ys = _batch()
    with sv.managed_session() as sess:
        start = sess.run(step)
        for _ in range(steps):
            if sv.should_stop():
                break
            sess.run(train, {x: xs, y: ys})
        sv.saver.save(sess, sv.save_path, global_step=step)
        return start, sess.run(w), sv


def test_supervisor_training_loop_resumes_from_logdir(tmp_path):
    logdir = str(tmp_path / "train")
    start, w1, sv = _train(logdir, 3, save_model_secs=600, save_summaries_secs=600)
    assert start == 0
    assert sv.save_path == str(Path(logdir) / "model.ckpt")
    assert tf.train.latest_checkpoint(logdir) == str(Path(logdir) / "model.ckpt-3")
    assert (Path(logdir) / "graph.pbtxt").exists()
    start2, w2, _ = _train(logdir, 2, save_model_secs=600, save_summaries_secs=600)
    assert start2 == 3
    assert tf.train.latest_checkpoint(logdir).endswith("model.ckpt-5")
    # Five steps of gradient descent from zeros, whatever the restart.
    tf.reset_default_graph()
    xs, ys = _batch()
    w = np.zeros([2, 1], np.float32)
    for _ in range(5):
        w -= 0.1 * 2 * xs.T @ (xs @ w - ys) / 2
    np.testing.assert_allclose(w2, w, rtol=1e-5)
    assert not np.allclose(w1, w2)


def test_supervisor_writes_summaries_and_session_logs(tmp_path):
    logdir = str(tmp_path / "run")
    _train(logdir, 2, save_model_secs=0, save_summaries_secs=600)
    files = sorted(Path(logdir).glob("events.out.tfevents.*"))
    assert len(files) == 1
    events = list(tf.train.summary_iterator(str(files[0])))
    statuses = [e.session_log.status for e in events if e.HasField("session_log")]
    assert statuses == [tf.summary.SessionLog.START, tf.summary.SessionLog.STOP]
    tags = [v.tag for e in events for v in e.summary.value]
    assert "w_sq" in tags
    assert any(e.HasField("graph_def") for e in events)
    # save_model_secs=0: no checkpoint service, only the program's own save.
    assert tf.train.get_checkpoint_state(logdir).all_model_checkpoint_paths == [
        str(Path(logdir) / "model.ckpt-2")
    ]


def test_managed_session_stops_on_out_of_range_and_reraises_others(tmp_path):
    _model()
    sv = tf.train.Supervisor(logdir=None)
    with sv.managed_session() as sess:
        sess.run(tf.train.get_global_step())
        raise tf.errors.OutOfRangeError(None, None, "end of data")
    assert sv.should_stop()
    sv2 = tf.train.Supervisor(logdir=None, graph=tf.get_default_graph())
    with pytest.raises(ValueError, match="boom"), sv2.managed_session():
        raise ValueError("boom")


def test_supervisor_request_stop_loop_and_summary_computed(tmp_path):
    x, y, w, loss, step, train = _model()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0)
    calls = []
    with sv.managed_session() as sess:
        looper = sv.loop(
            0.01, lambda: calls.append(1) or (len(calls) >= 3 and sv.request_stop())
        )
        sv.wait_for_stop()
        looper.join(5)
        summary = tf.summary.Summary(
            value=[tf.summary.Summary.Value(tag="acc", simple_value=0.5)]
        )
        sv.summary_computed(sess, summary)
    assert len(calls) >= 3
    files = sorted(tmp_path.glob("events.out.tfevents.*"))
    events = list(tf.train.summary_iterator(str(files[0])))
    acc = [
        (e.step, v.simple_value)
        for e in events
        for v in e.summary.value
        if v.tag == "acc"
    ]
    assert acc == [(0, 0.5)]


def test_supervisor_properties_and_finalized_graph():
    x, y, w, loss, step, train = _model()
    sv = tf.train.Supervisor()
    assert sv.is_chief and sv.global_step is step
    assert sv.summary_writer is None and sv.save_path is None
    assert sv.init_op is not None and sv.ready_op is not None
    assert tf.get_default_graph().finalized
    with pytest.raises(RuntimeError):
        tf.constant(1.0)


def test_checkpoint_service_saves_on_its_own(tmp_path):
    import time

    x, y, w, loss, step, train = _model()
    logdir = str(tmp_path)
    sv = tf.train.Supervisor(logdir=logdir, save_model_secs=0.05, save_summaries_secs=0)
    xs, ys = _batch()
    with sv.managed_session() as sess:
        sess.run(train, {x: xs, y: ys})
        deadline = time.monotonic() + 20
        while (
            tf.train.latest_checkpoint(logdir) is None and time.monotonic() < deadline
        ):
            time.sleep(0.05)
    assert tf.train.latest_checkpoint(logdir) is not None
