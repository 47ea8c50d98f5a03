"""tf.scan, tf.foldl, tf.foldr and tf.map_fn: values, gradients, state, errors."""

import re

import numpy as np
import pytest

import jaxsession as tf

X = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_scan_accumulates_and_is_one_op_whatever_the_length():
    x = tf.placeholder(tf.float32, [None, 3])
    out = tf.scan(lambda a, e: a * 0.5 + e, x, initializer=tf.zeros([3]))
    assert out.shape.as_list() == [None, 3]
    ops = tf.get_default_graph().get_operations()
    assert [op.type for op in ops].count("Scan") == 1
    want, acc = [], np.zeros(3, np.float32)
    for row in X:
        acc = acc * 0.5 + row
        want.append(acc)
    np.testing.assert_allclose(_run(out, {x: X}), want, rtol=1e-6)
    np.testing.assert_allclose(_run(out, {x: X[:2]}), want[:2], rtol=1e-6)


def test_scan_without_initializer_and_reversed():
    x = tf.constant(X)
    fwd = tf.scan(lambda a, e: a + e, x)
    rev = tf.scan(lambda a, e: a + e, x, reverse=True)
    got_fwd, got_rev = _run([fwd, rev])
    np.testing.assert_allclose(got_fwd, np.cumsum(X, 0), rtol=1e-6)
    np.testing.assert_allclose(got_rev, np.cumsum(X[::-1], 0)[::-1], rtol=1e-6)


def test_gradient_flows_through_scan_to_elems_and_variables():
    w = tf.get_variable("w", initializer=tf.constant([0.5, 1.0, 2.0]))
    x = tf.placeholder(tf.float32, [4, 3])
    out = tf.scan(lambda a, e: a * w + e, x, initializer=tf.ones([3]))
    loss = tf.reduce_sum(out[-1])
    gx, gw = tf.gradients(loss, [x, w])
    got_x, got_w = _run([gx, gw], {x: X})
    wv = np.array([0.5, 1.0, 2.0])
    # final = w^4 + sum_t w^(3-t) x_t: d/dx_t = w^(3-t)
    np.testing.assert_allclose(got_x, [wv**3, wv**2, wv, np.ones(3)], rtol=1e-5)
    want_w = 4 * wv**3 + sum((3 - t) * wv ** (2 - t) * X[t] for t in range(3))
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5)


def test_training_through_scan_reduces_the_loss():
    w = tf.get_variable("w", [3], initializer=tf.zeros_initializer())
    out = tf.foldl(lambda a, e: a + w * e, tf.constant(X), initializer=tf.zeros([3]))
    loss = tf.reduce_sum(tf.square(out - 1.0))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(20):
            sess.run(train)
        assert sess.run(loss) < first * 0.01


def test_scan_step_may_assign_variables_and_draw_new_numbers_each_step():
    count = tf.get_variable("count", initializer=0.0)

    def step(a, e):
        with tf.control_dependencies([count.assign_add(1.0)]):
            return a + e + tf.random_uniform([]) * 0.0

    out = tf.scan(step, tf.constant(X), initializer=tf.zeros([3]))
    noise = tf.map_fn(lambda e: tf.random_uniform([]), tf.constant(X))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(out), np.cumsum(X, 0), rtol=1e-6)
        assert sess.run(count) == 4.0
        drawn = sess.run(noise)
    assert len(set(drawn.tolist())) == 4


def test_folds_nested_elems_and_initializers():
    a, b = tf.constant(X), tf.constant(X * 2)
    left = tf.foldl(lambda acc, e: (acc[0] + e[0], acc[1] * 0.0 + e[1]), (a, b))
    right = tf.foldr(lambda acc, e: acc * 2.0 + e, a)
    (l0, l1), r = _run([left, right])
    np.testing.assert_allclose(l0, X.sum(0), rtol=1e-6)
    np.testing.assert_allclose(l1, X[-1] * 2, rtol=1e-6)
    want = X[-1]
    for row in X[-2::-1]:
        want = want * 2.0 + row
    np.testing.assert_allclose(r, want, rtol=1e-6)


def test_map_fn_with_other_output_dtypes():
    x = tf.constant(X)
    sums, signs = tf.map_fn(
        lambda e: (tf.reduce_sum(e), tf.cast(e[0] > 0.2, tf.int32)),
        x,
        dtype=(tf.float32, tf.int32),
    )
    got_sums, got_signs = _run([sums, signs])
    np.testing.assert_allclose(got_sums, X.sum(1), rtol=1e-6)
    np.testing.assert_array_equal(got_signs, (X[:, 0] > 0.2).astype(np.int32))


def test_loop_errors_name_the_culprit():
    x = tf.constant(X)
    with pytest.raises(
        ValueError, match="must be 1\\+ dimensional Tensors, not scalars"
    ):
        tf.scan(lambda a, e: a + e, tf.constant(1.0))
    with pytest.raises(ValueError, match="same leading dimension: 4 and 2"):
        tf.map_fn(lambda e: e[0] + e[1], (x, tf.constant(X[:2])), dtype=tf.float32)
    with pytest.raises(ValueError, match="fn must return the same structure"):
        tf.scan(lambda a, e: (a, a), x, initializer=tf.zeros([3]))
    with pytest.raises(TypeError, match=re.escape("enters the loop with type float32")):
        tf.scan(lambda a, e: tf.cast(a, tf.int32), x, initializer=tf.zeros([3]))
    with pytest.raises(ValueError, match="has shape \\(2,\\) after one iteration"):
        tf.scan(lambda a, e: e[:2], x, initializer=tf.zeros([3]))
    with pytest.raises(TypeError, match="but dtype says int32"):
        tf.map_fn(lambda e: e * 2.0, x, dtype=tf.int32)
