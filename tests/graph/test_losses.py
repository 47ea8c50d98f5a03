"""tf.losses against NumPy: reductions, loss functions, collections, regularizers."""

import re

import numpy as np
import pytest

import jaxsession as tf

RNG = np.random.default_rng(1)
R = tf.losses.Reduction


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict)


def _np_log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_reduction_keys_and_validation():
    assert R.SUM_BY_NONZERO_WEIGHTS == R.SUM_OVER_NONZERO_WEIGHTS
    assert R.SUM_BY_NONZERO_WEIGHTS == "weighted_sum_by_nonzero_weights"
    assert set(R.all()) == {
        "none",
        "weighted_sum",
        "weighted_mean",
        "weighted_sum_over_batch_size",
        "weighted_sum_by_nonzero_weights",
    }
    with pytest.raises(ValueError, match=re.escape("Invalid Reduction Key bogus.")):
        tf.losses.compute_weighted_loss(np.ones(3, np.float32), reduction="bogus")


def test_compute_weighted_loss_reductions():
    losses_val = RNG.uniform(size=(4, 3)).astype(np.float32)
    w_val = np.array([[1.0], [0.0], [2.0], [0.5]], np.float32)
    losses = tf.placeholder(tf.float32, [None, 3])
    cwl = tf.losses.compute_weighted_loss
    fetches = {r: cwl(losses, w_val, reduction=r) for r in R.all()}
    fetches["default_scalar"] = cwl(losses)
    fetches["zero_scalar"] = cwl(losses, 0.0)
    fetches["zero_mean"] = cwl(losses, np.zeros((4, 1), np.float32), reduction=R.MEAN)
    # TF1 multiplies by the weights: their [4, 1] pins the batch dim.
    assert fetches[R.NONE].shape.as_list() == [4, 3]
    assert fetches[R.SUM].shape.as_list() == []
    got = _run(fetches, {losses: losses_val})
    weighted = losses_val * w_val
    w_full = np.broadcast_to(w_val, (4, 3))
    np.testing.assert_allclose(got[R.NONE], weighted, rtol=1e-6)
    np.testing.assert_allclose(got[R.SUM], weighted.sum(), rtol=1e-5)
    np.testing.assert_allclose(got[R.MEAN], weighted.sum() / w_full.sum(), rtol=1e-5)
    np.testing.assert_allclose(
        got[R.SUM_OVER_BATCH_SIZE], weighted.sum() / 12, rtol=1e-5
    )
    np.testing.assert_allclose(
        got[R.SUM_BY_NONZERO_WEIGHTS], weighted.sum() / 9, rtol=1e-5
    )
    np.testing.assert_allclose(got["default_scalar"], losses_val.mean(), rtol=1e-5)
    assert got["zero_scalar"] == 0.0 and got["zero_mean"] == 0.0


def test_weights_must_broadcast_as_tf1():
    losses = tf.placeholder(tf.float32, [4, 3])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "weights can not be broadcast to values. values.rank=2. weights.rank=1. "
            "values.shape=(4, 3). weights.shape=(4,)."
        ),
    ):
        tf.losses.compute_weighted_loss(losses, np.ones(4, np.float32))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "weights can not be broadcast to values. Mismatch at dim 1. "
            "values.shape=(4, 3) weights.shape=(4, 2)."
        ),
    ):
        tf.losses.compute_weighted_loss(losses, np.ones((4, 2), np.float32))


