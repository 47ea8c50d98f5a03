"""Average pooling: border windows, gradients, and no device-side window counts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsession as tf
from jaxsession.engine.lower import lower_plan
from jaxsession.engine.plan import make_plan

# tf.nn.avg_pool of arange(210).reshape(2, 5, 7, 3), ksize [1, 3, 2, 1],
# strides [1, 2, 3, 1], computed by TensorFlow 2.21 (tf.compat.v1).
SAME_0_0 = [[12.0, 21.0, 28.5], [43.5, 52.5, 60.0], [75.0, 84.0, 91.5]]
VALID_1_2 = [[129.5, 138.5], [171.5, 180.5]]
GRAD_ROW = [0.25, 0.25, 0.0, 0.25, 0.25, 0.0, 0.5]  # d sum(SAME) / dx[0, 0, :, 0]
GRAD_COL = [0.25, 5 / 12, 1 / 6, 5 / 12, 0.25]  # d sum(SAME) / dx[0, :, 0, 0]


def _pools():
    x = tf.constant(np.arange(210, dtype=np.float32).reshape(2, 5, 7, 3))
    same = tf.nn.avg_pool(x, [1, 3, 2, 1], [1, 2, 3, 1], "SAME")
    valid = tf.nn.avg_pool(x, [1, 3, 2, 1], [1, 2, 3, 1], "VALID")
    return x, same, valid


def test_border_windows_average_only_their_valid_elements_as_tf1():
    x, same, valid = _pools()
    grad = tf.gradients(tf.reduce_sum(same), x)[0]
    with tf.Session() as sess:
        s, v, g = sess.run([same, valid, grad])
    assert s.shape == (2, 3, 3, 3) and v.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(s[0, :, :, 0], SAME_0_0, rtol=1e-6)
    np.testing.assert_allclose(v[1, :, :, 2], VALID_1_2, rtol=1e-6)
    np.testing.assert_allclose(g[0, 0, :, 0], GRAD_ROW, rtol=1e-6)
    np.testing.assert_allclose(g[0, :, 0, 0], GRAD_COL, rtol=1e-6)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_the_window_counts_are_not_computed_on_the_device(padding):
    # Counting on the device reduces an array of ones the input's size, a
    # constant XLA folds at every compile (seconds for a GAN's feature maps).
    x = tf.placeholder(tf.float32, [32, 24, 24, 64])
    pooled = tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], padding)
    fn = lower_plan(make_plan([pooled], [], [x]))
    jaxpr = jax.make_jaxpr(fn)(
        (), (), (jnp.zeros((32, 24, 24, 64), jnp.float32),), jax.random.key(0)
    )
    assert str(jaxpr).count("reduce_window_sum") == 1
