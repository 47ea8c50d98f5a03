"""Creation, shape, indexing, concat and reshape ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph import shapes
from jaxsession.graph.core import Aval, Tensor
from jaxsession.graph.ops import convert_to_tensor, make_op, set_constant

__all__ = [
    "constant",
    "identity",
    "placeholder",
    "placeholder_with_default",
    "stack",
]


def _np_value(value: Any, dtype: dtypes_lib.DType | None) -> np.ndarray:
    if dtype is None:
        dtype = dtypes_lib.infer_dtype(value)
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

    def const() -> np.ndarray:
        return device_value

    op = make_op(
        "Const", const, (), name=name, attrs={},
        out_avals=[Aval(arr.shape, dtype)],
    )  # fmt: skip
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


def _placeholder_lowering(*_: Any) -> Any:
    raise RuntimeError("a placeholder must be fed; the engine checks this first")


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """A tensor whose value must be fed (``tf.placeholder``).

    Args:
        dtype: Element type.
        shape: Static shape; None for an unknown rank, None dims unknown.
        name: Op name.
    """
    dtype = dtypes_lib.as_dtype(dtype)
    aval = Aval(shapes.as_shape(shape).as_tuple(), dtype)
    op = make_op(
        "Placeholder", _placeholder_lowering, (), name=name or "Placeholder",
        attrs={"dtype": dtype, "shape": aval.shape}, out_avals=[aval],
    )  # fmt: skip
    return op.outputs[0]


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
        "PlaceholderWithDefault", _identity, [default],
        name=name or "PlaceholderWithDefault",
        out_avals=[Aval(want.as_tuple(), default.dtype)],
    )  # fmt: skip
    return op.outputs[0]


def _identity(x: Any) -> Any:
    return x


def identity(input: Any, name: str | None = None) -> Tensor:
    """Returns a tensor with the same value as ``input`` (``tf.identity``)."""
    x = convert_to_tensor(input)
    return make_op("Identity", _identity, [x], name=name or "Identity").outputs[0]


def _stack(*xs: Any, axis: int) -> Any:
    return jnp.stack(xs, axis=axis)


def stack(values: Sequence[Any], axis: int = 0, name: str = "stack") -> Tensor:
    """Stacks rank-R tensors into one rank-(R+1) tensor (``tf.stack``).

    Raises:
        ValueError: the values' shapes differ or ``axis`` is out of range.
    """
    typed = [v for v in values if isinstance(v, Tensor) or hasattr(v, "_as_tensor")]
    dtype = convert_to_tensor(typed[0]).dtype if typed else None
    xs = [convert_to_tensor(v, dtype=dtype) for v in values]
    return make_op("Pack", _stack, xs, name=name, attrs={"axis": axis}).outputs[0]
