"""Pooling: ``tf.nn.max_pool`` and ``tf.nn.avg_pool`` over NHWC/NCHW windows.

Both are one ``make_op`` lowered to ``lax.reduce_window``.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxsession import errors
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.ops.conv import _spatial

__all__ = [
    "avg_pool",
    "max_pool",
]


def _windows(ksize: Any, strides: Any, data_format: str) -> dict[str, Any]:
    kh, kw = _spatial(ksize, data_format, "ksize")
    sh, sw = _spatial(strides, data_format, "strides")
    if data_format.startswith("NC"):
        return {"window": (1, 1, kh, kw), "strides": (1, 1, sh, sw)}
    return {"window": (1, kh, kw, 1), "strides": (1, sh, sw, 1)}


def _max_pool(x: Any, *, window: Any, strides: Any, padding: str) -> Any:
    dtype = np.dtype(x.dtype)
    low = -np.inf if jnp.issubdtype(dtype, jnp.floating) else np.iinfo(dtype).min
    return lax.reduce_window(x, np.array(low, dtype), lax.max, window, strides, padding)


def _avg_pool(x: Any, *, window: Any, strides: Any, padding: str) -> Any:
    dtype = np.dtype(x.dtype)
    total = lax.reduce_window(x, np.array(0, dtype), lax.add, window, strides, padding)
    return total / _window_counts(x.shape, window, strides, padding).astype(dtype)


def _window_counts(
    shape: tuple[int, ...], window: Any, strides: Any, padding: str
) -> np.ndarray:
    """How many input elements each output window covers, broadcastable to the output.

    SAME windows at the border average only their valid elements, as in TF1.
    Counted in NumPy per dimension: a count computed on the device from an
    array of ones the input's size is a constant XLA folds at every compile,
    seconds for a batch of feature maps.
    """
    count = np.ones([1] * len(shape), np.int64)
    for axis, (n, k, s) in enumerate(zip(shape, window, strides, strict=True)):
        if k == 1:
            continue
        if padding == "VALID":
            count = count * k
            continue
        out = -(-n // s)
        start = np.arange(out) * s - max((out - 1) * s + k - n, 0) // 2
        valid = np.minimum(start + k, n) - np.maximum(start, 0)
        count = count * valid.reshape(
            [-1 if a == axis else 1 for a in range(len(shape))]
        )
    return count


def _pool(
    op_type: str,
    fn: Any,
    value: Any,
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str,
    name: str | None,
) -> Tensor:
    x = convert_to_tensor(value, name="input")
    name = name or op_type
    if x.shape.ndims not in (None, 4):
        raise errors.op_shape_error(op_type, name, [x], "Shape must be rank 4")
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    attrs = {**_windows(ksize, strides, data_format), "padding": padding.upper()}
    return make_op(op_type, fn, [x], name=name, attrs=attrs).outputs[0]


def max_pool(
    value: Any,
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str = "NHWC",
    name: str | None = None,
    input: Any = None,
) -> Tensor:
    """Max pooling over the spatial dims of a 4-D tensor.

    ``ksize`` and ``strides`` are an int or lists of 1, 2 or 4 ints; ``padding``
    is "SAME" or "VALID"; ``input`` is an alias of ``value``.

    Raises:
        ValueError: bad sizes, padding or rank.
    """
    value = input if value is None else value
    return _pool(
        "MaxPool", _max_pool, value, ksize, strides, padding, data_format, name
    )


def avg_pool(
    value: Any,
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str = "NHWC",
    name: str | None = None,
    input: Any = None,
) -> Tensor:
    """Average pooling; "SAME" border windows divide by their valid elements.

    Arguments as for ``max_pool``.

    Raises:
        ValueError: bad sizes, padding or rank.
    """
    value = input if value is None else value
    return _pool(
        "AvgPool", _avg_pool, value, ksize, strides, padding, data_format, name
    )
