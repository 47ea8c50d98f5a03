"""Convolution: ``tf.nn.conv2d`` and its data-format and padding helpers.

The 1-D, 3-D, depthwise and transposed variants live in ``conv_variants.py``;
pooling reuses the spatial-dims helper defined here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jax import lax

from jaxsession import errors
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import SHAPE_RULES

__all__ = [
    "conv2d",
]


# -- convolution ----------------------------------------------------------------


def _spatial(value: Any, data_format: str, what: str) -> tuple[int, int]:
    if isinstance(value, int | np.integer):
        return (int(value), int(value))
    value = [int(v) for v in value]
    if len(value) == 1:
        return (value[0], value[0])
    if len(value) == 2:
        return (value[0], value[1])
    if len(value) != 4:
        raise ValueError(f"{what} should be of length 1, 2 or 4, got {value}")
    outer = (
        (value[0], value[1]) if data_format.startswith("NC") else (value[0], value[3])
    )
    if outer != (1, 1):
        raise ValueError(
            f"Current implementation does not yet support {what} in the batch and "
            "depth dimensions."
        )
    return (
        (value[2], value[3]) if data_format.startswith("NC") else (value[1], value[2])
    )


def _padding(padding: Any, data_format: str) -> Any:
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ValueError(
                f"padding must be 'SAME', 'VALID' or explicit pairs, got {padding!r}"
            )
        return padding.upper()
    pairs = [tuple(int(p) for p in pair) for pair in padding]
    if len(pairs) != 4 or any(len(p) != 2 for p in pairs):
        raise ValueError(
            f"explicit padding must be 4 [before, after] pairs, got {padding}"
        )
    inner = (2, 3) if data_format.startswith("NC") else (1, 2)
    if any(pairs[i] != (0, 0) for i in range(4) if i not in inner):
        raise ValueError(
            "Explicit padding in the batch and depth dimensions is not supported"
        )
    return tuple(pairs[i] for i in inner)


def _conv2d(
    x: Any,
    w: Any,
    *,
    strides: tuple[int, int],
    padding: Any,
    dilations: tuple[int, int],
    data_format: str,
) -> Any:
    channel = 1 if data_format.startswith("NC") else 3
    groups = x.shape[channel] // w.shape[2]
    return lax.conv_general_dilated(
        x,
        w,
        window_strides=strides,
        padding=padding,
        rhs_dilation=dilations,
        dimension_numbers=(data_format, "HWIO", data_format),
        feature_group_count=groups,
    )


def _conv2d_shape(
    in_shapes: list[tuple[int | None, ...] | None], attrs: dict[str, Any]
) -> list[tuple[int | None, ...] | None] | None:
    # TF1's Conv2D shape function: an input of unknown rank is a 4-D input of
    # unknown dims; the output channels are the filter's.
    x, w = in_shapes
    if x is not None:
        return None
    out = w[3] if w is not None and len(w) == 4 else None
    if attrs["data_format"].startswith("NC"):
        return [(None, out, None, None)]
    return [(None, None, None, out)]


SHAPE_RULES["Conv2D"] = _conv2d_shape


def _check_depth(x: Tensor, w: Tensor, data_format: str, name: str) -> None:
    for t in (x, w):
        if t.shape.ndims not in (None, 4):
            raise errors.op_shape_error("Conv2D", name, [x, w], "Shape must be rank 4")
    if x.shape.ndims is None or w.shape.ndims is None:
        return
    depth = x.shape[1 if data_format.startswith("NC") else 3].value
    filter_depth = w.shape[2].value
    if None not in (depth, filter_depth) and depth % filter_depth:
        raise errors.op_shape_error(
            "Conv2D",
            name,
            [x, w],
            f"Depth of input ({depth}) is not a multiple of input depth of filter "
            f"({filter_depth})",
        )


def conv2d(
    input: Any,
    filter: Any = None,
    strides: Any = None,
    padding: Any = None,
    use_cudnn_on_gpu: bool = True,
    data_format: str = "NHWC",
    dilations: Any = (1, 1, 1, 1),
    name: str | None = None,
    filters: Any = None,
) -> Tensor:
    """2-D convolution of an NHWC (or NCHW) input with an HWIO filter.

    Args:
        input: A 4-D tensor.
        filter: ``[height, width, in_channels, out_channels]``; a depth that
            divides the input's gives a grouped convolution.
        strides: An int or a list of 1, 2 or 4 ints.
        padding: "SAME", "VALID" or 4 explicit ``[before, after]`` pairs.
        use_cudnn_on_gpu: Ignored; XLA chooses the kernel.
        data_format: "NHWC" or "NCHW".
        dilations: An int or a list of 1, 2 or 4 ints.
        name: Op name.
        filters: Alias of ``filter``.

    Returns:
        The 4-D result in ``data_format``.

    Raises:
        ValueError: bad strides, dilations, padding, ranks or depths.
    """
    x = convert_to_tensor(input, name="input")
    w = convert_to_tensor(filter if filter is not None else filters, dtype=x.dtype)
    name = name or "Conv2D"
    _check_depth(x, w, data_format, name)
    attrs = {
        "strides": _spatial(strides, data_format, "strides"),
        "padding": _padding(padding, data_format),
        "dilations": _spatial(dilations, data_format, "dilations"),
        "data_format": data_format,
    }
    return make_op("Conv2D", _conv2d, [x, w], name=name, attrs=attrs).outputs[0]
