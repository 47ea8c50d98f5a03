"""tf.gradients / tf.hessians against jax.grad, jax.vjp and jax.hessian."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsession as tf

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
W = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], np.float32)
C = np.array([1.0, -0.5], np.float32)

tsum = tf.jax_op(jnp.sum)
tanh = tf.jax_op(jnp.tanh)
square = tf.jax_op(jnp.square)


def _run(fetches, feeds=None):
    init = tf.global_variables_initializer()
    tf.get_default_graph().finalize()  # runs check_graph on the new ops
    with tf.Session() as sess:
        sess.run(init)
        return sess.run(fetches, feeds)


def test_gradients_of_an_expression_match_jax_grad():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(W, name="w")
    y = tf.add(tsum(tf.multiply(tanh(tf.matmul(x, w)), C)), tsum(square(x)))
    gw, gx = tf.gradients(y, [w, x])

    def f(w, x):
        return jnp.sum(jnp.tanh(x @ w) * C) + jnp.sum(jnp.square(x))

    want_w, want_x = jax.grad(f, (0, 1))(W, X)
    got_w, got_x = _run([gw, gx], {x: X})
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_x, want_x, rtol=1e-5, atol=1e-6)
    assert gw.shape.as_list() == [3, 2] and gx.shape.as_list() == [None, 3]
    assert [op.type for op in tf.get_default_graph().get_operations()].count(
        "Gradients"
    ) == 1


def test_variable_gradient_sums_over_all_its_reads():
    w = tf.Variable(np.array([1.0, 2.0, 3.0], np.float32), name="w")
    with tf.control_dependencies([tf.no_op()]):
        r = w.value()  # a separate w/read op
    assert r.op is not w.op
    y = tf.add(tsum(tf.multiply(w, w)), tsum(tf.multiply(r, 3.0)))
    (g,) = tf.gradients(y, w)
    np.testing.assert_allclose(_run(g), 2 * np.array([1.0, 2.0, 3.0]) + 3.0)


def test_several_ys_are_summed_and_grad_ys_weight_them():
    x = tf.constant(np.array([1.0, -2.0, 0.5], np.float32))
    y1 = tanh(x)
    y2 = tf.multiply(x, x)
    gy1 = np.array([0.5, 2.0, -1.0], np.float32)
    g_default, g_weighted = (
        tf.gradients([y1, y2], x)[0],
        tf.gradients([y1, y2], x, grad_ys=[gy1, None])[0],
    )
    xv = np.array([1.0, -2.0, 0.5], np.float32)
    _, vjp = jax.vjp(lambda x: (jnp.tanh(x), x * x), xv)
    want_default = vjp((np.ones(3, np.float32), np.ones(3, np.float32)))[0]
    want_weighted = vjp((gy1, np.ones(3, np.float32)))[0]
    got = _run([g_default, g_weighted])
    np.testing.assert_allclose(got[0], want_default, rtol=1e-6)
    np.testing.assert_allclose(got[1], want_weighted, rtol=1e-6)


def test_unconnected_and_integer_xs_give_none_or_zeros():
    a = tf.placeholder(tf.float32, [2], name="a")
    b = tf.placeholder(tf.float32, [2], name="b")
    n = tf.placeholder(tf.int32, [2], name="n")
    y = tf.multiply(a, 2.0)
    assert tf.gradients(y, [b, n]) == [None, None]
    ga, gb = tf.gradients(y, [a, b], unconnected_gradients="zero")
    got = _run([ga, gb], {a: np.ones(2, np.float32)})
    np.testing.assert_array_equal(got[0], [2.0, 2.0])
    np.testing.assert_array_equal(got[1], [0.0, 0.0])


def test_stop_gradients_treats_tensors_as_constants():
    a = tf.constant(np.array([3.0], np.float32))
    b = tf.multiply(a, 2.0)
    y = tf.multiply(a, b)
    g_full, g_stop = tf.gradients(y, a)[0], tf.gradients(y, a, stop_gradients=[b])[0]
    got = _run([g_full, g_stop])
    np.testing.assert_allclose(got[0], [12.0])  # d(2a^2)/da
    np.testing.assert_allclose(got[1], [6.0])  # b held constant
    assert tf.gradients(b, a, stop_gradients=[b]) == [None]


def test_random_ops_in_the_forward_pass_draw_the_same_numbers():
    x = tf.constant(np.arange(1.0, 7.0, dtype=np.float32))
    mask = tf.random_uniform([6], seed=3)
    y = tf.multiply(x, mask)
    (g,) = tf.gradients(tsum(y), x)
    got_mask, got_g = _run([mask, g])
    np.testing.assert_array_equal(got_g, got_mask)


def test_gradient_through_cond():
    p = tf.placeholder(tf.bool, [], name="p")
    x = tf.Variable(np.array([2.0, 3.0], np.float32), name="x")
    y = tf.cond(p, lambda: tsum(tf.multiply(x, x)), lambda: tsum(tf.multiply(x, 5.0)))
    (g,) = tf.gradients(y, x)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(g, {p: True}), [4.0, 6.0])
        np.testing.assert_allclose(sess.run(g, {p: False}), [5.0, 5.0])


def test_second_order_gradients_and_hessians():
    x = tf.Variable(np.array([0.5, -1.0, 2.0], np.float32), name="x")
    y = tsum(tf.multiply(tf.multiply(x, x), tanh(x)))
    (g,) = tf.gradients(y, x)
    (gg,) = tf.gradients(g, x)
    (h,) = tf.hessians(y, x)
    assert h.shape.as_list() == [3, 3]

    def f(x):
        return jnp.sum(x * x * jnp.tanh(x))

    xv = np.array([0.5, -1.0, 2.0], np.float32)
    want_h = jax.hessian(f)(xv)
    got_gg, got_h = _run([gg, h])
    np.testing.assert_allclose(got_h, want_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_gg, want_h.sum(axis=0), rtol=1e-5, atol=1e-6)


def test_grad_ys_must_match_ys():
    x = tf.constant(np.ones(2, np.float32))
    y = tf.multiply(x, 2.0)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Passed 2 grad_ys for 1 ys: grad_ys must have one entry (or None) per y."
        ),
    ):
        tf.gradients(y, x, grad_ys=[x, x])
    with pytest.raises(ValueError, match=re.escape("its grad_ys entry")):
        tf.gradients(y, x, grad_ys=np.ones(3, np.float32))


def test_variable_read_only_inside_a_cond_branch_gets_its_gradient():
    p = tf.placeholder(tf.bool, [], name="p")
    v = tf.Variable(np.array([1.0, -2.0, 0.5], np.float32), name="v")
    w = tf.Variable(np.float32(3.0), name="w")

    def true_fn():
        # A new read inside the branch: the cond op itself reads v and w.
        return tsum(tanh(tf.multiply(v.read_value(), w.read_value())))

    y = tf.cond(p, true_fn, lambda: tsum(tf.multiply(v.read_value(), 2.0)))
    gv, gw = tf.gradients(y, [v, w])
    (h,) = tf.hessians(y, v)
    step = tf.train.GradientDescentOptimizer(0.5).minimize(y, var_list=[v])

    def f(v, w):
        return jnp.sum(jnp.tanh(v * w))

    v0 = np.array([1.0, -2.0, 0.5], np.float32)
    want_v, want_w = jax.grad(f, (0, 1))(v0, np.float32(3.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_v, got_w, got_h = sess.run([gv, gw, h], {p: True})
        np.testing.assert_allclose(got_v, want_v, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
        want_h = jax.hessian(f)(v0, np.float32(3.0))
        np.testing.assert_allclose(got_h, want_h, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(sess.run(gv, {p: False}), [2.0, 2.0, 2.0])
        assert sess.run(gw, {p: False}) == 0.0
        sess.run(step, {p: True})
        np.testing.assert_allclose(
            sess.run(v), v0 - 0.5 * np.asarray(want_v), rtol=1e-5, atol=1e-6
        )


def test_variable_read_only_inside_a_while_body_gets_its_gradient():
    w = tf.Variable(np.float32(1.5), name="w")
    x0 = tf.placeholder(tf.float32, [2], name="x0")
    _, out = tf.while_loop(
        lambda i, x: i < 3,
        lambda i, x: (i + 1, tf.multiply(x, w.read_value())),
        [tf.constant(0), x0],
        maximum_iterations=5,
    )
    gw, gx = tf.gradients(tsum(out), [w, x0])

    def f(w, x):
        for _ in range(3):
            x = x * w
        return jnp.sum(x)

    xv = np.array([2.0, -1.0], np.float32)
    want_w, want_x = jax.grad(f, (0, 1))(np.float32(1.5), xv)
    got_w, got_x = _run([gw, gx], {x0: xv})
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5)
    np.testing.assert_allclose(got_x, want_x, rtol=1e-5)


def test_read_inside_a_branch_under_control_dependencies_gets_its_gradient():
    v = tf.Variable(np.array([2.0, 4.0], np.float32), name="v")

    def true_fn():
        with tf.control_dependencies([tf.no_op(name="before")]):
            return tsum(square(v))  # v/read: a read op made inside the branch

    y = tf.cond(tf.constant(True), true_fn, lambda: tf.constant(0.0))
    (g,) = tf.gradients(y, v)
    np.testing.assert_allclose(_run(g), [4.0, 8.0])


# -- where TF1 has no gradient, and TF1's gradients at ties (values from TF 2.21)


@pytest.mark.parametrize(
    "op",
    [
        tf.floor,
        tf.ceil,
        tf.round,
        tf.rint,
        lambda x: tf.floordiv(x, 2.0),
        lambda x: x // 2.0,
        tf.zeros_like,
        tf.ones_like,
        lambda x: tf.cast(tf.cast(x, tf.int32), tf.float32),
        lambda x: tf.one_hot([0, 2], 3, on_value=x[0]),
        tf.random_shuffle,
    ],
    ids=[
        "floor",
        "ceil",
        "round",
        "rint",
        "floordiv",
        "operator_floordiv",
        "zeros_like",
        "ones_like",
        "through_int",
        "one_hot",
        "random_shuffle",
    ],
)
def test_ops_without_a_tf_gradient_give_none(op):
    x = tf.placeholder(tf.float32, [3], name="x")
    assert tf.gradients(tf.reduce_sum(op(x)), x) == [None]
    assert tf.hessians(tf.reduce_sum(op(x)), x) == [None]


def test_a_path_without_gradient_adds_nothing_beside_a_differentiable_one():
    x = tf.placeholder(tf.float32, [3], name="x")
    y = tf.floor(x) + tf.zeros_like(x) + 3.0 * tf.floor(x) * x + x // 2.0
    (g,) = tf.gradients(y, x)
    got = _run(g, {x: np.array([1.5, -2.5, 0.5], np.float32)})
    np.testing.assert_allclose(got, [3.0, -9.0, 0.0])


def test_a_tensor_used_only_through_its_shape_gets_none():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    other = tf.placeholder(tf.float32, [None, 3], name="other")
    y = tf.reshape(x, tf.shape(other)) * tf.cast(tf.size(other), tf.float32)
    gx, gother = tf.gradients(y, [x, other])
    assert gother is None
    feed = {x: X, other: np.zeros_like(X)}
    np.testing.assert_allclose(_run(gx, feed), np.full_like(X, 6.0))


def test_fused_batch_norm_inference_gives_mean_and_variance_no_gradient():
    x = tf.constant(np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3) / 4)
    scale = tf.constant([1.0, 2.0, 0.5])
    offset = tf.constant([0.0, 1.0, -1.0])
    mean = tf.constant([0.5, 1.0, 1.5])
    var = tf.constant([1.0, 4.0, 0.25])
    y, m, v = tf.nn.fused_batch_norm(
        x, scale, offset, mean=mean, variance=var, is_training=False
    )
    grads = tf.gradients([y, m, v], [x, scale, offset, mean, var])
    assert grads[3:] == [None, None]
    gx, gscale, goffset = _run(grads[:3])
    np.testing.assert_allclose(
        gx[0, 0, 0], [0.9995004, 0.99987507, 0.99800605], rtol=1e-5
    )
    np.testing.assert_allclose(gscale, [2.498751, 0.7499063, 0.998006], rtol=1e-5)
    np.testing.assert_allclose(goffset, [4.0, 4.0, 4.0])


def test_fused_batch_norm_inference_variance_adds_nothing_to_a_shared_variable():
    v = tf.Variable([1.0, 4.0, 0.25])
    y, _, _ = tf.nn.fused_batch_norm(
        tf.ones([1, 1, 1, 3]),
        v,
        tf.zeros([3]),
        mean=tf.zeros([3]),
        variance=v,
        is_training=False,
    )
    (g,) = tf.gradients(y, [v])  # only through scale, as in TF
    np.testing.assert_allclose(_run(g), [0.9995004, 0.49993753, 1.996012], rtol=1e-5)


def test_softmax_cross_entropy_labels_get_no_gradient_except_in_v2():
    labels = tf.constant([[0.2, 0.8, 0.0]])
    logits = tf.constant([[1.0, 2.0, -1.0]])
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    loss = tf.losses.softmax_cross_entropy(labels, logits, label_smoothing=0.1)
    assert tf.gradients(v1, labels) == [None]
    assert tf.gradients(loss, labels) == [None]
    (g2,) = tf.gradients(v2, labels)
    (glogits,) = tf.gradients(loss, logits)
    got2, got_logits = _run([g2, glogits])
    np.testing.assert_allclose(got2, [[1.3490121, 0.34901217, 3.349012]], rtol=1e-5)
    np.testing.assert_allclose(
        got_logits, [[0.04616316, -0.04794878, 0.00178569]], rtol=1e-4, atol=1e-6
    )


def test_maximum_and_minimum_give_a_tie_to_x():
    x = tf.constant([1.0, 1.0, -2.0, 0.0])
    y = tf.constant([1.0, 0.5, -2.0, 0.0])
    grads = tf.gradients(tf.maximum(x, y), [x, y])
    grads += tf.gradients(tf.minimum(x, y), [x, y])
    want = [[1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 1, 1], [0, 1, 0, 0]]
    for got, w in zip(_run(grads), want):
        np.testing.assert_array_equal(got, w)


def test_maximum_and_minimum_ties_with_broadcasting():
    x = tf.constant([[-1.0, 0.0], [2.0, 0.0]])
    y = tf.constant(0.0)
    grads = tf.gradients(tf.maximum(x, y), [x, y])
    grads += tf.gradients(tf.minimum(x, y), [x, y])
    out = tf.maximum(x, y)
    assert out.dtype == tf.float32
    *got, value = _run([*grads, out])
    np.testing.assert_array_equal(got[0], [[0, 1], [1, 1]])
    assert got[1] == 1.0
    np.testing.assert_array_equal(got[2], [[1, 1], [0, 1]])
    assert got[3] == 1.0
    np.testing.assert_array_equal(value, [[0, 0], [2, 0]])


def test_maximum_tie_second_derivative():
    x = tf.constant([-1.0, 0.0, 2.0])
    (h,) = tf.hessians(tf.reduce_sum(tf.square(tf.maximum(x, 0.0))), x)
    np.testing.assert_array_equal(_run(h), np.diag([0.0, 2.0, 2.0]))


def test_clip_by_value_passes_the_gradient_at_its_bounds():
    x = tf.constant([-1.0, -0.5, 0.0, 0.5, 1.0])
    lo = tf.constant(-0.5)
    hi = tf.constant(0.5)
    gx, glo, ghi = _run(tf.gradients(tf.clip_by_value(x, lo, hi), [x, lo, hi]))
    np.testing.assert_array_equal(gx, [0, 1, 1, 1, 0])
    assert glo == 1.0 and ghi == 1.0


def test_relu6_gradient_is_zero_at_0_and_6():
    x = tf.constant([0.0, 3.0, 6.0, 7.0, -1.0])
    y = tf.nn.relu6(x)
    (g,) = tf.gradients(y, x)
    got, value = _run([g, y])
    np.testing.assert_array_equal(got, [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(value, [0, 3, 6, 6, 0])


def test_abs_gradient_is_sign():
    x = tf.constant([-1.5, 0.0, 2.0])
    (g,) = tf.gradients(tf.abs(x), x)
    (h,) = tf.hessians(tf.abs(x), x)
    got, hess, value = _run([g, h, tf.abs(tf.constant([-2, 0, 3]))])
    np.testing.assert_array_equal(got, [-1, 0, 1])
    np.testing.assert_array_equal(hess, np.zeros((3, 3)))
    np.testing.assert_array_equal(value, [2, 0, 3])


def test_losses_at_their_kinks_have_tf_gradients():
    x = tf.constant([0.0, 1.0, -1.0, 2.0])
    z = tf.constant([0.3, 1.0, 0.0, 0.5])
    losses = [
        tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
        tf.nn.weighted_cross_entropy_with_logits(labels=z, logits=x, pos_weight=2.0),
        tf.losses.absolute_difference(tf.constant([1.0, 0.0, -1.0, 2.0]), x),
        tf.losses.hinge_loss(tf.constant([1.0, 1.0, 0.0, 0.0]), x),
        tf.nn.selu(x),
    ]
    grads = [tf.gradients(tf.reduce_sum(loss), x)[0] for loss in losses]
    want = [
        [0.2, -0.26894, 0.26894, 0.3808],
        [0.7, -0.53788, 0.26894, 0.3212],
        [-0.25, 0.25, 0.0, 0.0],
        [-0.25, 0.0, 0.0, 0.25],
        [1.0507, 1.0507, 0.64677, 1.0507],
    ]
    for got, w in zip(_run(grads), want):
        np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-5)


def test_gradient_flows_through_a_cond_whose_branch_assigns():
    # The batch norm of Udacity's TF1 notebook: the training branch updates the
    # population mean under a control dependency. Values from TF 2.21 compat.v1.
    is_training = tf.placeholder(tf.bool)
    w = tf.Variable([1.0, 2.0], name="w")
    gamma = tf.Variable([1.0, 1.0], name="gamma")
    pop_mean = tf.Variable([0.0, 0.0], trainable=False, name="pop_mean")
    layer = w * 3.0

    def batch_norm_training():
        mean, variance = tf.nn.moments(layer, [0])
        train_mean = tf.assign(pop_mean, pop_mean * 0.9 + mean * 0.1)
        with tf.control_dependencies([train_mean]):
            return tf.nn.batch_normalization(layer, mean, variance, None, gamma, 1e-3)

    def batch_norm_inference():
        return tf.nn.batch_normalization(layer, pop_mean, 1.0, None, gamma, 1e-3)

    out = tf.cond(is_training, batch_norm_training, batch_norm_inference)
    loss = tf.reduce_sum(out * [1.0, 3.0])
    grads = tf.gradients(loss, [w, gamma])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g_w, g_gamma = sess.run(grads, {is_training: True})
        np.testing.assert_allclose(g_w, [-0.00088835, 0.00088835], rtol=1e-4)
        np.testing.assert_allclose(g_gamma, [-0.99977785, 2.9993336], rtol=1e-5)
        # Differentiating re-evaluates the branch; its assignment still ran once.
        np.testing.assert_allclose(sess.run(pop_mean), [0.45, 0.45], rtol=1e-6)
