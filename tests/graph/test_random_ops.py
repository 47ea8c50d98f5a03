"""Random ops: TF1 seed rules, run-to-run behaviour, distributions, shapes."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors

# A shape op whose value is NumPy when traced, as tf.shape's is.
shape_of = tf.jax_op(lambda x: np.array(x.shape, np.int32), op_type="Shape")


def _sequence(build, runs=3, graph_seed=None):
    graph = tf.Graph()
    with graph.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        out = build()
    with tf.Session(graph=graph) as sess:
        return [sess.run(out) for _ in range(runs)]


def _two_normals():
    return [tf.random_normal([4]), tf.random_uniform([3], seed=7)]


def test_graph_seed_gives_same_sequence_in_fresh_graphs_and_new_numbers_per_run():
    first = _sequence(_two_normals, graph_seed=42)
    second = _sequence(_two_normals, graph_seed=42)
    other = _sequence(_two_normals, graph_seed=43)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(first[0][0], first[1][0])
    assert not np.array_equal(first[1][1], first[2][1])
    assert not np.array_equal(first[0][0], other[0][0])


def test_op_seeds_without_graph_seed_are_reproducible_and_distinguish_ops():
    def build():
        return [
            tf.random_normal([6], seed=1),
            tf.random_normal([6], seed=1),
            tf.random_normal([6], seed=2),
        ]

    runs = _sequence(build, runs=2)
    again = _sequence(build, runs=2)
    a, same, b = runs[0]
    # TF1: equal graph and op seeds give equal numbers; other op seeds differ.
    np.testing.assert_array_equal(a, same)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(runs[1][2], again[1][2])


def test_normal_truncated_and_uniform_statistics():
    normal = tf.random_normal([20000], mean=2.0, stddev=3.0, seed=1)
    trunc = tf.truncated_normal([20000], mean=-1.0, stddev=0.5, seed=2)
    uni = tf.random_uniform([20000], minval=-2.0, maxval=6.0, seed=3)
    ints = tf.random_uniform([5000], minval=3, maxval=7, dtype=tf.int64, seed=4)
    assert ints.dtype is tf.int64 and normal.shape.as_list() == [20000]
    with tf.Session() as sess:
        n, t, u, i = sess.run([normal, trunc, uni, ints])
    assert abs(n.mean() - 2.0) < 0.1 and abs(n.std() - 3.0) < 0.1
    assert t.min() >= -2.0 and t.max() <= 0.0
    # Std of a standard normal cut at +-2 is about 0.88.
    assert abs(t.mean() + 1.0) < 0.02 and abs(t.std() - 0.5 * 0.8796) < 0.02
    assert u.min() >= -2.0 and u.max() < 6.0 and abs(u.mean() - 2.0) < 0.1
    assert i.dtype == np.int64 and set(np.unique(i)) == {3, 4, 5, 6}


def test_float64_and_tensor_parameters():
    mean = tf.constant([0.0, 100.0], dtype=tf.float64)
    x = tf.random_normal([1000, 2], mean=mean, stddev=0.1, dtype=tf.float64, seed=5)
    assert x.dtype is tf.float64 and x.shape.as_list() == [1000, 2]
    with tf.Session() as sess:
        v = sess.run(x)
    assert v.dtype == np.float64
    np.testing.assert_allclose(v.mean(axis=0), [0.0, 100.0], atol=0.02)


def test_shape_from_tensor_known_at_build_or_only_at_trace_time():
    x = tf.placeholder(tf.float32, [None, 3])
    known = tf.random_normal(tf.constant([2, 5]))
    dynamic = tf.random_uniform(shape_of(x), seed=1)
    gamma = tf.random_gamma(shape_of(x), [1.0, 2.0], seed=2)
    assert known.shape.as_list() == [2, 5]
    assert dynamic.shape.as_list() == [None, 3]  # tf.shape(x) keeps x's 3, as TF1
    assert gamma.shape.as_list() == [None, 3, 2]
    with tf.Session() as sess:
        k, d, g = sess.run([known, dynamic, gamma], {x: np.zeros((4, 3), np.float32)})
    assert k.shape == (2, 5) and d.shape == (4, 3) and g.shape == (4, 3, 2)


def test_shape_computed_on_device_is_an_error_naming_the_op():
    n = tf.placeholder(tf.int32, [2])
    r = tf.random_uniform(n, name="draw")
    assert r.shape.as_list() == [None, None]
    msg = (
        "RandomUniform: the shape must be known when the run is traced (a constant or "
        "computed from tf.shape), not computed on the device."
    )
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError) as info:
        sess.run(r, {n: [2, 2]})
    assert "<tf.Operation 'draw' type=RandomUniform>" in str(info.value)
    assert msg in str(info.value)


def test_argument_errors():
    with pytest.raises(
        ValueError, match=re.escape("Must specify maxval for integer dtype int32")
    ):
        tf.random_uniform([2], dtype=tf.int32)
    with pytest.raises(
        ValueError, match=re.escape("Invalid dtype int32 for random_normal")
    ):
        tf.random_normal([2], dtype=tf.int32)
    with pytest.raises(
        ValueError, match=re.escape("Shape must be rank 1 but is rank 2")
    ):
        tf.truncated_normal([[2, 3]])


def test_random_shuffle_permutes_rows_differently_per_run():
    value = np.arange(40, dtype=np.float32).reshape(20, 2)
    shuffled = tf.random_shuffle(value, seed=3)
    assert shuffled.shape.as_list() == [20, 2]
    with tf.Session() as sess:
        a, b = sess.run(shuffled), sess.run(shuffled)
    for s in (a, b):
        np.testing.assert_array_equal(s[np.argsort(s[:, 0])], value)
        np.testing.assert_array_equal(s[:, 1], s[:, 0] + 1)
    assert not np.array_equal(a, b)


def test_multinomial_draws_only_likely_classes():
    logits = np.log(np.array([[0.5, 0.5, 1e-12], [1e-12, 1e-12, 1.0]], np.float32))
    draws = tf.multinomial(logits, 500, seed=1)
    assert draws.dtype is tf.int64 and draws.shape.as_list() == [2, 500]
    with tf.Session() as sess:
        d = sess.run(draws)
    assert set(np.unique(d[0])) == {0, 1} and set(np.unique(d[1])) == {2}
    assert abs((d[0] == 0).mean() - 0.5) < 0.1


def test_random_gamma_mean_is_alpha_over_beta():
    g = tf.random_gamma([20000], alpha=[2.0, 9.0], beta=[1.0, 3.0], seed=4)
    assert g.shape.as_list() == [20000, 2]
    with tf.Session() as sess:
        v = sess.run(g)
    np.testing.assert_allclose(v.mean(axis=0), [2.0, 3.0], rtol=0.05)
    assert v.min() > 0


def test_shape_given_as_tf_shape_keeps_the_known_dims():
    # TF1 folds the partially known value of tf.shape(x) into the static shape.
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.random_uniform(tf.shape(x)).shape.as_list() == [None, 3]
    assert tf.random_normal(tf.shape(x)).shape.as_list() == [None, 3]
    assert tf.truncated_normal(tf.shape(x)).shape.as_list() == [None, 3]
    packed = tf.random_normal(tf.stack([tf.shape(x)[1], 5]))
    assert packed.shape.as_list() == [3, 5]
    u = tf.random_uniform(tf.shape(x))
    with tf.Session() as sess:
        got = sess.run(u, {x: np.zeros((4, 3), np.float32)})
    assert got.shape == (4, 3)
