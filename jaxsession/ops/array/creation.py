"""Creation ops: fill, zeros/ones and their ``*_like``, range, linspace, eye.

Also placeholders and the re-exported ``constant``.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.constant import constant
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import NOT_DIFFERENTIABLE, NOT_FOLDABLE
from jaxsession.ops.array._common import (
    _int_tensor,
    _ints,
    _is_traced,
    _length,
    _op_scope,
    _static,
    _static_int,
    _traced_error,
    _unknown,
    _value_op,
)
from jaxsession.ops.array.shape import _identity

__all__ = [
    "constant",
    "eye",
    "fill",
    "lin_space",
    "linspace",
    "ones",
    "ones_like",
    "placeholder",
    "placeholder_with_default",
    "range",
    "zeros",
    "zeros_like",
]


# -- creation -------------------------------------------------------------------


def _fill(value: Any, dims: Any) -> Any:
    shape = _ints(dims, "dims")
    if builtins.any(d < 0 for d in shape):
        raise ValueError(f"dims must be non-negative, got {list(shape)}")
    return jnp.broadcast_to(value, shape)


def _fill_op(dims: Any, value: Any, name: str | None, default: str) -> Tensor:
    with _op_scope(name, default, dims, value) as scope:
        dims_t = _int_tensor(dims, "dims" if default == "Fill" else "shape")
        value_t = convert_to_tensor(value)
        fallback = _unknown(_length(dims_t), value_t.dtype)
        return _value_op(
            "Fill", _fill, [value_t, dims_t], (1,), name=scope, fallback=fallback
        ).outputs[0]


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape ``dims`` with every element ``value`` (``tf.fill``).

    Args:
        dims: The output shape: a list, NumPy array or int tensor.
        value: A scalar; its dtype is the output's.
        name: Op name.

    Returns:
        The filled tensor.
    """
    return _fill_op(dims, value, name, "Fill")


def zeros(
    shape: Any, dtype: Any = dtypes_lib.float32, name: str | None = None
) -> Tensor:
    """A tensor of ``shape`` with all elements zero (``tf.zeros``)."""
    dtype = dtypes_lib.as_dtype(dtype)
    return _fill_op(shape, np.zeros((), dtype.np_dtype), name, "zeros")


def ones(
    shape: Any, dtype: Any = dtypes_lib.float32, name: str | None = None
) -> Tensor:
    """A tensor of ``shape`` with all elements one (``tf.ones``)."""
    dtype = dtypes_lib.as_dtype(dtype)
    return _fill_op(shape, np.ones((), dtype.np_dtype), name, "ones")


def _full_like(x: Any, *, dtype: dtypes_lib.DType, fill_value: int) -> Any:
    return jnp.full(x.shape, fill_value, dtype.jax_dtype)


def _like(
    op_type: str, tensor: Any, dtype: Any, name: str | None, value: int
) -> Tensor:
    x = convert_to_tensor(tensor)
    dtype = x.dtype if dtype is None else dtypes_lib.as_dtype(dtype)
    return make_op(
        op_type,
        _full_like,
        [x],
        name=name or ("zeros_like" if value == 0 else "ones_like"),
        attrs={"dtype": dtype, "fill_value": value},
        out_dtypes=[dtype],
    ).outputs[0]


# TF registers ZerosLike and OnesLike (and Range) as not differentiable.
NOT_DIFFERENTIABLE.update(("OnesLike", "Range", "ZerosLike"))


def zeros_like(
    tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True
) -> Tensor:
    """Zeros with the shape of ``tensor`` (``tf.zeros_like``)."""
    return _like("ZerosLike", tensor, dtype, name, 0)


def ones_like(
    tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True
) -> Tensor:
    """Ones with the shape of ``tensor`` (``tf.ones_like``)."""
    return _like("OnesLike", tensor, dtype, name, 1)


_RANGE_TYPES = (
    dtypes_lib.int32,
    dtypes_lib.int64,
    dtypes_lib.float32,
    dtypes_lib.float64,
)


def _range(start: Any, limit: Any, delta: Any, *, dtype: dtypes_lib.DType) -> Any:
    if builtins.any(_is_traced(v) for v in (start, limit, delta)):
        raise _traced_error("start, limit and delta")
    np_type = dtype.np_dtype
    a, b, d = (np.asarray(v).astype(np_type).item() for v in (start, limit, delta))
    if d == 0:
        raise ValueError("Requires delta != 0")
    if d > 0 and a > b:
        raise ValueError(f"Requires start <= limit when delta > 0: {a}/{b}")
    if d < 0 and a < b:
        raise ValueError(f"Requires start >= limit when delta < 0: {a}/{b}")
    if dtype.is_integer:
        n = (abs(b - a) + abs(d) - 1) // abs(d)
    else:
        n = math.ceil(abs((b - a) / d))
    return (a + np.arange(n) * np.asarray(d, np_type)).astype(dtype.jax_dtype)