def test_regression_losses_match_numpy():
    labels_val = RNG.uniform(size=(5, 2)).astype(np.float32)
    preds_val = (labels_val + RNG.normal(size=(5, 2)) * 1.5).astype(np.float32)
    probs_val = RNG.uniform(0.05, 0.95, size=(5, 2)).astype(np.float32)
    bin_val = RNG.integers(0, 2, size=(5, 2)).astype(np.float32)
    w_val = np.array([[1.0], [2.0], [0.0], [1.0], [3.0]], np.float32)
    preds = tf.placeholder(tf.float32, [None, 2])
    L = tf.losses
    got = _run(
        {
            "mse": L.mean_squared_error(labels_val, preds),
            "mse_w": L.mean_squared_error(labels_val, preds, weights=w_val),
            "abs": L.absolute_difference(labels_val, preds, reduction=R.SUM),
            "huber": L.huber_loss(labels_val, preds, delta=0.7, reduction=R.NONE),
            "log": L.log_loss(bin_val, probs_val, reduction=R.NONE),
            "hinge": L.hinge_loss(bin_val, preds, reduction=R.NONE),
        },
        {preds: preds_val},
    )
    err = preds_val - labels_val
    nonzero = 8  # four rows with a nonzero weight, two columns each
    np.testing.assert_allclose(got["mse"], np.mean(err**2), rtol=1e-5)
    w_full = np.broadcast_to(w_val, err.shape)
    np.testing.assert_allclose(
        got["mse_w"], np.sum(err**2 * w_full) / nonzero, rtol=1e-5
    )
    np.testing.assert_allclose(got["abs"], np.sum(np.abs(err)), rtol=1e-5)
    a = np.abs(err)
    want_huber = np.where(a <= 0.7, 0.5 * a**2, 0.7 * a - 0.5 * 0.7**2)
    np.testing.assert_allclose(got["huber"], want_huber, rtol=1e-5, atol=1e-6)
    want_log = -bin_val * np.log(probs_val + 1e-7) - (1 - bin_val) * np.log(
        1 - probs_val + 1e-7
    )
    np.testing.assert_allclose(got["log"], want_log, rtol=1e-5)
    want_hinge = np.maximum(0, 1 - (2 * bin_val - 1) * preds_val)
    np.testing.assert_allclose(got["hinge"], want_hinge, rtol=1e-5, atol=1e-6)


def test_regression_argument_errors():
    with pytest.raises(ValueError, match=re.escape("labels must not be None.")):
        tf.losses.mean_squared_error(None, np.ones(2, np.float32))
    with pytest.raises(
        ValueError, match=re.escape("Shapes (3,) and (2,) are incompatible")
    ):
        tf.losses.absolute_difference(np.ones(2, np.float32), np.ones(3, np.float32))


def test_classification_losses_match_numpy():
    logits_val = RNG.normal(size=(4, 3)).astype(np.float32) * 2
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    sparse = np.array([[0], [2], [1], [2]], np.int32)
    w_val = np.array([1.0, 0.0, 2.0, 1.0], np.float32)
    logits = tf.placeholder(tf.float32, [None, 3])
    L = tf.losses
    got = _run(
        {
            "softmax": L.softmax_cross_entropy(onehot, logits),
            "smooth": L.softmax_cross_entropy(
                onehot, logits, label_smoothing=0.3, reduction=R.NONE
            ),
            "sparse": L.sparse_softmax_cross_entropy(
                sparse, logits, weights=w_val[:, None]
            ),
            "sparse_flat": L.sparse_softmax_cross_entropy(
                sparse[:, 0], logits, reduction=R.NONE
            ),
            "sigmoid": L.sigmoid_cross_entropy(
                onehot, logits, label_smoothing=0.2, reduction=R.NONE
            ),
        },
        {logits: logits_val},
    )
    log_p = _np_log_softmax(logits_val)
    per_example = -np.sum(onehot * log_p, -1)
    np.testing.assert_allclose(got["softmax"], per_example.mean(), rtol=1e-5)
    smoothed = onehot * 0.7 + 0.1
    np.testing.assert_allclose(got["smooth"], -np.sum(smoothed * log_p, -1), rtol=1e-5)
    np.testing.assert_allclose(
        got["sparse"], np.sum(per_example * w_val) / 3, rtol=1e-5
    )
    np.testing.assert_allclose(got["sparse_flat"], per_example, rtol=1e-5)
    z = onehot * 0.8 + 0.1
    x = logits_val
    want_sig = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(got["sigmoid"], want_sig, rtol=1e-5, atol=1e-6)


