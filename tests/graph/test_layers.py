"""tf.layers against NumPy / raw JAX: variables as TF1 names them, values, updates."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsession as tf

RNG = np.random.default_rng(0)
X2 = RNG.standard_normal((5, 4)).astype(np.float32)
IMG = RNG.standard_normal((2, 7, 7, 3)).astype(np.float32)
K_DENSE = RNG.standard_normal((4, 3)).astype(np.float32)
B_DENSE = np.array([0.5, -1.0, 0.25], np.float32)
K_CONV = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)
B_CONV = np.array([0.1, -0.2, 0.3, -0.4], np.float32)


def _run(fetches, feeds=None, init=True):
    init_op = tf.global_variables_initializer()
    with tf.Session() as sess:
        if init:
            sess.run(init_op)
        return sess.run(fetches, feeds)


def _names(variables):
    return [(v.name, v.shape.as_list()) for v in variables]


def _close(got, want, tol=1e-5):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)


# -- dense ----------------------------------------------------------------------


def test_dense_variables_values_and_activation():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.layers.dense(
        x,
        3,
        activation=tf.nn.relu,
        kernel_initializer=tf.constant_initializer(K_DENSE),
        bias_initializer=tf.constant_initializer(B_DENSE),
    )
    assert y.name == "dense/Relu:0"
    assert y.shape.as_list() == [None, 3]
    assert _names(tf.trainable_variables()) == [
        ("dense/kernel:0", [4, 3]),
        ("dense/bias:0", [3]),
    ]
    _close(_run(y, {x: X2}), np.maximum(X2 @ K_DENSE + B_DENSE, 0.0))


def test_dense_defaults_glorot_uniform_kernel_and_zero_bias():
    y = tf.layers.dense(tf.constant(X2), 300)
    kernel, bias = tf.trainable_variables()
    k, b = _run([kernel, bias])
    limit = np.sqrt(6.0 / (4 + 300))
    assert np.all(np.abs(k) <= limit) and np.abs(k).max() > 0.8 * limit
    np.testing.assert_array_equal(b, np.zeros(300, np.float32))
    _close(_run(y), X2 @ k, tol=1e-4)


def test_dense_on_rank_3_inputs_contracts_the_last_axis():
    x3 = RNG.standard_normal((2, 5, 4)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 5, 4])
    y = tf.layers.dense(
        x, 3, use_bias=False, kernel_initializer=tf.constant_initializer(K_DENSE)
    )
    assert y.shape.as_list() == [None, 5, 3]
    assert [v.name for v in tf.global_variables()] == ["dense/kernel:0"]
    _close(_run(y, {x: x3}), np.einsum("bti,io->bto", x3, K_DENSE))


def test_dense_reuse_shares_variables():
    x = tf.placeholder(tf.float32, [None, 4])
    a = tf.layers.dense(x, 3, name="fc")
    b = tf.layers.dense(x, 3, name="fc", reuse=True)
    c = tf.layers.dense(x, 3)  # a new default name: dense
    with tf.variable_scope("net"):
        d = tf.layers.dense(x, 3, name="fc")
    with tf.variable_scope("net", reuse=True):
        e = tf.layers.dense(x, 3, name="fc")
    with tf.variable_scope("net", reuse=tf.AUTO_REUSE):
        f = tf.layers.dense(x, 3, name="fc")
    assert [v.name for v in tf.global_variables()] == [
        "fc/kernel:0",
        "fc/bias:0",
        "dense/kernel:0",
        "dense/bias:0",
        "net/fc/kernel:0",
        "net/fc/bias:0",
    ]
    va, vb, vc, vd, ve, vf = _run([a, b, c, d, e, f], {x: X2})
    np.testing.assert_array_equal(va, vb)
    np.testing.assert_array_equal(vd, ve)
    np.testing.assert_array_equal(vd, vf)
    assert not np.allclose(va, vc)


def test_dense_reuse_of_a_missing_layer_raises():
    x = tf.placeholder(tf.float32, [None, 4])
    with pytest.raises(ValueError, match=re.escape("fc/kernel")):
        tf.layers.dense(x, 3, name="fc", reuse=True)


def test_dense_regularizers_go_to_regularization_losses():
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.layers.dense(
        x,
        3,
        kernel_initializer=tf.constant_initializer(K_DENSE),
        bias_initializer=tf.constant_initializer(B_DENSE),
        kernel_regularizer=lambda w: 0.1 * tf.reduce_sum(tf.square(w)),
        bias_regularizer=lambda b: tf.reduce_sum(tf.abs(b)),
        activity_regularizer=lambda o: tf.reduce_sum(o),
    )
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 3
    out = X2 @ K_DENSE + B_DENSE
    got = _run([*losses, tf.losses.get_regularization_loss(), y], {x: X2})
    _close(got[0], 0.1 * np.sum(K_DENSE**2))
    _close(got[1], np.sum(np.abs(B_DENSE)))
    # TF1 averages the activity loss over the batch.
    _close(got[2], np.sum(out) / len(X2))
    _close(got[3], sum(got[:3]))


def test_dense_trainable_false_and_unknown_depth():
    tf.layers.dense(tf.constant(X2), 2, trainable=False)
    assert tf.trainable_variables() == []
    assert len(tf.global_variables()) == 2
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The last dimension of the inputs to `Dense` should be defined. "
            "Found `None`."
        ),
    ):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 2)


# -- conv2d ---------------------------------------------------------------------


def _conv_ref(x, k, b, stride, padding, dilation):
    out = jax.lax.conv_general_dilated(
        x,
        k,
        (stride, stride),
        padding,
        rhs_dilation=(dilation, dilation),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )
    return out + b


@pytest.mark.parametrize(
    ("padding", "stride", "dilation"),
    [("valid", 1, 1), ("same", 2, 1), ("SAME", 1, 2), ("valid", 2, 2)],
)
def test_conv2d_matches_lax_conv(padding, stride, dilation):
    x = tf.placeholder(tf.float32, [None, 7, 7, 3])
    y = tf.layers.conv2d(
        x,
        4,
        3,
        strides=stride,
        padding=padding,
        dilation_rate=dilation,
        kernel_initializer=tf.constant_initializer(K_CONV),
        bias_initializer=tf.constant_initializer(B_CONV),
        activation=tf.nn.tanh,
    )
    assert _names(tf.global_variables()) == [
        ("conv2d/kernel:0", [3, 3, 3, 4]),
        ("conv2d/bias:0", [4]),
    ]
    want = np.tanh(_conv_ref(IMG, K_CONV, B_CONV, stride, padding.upper(), dilation))
    assert y.shape.as_list() == [None, *want.shape[1:]]
    _close(_run(y, {x: IMG}), want, tol=1e-4)


def test_conv2d_channels_first_equals_transposed_channels_last():
    init = tf.constant_initializer(K_CONV[:, :2])
    last = tf.layers.conv2d(
        tf.constant(IMG),
        4,
        (3, 2),
        kernel_initializer=init,
        padding="same",
        strides=(1, 2),
    )
    first = tf.layers.conv2d(
        tf.constant(IMG.transpose(0, 3, 1, 2)),
        4,
        (3, 2),
        kernel_initializer=init,
        padding="same",
        strides=(1, 2),
        data_format="channels_first",
    )
    assert tf.global_variables()[2].shape.as_list() == [3, 2, 3, 4]
    got_last, got_first = _run([last, first])
    _close(got_first, got_last.transpose(0, 3, 1, 2), tol=1e-4)


def test_conv2d_argument_errors():
    x = tf.placeholder(tf.float32, [None, 7, 7, 3])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The `padding` argument must be one of 'valid', 'same'. Received: full"
        ),
    ):
        tf.layers.conv2d(x, 2, 3, padding="full")
    with pytest.raises(
        ValueError,
        match=re.escape("The `kernel_size` argument must be a tuple of 2 integers."),
    ):
        tf.layers.conv2d(x, 2, (3, 3, 3))
    with pytest.raises(ValueError, match=re.escape("Received: channels_middle")):
        tf.layers.conv2d(x, 2, 3, data_format="channels_middle")
    with pytest.raises(ValueError, match="channel dimension of the inputs"):
        tf.layers.conv2d(tf.placeholder(tf.float32, [None, 7, 7, None]), 2, 3)


# -- pooling and flatten --------------------------------------------------------


def _pool_ref(x, size, stride, padding, kind):
    window, strides = (1, size, size, 1), (1, stride, stride, 1)
    if kind == "max":
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, window, strides, padding)
    total = jax.lax.reduce_window(x, 0.0, jax.lax.add, window, strides, padding)
    count = jax.lax.reduce_window(
        jnp.ones_like(x), 0.0, jax.lax.add, window, strides, padding
    )
    return total / count


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize(
    ("size", "stride", "padding"), [(2, 2, "valid"), (3, 2, "same"), (2, 1, "same")]
)
def test_pooling_matches_reduce_window(kind, size, stride, padding):
    layer = tf.layers.max_pooling2d if kind == "max" else tf.layers.average_pooling2d
    x = tf.placeholder(tf.float32, [None, 7, 7, 3])
    y = layer(x, size, stride, padding=padding)
    op_type = "MaxPool" if kind == "max" else "AvgPool"
    assert y.name == f"{kind}_pooling2d/{op_type}:0"
    want = _pool_ref(IMG, size, stride, padding.upper(), kind)
    assert y.shape.as_list() == [None, *want.shape[1:]]
    _close(_run(y, {x: IMG}), want)


def test_pooling_channels_first_and_names():
    a = tf.layers.max_pooling2d(tf.constant(IMG), 2, 2)
    b = tf.layers.max_pooling2d(
        tf.constant(IMG.transpose(0, 3, 1, 2)),
        2,
        2,
        data_format="channels_first",
        name="pool",
    )
    assert (a.name, b.name) == ("max_pooling2d/MaxPool:0", "pool/MaxPool:0")
    got_a, got_b = _run([a, b])
    np.testing.assert_array_equal(got_b, got_a.transpose(0, 3, 1, 2))


def test_flatten_known_unknown_and_channels_first():
    x = tf.placeholder(tf.float32, [None, 7, 7, 3])
    flat = tf.layers.flatten(x)
    assert (flat.name, flat.shape.as_list()) == ("flatten/Reshape:0", [None, 147])
    u = tf.placeholder(tf.float32, [None, None, 3])
    flat_u = tf.layers.flatten(u)
    assert flat_u.shape.as_list() == [None, None]
    nchw = tf.placeholder(tf.float32, [None, 3, 7, 7])
    flat_first = tf.layers.flatten(nchw, data_format="channels_first")
    u_val = IMG.reshape(2, 49, 3)
    got, got_u, got_first = _run(
        [flat, flat_u, flat_first],
        {x: IMG, u: u_val, nchw: IMG.transpose(0, 3, 1, 2)},
    )
    np.testing.assert_array_equal(got, IMG.reshape(2, -1))
    np.testing.assert_array_equal(got_u, u_val.reshape(2, -1))
    np.testing.assert_array_equal(got_first, IMG.reshape(2, -1))


# -- dropout --------------------------------------------------------------------


def _check_dropout(got, x, rate):
    kept = got != 0
    _close(got[kept], x[kept] / (1.0 - rate))
    assert 0.3 < kept.mean() < 0.7


def test_dropout_with_a_bool_flag():
    x = np.ones((100, 50), np.float32) * np.arange(1, 51, dtype=np.float32)
    off = tf.layers.dropout(tf.constant(x), rate=0.5)
    on = tf.layers.dropout(tf.constant(x), rate=0.5, training=True, seed=1)
    assert off.name == "dropout/Identity:0"
    got_off, got_on = _run([off, on])
    np.testing.assert_array_equal(got_off, x)
    _check_dropout(got_on, x, 0.5)


def test_dropout_with_a_tensor_flag():
    x = np.ones((100, 50), np.float32)
    flag = tf.placeholder(tf.bool, [], name="training")
    y = tf.layers.dropout(tf.constant(x), rate=0.5, training=flag, seed=2)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {flag: False}), x)
        first, second = sess.run(y, {flag: True}), sess.run(y, {flag: True})
    _check_dropout(first, x, 0.5)
    _check_dropout(second, x, 0.5)
    assert not np.array_equal(first, second)  # a new mask each run


def test_dropout_with_a_constant_tensor_flag_picks_its_branch_statically():
    y = tf.layers.dropout(tf.ones([4]), training=tf.constant(False))
    assert y.op.type == "Identity"


# -- batch_normalization --------------------------------------------------------


def _bn_ref(x, mean, var, gamma, beta, eps=1e-3):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def test_batch_normalization_variables_as_tf1_names_them():
    tf.layers.batch_normalization(tf.constant(IMG), training=True)
    assert _names(tf.global_variables()) == [
        ("batch_normalization/gamma:0", [3]),
        ("batch_normalization/beta:0", [3]),
        ("batch_normalization/moving_mean:0", [3]),
        ("batch_normalization/moving_variance:0", [3]),
    ]
    assert [v.name for v in tf.trainable_variables()] == [
        "batch_normalization/gamma:0",
        "batch_normalization/beta:0",
    ]
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert [u.name for u in updates] == [
        "batch_normalization/AssignMovingAvg:0",
        "batch_normalization/AssignMovingAvg_1:0",
    ]


def test_batch_normalization_training_updates_moving_averages_through_update_ops():
    x = tf.placeholder(tf.float32, [None, 4])
    gamma = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    beta = np.array([0.0, 1.0, -1.0, 0.5], np.float32)
    y = tf.layers.batch_normalization(
        x,
        training=True,
        momentum=0.9,
        gamma_initializer=tf.constant_initializer(gamma),
        beta_initializer=tf.constant_initializer(beta),
    )
    mm, mv = tf.global_variables()[2:]
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.identity(y)
    mean, var = X2.mean(0), X2.var(0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _close(sess.run(y, {x: X2}), _bn_ref(X2, mean, var, gamma, beta))
        np.testing.assert_array_equal(sess.run(mm), np.zeros(4, np.float32))
        sess.run(train, {x: X2})
        sess.run(train, {x: X2})
        # Two steps of m -= (m - batch) * 0.1; a 2-D input is not fused: biased var.
        _close(sess.run(mm), mean * (1 - 0.9**2))
        _close(sess.run(mv), 0.9**2 * 1.0 + (1 - 0.9**2) * var)


def test_batch_normalization_fused_4d_moves_toward_the_unbiased_variance():
    x = tf.constant(IMG)
    tf.layers.batch_normalization(x, training=True, momentum=0.0)
    mm, mv = tf.global_variables()[2:]
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(updates)
        got_mm, got_mv = sess.run([mm, mv])
    flat = IMG.reshape(-1, 3)
    _close(got_mm, flat.mean(0))
    _close(got_mv, flat.var(0, ddof=1))


def test_batch_normalization_inference_uses_moving_averages():
    x = tf.placeholder(tf.float32, [None, 4])
    mean0 = np.array([0.5, -0.5, 1.0, 0.0], np.float32)
    var0 = np.array([2.0, 0.5, 1.0, 4.0], np.float32)
    y = tf.layers.batch_normalization(
        x,
        moving_mean_initializer=tf.constant_initializer(mean0),
        moving_variance_initializer=tf.constant_initializer(var0),
        center=False,
        epsilon=1e-5,
    )
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    assert [v.name for v in tf.trainable_variables()] == ["batch_normalization/gamma:0"]
    _close(_run(y, {x: X2}), (X2 - mean0) / np.sqrt(var0 + 1e-5))


def test_batch_normalization_with_a_tensor_flag():
    x = tf.placeholder(tf.float32, [None, 4])
    flag = tf.placeholder(tf.bool, [], name="training")
    y = tf.layers.batch_normalization(x, training=flag, momentum=0.5, axis=1)
    mm, mv = tf.global_variables()[2:]
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    mean, var = X2.mean(0), X2.var(0)
    ones = np.ones(4, np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, _ = sess.run([y, updates], {x: X2, flag: False})
        _close(got, X2 / np.sqrt(1.0 + 1e-3))
        _close(sess.run(mm), np.zeros(4))  # no move when not training
        _close(sess.run(mv), ones)
        got, _ = sess.run([y, updates], {x: X2, flag: True})
        _close(got, _bn_ref(X2, mean, var, 1.0, 0.0))
        _close(sess.run(mm), 0.5 * mean)
        _close(sess.run(mv), 0.5 * ones + 0.5 * var)


def test_batch_normalization_reuse_and_training_a_model():
    x = tf.placeholder(tf.float32, [None, 4])
    labels = tf.placeholder(tf.float32, [None, 1])
    h = tf.layers.batch_normalization(x, training=True, name="bn")
    tf.layers.batch_normalization(x, training=False, name="bn", reuse=True)
    assert len(tf.global_variables()) == 4
    pred = tf.layers.dense(h, 1, kernel_initializer=tf.ones_initializer())
    loss = tf.losses.mean_squared_error(labels, pred)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    target = X2[:, :1] * 2.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: X2, labels: target})
        for _ in range(20):
            sess.run(step, {x: X2, labels: target})
        assert sess.run(loss, {x: X2, labels: target}) < 0.5 * first
        moving_mean = sess.run(tf.global_variables()[2])
    _close(moving_mean, X2.mean(0) * (1 - 0.99**20), tol=1e-4)


def test_batch_normalization_errors():
    with pytest.raises(
        ValueError, match=re.escape("Input has undefined `axis` dimension")
    ):
        tf.layers.batch_normalization(tf.placeholder(tf.float32, [None, None]))
    with pytest.raises(NotImplementedError, match="renorm"):
        tf.layers.batch_normalization(tf.ones([2, 3]), renorm=True)
