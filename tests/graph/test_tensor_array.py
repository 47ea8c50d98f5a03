"""tf.TensorArray as TF1 loops use it: written and read in tf.while_loop."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors

X = np.arange(15, dtype=np.float32).reshape(5, 3) / 10.0


def test_tensor_array_carries_a_hand_written_rnn_through_while_loop():
    x = tf.placeholder(tf.float32, [5, 3])
    w = tf.get_variable("w", initializer=tf.constant([1.0, 2.0, 3.0]))
    inputs = tf.TensorArray(tf.float32, size=5).unstack(x)
    outputs = tf.TensorArray(tf.float32, size=5, element_shape=[3])

    def body(t, h, out):
        h = h * 0.5 + inputs.read(t) * w
        return t + 1, h, out.write(t, h)

    _, h, outputs = tf.while_loop(
        lambda t, h, out: t < 5,
        body,
        (tf.constant(0), tf.zeros([3]), outputs),
        maximum_iterations=5,
    )
    stacked = outputs.stack()
    assert stacked.shape.as_list() == [5, 3] and outputs.element_shape.as_list() == [3]
    gx, gw = tf.gradients(tf.reduce_sum(stacked), [x, w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, last, got_gx, got_gw = sess.run([stacked, h, gx, gw], {x: X})
    want, acc = [], np.zeros(3, np.float32)
    for row in X:
        acc = acc * 0.5 + row * np.array([1.0, 2.0, 3.0])
        want.append(acc)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(last, want[-1], rtol=1e-6)
    # d sum / d x_t = w * sum_{s >= t} 0.5^(s - t)
    coef = np.array([sum(0.5**k for k in range(5 - t)) for t in range(5)])
    np.testing.assert_allclose(got_gx, coef[:, None] * [1.0, 2.0, 3.0], rtol=1e-5)
    np.testing.assert_allclose(got_gw, (coef[:, None] * X).sum(0), rtol=1e-5)


def test_write_read_gather_scatter_concat_split_size():
    ta = tf.TensorArray(tf.float32, size=3).write(2, [5.0, 6.0]).write(0, [1.0, 2.0])
    sc = tf.TensorArray(tf.float32, size=4).scatter([3, 1], [[1.0, 1.0], [2.0, 2.0]])
    sp = tf.TensorArray(tf.float32, size=2).split(tf.range(6.0), [3, 3])
    fetches = [ta.stack(), ta.read(2), ta.concat(), sc.gather([3, 1]), sp.read(1)]
    with tf.Session() as sess:
        stacked, read, cat, gathered, split = sess.run(fetches)
        assert sess.run(ta.size()) == 3
    np.testing.assert_array_equal(stacked, [[1, 2], [0, 0], [5, 6]])
    np.testing.assert_array_equal(read, [5, 6])
    np.testing.assert_array_equal(cat, [1, 2, 0, 0, 5, 6])
    np.testing.assert_array_equal(gathered, [[1, 1], [2, 2]])
    np.testing.assert_array_equal(split, [3, 4, 5])


def test_tensor_array_errors_name_the_culprit():
    loose = tf.TensorArray(tf.float32, size=4, tensor_array_name="outs")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "TensorArray outs cannot enter a loop: its element shape <unknown>"
        ),
    ):
        tf.while_loop(
            lambda i, t: i < 4, lambda i, t: (i + 1, t.write(i, 1.0)), [0, loose]
        )
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[3])
    with pytest.raises(
        TypeError,
        match="TensorArray dtype is float32 but Op is trying to write dtype int32",
    ):
        ta.write(0, tf.constant([1, 2, 3]))
    with pytest.raises(
        ValueError, match=re.escape("Inconsistent shapes: saw (2,) but expected (3,)")
    ):
        ta.write(0, [1.0, 2.0])
    with pytest.raises(ValueError, match="has size 2 but unstack was given"):
        ta.unstack(tf.zeros([4, 3]))
    with pytest.raises(errors.UnimplementedError, match="dynamic_size=True"):
        tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    with pytest.raises(
        errors.UnimplementedError, match="size must be known while building"
    ):
        tf.TensorArray(tf.float32, size=tf.placeholder(tf.int32, []))