def test_losses_names_and_collections():
    logits = tf.placeholder(tf.float32, [None, 3])
    labels = tf.placeholder(tf.int32, [None])
    a = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    b = tf.losses.mean_squared_error(logits, logits, scope="mse")
    c = tf.losses.absolute_difference(logits, logits, loss_collection=None)
    d = tf.losses.absolute_difference(logits, logits, loss_collection="aux")
    assert a.name == "sparse_softmax_cross_entropy_loss/value:0"
    assert a.op.inputs[0].name == "sparse_softmax_cross_entropy_loss/xentropy:0"
    assert b.name == "mse/value:0"
    assert tf.losses.get_losses() == [a, b]
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [a, b]
    assert tf.losses.get_losses(scope="mse") == [b]
    assert tf.losses.get_losses(loss_collection="aux") == [d]
    assert c not in tf.losses.get_losses()
    e = tf.constant(2.5)
    tf.losses.add_loss(e)
    assert tf.losses.get_losses()[-1] is e


def test_regularizers_and_total_loss():
    tf.get_variable(
        "w",
        [2, 2],
        initializer=tf.constant_initializer([[1.0, -2.0], [3.0, 0.5]]),
        regularizer=tf.losses.l2_regularizer(0.1),
    )
    tf.get_variable(
        "v",
        [3],
        initializer=tf.constant_initializer([1.0, -1.0, 2.0]),
        regularizer=tf.losses.l1_regularizer(0.5),
    )
    tf.get_variable("u", [1], regularizer=tf.losses.l2_regularizer(0.0))
    reg = tf.losses.get_regularization_losses()
    assert [t.name for t in reg] == [
        "w/Regularizer/l2_regularizer:0",
        "v/Regularizer/l1_regularizer:0",
    ]
    total_reg = tf.losses.get_regularization_loss()
    assert total_reg.name == "total_regularization_loss:0"
    tf.losses.add_loss(tf.constant(1.5))
    total = tf.losses.get_total_loss()
    only_losses = tf.losses.get_total_loss(add_regularization_losses=False)
    assert total.name == "total_loss:0"
    got = _run([reg, total_reg, total, only_losses])
    w_val = np.array([[1.0, -2.0], [3.0, 0.5]])
    l2 = 0.1 * np.sum(w_val**2) / 2
    l1 = 0.5 * 4.0
    np.testing.assert_allclose(got[0], [l2, l1], rtol=1e-6)
    np.testing.assert_allclose(got[1], l2 + l1, rtol=1e-6)
    np.testing.assert_allclose(got[2], l2 + l1 + 1.5, rtol=1e-6)
    np.testing.assert_allclose(got[3], 1.5)


def test_empty_collections_and_regularizer_errors():
    zero = tf.losses.get_regularization_loss()
    assert _run(zero) == 0.0 and zero.dtype == tf.float32
    with pytest.raises(
        ValueError,
        match=re.escape(
            "No losses found in collection: get_total_loss needs at least one tensor "
            "in 'losses' or 'regularization_losses'."
        ),
    ):
        tf.losses.get_total_loss()
    with pytest.raises(ValueError, match=re.escape("scale cannot be an integer: 1")):
        tf.losses.l2_regularizer(1)
    with pytest.raises(
        ValueError,
        match=re.escape("Setting a scale less than 0 on a regularizer: -0.5."),
    ):
        tf.losses.l1_regularizer(-0.5)
    assert tf.losses.l2_regularizer(0.0)(tf.constant([1.0])) is None


def test_reduction_none_broadcasts_the_static_shape_with_weights():
    losses = tf.placeholder(tf.float32, [None, 3])
    weights = tf.placeholder(tf.float32, [4, 3])
    out = tf.losses.compute_weighted_loss(
        losses, weights, reduction=tf.losses.Reduction.NONE
    )
    assert out.shape.as_list() == [4, 3]
    unweighted = tf.losses.compute_weighted_loss(
        losses, reduction=tf.losses.Reduction.NONE
    )
    assert unweighted.shape.as_list() == [None, 3]
