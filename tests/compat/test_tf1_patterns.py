"""Patterns of public TF1 programs, written as their authors wrote them.

Expected values and names were recorded from TensorFlow 2.21
``tf.compat.v1`` with ``disable_v2_behavior()`` on the same inputs.
"""

from __future__ import annotations

import logging

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


def test_dropout_with_a_shapeless_keep_prob_feeds_a_matmul():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8])
        keep_prob = tf.placeholder(tf.float32)  # as the MNIST tutorials write it
        w1 = tf.Variable(np.full((8, 4), 0.5, np.float32))
        w2 = tf.Variable(np.full((4, 3), 0.25, np.float32))
        hidden = tf.nn.relu(tf.matmul(x, w1))
        dropped = tf.nn.dropout(hidden, keep_prob)
        logits = tf.matmul(dropped, w2)
        # TF 2.21: (?, 4) and (?, 3).
        assert dropped.shape.as_list() == [None, 4]
        assert logits.shape.as_list() == [None, 3]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run(logits, {x: np.ones((2, 8), np.float32), keep_prob: 1.0})
    np.testing.assert_allclose(out, np.full((2, 3), 4.0), rtol=1e-6)


def _conv_tower(x, reuse):
    with tf.variable_scope("ConvNet", reuse=reuse):
        h = tf.layers.conv2d(x, 4, 3, kernel_initializer=tf.ones_initializer())
        h = tf.layers.conv2d(h, 4, 3)
        return tf.layers.dense(tf.layers.flatten(h), 2)


def test_a_second_tower_with_reuse_shares_the_unnamed_layers():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8, 8, 1])
        train_logits = _conv_tower(x, reuse=False)
        eval_logits = _conv_tower(x, reuse=True)
        names = [v.name for v in tf.global_variables()]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = {x: np.random.default_rng(0).random((2, 8, 8, 1), np.float32)}
            a, b = sess.run([train_logits, eval_logits], feed)
    # TF 2.21 creates exactly these six, and names the towers' ops apart.
    assert names == [
        "ConvNet/conv2d/kernel:0",
        "ConvNet/conv2d/bias:0",
        "ConvNet/conv2d_1/kernel:0",
        "ConvNet/conv2d_1/bias:0",
        "ConvNet/dense/kernel:0",
        "ConvNet/dense/bias:0",
    ]
    assert train_logits.name == "ConvNet/dense/BiasAdd:0"
    assert eval_logits.name == "ConvNet_1/dense/BiasAdd:0"
    np.testing.assert_array_equal(a, b)


def test_reentering_a_scope_shares_its_unnamed_layer():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        with tf.variable_scope("net") as scope:
            tf.layers.dense(x, 2)
        with tf.variable_scope(scope, reuse=True):
            tf.layers.dense(x, 2)
        with tf.variable_scope("net", reuse=tf.AUTO_REUSE):
            tf.layers.dense(x, 2)
        names = [v.name for v in tf.global_variables()]
    # TF 2.21: both re-entries share net/dense.
    assert names == ["net/dense/kernel:0", "net/dense/bias:0"]


def test_get_variable_takes_the_dtype_of_a_value_initializer():
    with tf.Graph().as_default():
        counts = tf.get_variable("counts", initializer=tf.constant([1, 2], tf.int32))
        table = tf.get_variable("table", initializer=np.array([1.0, 2.0]))
        scaled = tf.get_variable("scaled", initializer=[0.5, 1.5])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run([counts, table, scaled])
    # TF 2.21: int32, float64 (the array's), float32 (a Python list's).
    assert [counts.dtype, table.dtype, scaled.dtype] == [
        tf.int32,
        tf.float64,
        tf.float32,
    ]
    np.testing.assert_array_equal(values[0], [1, 2])
    assert values[0].dtype == np.int32


def test_a_variable_fetched_with_the_train_op_is_its_new_value():
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable(1.0, name="w")
        loss = tf.square(w)
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(
            loss, global_step=global_step
        )
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            runs = [sess.run([train_op, global_step, w, loss]) for _ in range(3)]
            # A read op (w.value()) is still the value the run started from.
            _, read = sess.run([train_op, w.value()])
    # TF 2.21: steps 1, 2, 3; w after each step; loss from the step's input.
    assert [int(r[1]) for r in runs] == [1, 2, 3]
    np.testing.assert_allclose([r[2] for r in runs], [0.8, 0.64, 0.512], rtol=1e-6)
    np.testing.assert_allclose([r[3] for r in runs], [1.0, 0.64, 0.4096], rtol=1e-6)
    np.testing.assert_allclose(read, 0.512, rtol=1e-6)


def test_logging_hook_logs_the_step_after_the_run(caplog):
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        x = tf.data.Dataset.from_tensor_slices(np.arange(7, dtype=np.float32))
        x = x.make_one_shot_iterator().get_next()
        total = tf.Variable(0.0, name="total")
        with tf.control_dependencies([total.assign_add(x)]):
            train_op = tf.assign_add(global_step, 1)
        hook = tf.train.LoggingTensorHook({"step": global_step, "x": x}, 3)
        with caplog.at_level(logging.INFO, logger="jaxsession"):
            with tf.train.MonitoredSession(hooks=[hook]) as sess:
                while not sess.should_stop():
                    sess.run(train_op)
    lines = [
        r.getMessage().split(" (")[0]
        for r in caplog.records
        if "step =" in r.getMessage()
    ]
    # TF 2.21 logs "step = 1, x = 0.0", "step = 4, x = 1.5"... for the same
    # program over arange(12) * 0.5: the step after the run that read x.
    assert lines == ["step = 1, x = 0.0", "step = 4, x = 3.0", "step = 7, x = 6.0"]


def test_a_hook_may_read_the_step_that_another_fetches_as_a_variable():
    # Hooks' requests share one run: the summary hook's global-step read
    # keeps the start value while a logging hook's Variable gets the new one.
    class StepHook(tf.train.SessionRunHook):
        def __init__(self, fetch):
            self.fetch, self.seen = fetch, []

        def before_run(self, run_context):
            return tf.train.SessionRunArgs(self.fetch)

        def after_run(self, run_context, run_values):
            self.seen.append(int(run_values.results))

    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        train_op = tf.assign_add(global_step, 1)
        as_variable = StepHook(global_step)
        as_read = StepHook(global_step.value())
        with tf.train.MonitoredSession(hooks=[as_variable, as_read]) as sess:
            for _ in range(3):
                sess.run(train_op)
    assert as_variable.seen == [1, 2, 3]
    assert as_read.seen == [0, 1, 2]
