"""Patterns of public TF1 programs, written as their authors wrote them.

Expected values and names were recorded from TensorFlow 2.21
``tf.compat.v1`` with ``disable_v2_behavior()`` on the same inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxsession as tf

LABELS = np.array([[0, 1, 0], [1, 0, 0]], np.int32)
LOGITS = np.array([[1.0, 2.0, 3.0], [0.5, 0.1, -1.0]], np.float32)

# TF 2.21 compat.v1: the same losses with int32 labels.
INT_LABEL_LOSSES = {
    "softmax_cross_entropy": 1.0230033,
    "sigmoid_cross_entropy": 1.0034188,
    "mean_squared_error": 2.0433335,
    "absolute_difference": 1.1,
}


@pytest.mark.parametrize("loss_name", sorted(INT_LABEL_LOSSES))
def test_losses_take_integer_labels(loss_name):
    with tf.Graph().as_default():
        labels = tf.placeholder(tf.int32, [None, 3])
        logits = tf.placeholder(tf.float32, [None, 3])
        loss = getattr(tf.losses, loss_name)(labels, logits)
        assert loss.dtype == tf.float32
        assert loss.shape.as_list() == []
        with tf.Session() as sess:
            value = sess.run(loss, {labels: LABELS, logits: LOGITS})
    np.testing.assert_allclose(value, INT_LABEL_LOSSES[loss_name], rtol=1e-5)


def test_a_schedule_leaves_its_summary_name_to_the_program():
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        lr = tf.train.exponential_decay(0.1, global_step, 100, 0.96)
        summary = tf.summary.scalar("learning_rate", lr)
        boundaries = tf.train.piecewise_constant(global_step, [10], [0.1, 0.01])
        named = tf.train.exponential_decay(0.1, global_step, 100, 0.96, name="lr")
        inner = tf.get_default_graph().get_operation_by_name(
            "ExponentialDecay/initial_learning_rate"
        )
    assert lr.name == "ExponentialDecay:0"
    assert summary.op.name == "learning_rate"
    assert inner.type == "Const"
    # TF: PiecewiseConstant/case/cond/Merge:0; here one op, named by its scope.
    assert boundaries.name == "PiecewiseConstant:0"
    assert named.name == "lr:0"


def test_six_moves_is_there_for_tf1_era_programs():
    from six.moves import xrange

    with tf.Graph().as_default():
        total = tf.add_n([tf.constant(float(i)) for i in xrange(4)])
        with tf.Session() as sess:
            assert sess.run(total) == 6.0


def test_matmul_of_a_shapeless_placeholder_builds_and_runs():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32)  # no shape: unknown rank
        w = tf.constant(np.ones((4, 5), np.float32))
        y = tf.matmul(x, w)
        # TF 2.21: <unknown>; the check moves to the run, as in TF1.
        assert y.shape.ndims is None
        assert y.dtype == tf.float32
        with tf.Session() as sess:
            out = sess.run(y, {x: np.ones((2, 4), np.float32)})
            np.testing.assert_array_equal(out, np.full((2, 5), 4.0, np.float32))
            with pytest.raises(tf.errors.InvalidArgumentError, match="MatMul"):
                sess.run(y, {x: np.ones((2, 3), np.float32)})
