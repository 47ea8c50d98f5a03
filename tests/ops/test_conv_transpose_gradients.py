"""Gradients of transposed convolutions: direct rules, equal to JAX's derivative.

``conv2d_transpose`` is the adjoint of the forward convolution; its
gradients use the forward convolution and its filter gradient directly
(``ops/conv_variants._adjoint_of``) instead of JAX's derivative of the
adjoint, which XLA:CPU runs far slower. The values must not change: each is
checked here against that derivative in raw JAX; TF1's values are in the
conv goldens.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import jaxsession as tf

CASES = [
    # (input NHWC, filter [h, w, out, in], output shape, strides, padding)
    ((2, 3, 3, 4), (3, 3, 5, 4), (2, 6, 6, 5), 2, "SAME"),
    ((2, 3, 3, 4), (2, 2, 5, 4), (2, 6, 6, 5), 2, "VALID"),
    ((1, 4, 5, 2), (4, 4, 3, 2), (1, 8, 10, 3), 2, "SAME"),
    ((1, 4, 4, 2), (3, 3, 3, 2), (1, 4, 4, 3), 1, "SAME"),
    ((1, 3, 3, 2), (3, 3, 3, 2), (1, 9, 9, 3), 3, "VALID"),
]


def _reference(x, w, shape, stride, padding):
    """JAX's own derivative of the adjoint (the rule this replaces)."""

    def adjoint(x, w):
        def forward(y):
            return lax.conv_general_dilated(
                y,
                w,
                (stride, stride),
                padding,
                dimension_numbers=("NHWC", "HWIO", "NHWC"),
            )

        return jax.vjp(forward, jnp.zeros(shape, x.dtype))[1](x)[0]

    return adjoint


@pytest.mark.parametrize(("xs", "ws", "shape", "stride", "padding"), CASES)
def test_first_and_second_order_gradients_equal_jaxs_derivative(
    xs, ws, shape, stride, padding
):
    rng = np.random.default_rng(0)
    xv = rng.normal(size=xs).astype(np.float32)
    wv = rng.normal(size=ws).astype(np.float32)
    gv = rng.normal(size=shape).astype(np.float32)
    x, w = tf.constant(xv), tf.constant(wv)
    y = tf.nn.conv2d_transpose(x, w, list(shape), [1, stride, stride, 1], padding)
    loss = tf.reduce_sum(y * gv) + 0.5 * tf.reduce_sum(tf.square(y))
    gx, gw = tf.gradients(loss, [x, w])
    # A second order: the filter gradient's sum, differentiated in x.
    (gwx,) = tf.gradients(tf.reduce_sum(tf.square(gw)), [x])
    with tf.Session() as sess:
        got = sess.run([y, gx, gw, gwx])

    adjoint = _reference(xv, wv, shape, stride, padding)

    def ref_loss(x, w):
        out = adjoint(x, w)
        return jnp.sum(out * gv) + 0.5 * jnp.sum(jnp.square(out))

    want_gx, want_gw = jax.grad(ref_loss, (0, 1))(xv, wv)
    want_gwx = jax.grad(lambda x: jnp.sum(jnp.square(jax.grad(ref_loss, 1)(x, wv))))(xv)
    want = [adjoint(xv, wv), want_gx, want_gw, want_gwx]
    for name, a, b in zip(["value", "d/dx", "d/dfilter", "second order"], got, want):
        b = np.asarray(b)
        np.testing.assert_allclose(
            a, b, rtol=2e-5, atol=2e-5 * np.abs(b).max(), err_msg=name
        )


def test_hessians_through_a_transposed_convolution():
    rng = np.random.default_rng(1)
    xv = rng.normal(size=(1, 2, 2, 1)).astype(np.float32)
    wv = rng.normal(size=(2, 2, 1, 1)).astype(np.float32)
    w = tf.constant(wv)
    y = tf.nn.conv2d_transpose(tf.constant(xv), w, [1, 4, 4, 1], [1, 2, 2, 1], "SAME")
    (h,) = tf.hessians(tf.reduce_sum(tf.square(y)) * tf.reduce_sum(w), w)
    with tf.Session() as sess:
        got = sess.run(h)
    adjoint = _reference(xv, wv, (1, 4, 4, 1), 2, "SAME")
    want = jax.hessian(lambda w: jnp.sum(jnp.square(adjoint(xv, w))) * jnp.sum(w))(wv)
    assert got.shape == (2, 2, 1, 1, 2, 2, 1, 1)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-4, atol=1e-5)
