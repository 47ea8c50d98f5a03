"""Streaming metrics (``tf.metrics``): each returns ``(value, update_op)``.

A metric keeps its running state in local variables (collections
LOCAL_VARIABLES and METRIC_VARIABLES, zero-initialized, not trainable), so
``local_variables_initializer()`` resets it. ``update_op`` adds one batch and
evaluates to the metric after that batch; ``value`` reads the metric without
changing it. The formulas and variable names are TF1's.

Differs from TF1: ``auc`` does not check at run time that predictions lie in
[0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from jaxsession import errors
from jaxsession.graph import dtypes
from jaxsession.graph.core import GraphKeys, Tensor, add_to_collections
from jaxsession.graph.initializers import zeros_initializer
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.variables import Variable, variable_scope
from jaxsession.ops import (
    math as math_ops,
    reduction as reduction_ops,
    state as state_ops,
)
from jaxsession.ops.array import creation as creation_ops, shape as shape_ops

_EPSILON = 1e-7


def metric_variable(
    shape: Sequence[int], dtype: Any, name: str | None = None
) -> Variable:
    """A zero-initialized local variable in LOCAL_VARIABLES and METRIC_VARIABLES."""
    dtype = dtypes.as_dtype(dtype)
    return Variable(
        lambda: zeros_initializer()(list(shape), dtype),
        trainable=False,
        collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES],
        name=name,
    )


def _finish(
    value: Tensor, update_op: Tensor, metrics_collections: Any, updates_collections: Any
) -> tuple[Tensor, Tensor]:
    if metrics_collections:
        add_to_collections(metrics_collections, value)
    if updates_collections:
        add_to_collections(updates_collections, update_op)
    return value, update_op


def _squeeze_to(a: Tensor, b: Tensor) -> Tensor:
    """Drops a trailing size-1 dim of ``a`` when ``a`` has one more dim than ``b``."""
    ra, rb = a.shape.ndims, b.shape.ndims
    if (
        ra is not None
        and rb is not None
        and ra == rb + 1
        and a.shape.as_list()[-1] == 1
    ):
        return shape_ops.squeeze(a, [-1])
    return a


def _prepare(
    labels: Any, predictions: Any, weights: Any
) -> tuple[Tensor, Tensor, Tensor | None]:
    """TF1's ``_remove_squeezable_dimensions`` and a static shape check."""
    predictions = convert_to_tensor(predictions)
    labels = _squeeze_to(convert_to_tensor(labels), predictions)
    predictions = _squeeze_to(predictions, labels)
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError(
            f"Shapes {predictions.shape} and {labels.shape} are incompatible: "
            f"predictions {predictions!r} and labels {labels!r}"
        )
    if weights is not None:
        weights = _squeeze_to(convert_to_tensor(weights), predictions)
    return labels, predictions, weights


def _broadcast_weights(weights: Any, values: Tensor) -> Tensor:
    weights = math_ops.cast(convert_to_tensor(weights), dtypes.float32)
    return math_ops.multiply(weights, creation_ops.ones_like(values))


