"""``tf.losses``: weighted losses, their reductions and the LOSSES collection.

Each loss function opens a name scope (``mean_squared_error``, ...), builds
its per-element losses and hands them to ``compute_weighted_loss``, which
weights, reduces and adds the result to ``loss_collection``, as TF1 does.
The regularizers ``l2_regularizer``/``l1_regularizer`` (TF1's
``tf.contrib.layers`` ones) live here too.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import (
    GraphKeys,
    Tensor,
    get_collection,
    get_default_graph,
    name_scope,
)
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.ops import nn as nn_ops
from jaxsession.ops.array.creation import constant
from jaxsession.ops.math import _abs, cast

__all__ = [
    "Reduction",
    "absolute_difference",
    "add_loss",
    "compute_weighted_loss",
    "get_losses",
    "get_regularization_loss",
    "get_regularization_losses",
    "get_total_loss",
    "hinge_loss",
    "huber_loss",
    "l1_regularizer",
    "l2_regularizer",
    "log_loss",
    "mean_squared_error",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]


class Reduction:
    """How ``compute_weighted_loss`` reduces the weighted losses (TF1 values)."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        """Every valid reduction key."""
        return (
            cls.NONE,
            cls.SUM,
            cls.MEAN,
            cls.SUM_OVER_BATCH_SIZE,
            cls.SUM_OVER_NONZERO_WEIGHTS,
            cls.SUM_BY_NONZERO_WEIGHTS,
        )

    @classmethod
    def validate(cls, key: str) -> None:
        """Raises ValueError for an unknown reduction key."""
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}.")


_DEFAULT = Reduction.SUM_BY_NONZERO_WEIGHTS
_BROADCAST_ERROR = "weights can not be broadcast to values."


# -- small private ops ----------------------------------------------------------


def _cast(x: Any, dtype: dtypes_lib.DType) -> Tensor:
    # TF1's losses cast labels to the predictions' dtype (ints included).
    x = convert_to_tensor(x)
    return x if x.dtype is dtype else cast(x, dtype)


def _squeeze_last(x: Tensor) -> Tensor:
    return make_op(
        "Squeeze", lambda v: jnp.squeeze(v, -1), [x], name="Squeeze"
    ).outputs[0]


def _add_n(tensors: list[Any], name: str) -> Tensor:
    tensors = [convert_to_tensor(t) for t in tensors]
    return make_op(
        "AddN", lambda *xs: functools.reduce(jnp.add, xs), tensors, name=name
    ).outputs[0]


# -- weighting and reduction ----------------------------------------------------


def _check_broadcastable(weights: Tensor, losses: Tensor) -> None:
    w, v = weights.shape, losses.shape
    if w.ndims == 0 or w.ndims is None or v.ndims is None:
        return
    if w.ndims != v.ndims:
        raise ValueError(
            f"{_BROADCAST_ERROR} values.rank={v.ndims}. weights.rank={w.ndims}. "
            f"values.shape={v}. weights.shape={w}."
        )
    for i, (a, b) in enumerate(zip(w.as_list(), v.as_list())):
        if None not in (a, b) and a not in (1, b):
            raise ValueError(
                f"{_BROADCAST_ERROR} Mismatch at dim {i}. values.shape={v} "
                f"weights.shape={w}."
            )


def _none_shape(losses: Tensor, weights: Tensor) -> tuple[int | None, ...] | None:
    # TF1 multiplies losses by weights: the static broadcast of both shapes.
    try:
        return shapes.broadcast_static_shape(losses.shape, weights.shape).as_tuple()
    except ValueError:
        return losses.shape.as_tuple()


def _weighted_loss(
    losses: Any, weights: Any, *, reduction: str, weights_nonzero: bool
) -> Any:
    out_dtype = losses.dtype
    losses = losses.astype(jnp.float32)
    weights = jnp.broadcast_to(weights.astype(jnp.float32), losses.shape)
    weighted = losses * weights
    if reduction == Reduction.NONE:
        return weighted.astype(out_dtype)
    total = jnp.sum(weighted)
    if reduction == Reduction.MEAN:
        count = jnp.sum(weights)
    elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
        count = jnp.float32(losses.size)
    elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
        # A nonzero Python weight counts every element, as TF1's _num_present.
        nonzero = jnp.ones_like(weights) if weights_nonzero else weights != 0
        count = jnp.sum(nonzero.astype(jnp.float32))
    else:
        count = jnp.float32(1)
    # TF1's div_no_nan: an empty or all-zero-weight batch gives 0, not NaN.
    safe = jnp.where(count == 0, 1.0, count)
    return jnp.where(count == 0, 0.0, total / safe).astype(out_dtype)


def compute_weighted_loss(
    losses: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """Weights ``losses`` and reduces them; adds the result to ``loss_collection``.

    Args:
        losses: Per-element losses.
        weights: A scalar or a tensor of ``losses``' rank whose dims are 1 or
            equal to those of ``losses``.
        scope: Name scope.
        loss_collection: Collection to add the loss to (None: none).
        reduction: A ``Reduction`` key.

    Returns:
        A scalar, or the weighted losses for ``Reduction.NONE``.

    Raises:
        ValueError: an invalid reduction or weights that do not broadcast.
    """
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss"):
        losses = convert_to_tensor(losses)
        weights_nonzero = isinstance(weights, float | int) and weights != 0
        weights = convert_to_tensor(weights, dtype=dtypes_lib.float32)
        _check_broadcastable(weights, losses)
        shape = _none_shape(losses, weights) if reduction == Reduction.NONE else ()
        loss = make_op(
            "WeightedLoss",
            _weighted_loss,
            [losses, weights],
            name="value",
            attrs={"reduction": reduction, "weights_nonzero": weights_nonzero},
            out_avals=[Aval(shape, losses.dtype)],
        ).outputs[0]
    add_loss(loss, loss_collection)
    return loss


def _check_pair(labels: Any, predictions: Any) -> None:
    if labels is None:
        raise ValueError("labels must not be None.")
    if predictions is None:
        raise ValueError("predictions must not be None.")


def _float_pair(labels: Any, predictions: Any) -> tuple[Tensor, Tensor]:
    predictions = _cast(predictions, dtypes_lib.float32)
    labels = _cast(labels, predictions.dtype)
    predictions.shape.assert_is_compatible_with(labels.shape)
    return labels, predictions


# -- losses ---------------------------------------------------------------------


def _regression(
    default: str,
    fn: Callable[..., Any],
    labels: Any,
    predictions: Any,
    weights: Any,
    scope: str | None,
    loss_collection: str | None,
    reduction: str,
    **attrs: Any,
) -> Tensor:
    _check_pair(labels, predictions)
    with name_scope(scope, default) as ns:
        labels, predictions = _float_pair(labels, predictions)
        out = labels.shape.merge_with(predictions.shape)
        losses = make_op(
            default,
            fn,
            [labels, predictions],
            name="losses",
            attrs=attrs,
            out_avals=[Aval(out.as_tuple(), predictions.dtype)],
        ).outputs[0]
        return compute_weighted_loss(losses, weights, ns, loss_collection, reduction)


def _squared(labels: Any, predictions: Any) -> Any:
    return jnp.square(predictions - labels)


def mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """Weighted ``(predictions - labels) ** 2``, reduced.

    Raises:
        ValueError: a None argument, incompatible shapes or bad weights.
    """
    return _regression(
        "mean_squared_error",
        _squared,
        labels,
        predictions,
        weights,
        scope,
        loss_collection,
        reduction,
    )


def _absolute(labels: Any, predictions: Any) -> Any:
    return _abs(predictions - labels)  # gradient sign(x), as TF's Abs


def absolute_difference(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """Weighted ``abs(predictions - labels)``, reduced.

    Raises:
        ValueError: a None argument, incompatible shapes or bad weights.
    """
    return _regression(
        "absolute_difference",
        _absolute,
        labels,
        predictions,
        weights,
        scope,
        loss_collection,
        reduction,
    )


def _huber(labels: Any, predictions: Any, *, delta: float) -> Any:
    error = jnp.abs(predictions - labels)
    quadratic = jnp.minimum(error, delta)
    return 0.5 * jnp.square(quadratic) + delta * (error - quadratic)


def huber_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    delta: float = 1.0,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """Quadratic below ``delta``, linear above it, weighted and reduced.

    Raises:
        ValueError: a None argument, incompatible shapes or bad weights.
    """
    return _regression(
        "huber_loss",
        _huber,
        labels,
        predictions,
        weights,
        scope,
        loss_collection,
        reduction,
        delta=float(delta),
    )


def _log_loss(labels: Any, predictions: Any, *, epsilon: float) -> Any:
    return -labels * jnp.log(predictions + epsilon) - (1 - labels) * jnp.log(
        1 - predictions + epsilon
    )


def log_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    epsilon: float = 1e-7,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """Binary cross-entropy of probabilities ``predictions``, weighted and reduced.

    Raises:
        ValueError: a None argument, incompatible shapes or bad weights.
    """
    return _regression(
        "log_loss",
        _log_loss,
        labels,
        predictions,
        weights,
        scope,
        loss_collection,
        reduction,
        epsilon=float(epsilon),
    )


def _hinge(labels: Any, logits: Any) -> Any:
    return jax.nn.relu(1 - (2 * labels - 1) * logits)  # TF's relu: 0 at the hinge


def hinge_loss(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """``max(0, 1 - (2 * labels - 1) * logits)`` for 0/1 labels, weighted and reduced.

    Raises:
        ValueError: a None argument, incompatible shapes or bad weights.
    """
    if logits is None:
        raise ValueError("logits must not be None.")
    return _regression(
        "hinge_loss", _hinge, labels, logits, weights, scope, loss_collection, reduction
    )


def _smooth(labels: Any, *, smoothing: float, binary: bool) -> Any:
    spread = 0.5 if binary else 1.0 / labels.shape[-1]
    return labels * (1.0 - smoothing) + smoothing * spread


def _smoothed(labels: Tensor, smoothing: float, binary: bool) -> Tensor:
    if smoothing <= 0:
        return labels
    return make_op(
        "LabelSmoothing",
        _smooth,
        [labels],
        name="smoothed_labels",
        attrs={"smoothing": float(smoothing), "binary": binary},
    ).outputs[0]


def softmax_cross_entropy(
    onehot_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """Softmax cross-entropy of one-hot labels; no gradient into the labels.

    With ``label_smoothing`` s the labels become ``labels * (1 - s) + s / classes``.

    Raises:
        ValueError: a None argument, incompatible shapes or bad weights.
    """
    if onehot_labels is None:
        raise ValueError("onehot_labels must not be None.")
    if logits is None:
        raise ValueError("logits must not be None.")
    with name_scope(scope, "softmax_cross_entropy_loss") as ns:
        logits = convert_to_tensor(logits, name="logits")
        labels = _cast(onehot_labels, logits.dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        labels = _smoothed(labels, label_smoothing, binary=False)
        losses = nn_ops.softmax_cross_entropy_with_logits(
            labels=labels, logits=logits, name="xentropy"
        )
        return compute_weighted_loss(losses, weights, ns, loss_collection, reduction)


def _squeezable(labels: Tensor, logits: Tensor, weights: Any) -> tuple[Tensor, Any]:
    ranks = (labels.shape.ndims, logits.shape.ndims)
    if None not in ranks and ranks[0] == ranks[1] and labels.shape[-1].value == 1:
        labels = _squeeze_last(labels)
    if isinstance(weights, int | float) or labels.shape.ndims is None:
        return labels, weights
    weights = convert_to_tensor(weights, dtype=dtypes_lib.float32)
    if weights.shape.ndims == labels.shape.ndims + 1:
        weights = _squeeze_last(weights)
    return labels, weights


def sparse_softmax_cross_entropy(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """Softmax cross-entropy of integer class ``labels``, weighted and reduced.

    Labels (and weights) with a trailing size-1 dim are squeezed, as in TF1.

    Raises:
        ValueError: a None argument, bad ranks or bad weights.
    """
    if labels is None:
        raise ValueError("labels must not be None.")
    if logits is None:
        raise ValueError("logits must not be None.")
    with name_scope(scope, "sparse_softmax_cross_entropy_loss") as ns:
        logits = convert_to_tensor(logits, name="logits")
        labels, weights = _squeezable(convert_to_tensor(labels), logits, weights)
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits, name="xentropy"
        )
        return compute_weighted_loss(losses, weights, ns, loss_collection, reduction)


def sigmoid_cross_entropy(
    multi_class_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: str | None = None,
    loss_collection: str | None = GraphKeys.LOSSES,
    reduction: str = _DEFAULT,
) -> Tensor:
    """Logistic loss of 0/1 labels, weighted and reduced.

    With ``label_smoothing`` s the labels become ``labels * (1 - s) + s / 2``.

    Raises:
        ValueError: a None argument, incompatible shapes or bad weights.
    """
    if multi_class_labels is None:
        raise ValueError("multi_class_labels must not be None.")
    if logits is None:
        raise ValueError("logits must not be None.")
    with name_scope(scope, "sigmoid_cross_entropy_loss") as ns:
        logits = convert_to_tensor(logits, name="logits")
        labels = _cast(multi_class_labels, logits.dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        labels = _smoothed(labels, label_smoothing, binary=True)
        losses = nn_ops.sigmoid_cross_entropy_with_logits(
            labels=labels, logits=logits, name="xentropy"
        )
        return compute_weighted_loss(losses, weights, ns, loss_collection, reduction)


# -- collections ----------------------------------------------------------------


def add_loss(loss: Any, loss_collection: str | None = GraphKeys.LOSSES) -> None:
    """Adds ``loss`` to ``loss_collection`` (nothing when it is None or empty)."""
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(
    scope: str | None = None, loss_collection: str = GraphKeys.LOSSES
) -> list[Any]:
    """The losses in ``loss_collection`` whose names match ``scope``."""
    return get_collection(loss_collection, scope)


def get_regularization_losses(scope: str | None = None) -> list[Any]:
    """The REGULARIZATION_LOSSES whose names match ``scope``."""
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(
    scope: str | None = None, name: str = "total_regularization_loss"
) -> Tensor:
    """The sum of the regularization losses, or a constant 0.0 when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return _add_n(losses, name)
    return constant(0.0)


