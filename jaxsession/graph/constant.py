"""Constant tensors: ``tf.constant``, the op every conversion builds on."""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor, get_default_graph
from jaxsession.graph.rules import set_constant


def _inferred_dtype(value: Any) -> dtypes_lib.DType:
    """TF1's inferred dtype: Python ints beyond int32 are int64 (then uint64)."""
    dtype = dtypes_lib.infer_dtype(value)
    if dtype is dtypes_lib.int32 and not isinstance(value, np.ndarray | np.generic):
        raw = np.asarray(value)
        if raw.size and raw.dtype.kind in "iu":
            info = np.iinfo(np.int32)
            if raw.min() < info.min or raw.max() > info.max:
                return dtypes_lib.as_dtype(raw.dtype)  # int64, or uint64 past it
    return dtype


def _np_value(value: Any, dtype: dtypes_lib.DType | None) -> np.ndarray:
    if dtype is None:
        dtype = _inferred_dtype(value)
    if dtype is dtypes_lib.string:
        return np.asarray(value, dtype=object)
    raw = np.asarray(value)
    if dtype.is_integer and raw.dtype.kind in "fc" and not np.all(np.mod(raw, 1) == 0):
        raise TypeError(
            f"Expected {dtype.name}, got {value!r} of type '{type(value).__name__}' instead."
        )
    if dtype.is_bool and raw.dtype.kind not in "b":
        raise TypeError(
            f"Expected bool, got {value!r} of type '{type(value).__name__}' instead."
        )
    return raw.astype(dtype.np_dtype)


def _device_value(value: np.ndarray, dtype: dtypes_lib.DType) -> np.ndarray:
    if dtype is dtypes_lib.string:
        return value
    return value.astype(dtype.jax_dtype, copy=False)


def constant(
    value: Any,
    dtype: Any = None,
    shape: Any = None,
    name: str = "Const",
    verify_shape: bool = False,
) -> Tensor:
    """A constant tensor (``tf.constant``).

    Args:
        value: A number, nested list or NumPy array.
        dtype: Element type; inferred as TF1 does (Python floats are float32).
        shape: Optional shape; a scalar value is broadcast to it.
        name: Op name.
        verify_shape: Require ``value`` to have exactly ``shape``.

    Returns:
        The constant tensor; its value is known while building.

    Raises:
        TypeError: ``value`` does not fit ``dtype`` or ``shape``.
    """
    dtype = None if dtype is None else dtypes_lib.as_dtype(dtype)
    arr = _np_value(value, dtype)
    dtype = dtype or dtypes_lib.as_dtype(arr.dtype)
    if shape is not None:
        arr = _fit_shape(
            arr, tuple(int(d) for d in shapes.as_shape(shape).as_list()), verify_shape
        )
    device_value = _device_value(arr, dtype)

    def const() -> tuple[np.ndarray]:
        return (device_value,)

    # Straight to the graph: make_op converts its inputs with this function.
    op = get_default_graph().create_op(
        "Const", (), [Aval(arr.shape, dtype)], const, name=name
    )
    set_constant(op.outputs[0], arr)
    return op.outputs[0]


def _fit_shape(arr: np.ndarray, shape: tuple[int, ...], verify: bool) -> np.ndarray:
    if arr.shape == shape:
        return arr
    if verify:
        raise TypeError(f"Expected Tensor's shape: {shape}, got {arr.shape}.")
    if arr.size == 1:
        return np.broadcast_to(arr.reshape(()), shape).copy()
    if arr.size == int(np.prod(shape)):
        return arr.reshape(shape)
    raise TypeError(
        f"Eager execution of tf.constant with unsupported shape: value has "
        f"{arr.size} elements, shape is {shape} with {int(np.prod(shape))} elements."
    )
