"""A run fetching a loss and its train op evaluates the loss's forward loop once."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxsession as tf
from jaxsession.engine.lower import lower_plan
from jaxsession.engine.plan import make_plan


def _rnn_model():
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [4, 7, 3], name="x")
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    out, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    loss = tf.reduce_mean(tf.square(out))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    return x, loss, train


def _while_loops(fetches, targets, fed):
    """The number of XLA while loops in the optimized program of one run."""
    plan = make_plan(fetches, targets, fed)
    fn = lower_plan(plan)
    state = [jnp.zeros(v.shape.as_list(), v.dtype.jax_dtype) for v in plan.rw_vars]
    ro = [jnp.zeros(v.shape.as_list(), v.dtype.jax_dtype) for v in plan.ro_vars]
    feeds = [jnp.zeros(t.shape.as_list(), t.dtype.jax_dtype) for t in plan.feeds]
    text = (
        jax.jit(fn)
        .lower(tuple(state), tuple(ro), tuple(feeds), jax.random.key(0))
        .compile()
        .as_text()
    )
    return text.count(" while(")


def test_fetching_the_loss_with_the_train_op_adds_no_loop():
    x, loss, train = _rnn_model()
    alone = _while_loops([], [train], [x])
    both = _while_loops([loss], [train], [x])
    assert both == alone  # forward (with residuals) and backward, not a third


def test_the_loss_fetched_with_the_train_op_is_the_loss_before_the_update():
    x, loss, train = _rnn_model()
    xv = np.random.default_rng(0).standard_normal((4, 7, 3)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(loss, {x: xv})
        fetched, _ = sess.run([loss, train], {x: xv})
        after = sess.run(loss, {x: xv})
    np.testing.assert_allclose(fetched, before, rtol=1e-6)
    assert after < before


def test_a_dropout_loss_fetched_with_its_gradient_uses_the_same_draw():
    # The fetched loss and the gradient come from one draw: d(loss)/dw for
    # loss = sum(dropout(w)) is the dropout mask scaled, whose sum matches.
    w = tf.Variable(tf.ones([1000]))
    loss = tf.reduce_sum(tf.nn.dropout(w, keep_prob=0.5))
    (grad,) = tf.gradients(loss, [w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            value, g = sess.run([loss, grad])
            np.testing.assert_allclose(value, g.sum(), rtol=1e-5)