def get_total_loss(
    add_regularization_losses: bool = True,
    name: str = "total_loss",
    scope: str | None = None,
) -> Tensor:
    """The sum of the losses, plus the regularization losses by default.

    Raises:
        ValueError: there are no losses to add.
    """
    losses = get_losses(scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope)
    if not losses:
        where = f" (scope={scope!r})" if scope is not None else ""
        raise ValueError(
            f"No losses found in collection{where}: get_total_loss needs at least "
            f"one tensor in '{GraphKeys.LOSSES}'"
            + (
                f" or '{GraphKeys.REGULARIZATION_LOSSES}'."
                if add_regularization_losses
                else "."
            )
        )
    return _add_n(losses, name)


# -- regularizers ---------------------------------------------------------------


def _check_scale(scale: Any) -> bool:
    """Validates ``scale``; returns False when it disables the regularizer."""
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(
                f"Setting a scale less than 0 on a regularizer: {scale:g}."
            )
        return scale != 0.0
    return True


def _regularizer(
    default: str, fn: Callable[[Any], Any], scale: Any, scope: str | None
) -> Callable[[Any], Tensor | None]:
    if not _check_scale(scale):
        return lambda _: None

    def apply(weights: Any) -> Tensor:
        weights = convert_to_tensor(weights)
        with name_scope(scope, default) as ns:
            scale_t = convert_to_tensor(scale, dtype=weights.dtype, name="scale")
            return make_op(
                "Mul",
                lambda s, w: s * fn(w),
                [scale_t, weights],
                name=ns,
                out_avals=[Aval((), weights.dtype)],
            ).outputs[0]

    return apply


def _l2(w: Any) -> Any:
    return jnp.sum(jnp.square(w)) / 2


def _l1(w: Any) -> Any:
    return jnp.sum(_abs(w))


def l2_regularizer(scale: float, scope: str | None = None) -> Callable[[Any], Any]:
    """A regularizer ``w -> scale * sum(w ** 2) / 2`` (TF1's ``tf.contrib.layers``).

    Returns:
        A function of a weight tensor; it returns None when ``scale`` is 0.

    Raises:
        ValueError: ``scale`` is an integer or negative.
    """
    return _regularizer("l2_regularizer", _l2, scale, scope)


def l1_regularizer(scale: float, scope: str | None = None) -> Callable[[Any], Any]:
    """A regularizer ``w -> scale * sum(abs(w))`` (TF1's ``tf.contrib.layers``).

    Returns:
        A function of a weight tensor; it returns None when ``scale`` is 0.

    Raises:
        ValueError: ``scale`` is an integer or negative.
    """
    return _regularizer("l1_regularizer", _l1, scale, scope)
