"""``tf.nn`` ops: activations, dropout, bias_add, cross-entropies, lookups, top-k.

Every op is one ``make_op`` with a jax.numpy / lax lowering. The cross-entropy
ops declare their output types from merged static shapes instead of inferring
them, so a known dim against an unknown one is accepted as TF1 accepts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxsession import errors
from jaxsession.graph import random as random_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.make_op import check_input_dtype, convert_to_tensor, make_op
from jaxsession.graph.rules import NO_GRADIENT_INPUTS
from jaxsession.ops.math import _abs

__all__ = [
    "bias_add",
    "dropout",
    "elu",
    "embedding_lookup",
    "in_top_k",
    "l2_loss",
    "leaky_relu",
    "log_poisson_loss",
    "log_softmax",
    "relu",
    "relu6",
    "selu",
    "sigmoid_cross_entropy_with_logits",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "softplus",
    "softsign",
    "sparse_softmax_cross_entropy_with_logits",
    "top_k",
    "weighted_cross_entropy_with_logits",
]


def _unary(op_type: str, fn: Any, x: Any, name: str | None, **attrs: Any) -> Tensor:
    x = convert_to_tensor(x)
    return make_op(op_type, fn, [x], name=name or op_type, attrs=attrs).outputs[0]


def _axis(axis: int | None, dim: int | None) -> int:
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    return -1 if axis is None and dim is None else int(axis if dim is None else dim)


# -- activations ----------------------------------------------------------------


def relu(features: Any, name: str | None = None) -> Tensor:
    """Rectified linear ``max(features, 0)``."""
    return _unary("Relu", jax.nn.relu, features, name)


def _relu6(x: Any) -> Any:
    # jax.nn.relu6's gradient is TF's Relu6Grad: 0 at x = 0 and x = 6.
    if jnp.issubdtype(x.dtype, jnp.floating):
        return jax.nn.relu6(x)
    return jnp.clip(x, 0, 6)


def relu6(features: Any, name: str | None = None) -> Tensor:
    """``min(max(features, 0), 6)``."""
    return _unary("Relu6", _relu6, features, name)


def elu(features: Any, name: str | None = None) -> Tensor:
    """Exponential linear: ``exp(x) - 1`` below zero, ``x`` above."""
    return _unary("Elu", jax.nn.elu, features, name)


def _selu(x: Any) -> Any:
    # TF's SeluGrad takes the linear branch at 0 (jax.nn.selu the exponential).
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    safe = jnp.where(x >= 0, jnp.zeros_like(x), x)
    return scale * jnp.where(x >= 0, x, alpha * jnp.expm1(safe))


def selu(features: Any, name: str | None = None) -> Tensor:
    """Scaled exponential linear (Klambauer et al., 2017)."""
    return _unary("Selu", _selu, features, name)


def _leaky_relu(x: Any, *, alpha: float) -> Any:
    return jnp.where(x > 0, x, x * alpha)


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """``features`` above zero, ``alpha * features`` below."""
    return _unary("LeakyRelu", _leaky_relu, features, name, alpha=float(alpha))


def softplus(features: Any, name: str | None = None) -> Tensor:
    """``log(exp(features) + 1)``, computed stably."""
    return _unary("Softplus", jax.nn.softplus, features, name)


def _softsign(x: Any) -> Any:
    return x / (1 + jnp.abs(x))


def softsign(features: Any, name: str | None = None) -> Tensor:
    """``features / (abs(features) + 1)``."""
    return _unary("Softsign", _softsign, features, name)


def _softmax(x: Any, *, axis: int) -> Any:
    return jax.nn.softmax(x, axis=axis)


def _log_softmax(x: Any, *, axis: int) -> Any:
    return jax.nn.log_softmax(x, axis=axis)


# TF's Softmax/LogSoftmax op definitions, in their order.
_SOFTMAX_TYPES = ("float16", "bfloat16", "float32", "float64")


def softmax(
    logits: Any,
    axis: int | None = None,
    name: str | None = None,
    dim: int | None = None,
) -> Tensor:
    """Softmax along ``axis`` (default last; ``dim`` is TF1's old name).

    Raises:
        ValueError: both ``axis`` and ``dim`` are given.
    """
    logits = convert_to_tensor(logits)
    check_input_dtype(logits, "logits", _SOFTMAX_TYPES, "Softmax")
    return _unary("Softmax", _softmax, logits, name, axis=_axis(axis, dim))


def log_softmax(
    logits: Any,
    axis: int | None = None,
    name: str | None = None,
    dim: int | None = None,
) -> Tensor:
    """``logits - log(reduce_sum(exp(logits), axis))`` (default last axis).

    Raises:
        ValueError: both ``axis`` and ``dim`` are given.
    """
    logits = convert_to_tensor(logits)
    check_input_dtype(logits, "logits", _SOFTMAX_TYPES, "LogSoftmax")
    return _unary("LogSoftmax", _log_softmax, logits, name, axis=_axis(axis, dim))


# -- dropout --------------------------------------------------------------------


def _dropout(
    x: Any,
    rate: Any,
    *,
    key: Any,
    seed: tuple[int, int],
    noise_shape: tuple[int | None, ...] | None,
) -> Any:
    shape = x.shape if noise_shape is None else noise_shape
    shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(shape))
    uniform = jax.random.uniform(random_lib.op_key(key, seed), shape, x.dtype)
    keep = uniform >= rate
    return jnp.where(keep, x * (1 / (1 - rate)), jnp.zeros((), x.dtype))


def _dropout_rate(keep_prob: Any, rate: Any) -> Any:
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'")
    if keep_prob is None and rate is None:
        raise ValueError("You must provide a rate to dropout.")
    if rate is not None:
        return rate
    if isinstance(keep_prob, int | float):
        return 1.0 - keep_prob
    from jaxsession.ops import math as math_ops

    return math_ops.subtract(1.0, keep_prob, name="rate")


def _noise_shape(noise_shape: Any) -> tuple[int | None, ...] | None:
    if noise_shape is None:
        return None
    if isinstance(noise_shape, Tensor):
        raise TypeError("dropout noise_shape must be a static list or tuple of ints")
    return tuple(None if d is None else int(d) for d in noise_shape)


def dropout(
    x: Any,
    keep_prob: Any = None,
    noise_shape: Any = None,
    seed: int | None = None,
    name: str | None = None,
    rate: Any = None,
) -> Tensor:
    """Zeroes elements with probability ``rate``; scales the rest by ``1/keep_prob``.

    Exactly one of ``keep_prob`` (TF1) and ``rate = 1 - keep_prob`` is given;
    either may be a tensor. The mask is new on every run and reproducible
    from the graph and op seeds.

    Args:
        x: A floating point tensor.
        keep_prob: Probability of keeping each element.
        noise_shape: Static shape of the mask, broadcast against ``x``; None
            entries take ``x``'s size.
        seed: Op seed.
        name: Op name.
        rate: Probability of dropping each element.

    Returns:
        A tensor like ``x``.

    Raises:
        ValueError: both or neither of ``keep_prob``/``rate``, a rate outside
            [0, 1), or ``x`` not floating point.
    """
    x = convert_to_tensor(x, name="x")
    if not x.dtype.is_floating:
        raise ValueError(
            "x has to be a floating point tensor since it's going to be scaled. "
            f"Got a {x.dtype.name} tensor instead."
        )
    rate = _dropout_rate(keep_prob, rate)
    if isinstance(rate, int | float):
        if not 0 <= rate < 1:
            raise ValueError(
                f"rate must be a scalar tensor or a float in the range [0, 1), got {rate:g}"
            )
        if rate == 0:
            return x
    rate = convert_to_tensor(rate, dtype=x.dtype, name="rate")
    rate.shape.assert_is_compatible_with(shapes.TensorShape([]))
    attrs = {
        "seed": random_lib.get_seed(seed),
        "noise_shape": _noise_shape(noise_shape),
    }
    # TF1 gives the result x's static shape whatever the rate's (a shape-less
    # keep_prob placeholder is the common case).
    return make_op(
        "Dropout",
        _dropout,
        [x, rate],
        name=name or "dropout",
        attrs=attrs,
        random=True,
        out_avals=[Aval(x.shape.as_tuple(), x.dtype)],
    ).outputs[0]


# -- bias and l2 loss -----------------------------------------------------------


def _bias_add(x: Any, b: Any, *, channels_first: bool) -> Any:
    if channels_first:
        b = b.reshape((-1,) + (1,) * (x.ndim - 2))
    return x + b


def bias_add(
    value: Any, bias: Any, data_format: str | None = None, name: str | None = None
) -> Tensor:
    """Adds the 1-D ``bias`` along the channel dim (last, or 1 for "NC...").

    Raises:
        ValueError: ``bias`` is not 1-D or its size differs from the channels.
    """
    x = convert_to_tensor(value, name="input")
    b = convert_to_tensor(bias, dtype=x.dtype, name="bias")
    channels_first = bool(data_format) and data_format.startswith("NC")
    name = name or "BiasAdd"
    if b.shape.ndims not in (None, 1):
        raise errors.op_shape_error("BiasAdd", name, [x, b], "Shape must be rank 1")
    if x.shape.ndims is not None and b.shape.ndims is not None:
        channel = x.shape[1 if channels_first else -1].value
        if None not in (channel, b.shape[0].value) and channel != b.shape[0].value:
            raise errors.op_shape_error(
                "BiasAdd",
                name,
                [x, b],
                f"Dimensions must be equal, but are {channel} and {b.shape[0].value}",
            )
    return make_op(
        "BiasAdd",
        _bias_add,
        [x, b],
        name=name,
        attrs={"channels_first": channels_first},
        out_avals=[Aval(x.shape.as_tuple(), x.dtype)],
    ).outputs[0]


def _l2_loss(x: Any) -> Any:
    return jnp.sum(jnp.square(x)) / 2


def l2_loss(t: Any, name: str | None = None) -> Tensor:
    """``sum(t ** 2) / 2``, a scalar."""
    return _unary("L2Loss", _l2_loss, t, name)


# -- cross-entropies ------------------------------------------------------------


def _ensure_xent_args(name: str, sentinel: Any, labels: Any, logits: Any) -> None:
    if sentinel is not None:
        raise ValueError(
            f"Only call `{name}` with named arguments (labels=..., logits=..., ...)"
        )
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")


def _merged(
    a: shapes.TensorShape, b: shapes.TensorShape, message: str
) -> shapes.TensorShape:
    try:
        return a.merge_with(b)
    except ValueError:
        raise ValueError(message) from None


def _sparse_xent(labels: Any, logits: Any) -> Any:
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    classes = logits.shape[-1]
    safe = jnp.clip(labels, 0, classes - 1).astype(jnp.int32)
    loss = -jnp.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]
    bad = (labels < 0) | (labels >= classes)
    return jnp.where(bad, jnp.array(jnp.nan, loss.dtype), loss)


def sparse_softmax_cross_entropy_with_logits(
    _sentinel: Any = None,
    labels: Any = None,
    logits: Any = None,
    name: str | None = None,
) -> Tensor:
    """Softmax cross-entropy with integer class ``labels``.

    Differs from TF1: an out-of-range label gives NaN (TF1's GPU behaviour)
    instead of an InvalidArgumentError.

    Args:
        _sentinel: Catches positional calls, as TF1 does.
        labels: ``[d0, ..., dn-1]`` int32/int64 class ids.
        logits: ``[d0, ..., dn-1, num_classes]`` floating point.
        name: Op name.

    Returns:
        The per-example loss, shaped like ``labels``.

    Raises:
        ValueError: positional arguments, a missing argument, or ranks that do
            not differ by one.
        TypeError: ``labels`` are not int32 or int64.
    """
    _ensure_xent_args(
        "sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits
    )
    logits = convert_to_tensor(logits, name="logits")
    labels = convert_to_tensor(labels, name="labels")
    check_input_dtype(
        labels, "labels", ("int32", "int64"), "SparseSoftmaxCrossEntropyWithLogits"
    )
    if None not in (labels.shape.ndims, logits.shape.ndims) and (
        labels.shape.ndims != logits.shape.ndims - 1
    ):
        raise ValueError(
            f"Rank mismatch: Rank of labels (received {labels.shape.ndims}) should "
            f"equal rank of logits minus 1 (received {logits.shape.ndims})."
        )
    lead = (
        logits.shape[:-1]
        if logits.shape.ndims is not None
        else shapes.TensorShape(None)
    )
    out = _merged(
        labels.shape,
        lead,
        f"Shapes of labels {labels.shape} and logits {logits.shape} are incompatible",
    )
    return make_op(
        "SparseSoftmaxCrossEntropyWithLogits",
        _sparse_xent,
        [labels, logits],
        name=name or "SparseSoftmaxCrossEntropyWithLogits",
        out_avals=[Aval(out.as_tuple(), logits.dtype)],
    ).outputs[0]


def _softmax_xent(labels: Any, logits: Any, *, axis: int, stop_labels: bool) -> Any:
    if stop_labels:
        labels = lax.stop_gradient(labels)
    return -jnp.sum(labels * jax.nn.log_softmax(logits, axis=axis), axis=axis)


def _softmax_xent_op(
    labels: Any, logits: Any, axis: int, name: str | None, stop_labels: bool
) -> Tensor:
    logits = convert_to_tensor(logits, name="logits")
    labels = convert_to_tensor(labels, dtype=logits.dtype, name="labels")
    name = name or "softmax_cross_entropy_with_logits"
    op_type = "SoftmaxCrossEntropyWithLogits"
    try:
        merged = labels.shape.merge_with(logits.shape)
    except ValueError:
        raise errors.op_shape_error(
            op_type, name, [logits, labels], "logits and labels must be the same shape"
        ) from None
    out = None
    if merged.ndims is not None:
        dims = merged.as_list()
        del dims[axis]
        out = tuple(dims)
    return make_op(
        op_type,
        _softmax_xent,
        [labels, logits],
        name=name,
        attrs={"axis": axis, "stop_labels": stop_labels},
        out_avals=[Aval(out, logits.dtype)],
    ).outputs[0]


def _softmax_xent_no_gradient(op: Operation) -> tuple[int, ...]:
    return (0,) if op.get_attr("stop_labels") else ()


# TF1's softmax_cross_entropy_with_logits passes labels through stop_gradient.
NO_GRADIENT_INPUTS["SoftmaxCrossEntropyWithLogits"] = _softmax_xent_no_gradient


def softmax_cross_entropy_with_logits(
    _sentinel: Any = None,
    labels: Any = None,
    logits: Any = None,
    dim: int = -1,
    name: str | None = None,
    axis: int | None = None,
) -> Tensor:
    """Softmax cross-entropy with probability ``labels``; no gradient into labels.

    Args:
        _sentinel: Catches positional calls, as TF1 does.
        labels: A distribution over classes per example, shaped like ``logits``.
        logits: Unscaled log probabilities.
        dim: The class dimension (TF1's name for ``axis``).
        name: Op name.
        axis: The class dimension.

    Returns:
        The per-example loss (``logits`` without the class dim).

    Raises:
        ValueError: positional arguments, a missing argument or incompatible shapes.
    """
    _ensure_xent_args("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    axis = dim if axis is None else axis
    return _softmax_xent_op(labels, logits, axis, name, stop_labels=True)


def softmax_cross_entropy_with_logits_v2(
    labels: Any,
    logits: Any,
    axis: int | None = None,
    name: str | None = None,
    dim: int | None = None,
) -> Tensor:
    """Softmax cross-entropy whose gradient also flows into ``labels``.

    Raises:
        ValueError: incompatible shapes, or both ``axis`` and ``dim``.
    """
    return _softmax_xent_op(labels, logits, _axis(axis, dim), name, stop_labels=False)


def _sigmoid_xent(labels: Any, logits: Any) -> Any:
    # max(x, 0) - x * z + log(1 + exp(-|x|)): TF1's overflow-free form, written
    # with TF's selects so that the gradient at x = 0 is TF's, sigmoid(0) - z.
    positive = logits >= 0
    relu_logits = jnp.where(positive, logits, jnp.zeros_like(logits))
    neg_abs_logits = jnp.where(positive, -logits, logits)
    return relu_logits - logits * labels + jnp.log1p(jnp.exp(neg_abs_logits))


def _same_shape_op(
    op_type: str,
    fn: Any,
    labels: Any,
    logits: Any,
    name: str,
    extra: Sequence[Any] = (),
    attrs: dict | None = None,
) -> Tensor:
    logits = convert_to_tensor(logits, name="logits")
    labels = convert_to_tensor(labels, dtype=logits.dtype, name="labels")
    out = _merged(
        labels.shape,
        logits.shape,
        f"logits and labels must have the same shape "
        f"({logits.shape} vs {labels.shape})",
    )
    extra = [convert_to_tensor(e, dtype=logits.dtype) for e in extra]
    return make_op(
        op_type,
        fn,
        [labels, logits, *extra],
        name=name,
        attrs=attrs,
        out_avals=[Aval(out.as_tuple(), logits.dtype)],
    ).outputs[0]


def sigmoid_cross_entropy_with_logits(
    _sentinel: Any = None,
    labels: Any = None,
    logits: Any = None,
    name: str | None = None,
) -> Tensor:
    """Elementwise logistic loss ``-z log(sigmoid(x)) - (1-z) log(1-sigmoid(x))``.

    Raises:
        ValueError: positional arguments, a missing argument or different shapes.
    """
    _ensure_xent_args("sigmoid_cross_entropy_with_logits", _sentinel, labels, logits)
    return _same_shape_op(
        "SigmoidCrossEntropyWithLogits",
        _sigmoid_xent,
        labels,
        logits,
        name or "logistic_loss",
    )


def _weighted_xent(labels: Any, logits: Any, pos_weight: Any) -> Any:
    log_weight = 1 + (pos_weight - 1) * labels
    return (1 - labels) * logits + log_weight * (
        jnp.log1p(jnp.exp(-_abs(logits))) + jax.nn.relu(-logits)
    )


def weighted_cross_entropy_with_logits(
    labels: Any = None,
    logits: Any = None,
    pos_weight: Any = None,
    name: str | None = None,
    targets: Any = None,
) -> Tensor:
    """Logistic loss with the positive term weighted by ``pos_weight``.

    Raises:
        ValueError: ``labels`` and ``targets`` both given, or different shapes.
    """
    if labels is not None and targets is not None:
        raise ValueError("Cannot specify both 'targets' and 'labels'")
    labels = targets if labels is None else labels
    return _same_shape_op(
        "WeightedCrossEntropyWithLogits",
        _weighted_xent,
        labels,
        logits,
        name or "logistic_loss",
        [pos_weight],
    )


def _log_poisson(targets: Any, log_input: Any, *, full: bool) -> Any:
    loss = jnp.exp(log_input) - log_input * targets
    if full:
        safe = jnp.where(targets > 1, targets, 1)
        stirling = safe * jnp.log(safe) - safe + 0.5 * jnp.log(2 * np.pi * safe)
        loss = loss + jnp.where(targets > 1, stirling, 0)
    return loss


def log_poisson_loss(
    targets: Any,
    log_input: Any,
    compute_full_loss: bool = False,
    name: str | None = None,
) -> Tensor:
    """Poisson negative log likelihood ``exp(c) - z * c`` (+ Stirling term).

    Raises:
        ValueError: different shapes.
    """
    return _same_shape_op(
        "LogPoissonLoss",
        _log_poisson,
        targets,
        log_input,
        name or "log_poisson_loss",
        attrs={"full": bool(compute_full_loss)},
    )


# -- lookups and ranking --------------------------------------------------------


def _embedding_lookup(*args: Any, strategy: str, max_norm: float | None) -> Any:
    params, ids = args[:-1], args[-1].astype(jnp.int32)
    if len(params) == 1:
        table, index = params[0], ids
    else:
        table = jnp.concatenate(params, axis=0)
        index = ids if strategy == "div" else _mod_index(ids, params)
    out = jnp.take(table, index, axis=0)
    if max_norm is not None:
        axes = tuple(range(ids.ndim, out.ndim))
        norm = jnp.sqrt(jnp.sum(jnp.square(out), axis=axes, keepdims=True))
        out = out * max_norm / jnp.maximum(norm, max_norm)
    return out


def _mod_index(ids: Any, params: Sequence[Any]) -> Any:
    n = len(params)
    offsets = np.cumsum([0] + [p.shape[0] for p in params[:-1]]).astype(np.int32)
    return jnp.asarray(offsets)[ids % n] + ids // n


def embedding_lookup(
    params: Any,
    ids: Any,
    partition_strategy: str = "mod",
    name: str | None = None,
    validate_indices: bool = True,
    max_norm: float | None = None,
) -> Tensor:
    """Rows of ``params`` for ``ids`` (any shape): ``[*ids.shape, *params.shape[1:]]``.

    A list of tensors is one table split along dim 0: with "mod", id ``i``
    is row ``i // n`` of part ``i % n``; with "div", parts are contiguous.

    Differs from TF1: an out-of-range id gives NaN rows (no error).

    Args:
        params: A tensor, variable or list of them.
        ids: int32/int64 ids.
        partition_strategy: "mod" or "div".
        name: Op name.
        validate_indices: Ignored, as in TF1.
        max_norm: Rows with a larger L2 norm are scaled down to it.

    Raises:
        ValueError: an unknown strategy or no params.
    """
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    parts = list(params) if isinstance(params, list | tuple) else [params]
    if not parts:
        raise ValueError("Need at least one param")
    tensors = [convert_to_tensor(p) for p in parts]
    ids = convert_to_tensor(ids, name="ids")
    attrs = {
        "strategy": partition_strategy,
        "max_norm": None if max_norm is None else float(max_norm),
    }
    return make_op(
        "GatherV2",
        _embedding_lookup,
        [*tensors, ids],
        name=name or "embedding_lookup",
        attrs=attrs,
    ).outputs[0]


def _in_top_k(predictions: Any, targets: Any, *, k: int) -> Any:
    classes = predictions.shape[-1]
    valid = (targets >= 0) & (targets < classes)
    safe = jnp.clip(targets, 0, classes - 1).astype(jnp.int32)
    target = jnp.take_along_axis(predictions, safe[:, None], axis=1)
    # Ties with the target do not push it out; a non-finite target never counts.
    above = jnp.sum(predictions > target, axis=1)
    return valid & jnp.isfinite(target[:, 0]) & (above < k)


def in_top_k(predictions: Any, targets: Any, k: int, name: str | None = None) -> Tensor:
    """Whether each target class is among the ``k`` largest predictions.

    Args:
        predictions: ``[batch, classes]`` float32.
        targets: ``[batch]`` int32/int64 class ids.
        k: How many top entries count.
        name: Op name.

    Returns:
        A ``[batch]`` bool tensor.
    """
    predictions = convert_to_tensor(predictions, name="predictions")
    targets = convert_to_tensor(targets, name="targets")
    return make_op(
        "InTopKV2",
        _in_top_k,
        [predictions, targets],
        name=name or "in_top_k",
        attrs={"k": int(k)},
    ).outputs[0]


class TopKV2(NamedTuple):
    """The result of ``top_k``."""

    values: Tensor
    indices: Tensor


def _top_k(x: Any, *, k: int) -> tuple[Any, Any]:
    return lax.top_k(x, k)


def top_k(
    input: Any, k: int = 1, sorted: bool = True, name: str | None = None
) -> TopKV2:
    """The ``k`` largest entries of the last dim and their int32 indices.

    ``sorted=False`` still returns them in descending order.
    """
    x = convert_to_tensor(input, name="input")
    op = make_op("TopKV2", _top_k, [x], name=name or "TopKV2", attrs={"k": int(k)})
    return TopKV2(op.outputs[0], op.outputs[1])
