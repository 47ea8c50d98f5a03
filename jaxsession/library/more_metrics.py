"""More ``tf.metrics``: errors, counts, confusion-matrix metrics, thresholds.

Built as ``metrics.py``'s: local variables with TF1's names, ``(value,
update_op)`` pairs, TF1's formulas.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxsession.graph import dtypes
from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.variables import variable_scope
from jaxsession.library.metrics import (
    _confusion_counts,
    _count_condition,
    _finish,
    _prepare,
    mean,
    mean_squared_error,
    metric_variable,
)
from jaxsession.ops import (
    math as math_ops,
    reduction as reduction_ops,
    scatter as scatter_ops,
    state as state_ops,
)
from jaxsession.ops.array import creation as creation_ops, shape as shape_ops

__all__ = [
    "false_negatives",
    "false_negatives_at_thresholds",
    "false_positives",
    "false_positives_at_thresholds",
    "mean_absolute_error",
    "mean_iou",
    "mean_per_class_accuracy",
    "precision_at_k",
    "precision_at_thresholds",
    "recall_at_k",
    "recall_at_thresholds",
    "root_mean_squared_error",
    "true_negatives",
    "true_negatives_at_thresholds",
    "true_positives",
    "true_positives_at_thresholds",
]


def mean_absolute_error(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """The running mean of ``|labels - predictions|`` (``tf.metrics.mean_absolute_error``).

    Raises:
        ValueError: the shapes of labels and predictions are incompatible.
    """
    labels, predictions, weights = _prepare(labels, predictions, weights)
    error = math_ops.abs(
        math_ops.subtract(
            math_ops.cast(predictions, dtypes.float32),
            math_ops.cast(labels, dtypes.float32),
        )
    )
    return mean(
        error,
        weights,
        metrics_collections,
        updates_collections,
        name or "mean_absolute_error",
    )


def root_mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """The square root of the running mean squared error.

    Raises:
        ValueError: the shapes of labels and predictions are incompatible.
    """
    mse, update_mse = mean_squared_error(
        labels, predictions, weights, None, None, name or "root_mean_squared_error"
    )
    value = math_ops.sqrt(mse)
    update_op = math_ops.sqrt(update_mse)
    return _finish(value, update_op, metrics_collections, updates_collections)


def _counter(kind: str) -> Any:
    def count(
        labels: Any,
        predictions: Any,
        weights: Any = None,
        metrics_collections: Any = None,
        updates_collections: Any = None,
        name: str | None = None,
    ) -> tuple[Tensor, Tensor]:
        labels, predictions, weights = _prepare(labels, predictions, weights)
        labels = math_ops.cast(labels, dtypes.bool_)
        predictions = math_ops.cast(predictions, dtypes.bool_)
        if kind.startswith("false"):
            want_label = kind == "false_negatives"
        else:
            want_label = kind == "true_positives"
        lab = labels if want_label else math_ops.logical_not(labels)
        pred_pos = kind in ("true_positives", "false_positives")
        pred = predictions if pred_pos else math_ops.logical_not(predictions)
        value, update_op = _count_condition(
            math_ops.logical_and(lab, pred), weights, name or kind
        )
        return _finish(value, update_op, metrics_collections, updates_collections)

    count.__name__ = count.__qualname__ = kind
    count.__doc__ = (
        f"The running (weighted) number of {kind.replace('_', ' ')} "
        f"(``tf.metrics.{kind}``); labels and predictions are cast to bool.\n\n"
        "Raises:\n    ValueError: the shapes of labels and predictions are incompatible.\n"
    )
    return count


true_positives = _counter("true_positives")
false_positives = _counter("false_positives")
true_negatives = _counter("true_negatives")
false_negatives = _counter("false_negatives")


# -- the confusion matrix ----------------------------------------------------------------


def _confusion_update(labels: Any, predictions: Any, weights: Any, *, n: int) -> Any:
    labels = jnp.reshape(labels, (-1,)).astype(jnp.int32)
    predictions = jnp.reshape(predictions, (-1,)).astype(jnp.int32)
    weights = jnp.broadcast_to(jnp.reshape(weights, (-1,)), labels.shape)
    return (
        jnp.zeros((n, n), weights.dtype)
        .at[labels, predictions]
        .add(weights, mode="drop")
    )


def _confusion_matrix(
    labels: Any, predictions: Any, num_classes: int, weights: Any
) -> tuple[Tensor, Tensor]:
    """The running confusion matrix (rows: labels) and its update op."""
    total = metric_variable(
        [num_classes, num_classes], dtypes.float64, name="total_confusion_matrix"
    )
    labels, predictions, weights = _prepare(labels, predictions, weights)
    w = convert_to_tensor(1.0 if weights is None else weights)
    batch = make_op(
        "ConfusionMatrix",
        _confusion_update,
        [labels, predictions, math_ops.cast(w, dtypes.float32)],
        name="confusion_matrix",
        attrs={"n": num_classes},
    ).outputs[0]
    update = state_ops.assign_add(total, math_ops.cast(batch, dtypes.float64))
    return total.value(), update


def _iou(cm: Any) -> Any:
    rows = jnp.sum(cm, axis=0).astype(jnp.float32)
    cols = jnp.sum(cm, axis=1).astype(jnp.float32)
    diag = jnp.diagonal(cm).astype(jnp.float32)
    denominator = rows + cols - diag
    valid = jnp.sum((denominator != 0).astype(jnp.float32))
    denominator = jnp.where(denominator > 0, denominator, 1.0)
    iou = diag / denominator
    return jnp.where(valid > 0, jnp.sum(iou) / jnp.maximum(valid, 1.0), 0.0)


def _from_confusion(
    fn: Any,
    labels: Any,
    predictions: Any,
    num_classes: int,
    weights: Any,
    metrics_collections: Any,
    updates_collections: Any,
    name: str | None,
    default_name: str,
    out_name: str,
) -> tuple[Tensor, Tensor]:
    with variable_scope(name, default_name, (predictions, labels, weights)):
        total, update = _confusion_matrix(labels, predictions, num_classes, weights)
        value = make_op(out_name, fn, [total], name=out_name).outputs[0]
        value = math_ops.cast(value, dtypes.float32)
        update_op = shape_ops.identity(update, name="update_op")
    return _finish(value, update_op, metrics_collections, updates_collections)


def mean_iou(
    labels: Any,
    predictions: Any,
    num_classes: int,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """The mean intersection-over-union over classes (``tf.metrics.mean_iou``).

    Returns:
        ``(mean_iou, update_op)``; ``update_op`` updates and returns the
        running confusion matrix (float64), as in TF1. Classes absent from
        both labels and predictions are left out of the mean.
    """
    return _from_confusion(
        _iou,
        labels,
        predictions,
        num_classes,
        weights,
        metrics_collections,
        updates_collections,
        name,
        "mean_iou",
        "mean_iou",
    )


def mean_per_class_accuracy(
    labels: Any,
    predictions: Any,
    num_classes: int,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """The accuracy of each class, averaged (``tf.metrics.mean_per_class_accuracy``).

    Returns:
        ``(mean_accuracy, update_op)``; ``update_op`` returns the per-class
        accuracies, as in TF1.
    """
    with variable_scope(name, "mean_accuracy", (predictions, labels, weights)):
        labels, predictions, weights = _prepare(labels, predictions, weights)
        labels = shape_ops.reshape(labels, [-1])
        predictions = math_ops.cast(shape_ops.reshape(predictions, [-1]), labels.dtype)
        total = metric_variable([num_classes], dtypes.float32, name="total")
        count = metric_variable([num_classes], dtypes.float32, name="count")
        ones = creation_ops.ones_like(labels, dtype=dtypes.float32)
        correct = math_ops.cast(math_ops.equal(predictions, labels), dtypes.float32)
        if weights is not None:
            w = math_ops.cast(shape_ops.reshape(weights, [-1]), dtypes.float32)
            ones, correct = math_ops.multiply(ones, w), math_ops.multiply(correct, w)
        update_total = scatter_ops.scatter_add(total, labels, ones)
        update_count = scatter_ops.scatter_add(count, labels, correct)
        per_class = math_ops.div_no_nan(count, total)
        value = reduction_ops.reduce_mean(per_class, name="mean_accuracy")
        update_op = math_ops.div_no_nan(update_count, update_total, name="update_op")
    return _finish(value, update_op, metrics_collections, updates_collections)


# -- counts at thresholds -----------------------------------------------------------------

_KINDS = ("tp", "fn", "tn", "fp")
_VARIABLE_NAMES = {
    "tp": "true_positives",
    "fn": "false_negatives",
    "tn": "true_negatives",
    "fp": "false_positives",
}


def _at_thresholds(
    labels: Any,
    predictions: Any,
    thresholds: Any,
    weights: Any,
    wanted: tuple[str, ...],
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    labels, predictions, weights = _prepare(labels, predictions, weights)
    thresholds = tuple(float(t) for t in thresholds)
    w = math_ops.cast(
        convert_to_tensor(1.0 if weights is None else weights), dtypes.float32
    )
    counts = make_op(
        "ConfusionCounts",
        _confusion_counts,
        [labels, math_ops.cast(predictions, dtypes.float32), w],
        name="confusion_counts",
        attrs={"thresholds": thresholds},
    ).outputs
    values, updates = {}, {}
    for kind, batch in zip(_KINDS, counts):
        if kind not in wanted:
            continue
        var = metric_variable(
            [len(thresholds)], dtypes.float32, name=_VARIABLE_NAMES[kind]
        )
        values[kind] = shape_ops.identity(var.value())
        updates[kind] = state_ops.assign_add(var, batch)
    return values, updates


def _count_at_thresholds(kind: str, tf_name: str) -> Any:
    def count(
        labels: Any,
        predictions: Any,
        thresholds: Any,
        weights: Any = None,
        metrics_collections: Any = None,
        updates_collections: Any = None,
        name: str | None = None,
    ) -> tuple[Tensor, Tensor]:
        scope = tf_name.split("_at_")[0]
        with variable_scope(name, scope, (predictions, labels, weights)):
            values, updates = _at_thresholds(
                labels, predictions, thresholds, weights, (kind,)
            )
        return _finish(
            values[kind], updates[kind], metrics_collections, updates_collections
        )

    count.__name__ = count.__qualname__ = tf_name
    count.__doc__ = (
        f"Per threshold, the running {tf_name.split('_at_')[0].replace('_', ' ')} "
        f"(``tf.metrics.{tf_name}``): predictions above a threshold are positive."
    )
    return count


true_positives_at_thresholds = _count_at_thresholds(
    "tp", "true_positives_at_thresholds"
)
false_positives_at_thresholds = _count_at_thresholds(
    "fp", "false_positives_at_thresholds"
)
true_negatives_at_thresholds = _count_at_thresholds(
    "tn", "true_negatives_at_thresholds"
)
false_negatives_at_thresholds = _count_at_thresholds(
    "fn", "false_negatives_at_thresholds"
)


def _rate_at_thresholds(
    other: str,
    default_name: str,
    labels: Any,
    predictions: Any,
    thresholds: Any,
    weights: Any,
    metrics_collections: Any,
    updates_collections: Any,
    name: str | None,
) -> tuple[Tensor, Tensor]:
    with variable_scope(name, default_name, (predictions, labels, weights)):
        values, updates = _at_thresholds(
            labels, predictions, thresholds, weights, ("tp", other)
        )
        eps = 1e-7

        def rate(tp: Tensor, o: Tensor, out: str) -> Tensor:
            return math_ops.div(tp, math_ops.add(math_ops.add(eps, tp), o), name=out)

        what = default_name.split("_at_")[0]
        value = rate(values["tp"], values[other], f"{what}_value")
        update_op = rate(updates["tp"], updates[other], f"{what}_update_op")
    return _finish(value, update_op, metrics_collections, updates_collections)


def _rate_metric(other: str, tf_name: str, formula: str) -> Any:
    def rate(
        labels: Any,
        predictions: Any,
        thresholds: Any,
        weights: Any = None,
        metrics_collections: Any = None,
        updates_collections: Any = None,
        name: str | None = None,
    ) -> tuple[Tensor, Tensor]:
        return _rate_at_thresholds(
            other,
            tf_name,
            labels,
            predictions,
            thresholds,
            weights,
            metrics_collections,
            updates_collections,
            name,
        )

    rate.__name__ = rate.__qualname__ = tf_name
    rate.__doc__ = f"Per threshold, ``{formula}`` (``tf.metrics.{tf_name}``)."
    return rate


precision_at_thresholds = _rate_metric(
    "fp", "precision_at_thresholds", "tp / (tp + fp + 1e-7)"
)
recall_at_thresholds = _rate_metric(
    "fn", "recall_at_thresholds", "tp / (tp + fn + 1e-7)"
)


# -- at k ---------------------------------------------------------------------------


def _at_k_counts(
    labels: Any, predictions: Any, weights: Any, *, k: int, class_id: int | None
) -> tuple[Any, Any, Any]:
    """Weighted tp, fn, fp of the top ``k`` classes against the label sets."""
    top = jax.lax.top_k(predictions, k)[1]
    labels = labels.astype(top.dtype)
    if labels.ndim == top.ndim - 1:
        labels = labels[..., None]
    if class_id is not None:
        has = jnp.any(labels == class_id, axis=-1)
        picked = jnp.any(top == class_id, axis=-1)
        tp, fn, fp = has & picked, has & ~picked, picked & ~has
        tp, fn, fp = (x.astype(jnp.float32) for x in (tp, fn, fp))
    else:
        found = jnp.any(labels[..., :, None] == top[..., None, :], axis=-1)
        tp = jnp.sum(found, axis=-1).astype(jnp.float32)
        fn = labels.shape[-1] - tp
        fp = k - tp
    w = jnp.broadcast_to(weights, tp.shape)
    return tuple(jnp.sum(x * w) for x in (tp, fn, fp))


def _at_k_name(kind: str, k: int, class_id: int | None) -> str:
    return f"{kind}_at_{k}" + ("" if class_id is None else f"_class{class_id}")


def _metric_at_k(what: str, other: str) -> Any:
    def metric(
        labels: Any,
        predictions: Any,
        k: int,
        class_id: int | None = None,
        weights: Any = None,
        metrics_collections: Any = None,
        updates_collections: Any = None,
        name: str | None = None,
    ) -> tuple[Tensor, Tensor]:
        default = _at_k_name(what, k, class_id)
        with name_scope(name, default) as scope:
            labels = convert_to_tensor(labels)
            predictions = math_ops.cast(convert_to_tensor(predictions), dtypes.float32)
            w = math_ops.cast(
                convert_to_tensor(1.0 if weights is None else weights), dtypes.float32
            )
            counts = make_op(
                "CountsAtK",
                _at_k_counts,
                [labels, predictions, w],
                name="counts_at_k",
                attrs={"k": int(k), "class_id": class_id},
            ).outputs
            batch = {
                "true_positive": counts[0],
                other: counts[1 if other == "false_negative" else 2],
            }
            values, updates = {}, {}
            for kind, count in batch.items():
                var = metric_variable(
                    [], dtypes.float64, name=_at_k_name(kind, k, class_id)
                )
                values[kind] = var.value()
                updates[kind] = state_ops.assign_add(
                    var, math_ops.cast(count, dtypes.float64)
                )

            def rate(counts: dict, out: str) -> Tensor:
                tp = counts["true_positive"]
                return math_ops.div(tp, math_ops.add(tp, counts[other]), name=out)

            value = rate(values, scope)
            update_op = rate(updates, "update")
        return _finish(value, update_op, metrics_collections, updates_collections)

    tf_name = f"{what}_at_k"
    metric.__name__ = metric.__qualname__ = tf_name
    metric.__doc__ = (
        f"The {what} of the top ``k`` predicted classes against the labels "
        f"(``tf.metrics.{tf_name}``), float64.\n\n"
        "``labels`` hold one class per example, or a set per example on a last "
        "axis; with ``class_id``, only that class counts."
    )
    return metric


recall_at_k = _metric_at_k("recall", "false_negative")
precision_at_k = _metric_at_k("precision", "false_positive")
