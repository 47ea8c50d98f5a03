"""tf.nn.lrn against a NumPy loop of TF1's formula and finite differences."""

import re

import numpy as np
import pytest

import jaxsession as tf

RNG = np.random.default_rng(3)


def _np_lrn(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    """TF1's documented formula, one channel at a time, in float64."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    depth = x.shape[-1]
    for d in range(depth):
        lo, hi = max(0, d - depth_radius), min(depth, d + depth_radius + 1)
        sqr_sum = np.sum(x[..., lo:hi] ** 2, axis=-1)
        out[..., d] = x[..., d] / (bias + alpha * sqr_sum) ** beta
    return out


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"depth_radius": 0},
        {"depth_radius": 2, "bias": 2.0, "alpha": 1e-1, "beta": 0.75},
        {"depth_radius": 9, "bias": 0.5, "alpha": 3.0, "beta": 1.5},
    ],
)
def test_lrn_matches_tf1_formula(params):
    x_val = RNG.normal(size=(2, 3, 2, 7)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3, 2, 7])
    y = tf.nn.lrn(x, **params)
    assert y.shape.as_list() == [None, 3, 2, 7]
    with tf.Session() as sess:
        got = sess.run(y, {x: x_val})
    np.testing.assert_allclose(got, _np_lrn(x_val, **params), rtol=1e-5, atol=1e-6)


def test_lrn_gradient_matches_finite_differences():
    params = {"depth_radius": 2, "bias": 1.5, "alpha": 0.3, "beta": 0.75}
    x_val = RNG.normal(size=(1, 2, 2, 6))
    weights = RNG.normal(size=x_val.shape)
    x = tf.placeholder(tf.float32, x_val.shape)
    y = tf.nn.local_response_normalization(x, **params)
    (grad,) = tf.gradients(tf.reduce_sum(y * weights.astype(np.float32)), [x])
    with tf.Session() as sess:
        got = sess.run(grad, {x: x_val.astype(np.float32)})

    def objective(v):
        return np.sum(_np_lrn(v, **params) * weights)

    want = np.zeros_like(x_val)
    eps = 1e-6
    for i in np.ndindex(x_val.shape):
        step = np.zeros_like(x_val)
        step[i] = eps
        want[i] = (objective(x_val + step) - objective(x_val - step)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_lrn_op_alias_and_half_precision():
    x_val = RNG.normal(size=(1, 1, 2, 4)).astype(np.float16)
    y = tf.nn.lrn(tf.constant(x_val), depth_radius=1, name="norm")
    assert tf.nn.local_response_normalization is tf.nn.lrn
    assert (y.op.type, y.name, y.dtype) == ("LRN", "norm:0", tf.float16)
    with tf.Session() as sess:
        got = sess.run(y)
    assert got.dtype == np.float16
    np.testing.assert_allclose(
        got.astype(np.float32), _np_lrn(x_val, depth_radius=1), rtol=2e-3, atol=2e-3
    )


def test_lrn_rejects_non_4d_input_naming_it():
    x = tf.placeholder(tf.float32, [2, 3, 4], name="feature_map")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Shape must be rank 4 but is rank 3 for 'LRN' (op: 'LRN') with input "
            f"shapes: [2,3,4]: {x!r} must be a 4-D NHWC tensor."
        ),
    ):
        tf.nn.lrn(x)
    with pytest.raises(
        ValueError, match=re.escape("depth_radius must be >= 0, got -1 for 'LRN'")
    ):
        tf.nn.lrn(tf.zeros([1, 1, 1, 3]), depth_radius=-1)