def range(
    start: Any,
    limit: Any = None,
    delta: Any = 1,
    dtype: Any = None,
    name: str = "range",
) -> Tensor:
    """The sequence ``start, start + delta, ...`` up to ``limit`` (``tf.range``).

    ``range(n)`` counts from 0. Without ``dtype`` the result has the widest of
    the arguments' dtypes in the order int32, int64, float32, float64 (TF1).

    Args:
        start: First value (or the limit when ``limit`` is None).
        limit: End of the sequence, exclusive.
        delta: Step; not zero.
        dtype: Output dtype.
        name: Op name.

    Returns:
        A 1-D tensor.

    Raises:
        ValueError: ``delta`` is zero or points away from ``limit``.
    """
    if limit is None:
        start, limit = 0, start
    with _op_scope(name, "Range", start, limit, delta) as scope:
        want = None if dtype is None else dtypes_lib.as_dtype(dtype)
        args = [
            convert_to_tensor(v, dtype=want, name=n)
            for v, n in zip((start, limit, delta), ("start", "limit", "delta"))
        ]
        if want is None:
            want = builtins.max(
                (a.dtype for a in args),
                key=lambda d: _RANGE_TYPES.index(d) if d in _RANGE_TYPES else -1,
            )
        return _value_op(
            "Range",
            _range,
            args,
            (0, 1, 2),
            name=scope,
            attrs={"dtype": want},
            out_dtypes=[want],
            fallback=_unknown(1, want),
        ).outputs[0]


def _linspace(start: Any, stop: Any, num: Any) -> Any:
    (n,) = _ints(num, "num")
    return jnp.linspace(start, stop, n, dtype=jnp.result_type(start))


def linspace(start: Any, stop: Any, num: Any, name: str | None = None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (``tf.linspace``)."""
    with _op_scope(name, "LinSpace", start, stop) as scope:
        start_t = convert_to_tensor(start, name="start")
        stop_t = convert_to_tensor(stop, dtype=start_t.dtype, name="stop")
        num_t = convert_to_tensor(num, dtype=dtypes_lib.int32, name="num")
        return _value_op(
            "LinSpace",
            _linspace,
            [start_t, stop_t, num_t],
            (2,),
            name=scope,
            fallback=_unknown(1, start_t.dtype),
        ).outputs[0]


lin_space = linspace


def _eye(*, rows: int, cols: int, batch: tuple[int, ...], dtype: Any) -> Any:
    return jnp.broadcast_to(
        jnp.eye(rows, cols, dtype=dtype.jax_dtype), (*batch, rows, cols)
    )


def eye(
    num_rows: Any,
    num_columns: Any = None,
    batch_shape: Any = None,
    dtype: Any = dtypes_lib.float32,
    name: str | None = None,
) -> Tensor:
    """An identity matrix, or a batch of them (``tf.eye``).

    Args:
        num_rows: Number of rows (a constant).
        num_columns: Number of columns; default ``num_rows``.
        batch_shape: Leading batch dims of the result.
        dtype: Element type.
        name: Op name.

    Returns:
        A tensor of shape ``batch_shape + [num_rows, num_columns]``.
    """
    rows = _static_int(num_rows, "num_rows")
    cols = rows if num_columns is None else _static_int(num_columns, "num_columns")
    batch = (
        ()
        if batch_shape is None
        else tuple(_ints(_static(batch_shape, "batch_shape"), "batch_shape"))
    )
    dtype = dtypes_lib.as_dtype(dtype)
    attrs = {"rows": rows, "cols": cols, "batch": batch, "dtype": dtype}
    return make_op(
        "Eye", _eye, [], name=name or "eye", attrs=attrs, out_dtypes=[dtype]
    ).outputs[0]


def _placeholder_lowering(*_: Any) -> Any:
    raise RuntimeError("a placeholder must be fed; the engine checks this first")


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """A tensor whose value must be fed (``tf.placeholder``).

    Args:
        dtype: Element type.
        shape: Static shape; None for an unknown rank, None dims unknown.
        name: Op name.

    Returns:
        The placeholder's output tensor.
    """
    dtype = dtypes_lib.as_dtype(dtype)
    aval = Aval(shapes.as_shape(shape).as_tuple(), dtype)
    op = make_op(
        "Placeholder",
        _placeholder_lowering,
        (),
        name=name or "Placeholder",
        attrs={"dtype": dtype, "shape": aval.shape},
        out_avals=[aval],
    )
    return op.outputs[0]


NOT_FOLDABLE.add("PlaceholderWithDefault")


def placeholder_with_default(input: Any, shape: Any, name: str | None = None) -> Tensor:
    """A tensor that is ``input`` unless fed (``tf.placeholder_with_default``).

    Raises:
        ValueError: ``shape`` is not compatible with the default's shape.
    """
    default = convert_to_tensor(input)
    want = shapes.as_shape(shape)
    if not want.is_compatible_with(default.shape):
        raise ValueError(
            f"Incompatible shapes: default value of shape {default.shape} for "
            f"placeholder_with_default of shape {want}"
        )
    op = make_op(
        "PlaceholderWithDefault",
        _identity,
        [default],
        name=name or "PlaceholderWithDefault",
        out_avals=[Aval(want.as_tuple(), default.dtype)],
    )
    return op.outputs[0]
