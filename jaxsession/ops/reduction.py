"""Reductions, arg-max/min, cumulative sums/products, and clipping.

Reductions accept TF1's aliases ``reduction_indices`` and ``keep_dims``; their
``axis`` must be known while building. Clipping is by value, by norm and by
global norm.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.ops.array._common import _op_scope, _static, _static_int
from jaxsession.ops.math import (
    _ANY,
    _BOOL,
    _FLOAT,
    _NUMBER,
    _ORDERED,
    _REAL,
    _alias,
    _broadcast_shape,
    _check_dtype,
    _elementwise,
    _maximum,
    _minimum,
    _same_dtype,
)

__all__ = [
    "arg_max",
    "arg_min",
    "argmax",
    "argmin",
    "clip_by_global_norm",
    "clip_by_norm",
    "clip_by_value",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "global_norm",
    "reduce_all",
    "reduce_any",
    "reduce_euclidean_norm",
    "reduce_logsumexp",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_std",
    "reduce_sum",
    "reduce_variance",
]


# -- reductions -----------------------------------------------------------------


def _axes(axis: Any, x: Tensor, op_type: str, name: str) -> tuple[int, ...] | None:
    """Static, non-negative reduction axes (None: all)."""
    if axis is None:
        return None
    value = _static(axis, "axis")
    axes = value if isinstance(value, tuple) else (value,)
    rank = x.shape.ndims
    if rank is None:
        return tuple(int(a) for a in axes)
    for a in axes:
        if not -rank <= a < rank:
            raise errors.op_shape_error(
                op_type,
                name,
                [x],
                f"Invalid reduction dimension {a} for input with {rank} dimensions",
            )
    return tuple(int(a) % rank for a in axes)


def _reduce(
    op_type: str,
    fn: Callable[..., Any],
    families: Sequence[str],
    input_tensor: Any,
    axis: Any,
    keepdims: Any,
    name: str | None,
    reduction_indices: Any,
    keep_dims: Any,
    out_dtype: dtypes_lib.DType | None = None,
) -> Tensor:
    x = convert_to_tensor(input_tensor)
    _check_dtype(x, families, op_type)
    name = name or op_type
    axis = _axes(
        _alias(axis, reduction_indices, "axis", "reduction_indices"), x, op_type, name
    )
    keep = bool(_alias(keepdims, keep_dims, "keepdims", "keep_dims"))
    avals = None
    if x.shape.ndims is None and axis is None and not keep:
        # A full reduction is a scalar whatever the input's rank.
        avals = [Aval((), out_dtype or x.dtype)]
    return make_op(
        op_type,
        fn,
        [x],
        name=name,
        attrs={"axis": axis, "keepdims": keep},
        out_dtypes=None if out_dtype is None else [out_dtype],
        out_avals=avals,
    ).outputs[0]


def _sum(x: Any, *, axis: Any, keepdims: bool) -> Any:
    return jnp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _prod(x: Any, *, axis: Any, keepdims: bool) -> Any:
    return jnp.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _mean(x: Any, *, axis: Any, keepdims: bool) -> Any:
    if not jnp.issubdtype(x.dtype, jnp.integer):
        return jnp.mean(x, axis=axis, keepdims=keepdims)
    # TF1's integer mean truncates the sum's quotient toward zero.
    axes = range(x.ndim) if axis is None else axis
    count = math.prod(x.shape[a] for a in axes)
    total = _sum(x, axis=axis, keepdims=keepdims)
    return lax.div(total, jnp.asarray(max(count, 1), x.dtype))


def _euclidean_norm(x: Any, *, axis: Any, keepdims: bool) -> Any:
    # Integers are summed in float so the root is exact before truncation.
    wide = x.astype(jnp.float32) if jnp.issubdtype(x.dtype, jnp.integer) else x
    sq = jnp.sum(jnp.square(wide), axis=axis, keepdims=keepdims)
    return jnp.sqrt(sq).astype(x.dtype)


def _reduction(
    tf_name: str,
    op_type: str,
    fn: Callable[..., Any],
    what: str,
    families: Sequence[str],
) -> Callable[..., Tensor]:
    def reduce(
        input_tensor: Any,
        axis: Any = None,
        keepdims: bool | None = None,
        name: str | None = None,
        reduction_indices: Any = None,
        keep_dims: bool | None = None,
    ) -> Tensor:
        return _reduce(
            op_type,
            fn,
            families,
            input_tensor,
            axis,
            keepdims,
            name,
            reduction_indices,
            keep_dims,
        )

    reduce.__name__ = reduce.__qualname__ = tf_name
    reduce.__doc__ = (
        f"The {what} of elements along ``axis`` (``tf.{tf_name}``; op {op_type}).\n\n"
        "Args:\n    input_tensor: The tensor to reduce.\n"
        "    axis: None (all dims), an int or a list of ints; negative counts "
        "from the end.\n    keepdims: Keep reduced dims with size 1.\n"
        "    name: Op name.\n    reduction_indices: TF1's alias of ``axis``.\n"
        "    keep_dims: TF1's alias of ``keepdims``.\n\n"
        "Raises:\n    ValueError: an axis is out of range, or an argument and its "
        "alias are both given.\n    TypeError: the dtype is not "
        f"{' or '.join(families)}.\n"
    )
    return reduce


reduce_sum = _reduction("reduce_sum", "Sum", _sum, "sum", _NUMBER)
reduce_mean = _reduction("reduce_mean", "Mean", _mean, "mean", _NUMBER)
reduce_prod = _reduction("reduce_prod", "Prod", _prod, "product", _NUMBER)
reduce_max = _reduction("reduce_max", "Max", jnp.max, "maximum", _ORDERED)
reduce_min = _reduction("reduce_min", "Min", jnp.min, "minimum", _ORDERED)
reduce_any = _reduction("reduce_any", "Any", jnp.any, "logical OR", _BOOL)
reduce_all = _reduction("reduce_all", "All", jnp.all, "logical AND", _BOOL)
reduce_logsumexp = _reduction(
    "reduce_logsumexp",
    "ReduceLogSumExp",
    jax.nn.logsumexp,
    "log of the sum of exp",
    _REAL,
)
reduce_euclidean_norm = _reduction(
    "reduce_euclidean_norm", "EuclideanNorm", _euclidean_norm, "L2 norm", _NUMBER
)
reduce_variance = _reduction(
    "reduce_variance", "ReduceVariance", jnp.var, "population variance", _REAL
)
reduce_std = _reduction(
    "reduce_std", "ReduceStd", jnp.std, "population standard deviation", _REAL
)


def _count_nonzero(x: Any, *, axis: Any, keepdims: bool, dtype: Any) -> Any:
    out = jnp.sum(x != 0, axis=axis, keepdims=keepdims)
    return out.astype(dtype.jax_dtype)


def count_nonzero(
    input_tensor: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    dtype: Any = dtypes_lib.int64,
    name: str | None = None,
    reduction_indices: Any = None,
    keep_dims: bool | None = None,
) -> Tensor:
    """The number of non-zero elements along ``axis`` (``tf.count_nonzero``).

    Args as ``reduce_sum``; ``dtype`` is the output type (default int64).
    """
    dtype = dtypes_lib.as_dtype(dtype)
    fn = functools.partial(_count_nonzero, dtype=dtype)
    return _reduce(
        "CountNonzero",
        fn,
        _ANY,
        input_tensor,
        axis,
        keepdims,
        name or "count_nonzero",
        reduction_indices,
        keep_dims,
        out_dtype=dtype,
    )


def _arg(x: Any, *, axis: int, dtype: Any, largest: bool) -> Any:
    out = jnp.argmax(x, axis=axis) if largest else jnp.argmin(x, axis=axis)
    return out.astype(dtype.jax_dtype)


def _arg_op(
    op_type: str,
    largest: bool,
    input: Any,
    axis: Any,
    name: str | None,
    dimension: Any,
    output_type: Any,
) -> Tensor:
    x = convert_to_tensor(input)
    _check_dtype(x, _ORDERED, op_type)
    name = name or op_type
    axis = _alias(axis, dimension, "axis", "dimension")
    (axis,) = _axes(0 if axis is None else _static_int(axis, "axis"), x, op_type, name)
    dtype = dtypes_lib.as_dtype(output_type)
    attrs = {"axis": axis, "dtype": dtype, "largest": largest}
    return make_op(
        op_type, _arg, [x], name=name, attrs=attrs, out_dtypes=[dtype]
    ).outputs[0]


def argmax(
    input: Any,
    axis: Any = None,
    name: str | None = None,
    dimension: Any = None,
    output_type: Any = dtypes_lib.int64,
) -> Tensor:
    """Index of the largest value along ``axis`` (default 0) (``tf.argmax``).

    ``dimension`` is TF1's alias of ``axis``; ``output_type`` int32 or int64.
    """
    return _arg_op("ArgMax", True, input, axis, name, dimension, output_type)


def argmin(
    input: Any,
    axis: Any = None,
    name: str | None = None,
    dimension: Any = None,
    output_type: Any = dtypes_lib.int64,
) -> Tensor:
    """Index of the smallest value along ``axis`` (default 0) (``tf.argmin``).

    ``dimension`` is TF1's alias of ``axis``; ``output_type`` int32 or int64.
    """
    return _arg_op("ArgMin", False, input, axis, name, dimension, output_type)


# TF1's older names (``tf.arg_max(input, dimension)``), used by programs of
# the TF 1.0 era. Differs from TF1: a third positional argument is ``name``
# (as in ``tf.argmax``), not ``output_type``; pass ``output_type=`` by keyword.
arg_max = argmax
arg_min = argmin


def _cumulative(
    x: Any, *, axis: int, exclusive: bool, reverse: bool, prod: bool
) -> Any:
    if reverse:
        x = jnp.flip(x, axis)
    scan = jnp.cumprod if prod else jnp.cumsum
    out = scan(x, axis=axis, dtype=x.dtype)
    if exclusive:
        first = lax.slice_in_dim(x, 0, 1, axis=axis)
        first = jnp.ones_like(first) if prod else jnp.zeros_like(first)
        rest = lax.slice_in_dim(out, 0, x.shape[axis] - 1, axis=axis)
        out = jnp.concatenate([first, rest], axis=axis)
    return jnp.flip(out, axis) if reverse else out


def _cumulative_op(
    op_type: str, x: Any, axis: Any, exclusive: bool, reverse: bool, name: str | None
) -> Tensor:
    x = convert_to_tensor(x)
    _check_dtype(x, _NUMBER, op_type)
    name = name or op_type
    (axis,) = _axes(_static_int(axis, "axis"), x, op_type, name)
    attrs = {
        "axis": axis,
        "exclusive": bool(exclusive),
        "reverse": bool(reverse),
        "prod": op_type == "Cumprod",
    }
    return make_op(op_type, _cumulative, [x], name=name, attrs=attrs).outputs[0]


def cumsum(
    x: Any,
    axis: Any = 0,
    exclusive: bool = False,
    reverse: bool = False,
    name: str | None = None,
) -> Tensor:
    """Cumulative sum along ``axis`` (``tf.cumsum``).

    ``exclusive`` starts from 0 instead of the first element; ``reverse``
    accumulates from the end.
    """
    return _cumulative_op("Cumsum", x, axis, exclusive, reverse, name)


def cumprod(
    x: Any,
    axis: Any = 0,
    exclusive: bool = False,
    reverse: bool = False,
    name: str | None = None,
) -> Tensor:
    """Cumulative product along ``axis`` (``tf.cumprod``); options as ``cumsum``."""
    return _cumulative_op("Cumprod", x, axis, exclusive, reverse, name)


# -- clipping -------------------------------------------------------------------


def _clip_by_value(t: Any, lo: Any, hi: Any) -> Any:
    # TF's Minimum and Maximum gradients: 1 for t in [lo, hi], bounds included.
    return _maximum(_minimum(t, hi), lo)


def clip_by_value(
    t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None
) -> Tensor:
    """Clamps ``t`` to ``[clip_value_min, clip_value_max]`` (``tf.clip_by_value``).

    Raises:
        ValueError: the bounds would broadcast ``t`` to a larger shape.
    """
    t = convert_to_tensor(t)
    lo = convert_to_tensor(clip_value_min, dtype=t.dtype)
    hi = convert_to_tensor(clip_value_max, dtype=t.dtype)
    name = name or "clip_by_value"
    shape = _broadcast_shape("ClipByValue", name, [t, lo, hi])
    if shape is not None and not t.shape.is_compatible_with(shape):
        raise errors.op_shape_error(
            "ClipByValue", name, [t, lo, hi], "clip bounds change t's shape"
        )
    return _elementwise("ClipByValue", _clip_by_value, [t, lo, hi], name, t.dtype)


def _clip_by_norm(t: Any, clip: Any, *, axes: Any) -> Any:
    l2sum = jnp.sum(jnp.square(t), axis=axes, keepdims=True)
    # Avoids a NaN gradient of sqrt at 0, as TF1 does.
    positive = l2sum > 0
    l2norm = jnp.where(positive, jnp.sqrt(jnp.where(positive, l2sum, 1)), l2sum)
    return jnp.multiply(t, clip) / jnp.maximum(l2norm, clip)


def clip_by_norm(
    t: Any, clip_norm: Any, axes: Any = None, name: str | None = None
) -> Tensor:
    """Scales ``t`` so its L2 norm over ``axes`` is at most ``clip_norm``.

    Args:
        t: A float tensor.
        clip_norm: A positive scalar.
        axes: Dims the norm is taken over (default: all).
        name: Op name.

    Returns:
        ``t * clip_norm / max(norm(t), clip_norm)`` (``tf.clip_by_norm``).
    """
    t = convert_to_tensor(t)
    _check_dtype(t, _FLOAT, "ClipByNorm")
    clip = convert_to_tensor(clip_norm, dtype=t.dtype)
    name = name or "clip_by_norm"
    attrs = {"axes": _axes(axes, t, "ClipByNorm", name)}
    return make_op(
        "ClipByNorm", _clip_by_norm, [t, clip], name=name, attrs=attrs
    ).outputs[0]


def _tensor_list(t_list: Any) -> list[Tensor | None]:
    if not isinstance(t_list, Sequence) or isinstance(t_list, str):
        raise TypeError(f"t_list should be a sequence, got {type(t_list).__name__}")
    return [None if t is None else convert_to_tensor(t) for t in t_list]


def _global_norm(*xs: Any) -> Any:
    return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in xs))


def global_norm(t_list: Sequence[Any], name: str | None = None) -> Tensor:
    """``sqrt(sum(sum(t ** 2) for t in t_list))``, skipping None (``tf.global_norm``).

    Raises:
        TypeError: ``t_list`` is not a sequence or the dtypes differ.
        ValueError: every entry is None.
    """
    ts = [t for t in _tensor_list(t_list) if t is not None]
    if not ts:
        raise ValueError("global_norm needs at least one tensor; t_list has only None")
    _same_dtype(ts, "GlobalNorm")
    # TF1 names the norm global_norm inside a name scope (global_norm/global_norm).
    with _op_scope(name, "global_norm"):
        op = make_op("GlobalNorm", _global_norm, ts, name="global_norm")
    return op.outputs[0]


def _clip_by_global_norm(norm: Any, clip: Any, *xs: Any) -> tuple[Any, ...]:
    # An infinite or NaN norm makes every value NaN, as in TF1.
    norm, clip = jnp.asarray(norm), jnp.asarray(clip)
    scale = clip * jnp.minimum(1.0 / norm, 1.0 / clip) + (norm - norm)
    return tuple(jnp.multiply(x, scale.astype(x.dtype)) for x in xs)


def clip_by_global_norm(
    t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None, name: str | None = None
) -> tuple[list[Tensor | None], Tensor]:
    """Scales all of ``t_list`` by ``clip_norm / max(global_norm, clip_norm)``.

    Args:
        t_list: Tensors, or None entries (kept as None).
        clip_norm: A positive scalar.
        use_norm: The global norm to use, instead of computing it.
        name: Name scope (default ``clip_by_global_norm``).

    Returns:
        ``(list_clipped, global_norm)`` (``tf.clip_by_global_norm``).

    Raises:
        TypeError: ``t_list`` is not a sequence.
    """
    ts = _tensor_list(t_list)
    # TF1 computes the norm before entering the clip scope: global_norm/global_norm.
    norm = global_norm(ts, name) if use_norm is None else convert_to_tensor(use_norm)
    with _op_scope(name, "clip_by_global_norm"):
        clip = convert_to_tensor(clip_norm, dtype=norm.dtype)
        present = [t for t in ts if t is not None]
        op = make_op(
            "ClipByGlobalNorm",
            _clip_by_global_norm,
            [norm, clip, *present],
            name="clip_by_global_norm",
        )
    outs = iter(op.outputs)
    return [None if t is None else next(outs) for t in ts], norm
