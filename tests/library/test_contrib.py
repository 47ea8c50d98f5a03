"""tf.contrib.layers and tf.contrib.rnn as TF1 programs call them.

TF 2 has no contrib, so no golden: the names and formulas are TF1's
(contrib/layers/python/layers/{layers,initializers,regularizers}.py).
"""

import math

import numpy as np
import pytest

import jaxsession as tf


def _names(collection):
    return [v.name for v in tf.get_collection(collection)]


def test_fully_connected_names_values_and_collections():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    h = tf.contrib.layers.fully_connected(
        x,
        2,
        weights_initializer=tf.constant_initializer([[1, -1], [2, -2], [3, -3]]),
        biases_initializer=tf.constant_initializer(0.5),
    )
    tf.contrib.layers.fully_connected(h, 4, activation_fn=None)
    named = tf.contrib.layers.fully_connected(x, 5, scope="fc")
    assert h.shape.as_list() == [None, 2]
    assert named.shape.as_list() == [None, 5]
    want = [
        "fully_connected/weights:0",
        "fully_connected/biases:0",
        "fully_connected_1/weights:0",
        "fully_connected_1/biases:0",
        "fc/weights:0",
        "fc/biases:0",
    ]
    assert _names(tf.GraphKeys.TRAINABLE_VARIABLES) == want
    assert _names(tf.GraphKeys.MODEL_VARIABLES) == want
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(h, {x: [[1.0, 1.0, 1.0], [-1.0, 0.0, 0.0]]})
    np.testing.assert_allclose(got, [[6.5, 0.0], [0.0, 1.5]])  # ReLU by default


