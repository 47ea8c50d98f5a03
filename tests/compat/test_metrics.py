"""tf.metrics against NumPy formulas: streaming over batches, reset, collections."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors


def _batches(seed=0, n=3, size=16):
    rng = np.random.default_rng(seed)
    return [
        (
            rng.integers(0, 2, size),
            rng.integers(0, 2, size),
            rng.random(size).astype(np.float32),
            rng.random(size).astype(np.float32),
        )
        for _ in range(n)
    ]


def _np_auc(labels, scores, num_thresholds=200, curve="ROC"):
    """TF1's auc formula: counts at thresholds, trapezoids, epsilon 1e-7."""
    eps = 1e-7
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    thresholds = np.array([-eps, *inner, 1 + eps], np.float32)
    pred = scores[None, :] > thresholds[:, None]
    lab = labels[None, :].astype(bool)
    tp, fn = (lab & pred).sum(1), (lab & ~pred).sum(1)
    tn, fp = (~lab & ~pred).sum(1), (~lab & pred).sum(1)
    rec = (tp + eps) / (tp + fn + eps)
    if curve == "ROC":
        x, y = fp / (fp + tn + eps), rec
    else:
        x, y = rec, (tp + eps) / (tp + fp + eps)
    return np.sum((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2)


def _exact_roc_auc(labels, scores):
    pos, neg = scores[labels == 1], scores[labels == 0]
    return np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))


def test_metrics_stream_over_batches_and_match_numpy():
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.int64, [None])
    scores = tf.placeholder(tf.float32, [None])
    weights = tf.placeholder(tf.float32, [None])
    metrics = {
        "accuracy": tf.metrics.accuracy(labels, preds),
        "weighted_accuracy": tf.metrics.accuracy(labels, preds, weights=weights),
        "mean": tf.metrics.mean(scores),
        "weighted_mean": tf.metrics.mean(scores, weights=weights),
        "precision": tf.metrics.precision(labels, preds),
        "recall": tf.metrics.recall(labels, preds),
        "mse": tf.metrics.mean_squared_error(tf.cast(labels, tf.float32), scores),
        "auc": tf.metrics.auc(labels, scores),
        "pr_auc": tf.metrics.auc(labels, scores, curve="PR"),
    }
    values = {k: v for k, (v, _) in metrics.items()}
    updates = {k: u for k, (_, u) in metrics.items()}
    batches = _batches()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for i, (lab, pr, sc, w) in enumerate(batches):
            got_update = sess.run(
                updates, {labels: lab, preds: pr, scores: sc, weights: w}
            )
            lab_all, pr_all, sc_all, w_all = (
                np.concatenate([b[j] for b in batches[: i + 1]]) for j in range(4)
            )
            tp = np.sum((lab_all == 1) & (pr_all == 1))
            fp = np.sum((lab_all == 0) & (pr_all == 1))
            fn = np.sum((lab_all == 1) & (pr_all == 0))
            expected = {
                "accuracy": np.mean(lab_all == pr_all),
                "weighted_accuracy": np.sum((lab_all == pr_all) * w_all)
                / np.sum(w_all),
                "mean": np.mean(sc_all),
                "weighted_mean": np.sum(sc_all * w_all) / np.sum(w_all),
                "precision": tp / (tp + fp),
                "recall": tp / (tp + fn),
                "mse": np.mean((lab_all - sc_all) ** 2),
                "auc": _np_auc(lab_all, sc_all),
                "pr_auc": _np_auc(lab_all, sc_all, curve="PR"),
            }
            got_value = sess.run(values)
            for name, want in expected.items():
                np.testing.assert_allclose(
                    got_update[name], want, rtol=1e-5, err_msg=name
                )
                np.testing.assert_allclose(
                    got_value[name], want, rtol=1e-5, err_msg=name
                )
        # 200 thresholds approximate the exact ROC AUC closely.
        exact = _exact_roc_auc(lab_all, sc_all)
        assert abs(got_value["auc"] - exact) < 0.02
        # Reset by the local-variables initializer.
        sess.run(tf.local_variables_initializer())
        assert sess.run(values) == {k: 0.0 for k in values}


def test_metric_variables_names_and_collections():
    labels = tf.constant([1, 0, 1])
    preds = tf.constant([1, 1, 1])
    acc, acc_up = tf.metrics.accuracy(
        labels, preds, metrics_collections=["m"], updates_collections=["u"]
    )
    tf.metrics.precision(labels, preds)
    tf.metrics.auc(labels, tf.constant([0.5, 0.2, 0.9]), num_thresholds=5)
    names = [v.name for v in tf.local_variables()]
    assert names == [
        "accuracy/total:0",
        "accuracy/count:0",
        "precision/true_positives/count:0",
        "precision/false_positives/count:0",
        "auc/true_positives:0",
        "auc/false_negatives:0",
        "auc/true_negatives:0",
        "auc/false_positives:0",
    ]
    assert [v.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)] == names
    assert tf.global_variables() == [] and tf.trainable_variables() == []
    assert tf.get_collection("m") == [acc] and tf.get_collection("u") == [acc_up]
    assert (acc.name, acc_up.name) == ("accuracy/value:0", "accuracy/update_op:0")
    assert tf.local_variables()[4].shape.as_list() == [5]


def test_precision_and_recall_are_zero_without_positives():
    prec, prec_up = tf.metrics.precision(tf.constant([1, 0]), tf.constant([0, 0]))
    rec, rec_up = tf.metrics.recall(tf.constant([0, 0]), tf.constant([1, 0]))
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run([prec_up, rec_up, prec, rec]) == [0.0, 0.0, 0.0, 0.0]


def test_metric_reading_uninitialized_variables_names_them():
    acc, _ = tf.metrics.accuracy(tf.constant([1]), tf.constant([1]))
    with (
        tf.Session() as sess,
        pytest.raises(errors.FailedPreconditionError, match="accuracy/total"),
    ):
        sess.run(acc)


def test_metrics_reject_incompatible_shapes_and_bad_arguments():
    with pytest.raises(
        ValueError, match=re.escape("Shapes (3,) and (2,) are incompatible")
    ):
        tf.metrics.accuracy(tf.constant([1, 0]), tf.constant([1, 0, 1]))
    with pytest.raises(ValueError, match="curve must be either ROC or PR, XY unknown"):
        tf.metrics.auc(tf.constant([1]), tf.constant([0.5]), curve="XY")
    with pytest.raises(errors.UnimplementedError, match="careful_interpolation"):
        tf.metrics.auc(
            tf.constant([1]),
            tf.constant([0.5]),
            curve="PR",
            summation_method="careful_interpolation",
        )


def test_accuracy_squeezes_a_trailing_unit_dimension():
    acc, up = tf.metrics.accuracy(tf.constant([[1], [0], [2]]), tf.constant([1, 1, 2]))
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        np.testing.assert_allclose(sess.run(up), 2 / 3, rtol=1e-6)
