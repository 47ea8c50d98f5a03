"""Each new run signature is logged once; recompiles for new shapes say how to avoid them."""

import logging

import numpy as np

import jaxsession as tf
from jaxsession.engine import runner


def _messages(caplog, level):
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def test_a_new_signature_is_logged_once_and_changing_feeds_warn(caplog):
    x = tf.placeholder(tf.float32, [None], name="x")
    v = tf.Variable(0.0)
    op = tf.assign_add(v, tf.reduce_sum(x))
    with tf.Session() as sess, caplog.at_level(logging.INFO, "jaxsession.compile"):
        sess.run(v.initializer)
        for n in [2, 2, 2]:
            sess.run(op, {x: np.ones(n, np.float32)})
        compiles = [m for m in _messages(caplog, logging.INFO) if "x:0" in m]
        assert compiles == [
            "compiling RunSignature(fetches=[AssignAdd:0], targets=[], "
            "feeds=[x:0=float32[2]], steps=1)"
        ]
        assert not _messages(caplog, logging.WARNING)
        for n in range(3, 3 + runner.RECOMPILE_WARN_AFTER):
            sess.run(op, {x: np.ones(n, np.float32)})
        (warning,) = _messages(caplog, logging.WARNING)
        assert "compiled for 4 different feed shapes" in warning
        assert "drop_remainder=True" in warning and "fixed batch size" in warning
        # Said once per run, not at every further shape.
        sess.run(op, {x: np.ones(9, np.float32)})
        assert len(_messages(caplog, logging.WARNING)) == 1


def test_a_ragged_iterator_batch_recompile_is_logged_then_warned(caplog):
    v = tf.Variable(0, dtype=tf.int64)
    nxt = tf.data.Dataset.range(7).batch(3).repeat(2).make_one_shot_iterator()
    op = tf.assign_add(v, tf.reduce_sum(nxt.get_next()))
    with tf.Session() as sess, caplog.at_level(logging.INFO, "jaxsession.compile"):
        sess.run(v.initializer)
        for _ in range(6):
            sess.run(op)
        again = [m for m in _messages(caplog, logging.INFO) if "again" in m]
        assert again == [
            "compiling a run again for new input shapes: IteratorGetNext:0=[1]"
        ]
        assert int(sess.run(v)) == 2 * sum(range(7))