def test_fully_connected_rank3_reuse_normalizer_and_regularizer():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    y = tf.contrib.layers.fully_connected(
        x,
        6,
        scope="shared",
        weights_regularizer=tf.contrib.layers.l2_regularizer(0.1),
        weights_initializer=tf.ones_initializer(),
    )
    again = tf.contrib.layers.fully_connected(x, 6, scope="shared", reuse=True)
    tf.contrib.layers.fully_connected(
        x, 3, normalizer_fn=tf.identity, activation_fn=None, scope="normed"
    )
    assert y.shape.as_list() == [2, 3, 6]
    assert [v.name for v in tf.trainable_variables()] == [
        "shared/weights:0",
        "shared/biases:0",
        "normed/weights:0",  # a normalizer replaces the biases
    ]
    (penalty,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([y, again], {x: np.ones((2, 3, 4), np.float32)})
        np.testing.assert_allclose(a, np.full((2, 3, 6), 4.0))
        np.testing.assert_allclose(b, a)
        assert sess.run(penalty) == pytest.approx(0.1 * 24 / 2)
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        tf.contrib.layers.fully_connected(tf.zeros([4]), 2)
    bad = tf.placeholder(tf.float32, [2, None], name="bad")
    with pytest.raises(ValueError, match="inputs 'bad:0', shape \\(2, \\?\\)"):
        tf.contrib.layers.fully_connected(bad, 2)


def test_xavier_and_variance_scaling_spreads():
    fan_in, fan_out = 400, 200
    shape = [fan_in, fan_out]
    uniform = tf.get_variable(
        "u", shape, initializer=tf.contrib.layers.xavier_initializer(seed=1)
    )
    normal = tf.get_variable(
        "n", shape, initializer=tf.contrib.layers.xavier_initializer(False, seed=2)
    )
    he = tf.get_variable(
        "he", shape, initializer=tf.contrib.layers.variance_scaling_initializer(seed=3)
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        u, n, h = sess.run([uniform, normal, he])
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(u).max() <= limit and np.abs(u).max() > 0.99 * limit
    # Truncated at two stddevs of sqrt(1.3 * factor / n).
    std = math.sqrt(1.3 * 2.0 / (fan_in + fan_out))
    assert np.abs(n).max() <= 2 * std * 1.0001
    assert n.std() == pytest.approx(std * 0.8796, rel=0.02)
    assert h.std() == pytest.approx(math.sqrt(1.3 * 2.0 / fan_in) * 0.8796, rel=0.02)
    with pytest.raises(TypeError, match=r"Unknown mode FAN_MAX \[FAN_IN"):
        tf.contrib.layers.variance_scaling_initializer(mode="FAN_MAX")
    non_float = "Cannot create initializer for non-floating point type"
    with pytest.raises(TypeError, match=non_float + r" \(int32\)"):
        tf.contrib.layers.xavier_initializer(dtype=tf.int32)
    with pytest.raises(TypeError, match=non_float):
        tf.get_variable("i", [2, 2], tf.int32, tf.contrib.layers.xavier_initializer())


def test_apply_regularization_sums_the_weights_collection():
    w1 = tf.Variable([1.0, 2.0], name="w1")
    w2 = tf.Variable([[3.0]], name="w2")
    with pytest.raises(ValueError, match=r"^No weights to regularize\.$"):
        tf.contrib.layers.apply_regularization(tf.contrib.layers.l1_regularizer(1.0))
    tf.add_to_collection(tf.GraphKeys.WEIGHTS, w1)
    total = tf.contrib.layers.apply_regularization(
        tf.contrib.layers.l1_regularizer(0.5)
    )
    both = tf.contrib.layers.apply_regularization(
        tf.contrib.layers.l2_regularizer(1.0), [w1, w2]
    )
    assert total.name == "get_regularization_penalty:0"
    assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == [total, both]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(total) == pytest.approx(1.5)
        assert sess.run(both) == pytest.approx((1 + 4 + 9) / 2)
    with pytest.raises(
        ValueError, match="scalar Tensor instead of a Tensor with rank 1"
    ):
        tf.contrib.layers.apply_regularization(tf.abs, [w1])


def test_contrib_static_rnn_over_an_unstacked_batch():
    # The classic "unstack, static_rnn, pick the last output" program.
    x = tf.placeholder(tf.float32, [None, 5, 1])
    seqlen = tf.placeholder(tf.int32, [None])
    cell = tf.contrib.rnn.BasicLSTMCell(8)
    outputs, state = tf.contrib.rnn.static_rnn(
        cell, tf.unstack(x, 5, 1), dtype=tf.float32, sequence_length=seqlen
    )
    assert len(outputs) == 5 and isinstance(state, tf.contrib.rnn.LSTMStateTuple)
    stacked = tf.transpose(tf.stack(outputs), [1, 0, 2])
    index = tf.range(0, tf.shape(stacked)[0]) * 5 + (seqlen - 1)
    last = tf.gather(tf.reshape(stacked, [-1, 8]), index)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {x: np.random.default_rng(0).random((3, 5, 1)), seqlen: [5, 2, 3]}
        got_last, got_h = sess.run([last, state.h], feed)
    # Past its length a sequence keeps its state: h is the last real output.
    np.testing.assert_allclose(got_last, got_h, rtol=1e-6)


def test_contrib_streaming_accuracy_takes_predictions_first():
    # The XOR tutorial's pattern: bool predictions against int32 labels.
    predictions = tf.placeholder(tf.bool, [4])
    labels = tf.placeholder(tf.int32, [4])
    accuracy, update = tf.contrib.metrics.streaming_accuracy(predictions, labels)
    assert accuracy.name == "accuracy/value:0"
    assert update.name == "accuracy/update_op:0"
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        y = [1, 0, 0, 1]
        sess.run(update, {predictions: [True, False, True, True], labels: y})
        assert sess.run(accuracy) == pytest.approx(0.75)
        sess.run(update, {predictions: [False] * 4, labels: y})
        assert sess.run(accuracy) == pytest.approx(5 / 8)


@pytest.mark.parametrize(
    "streaming, metric",
    [
        ("streaming_precision", "precision"),
        ("streaming_recall", "recall"),
        ("streaming_auc", "auc"),
        ("streaming_mean_squared_error", "mean_squared_error"),
        ("streaming_mean_absolute_error", "mean_absolute_error"),
        ("streaming_root_mean_squared_error", "root_mean_squared_error"),
    ],
)
def test_contrib_streaming_metrics_are_tf_metrics_with_the_arguments_swapped(
    streaming, metric
):
    predictions = tf.constant([0.9, 0.2, 0.7, 0.4])
    labels = tf.constant([1.0, 0.0, 0.0, 1.0])
    ours = getattr(tf.contrib.metrics, streaming)(predictions, labels)
    theirs = getattr(tf.metrics, metric)(labels=labels, predictions=predictions)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run([ours[1], theirs[1]])
        got, want = sess.run([ours[0], theirs[0]])
    assert got == pytest.approx(want) and want != 0


def test_contrib_streaming_mean_is_tf_metrics_mean():
    mean, update = tf.contrib.metrics.streaming_mean(tf.constant([1.0, 2.0, 6.0]))
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(update)
        assert sess.run(mean) == pytest.approx(3.0)


def test_linear_is_fully_connected_without_an_activation():
    # ematvey's seq2seq tutorial projects [time, batch, units] decoder outputs.
    x = tf.constant([[[1.0, -2.0]], [[-3.0, 0.5]]])
    logits = tf.contrib.layers.linear(
        x, 3, weights_initializer=tf.constant_initializer([[1, 0, -1], [2, 1, 0]])
    )
    relu = tf.contrib.layers.linear(x, 3, activation_fn=tf.nn.relu, scope="again")
    assert logits.shape.as_list() == [2, 1, 3]
    assert [v.name for v in tf.global_variables()][:2] == [
        "fully_connected/weights:0",
        "fully_connected/biases:0",
    ]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, activated = sess.run([logits, relu])
    np.testing.assert_allclose(got, [[[-3.0, -2.0, -1.0]], [[-2.0, 0.5, 3.0]]])
    assert activated.min() >= 0.0