def mean(
    values: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """The (weighted) mean of ``values`` over every batch so far.

    Args:
        values: A tensor of any shape.
        weights: None, or a tensor broadcastable to ``values``.
        metrics_collections: Collections to add ``value`` to.
        updates_collections: Collections to add ``update_op`` to.
        name: Variable scope name (default "mean").

    Returns:
        ``(value, update_op)``: total / count, 0 while count is 0.
    """
    with variable_scope(name, "mean", (values, weights)):
        values = math_ops.cast(convert_to_tensor(values), dtypes.float32)
        total = metric_variable([], dtypes.float32, name="total")
        count = metric_variable([], dtypes.float32, name="count")
        if weights is None:
            num_values = math_ops.cast(shape_ops.size(values), dtypes.float32)
        else:
            weights = _broadcast_weights(
                _squeeze_to(convert_to_tensor(weights), values), values
            )
            values = math_ops.multiply(values, weights)
            num_values = reduction_ops.reduce_sum(weights)
        update_total = state_ops.assign_add(total, reduction_ops.reduce_sum(values))
        update_count = state_ops.assign_add(count, num_values)
        value = math_ops.div_no_nan(total, math_ops.maximum(count, 0.0), name="value")
        update_op = math_ops.div_no_nan(
            update_total, math_ops.maximum(update_count, 0.0), name="update_op"
        )
    return _finish(value, update_op, metrics_collections, updates_collections)


def accuracy(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """How often ``predictions`` equals ``labels``, weighted by ``weights``.

    Returns:
        ``(value, update_op)`` of the running accuracy.

    Raises:
        ValueError: the shapes of labels and predictions are incompatible.
    """
    labels, predictions, weights = _prepare(labels, predictions, weights)
    if labels.dtype != predictions.dtype:
        predictions = math_ops.cast(predictions, labels.dtype)
    is_correct = math_ops.cast(math_ops.equal(predictions, labels), dtypes.float32)
    return mean(
        is_correct,
        weights,
        metrics_collections,
        updates_collections,
        name or "accuracy",
    )


def mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """The running mean of ``(labels - predictions) ** 2``.

    Raises:
        ValueError: the shapes of labels and predictions are incompatible.
    """
    labels, predictions, weights = _prepare(labels, predictions, weights)
    labels = math_ops.cast(labels, dtypes.float32)
    predictions = math_ops.cast(predictions, dtypes.float32)
    squared_error = math_ops.squared_difference(labels, predictions)
    return mean(
        squared_error,
        weights,
        metrics_collections,
        updates_collections,
        name or "mean_squared_error",
    )


def _count_condition(
    condition: Tensor, weights: Any, name: str
) -> tuple[Tensor, Tensor]:
    with variable_scope(None, name, (condition, weights)):
        count = metric_variable([], dtypes.float32, name="count")
        values = math_ops.cast(condition, dtypes.float32)
        if weights is not None:
            values = math_ops.multiply(values, _broadcast_weights(weights, values))
        value = shape_ops.identity(count.value())
        update_op = state_ops.assign_add(count, reduction_ops.reduce_sum(values))
    return value, update_op


def _ratio(numerator: Tensor, other: Tensor, name: str) -> Tensor:
    total = math_ops.add(numerator, other)
    return math_ops.where(
        math_ops.greater(total, 0.0),
        math_ops.div_no_nan(numerator, total),
        0.0 * total,
        name=name,
    )


def _positive_ratio(
    labels: Any,
    predictions: Any,
    weights: Any,
    other: str,
    default_name: str,
    metrics_collections: Any,
    updates_collections: Any,
    name: str | None,
) -> tuple[Tensor, Tensor]:
    with variable_scope(name, default_name, (predictions, labels, weights)):
        labels, predictions, weights = _prepare(labels, predictions, weights)
        labels = math_ops.cast(labels, dtypes.bool_)
        predictions = math_ops.cast(predictions, dtypes.bool_)
        tp, tp_update = _count_condition(
            math_ops.logical_and(labels, predictions), weights, "true_positives"
        )
        if other == "false_positives":
            other_condition = math_ops.logical_and(
                math_ops.logical_not(labels), predictions
            )
        else:
            other_condition = math_ops.logical_and(
                labels, math_ops.logical_not(predictions)
            )
        o, o_update = _count_condition(other_condition, weights, other)
        value = _ratio(tp, o, "value")
        update_op = _ratio(tp_update, o_update, "update_op")
    return _finish(value, update_op, metrics_collections, updates_collections)


def precision(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """true_positives / (true_positives + false_positives), 0 when both are 0.

    Labels and predictions are cast to bool.

    Raises:
        ValueError: the shapes of labels and predictions are incompatible.
    """
    return _positive_ratio(
        labels,
        predictions,
        weights,
        "false_positives",
        "precision",
        metrics_collections,
        updates_collections,
        name,
    )


def recall(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """true_positives / (true_positives + false_negatives), 0 when both are 0.

    Labels and predictions are cast to bool.

    Raises:
        ValueError: the shapes of labels and predictions are incompatible.
    """
    return _positive_ratio(
        labels,
        predictions,
        weights,
        "false_negatives",
        "recall",
        metrics_collections,
        updates_collections,
        name,
    )


def _confusion_counts(
    labels: Any, predictions: Any, weights: Any, *, thresholds: tuple
) -> Any:
    """Per threshold: weighted counts of tp, fn, tn, fp for one batch."""
    labels = jnp.reshape(labels, (1, -1)).astype(bool)
    predictions = jnp.reshape(predictions, (1, -1)).astype(jnp.float32)
    weights = jnp.broadcast_to(jnp.reshape(weights, (1, -1)), predictions.shape)
    pred_pos = predictions > jnp.asarray(thresholds, jnp.float32)[:, None]
    cases = (
        labels & pred_pos,
        labels & ~pred_pos,
        ~labels & ~pred_pos,
        ~labels & pred_pos,
    )
    return tuple(jnp.sum(jnp.where(c, weights, 0.0), axis=1) for c in cases)


def _auc_from_counts(
    tp: Any, fn: Any, tn: Any, fp: Any, *, curve: str, summation: str
) -> Any:
    recall_ = (tp + _EPSILON) / (tp + fn + _EPSILON)
    if curve == "ROC":
        x, y = fp / (fp + tn + _EPSILON), recall_
    else:
        x, y = recall_, (tp + _EPSILON) / (tp + fp + _EPSILON)
    if summation == "minoring":
        heights = jnp.minimum(y[:-1], y[1:])
    elif summation == "majoring":
        heights = jnp.maximum(y[:-1], y[1:])
    else:
        heights = (y[:-1] + y[1:]) / 2.0
    return jnp.sum((x[:-1] - x[1:]) * heights)


def auc(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    num_thresholds: int = 200,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    curve: str = "ROC",
    name: str | None = None,
    summation_method: str = "trapezoidal",
    thresholds: Sequence[float] | None = None,
) -> tuple[Tensor, Tensor]:
    """Area under the ROC or PR curve, from counts at ``num_thresholds`` thresholds.

    Args:
        labels: Tensor cast to bool.
        predictions: Floats in [0, 1].
        weights: None or a tensor broadcastable to ``predictions``.
        num_thresholds: Evenly spaced thresholds, the ends just outside [0, 1].
        metrics_collections: Collections to add ``value`` to.
        updates_collections: Collections to add ``update_op`` to.
        curve: "ROC" or "PR".
        name: Variable scope name (default "auc").
        summation_method: "trapezoidal" (or "careful_interpolation", which
            is trapezoidal here), "minoring" or "majoring".
        thresholds: Explicit thresholds replacing ``num_thresholds``.

    Returns:
        ``(value, update_op)``.

    Raises:
        ValueError: a bad ``curve``/``summation_method``, or shapes that do not fit.
        errors.UnimplementedError: ``curve="PR"`` with "careful_interpolation".
    """
    if curve not in ("ROC", "PR"):
        raise ValueError(f"curve must be either ROC or PR, {curve} unknown")
    if summation_method not in (
        "trapezoidal",
        "careful_interpolation",
        "minoring",
        "majoring",
    ):
        raise ValueError(f"Invalid summation_method: {summation_method}")
    if curve == "PR" and summation_method == "careful_interpolation":
        raise errors.UnimplementedError(
            None,
            None,
            'auc(curve="PR", summation_method="careful_interpolation") is '
            'not implemented; use summation_method="trapezoidal"',
        )
    if thresholds is None:
        inner = [
            (i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)
        ]
        thresholds = [0.0 - _EPSILON, *inner, 1.0 + _EPSILON]
    else:
        thresholds = [0.0 - _EPSILON, *thresholds, 1.0 + _EPSILON]
    thresholds = tuple(float(t) for t in thresholds)
    with variable_scope(name, "auc", (labels, predictions, weights)):
        labels, predictions, weights = _prepare(labels, predictions, weights)
        if weights is None:
            weights = 1.0
        weights = math_ops.cast(convert_to_tensor(weights), dtypes.float32)
        names = (
            "true_positives",
            "false_negatives",
            "true_negatives",
            "false_positives",
        )
        counts = [
            metric_variable([len(thresholds)], dtypes.float32, name=n) for n in names
        ]
        batch = make_op(
            "ConfusionMatrixAtThresholds",
            _confusion_counts,
            [labels, predictions, weights],
            attrs={"thresholds": thresholds},
        ).outputs
        updates = [state_ops.assign_add(v, b) for v, b in zip(counts, batch)]
        attrs = {"curve": curve, "summation": summation_method}
        value = make_op(
            "AUC",
            _auc_from_counts,
            [c.value() for c in counts],
            attrs=attrs,
            name="value",
        ).outputs[0]
        update_op = make_op(
            "AUC", _auc_from_counts, updates, attrs=attrs, name="update_op"
        ).outputs[0]
    return _finish(value, update_op, metrics_collections, updates_collections)
