"""tf.nn ops against NumPy formulas and raw JAX."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsession as tf

RNG = np.random.default_rng(0)


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x, axis=-1):
    return np.log(_np_softmax(x, axis))


def test_activations_match_numpy():
    x_val = RNG.normal(size=(4, 5)).astype(np.float32) * 4
    x = tf.placeholder(tf.float32, [None, 5])
    got = _run(
        {
            "relu": tf.nn.relu(x),
            "relu6": tf.nn.relu6(x),
            "elu": tf.nn.elu(x),
            "selu": tf.nn.selu(x),
            "leaky": tf.nn.leaky_relu(x),
            "leaky1": tf.nn.leaky_relu(x, alpha=0.1),
            "softplus": tf.nn.softplus(x),
            "softsign": tf.nn.softsign(x),
            "softmax": tf.nn.softmax(x),
            "softmax0": tf.nn.softmax(x, dim=0),
            "log_softmax": tf.nn.log_softmax(x, axis=0),
        },
        {x: x_val},
    )
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    want = {
        "relu": np.maximum(x_val, 0),
        "relu6": np.clip(x_val, 0, 6),
        "elu": np.where(x_val > 0, x_val, np.expm1(x_val)),
        "selu": scale * np.where(x_val > 0, x_val, alpha * np.expm1(x_val)),
        "leaky": np.where(x_val > 0, x_val, 0.2 * x_val),
        "leaky1": np.where(x_val > 0, x_val, 0.1 * x_val),
        "softplus": np.log1p(np.exp(x_val)),
        "softsign": x_val / (1 + np.abs(x_val)),
        "softmax": _np_softmax(x_val),
        "softmax0": _np_softmax(x_val, 0),
        "log_softmax": _np_log_softmax(x_val, 0),
    }
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=key)


def test_activation_op_types_and_names():
    x = tf.placeholder(tf.float32, [2])
    assert tf.nn.relu(x).op.type == "Relu"
    assert tf.nn.relu(x, name="act").name == "act:0"
    assert tf.nn.softmax(x).op.type == "Softmax"
    with pytest.raises(
        ValueError, match=re.escape("Cannot specify both 'axis' and 'dim'")
    ):
        tf.nn.softmax(x, axis=0, dim=0)


def test_bias_add_l2_and_normalize():
    x_val = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    b_val = np.arange(4, dtype=np.float32)
    bc_val = np.arange(3, dtype=np.float32)
    x = tf.placeholder(tf.float32, [None, 3, 4])
    got = _run(
        [
            tf.nn.bias_add(x, b_val),
            tf.nn.bias_add(x, bc_val, data_format="NCHW"),
            tf.nn.l2_loss(x),
            tf.nn.l2_normalize(x, axis=1),
            tf.nn.l2_normalize(x),
            tf.nn.l2_normalize(np.zeros(3, np.float32), 0),
        ],
        {x: x_val},
    )
    np.testing.assert_allclose(got[0], x_val + b_val)
    np.testing.assert_allclose(got[1], x_val + bc_val[:, None])
    np.testing.assert_allclose(got[2], np.sum(x_val**2) / 2, rtol=1e-5)
    norm1 = np.sqrt(np.sum(x_val**2, axis=1, keepdims=True))
    np.testing.assert_allclose(got[3], x_val / norm1, rtol=1e-5)
    np.testing.assert_allclose(got[4], x_val / np.sqrt(np.sum(x_val**2)), rtol=1e-5)
    np.testing.assert_array_equal(got[5], np.zeros(3))


def test_bias_add_shape_errors():
    x = tf.placeholder(tf.float32, [None, 3])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Dimensions must be equal, but are 3 and 4 for 'BiasAdd' (op: 'BiasAdd') "
            "with input shapes: [?,3], [4]."
        ),
    ):
        tf.nn.bias_add(x, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match=re.escape("Shape must be rank 1 for 'b'")):
        tf.nn.bias_add(x, np.zeros((1, 3), np.float32), name="b")


# -- dropout --------------------------------------------------------------------


def test_dropout_statistics_and_scaling():
    x = np.ones((200, 500), np.float32)
    keep = tf.placeholder(tf.float32, [])
    y_keep = tf.nn.dropout(x, keep_prob=0.7)
    y_rate = tf.nn.dropout(x, rate=0.25, seed=5)
    y_fed = tf.nn.dropout(x, keep)
    y_noise = tf.nn.dropout(x, rate=0.5, noise_shape=[None, 1])
    a, b, c, d = _run([y_keep, y_rate, y_fed, y_noise], {keep: 0.4})
    for value, kept in ((a, 0.7), (b, 0.75), (c, 0.4)):
        assert abs(np.mean(value != 0) - kept) < 0.01
        np.testing.assert_allclose(np.unique(value), [0.0, 1 / kept], rtol=1e-6)
    assert np.all(d == d[:, :1])  # one mask value per row
    assert 0.35 < np.mean(d[:, 0] != 0) < 0.65


def test_dropout_rate_zero_is_identity_and_errors():
    x = tf.placeholder(tf.float32, [3])
    assert tf.nn.dropout(x, rate=0.0) is x
    assert tf.nn.dropout(x, keep_prob=1.0) is x
    with pytest.raises(
        ValueError, match=re.escape("Cannot specify both 'keep_prob' and 'rate'")
    ):
        tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
    with pytest.raises(
        ValueError, match=re.escape("You must provide a rate to dropout.")
    ):
        tf.nn.dropout(x)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "rate must be a scalar tensor or a float in the range [0, 1), got 1"
        ),
    ):
        tf.nn.dropout(x, rate=1.0)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "x has to be a floating point tensor since it's going to be scaled. "
            "Got a int32 tensor instead."
        ),
    ):
        tf.nn.dropout(tf.placeholder(tf.int32, [3]), rate=0.5)


def _masks_with_graph_seed(runs):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1234)
        y = tf.nn.dropout(np.ones((64, 64), np.float32), rate=0.5)
    with tf.Session(graph=graph) as sess:
        return [sess.run(y) for _ in range(runs)]


def test_dropout_reproducible_with_graph_seed_and_new_each_run():
    first = _masks_with_graph_seed(2)
    second = _masks_with_graph_seed(1)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], first[1])


def test_dropout_op_seeds_differ_within_a_graph():
    tf.set_random_seed(7)
    x = np.ones((64, 64), np.float32)
    a, b = _run([tf.nn.dropout(x, rate=0.5), tf.nn.dropout(x, rate=0.5)])
    assert not np.array_equal(a, b)


# -- moments and batch norm -----------------------------------------------------


def test_moments_and_batch_normalization():
    x_val = RNG.normal(size=(4, 3, 3, 2)).astype(np.float32) * 3 + 1
    off = np.array([0.5, -1.0], np.float32)
    sc = np.array([2.0, 0.5], np.float32)
    x = tf.placeholder(tf.float32, [None, 3, 3, 2])
    mean, var = tf.nn.moments(x, [0, 1, 2])
    mean_k, var_k = tf.nn.moments(x, [0, 1, 2], keep_dims=True)
    bn = tf.nn.batch_normalization(x, mean, var, off, sc, 1e-3)
    bn_plain = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)
    assert mean.shape.as_list() == [2] and mean_k.shape.as_list() == [1, 1, 1, 2]
    got = _run([mean, var, mean_k, var_k, bn, bn_plain], {x: x_val})
    want_mean, want_var = x_val.mean((0, 1, 2)), x_val.var((0, 1, 2))
    np.testing.assert_allclose(got[0], want_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], want_var, rtol=1e-5)
    np.testing.assert_allclose(got[2].reshape(2), want_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[3].reshape(2), want_var, rtol=1e-5)
    normed = (x_val - want_mean) / np.sqrt(want_var + 1e-3)
    np.testing.assert_allclose(got[4], normed * sc + off, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[5], normed, rtol=1e-4, atol=1e-5)


def test_fused_batch_norm_training_and_inference():
    x_val = RNG.normal(size=(2, 3, 3, 2)).astype(np.float32)
    sc = np.array([2.0, 0.5], np.float32)
    off = np.array([0.5, -1.0], np.float32)
    y, m, v = tf.nn.fused_batch_norm(x_val, sc, off, epsilon=1e-3)
    mean_in, var_in = np.array([0.1, 0.2], np.float32), np.array([1.5, 0.5], np.float32)
    y_inf, _, _ = tf.nn.fused_batch_norm(
        x_val, sc, off, mean_in, var_in, epsilon=1e-3, is_training=False
    )
    got = _run([y, m, v, y_inf])
    mean, var = x_val.mean((0, 1, 2)), x_val.var((0, 1, 2))
    np.testing.assert_allclose(
        got[0], (x_val - mean) / np.sqrt(var + 1e-3) * sc + off, rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(got[1], mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[2], x_val.var((0, 1, 2), ddof=1), rtol=1e-5)
    want_inf = (x_val - mean_in) / np.sqrt(var_in + 1e-3) * sc + off
    np.testing.assert_allclose(got[3], want_inf, rtol=1e-4, atol=1e-5)


# -- conv and pool --------------------------------------------------------------


def _same_pads(size, k, s, d=1):
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def _np_conv(x, w, stride, pads, dil=1):
    x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    kh, kw, _, cout = w.shape
    eh, ew = (kh - 1) * dil + 1, (kw - 1) * dil + 1
    oh = (x.shape[1] - eh) // stride + 1
    ow = (x.shape[2] - ew) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, cout), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[
                :,
                i * stride : i * stride + eh : dil,
                j * stride : j * stride + ew : dil,
            ]
            out[:, i, j] = np.einsum("nhwc,hwco->no", patch, w)
    return out


def test_conv2d_matches_numpy():
    x_val = RNG.normal(size=(2, 7, 6, 3)).astype(np.float32)
    w_val = RNG.normal(size=(3, 2, 3, 4)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 7, 6, 3])
    valid = tf.nn.conv2d(x, w_val, strides=[1, 1, 1, 1], padding="VALID")
    same = tf.nn.conv2d(x, w_val, strides=2, padding="SAME")
    dilated = tf.nn.conv2d(x, w_val, [1, 1, 1, 1], "SAME", dilations=[1, 2, 2, 1])
    explicit = tf.nn.conv2d(x, w_val, [1, 1, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]])
    assert valid.shape.as_list() == [None, 5, 5, 4]
    assert same.shape.as_list() == [None, 4, 3, 4]
    assert dilated.shape.as_list() == [None, 7, 6, 4]
    assert explicit.shape.as_list() == [None, 8, 6, 4]
    got = _run([valid, same, dilated, explicit], {x: x_val})
    want = [
        _np_conv(x_val, w_val, 1, ((0, 0), (0, 0))),
        _np_conv(x_val, w_val, 2, (_same_pads(7, 3, 2), _same_pads(6, 2, 2))),
        _np_conv(x_val, w_val, 1, (_same_pads(7, 3, 1, 2), _same_pads(6, 2, 1, 2)), 2),
        _np_conv(x_val, w_val, 1, ((1, 2), (0, 1))),
    ]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


def test_conv2d_errors():
    x = tf.placeholder(tf.float32, [None, 5, 5, 3])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Depth of input (3) is not a multiple of input depth of filter (2) for "
            "'Conv2D' (op: 'Conv2D') with input shapes: [?,5,5,3], [3,3,2,4]."
        ),
    ):
        tf.nn.conv2d(x, np.zeros((3, 3, 2, 4), np.float32), 1, "SAME")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Current implementation does not yet support strides in the batch and "
            "depth dimensions."
        ),
    ):
        tf.nn.conv2d(x, np.zeros((3, 3, 3, 4), np.float32), [2, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match=re.escape("padding must be 'SAME', 'VALID'")):
        tf.nn.conv2d(x, np.zeros((3, 3, 3, 4), np.float32), 1, "FULL")


def _np_pool(x, k, s, padding, reduce):
    n, h, w, c = x.shape
    if padding == "SAME":
        (pt, pb), (pl, pr) = _same_pads(h, k, s), _same_pads(w, k, s)
    else:
        pt = pb = pl = pr = 0
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=np.nan)
    oh, ow = (h + pt + pb - k) // s + 1, (w + pl + pr - k) // s + 1
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = reduce(
                xp[:, i * s : i * s + k, j * s : j * s + k], axis=(1, 2)
            )
    return out


def test_pools_match_numpy_and_shapes():
    x_val = RNG.normal(size=(2, 5, 6, 3)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 5, 6, 3])
    ops = {
        ("max", "VALID"): tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
        ("max", "SAME"): tf.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
        ("avg", "VALID"): tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
        ("avg", "SAME"): tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
    }
    assert ops["max", "VALID"].shape.as_list() == [None, 2, 3, 3]
    assert ops["avg", "SAME"].shape.as_list() == [None, 3, 3, 3]
    got = _run(ops, {x: x_val})
    for (kind, pad), value in got.items():
        k = 2 if pad == "VALID" else 3
        want = _np_pool(x_val, k, 2, pad, np.nanmax if kind == "max" else np.nanmean)
        np.testing.assert_allclose(
            value, want, rtol=1e-5, atol=1e-6, err_msg=kind + pad
        )


def test_max_pool_gradient_through_lowering():
    x = tf.placeholder(tf.float32, [1, 4, 4, 1])
    op = tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID").op
    x_val = jnp.arange(16.0).reshape(1, 4, 4, 1)
    grad = jax.grad(lambda v: op.lower(v, **op.attrs)[0].sum())(x_val)
    want = np.zeros((4, 4))
    want[[1, 1, 3, 3], [1, 3, 1, 3]] = 1
    np.testing.assert_array_equal(np.asarray(grad)[0, :, :, 0], want)


# -- cross-entropies ------------------------------------------------------------


def test_cross_entropies_match_numpy():
    logits_val = RNG.normal(size=(4, 5)).astype(np.float32) * 3
    labels_val = np.array([0, 4, 2, 1], np.int64)
    probs_val = _np_softmax(RNG.normal(size=(4, 5))).astype(np.float32)
    z_val = RNG.integers(0, 2, size=(4, 5)).astype(np.float32)
    logits = tf.placeholder(tf.float32, [None, 5])
    nn = tf.nn
    got = _run(
        [
            nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels_val, logits=logits
            ),
            nn.softmax_cross_entropy_with_logits(labels=probs_val, logits=logits),
            nn.softmax_cross_entropy_with_logits_v2(probs_val, logits),
            nn.softmax_cross_entropy_with_logits_v2(probs_val.T, logits_val.T, axis=0),
            nn.sigmoid_cross_entropy_with_logits(labels=z_val, logits=logits * 40),
            nn.weighted_cross_entropy_with_logits(z_val, logits, 3.0),
            nn.log_poisson_loss(z_val * 3, logits, compute_full_loss=True),
        ],
        {logits: logits_val},
    )
    log_p = _np_log_softmax(logits_val)
    np.testing.assert_allclose(got[0], -log_p[np.arange(4), labels_val], rtol=1e-5)
    np.testing.assert_allclose(got[1], -np.sum(probs_val * log_p, -1), rtol=1e-5)
    np.testing.assert_allclose(got[2], got[1], rtol=1e-6)
    np.testing.assert_allclose(got[3], got[1], rtol=1e-5)
    x = logits_val.astype(np.float64) * 40
    want_sig = np.maximum(x, 0) - x * z_val + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(got[4], want_sig, rtol=1e-5, atol=1e-5)
    x = logits_val.astype(np.float64)
    sig = 1 / (1 + np.exp(-x))
    want_w = -(3.0 * z_val * np.log(sig) + (1 - z_val) * np.log(1 - sig))
    np.testing.assert_allclose(got[5], want_w, rtol=1e-4, atol=1e-5)
    z = z_val * 3
    stirling = np.where(
        z > 1,
        z * np.log(np.maximum(z, 1)) - z + 0.5 * np.log(2 * np.pi * np.maximum(z, 1)),
        0,
    )
    np.testing.assert_allclose(
        got[6], np.exp(x) - x * z + stirling, rtol=1e-5, atol=1e-5
    )


def test_sparse_xent_shapes_and_out_of_range_label():
    logits = tf.placeholder(tf.float32, [None, 3])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=np.array([0, 3], np.int32), logits=logits
    )
    assert loss.shape.as_list() == [2] and loss.dtype == tf.float32
    value = _run(loss, {logits: np.zeros((2, 3), np.float32)})
    np.testing.assert_allclose(value[0], np.log(3), rtol=1e-6)
    assert np.isnan(value[1])


def test_xent_keyword_only_and_shape_errors():
    logits = tf.placeholder(tf.float32, [None, 3])
    labels = tf.placeholder(tf.int32, [None])
    for fn in (
        "sparse_softmax_cross_entropy_with_logits",
        "softmax_cross_entropy_with_logits",
        "sigmoid_cross_entropy_with_logits",
    ):
        with pytest.raises(
            ValueError,
            match=re.escape(
                f"Only call `{fn}` with named arguments (labels=..., logits=..., ...)"
            ),
        ):
            getattr(tf.nn, fn)(labels, logits)
    with pytest.raises(
        ValueError, match=re.escape("Both labels and logits must be provided.")
    ):
        tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Rank mismatch: Rank of labels (received 2) should equal rank of logits "
            "minus 1 (received 2)."
        ),
    ):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.placeholder(tf.int32, [None, 3]), logits=logits
        )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "logits and labels must have the same shape ((?, 3) vs (2, 4))"
        ),
    ):
        tf.nn.sigmoid_cross_entropy_with_logits(
            labels=np.zeros((2, 4), np.float32), logits=logits
        )


def test_softmax_xent_v1_stops_label_gradient_v2_does_not():
    labels_val = jnp.asarray(_np_softmax(RNG.normal(size=(2, 3))), jnp.float32)
    logits_val = jnp.asarray(RNG.normal(size=(2, 3)), jnp.float32)
    v1 = tf.nn.softmax_cross_entropy_with_logits(
        labels=labels_val, logits=logits_val
    ).op
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels_val, logits_val).op

    def label_grad(op):
        return jax.grad(lambda y: op.lower(y, logits_val, **op.attrs)[0].sum())(
            labels_val
        )

    np.testing.assert_array_equal(label_grad(v1), np.zeros((2, 3)))
    np.testing.assert_allclose(
        label_grad(v2), -jax.nn.log_softmax(logits_val), rtol=1e-6
    )


# -- lookups and ranking --------------------------------------------------------


def test_embedding_lookup_single_and_partitioned():
    table = RNG.normal(size=(10, 2)).astype(np.float32)
    ids_val = np.array([[0, 9, 3], [4, 4, 7]], np.int64)
    ids = tf.placeholder(tf.int64, [None, 3])
    mod_parts = [tf.constant(table[p::3]) for p in range(3)]
    div_parts = [tf.constant(table[a:b]) for a, b in ((0, 4), (4, 7), (7, 10))]
    single = tf.nn.embedding_lookup(table, ids)
    assert single.shape.as_list() == [None, 3, 2]
    got = _run(
        [
            single,
            tf.nn.embedding_lookup(mod_parts, ids),
            tf.nn.embedding_lookup(div_parts, ids, partition_strategy="div"),
            tf.nn.embedding_lookup(table, ids, max_norm=0.5),
            tf.nn.embedding_lookup(table, 3),
        ],
        {ids: ids_val},
    )
    for value in got[:3]:
        np.testing.assert_allclose(value, table[ids_val])
    rows = table[ids_val]
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    np.testing.assert_allclose(got[3], rows * 0.5 / np.maximum(norms, 0.5), rtol=1e-5)
    np.testing.assert_allclose(got[4], table[3])
    with pytest.raises(
        ValueError, match=re.escape("Unrecognized partition strategy: x")
    ):
        tf.nn.embedding_lookup(table, ids, partition_strategy="x")


def test_in_top_k_counts_ties_as_tf_and_top_k():
    preds = np.array(
        [
            [1.0, 2.0, 2.0, 0.0],
            [1.0, 2.0, 2.0, 0.0],
            [1.0, 2.0, 2.0, 0.0],
            [np.nan, 1.0, 0.0, 0.0],
            [0.0, 1.0, 2.0, 3.0],
        ],
        np.float32,
    )
    targets = np.array([1, 2, 0, 0, 5], np.int32)
    values, indices = tf.nn.top_k(preds, k=2)
    got = _run(
        [
            tf.nn.in_top_k(preds, targets, 1),
            tf.nn.in_top_k(preds, targets, 3),
            values,
            indices,
        ]
    )
    np.testing.assert_array_equal(got[0], [True, True, False, False, False])
    np.testing.assert_array_equal(got[1], [True, True, True, False, False])
    np.testing.assert_array_equal(got[2][4], [3.0, 2.0])
    np.testing.assert_array_equal(got[3][4], [3, 2])
    np.testing.assert_array_equal(got[3][0], [1, 2])


# -- TF1 dtypes, errors and shapes (TF 2.21 oracle) ----------------------------


def test_softmax_of_ints_raises_type_error_at_build():
    logits = tf.placeholder(tf.int32, [2, 3])
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Value passed to parameter 'logits' has DataType int32 not in list of "
            "allowed values: float16, bfloat16, float32, float64"
        ),
    ):
        tf.nn.softmax(logits)
    with pytest.raises(TypeError, match="parameter 'logits' has DataType int32"):
        tf.nn.log_softmax(logits)


def test_sparse_softmax_cross_entropy_rejects_float_labels():
    logits = tf.placeholder(tf.float32, [2, 4])
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Value passed to parameter 'labels' has DataType float32 not in list of "
            "allowed values: int32, int64"
        ),
    ):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.placeholder(tf.float32, [2]), logits=logits
        )
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.placeholder(tf.int64, [2]), logits=logits
    )
    assert loss.shape.as_list() == [2]


def test_conv2d_of_unknown_rank_input_keeps_the_output_channels():
    x = tf.placeholder(tf.float32)
    w = tf.constant(np.ones([2, 2, 1, 2], np.float32))
    y = tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")
    assert y.shape.as_list() == [None, None, None, 2]
    nchw = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", data_format="NCHW")
    assert nchw.shape.as_list() == [None, 2, None, None]
    with tf.Session() as sess:
        got = sess.run(y, {x: np.ones([1, 3, 3, 1], np.float32)})
    assert got.shape == (1, 3, 3, 2)
    with pytest.raises(ValueError, match="Shape must be rank 4"):
        tf.nn.conv2d(tf.placeholder(tf.float32, [3, 3]), w, [1, 1, 1, 1], "SAME")
