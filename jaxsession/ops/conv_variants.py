"""Convolution variants: 1-D, 3-D, transposed, depthwise, separable, atrous.

Each is one op lowered to ``lax.conv_general_dilated`` (a transposed
convolution is the exact adjoint of the forward one, as TF1's
``Conv2DBackpropInput`` is), so values, static shapes and gradients follow
TF1's kernels.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxsession import errors
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.ops import math as math_ops, nn as nn_ops
from jaxsession.ops.array._common import _ints, partial_shape_value
from jaxsession.ops.conv import _padding, conv2d

__all__ = [
    "atrous_conv2d",
    "conv1d",
    "conv2d_transpose",
    "conv3d",
    "conv3d_transpose",
    "depthwise_conv2d",
    "depthwise_conv2d_native",
    "separable_conv2d",
    "xw_plus_b",
]


class _Layout(NamedTuple):
    """Where batch, channels and spatial dims sit for one data format."""

    data_format: str
    kernel: str  # lax's kernel spec: spatial dims then "IO"

    @property
    def rank(self) -> int:
        return len(self.data_format)

    @property
    def spatial_rank(self) -> int:
        return self.rank - 2

    @property
    def channel(self) -> int:
        return self.data_format.index("C")

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(i for i in range(1, self.rank) if i != self.channel)

    @property
    def dims(self) -> tuple[str, str, str]:
        return (self.data_format, self.kernel, self.data_format)


_KERNELS = {1: "WIO", 2: "HWIO", 3: "DHWIO"}
_FORMATS = {
    1: ("NWC", "NCW"),
    2: ("NHWC", "NCHW"),
    3: ("NDHWC", "NCDHW"),
}


def _layout(data_format: str | None, n: int) -> _Layout:
    data_format = data_format or _FORMATS[n][0]
    # TF1's conv1d also takes "NHWC"/"NCHW" for its expanded 2-D form.
    if n == 1 and data_format in _FORMATS[2]:
        data_format = _FORMATS[1][_FORMATS[2].index(data_format)]
    if data_format not in _FORMATS[n]:
        raise ValueError(
            f"data_format must be one of {list(_FORMATS[n])}, got {data_format!r}"
        )
    return _Layout(data_format, _KERNELS[n])


def _window(value: Any, layout: _Layout, what: str) -> tuple[int, ...]:
    """An int or a list of 1, n or n + 2 ints as the n spatial ints."""
    n = layout.spatial_rank
    if value is None:
        return (1,) * n
    if isinstance(value, int | np.integer):
        return (int(value),) * n
    value = [int(v) for v in value]
    if len(value) == 1:
        return (value[0],) * n
    if len(value) == n:
        return tuple(value)
    if len(value) != n + 2:
        raise ValueError(f"{what} should be of length 1, {n} or {n + 2}, got {value}")
    if value[0] != 1 or value[layout.channel] != 1:
        raise ValueError(
            f"Current implementation does not yet support {what} in the batch and "
            "depth dimensions."
        )
    return tuple(value[i] for i in layout.spatial)


def _conv_padding(padding: Any, layout: _Layout) -> Any:
    if layout.spatial_rank != 2 and not isinstance(padding, str):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return _padding(padding, layout.data_format)


def _attrs(
    layout: _Layout, strides: Any, padding: Any, dilations: Any
) -> dict[str, Any]:
    """The lowering's window attributes; ``dilations`` may be spatial ints already."""
    if not (isinstance(dilations, tuple) and len(dilations) == layout.spatial_rank):
        dilations = _window(dilations, layout, "dilations")
    return {
        "strides": _window(strides, layout, "strides"),
        "padding": _conv_padding(padding, layout),
        "dilations": dilations,
        "dims": layout.dims,
    }


def _check_ranks(op_type: str, name: str, tensors: list[Tensor], rank: int) -> None:
    for t in tensors:
        if t.shape.ndims not in (None, rank):
            raise errors.op_shape_error(
                op_type, name, tensors, f"Shape must be rank {rank}"
            )


def _dim(t: Tensor, i: int) -> int | None:
    return None if t.shape.ndims is None else t.shape[i].value


def _conv(
    x: Any,
    w: Any,
    *,
    strides: tuple[int, ...],
    padding: Any,
    dilations: tuple[int, ...],
    dims: tuple[str, str, str],
    groups: int = 0,
) -> Any:
    # groups == 0: as many groups as the input's depth holds filter depths.
    groups = groups or x.shape[dims[0].index("C")] // w.shape[-2]
    return lax.conv_general_dilated(
        x,
        w,
        window_strides=strides,
        padding=padding,
        rhs_dilation=dilations,
        dimension_numbers=dims,
        feature_group_count=groups,
    )


def _conv_op(
    op_type: str, value: Any, filters: Any, layout: _Layout, name: str, *window: Any
) -> Tensor:
    """A convolution op; ``window`` is (strides, padding, dilations)."""
    x, w = _inputs(value, filters)
    _check_ranks(op_type, name, [x, w], layout.rank)
    depth, filter_depth = _dim(x, layout.channel), _dim(w, layout.spatial_rank)
    if None not in (depth, filter_depth) and depth % filter_depth:
        raise errors.op_shape_error(
            op_type,
            name,
            [x, w],
            f"Depth of input ({depth}) is not a multiple of input depth of filter "
            f"({filter_depth})",
        )
    attrs = _attrs(layout, *window)
    return make_op(op_type, _conv, [x, w], name=name, attrs=attrs).outputs[0]


def _inputs(value: Any, filters: Any) -> tuple[Tensor, Tensor]:
    x = convert_to_tensor(value, name="input")
    return x, convert_to_tensor(filters, dtype=x.dtype, name="filter")


# -- 1-D and 3-D ----------------------------------------------------------------


def conv1d(
    value: Any = None,
    filters: Any = None,
    stride: Any = None,
    padding: Any = None,
    use_cudnn_on_gpu: bool | None = None,
    data_format: str | None = None,
    name: str | None = None,
    input: Any = None,
    dilations: Any = None,
) -> Tensor:
    """1-D convolution of an NWC (or NCW) input with a ``[width, in, out]`` filter.

    Args:
        value: A 3-D tensor (``input`` is an alias).
        filters: ``[filter_width, in_channels, out_channels]``.
        stride: An int or a list of 1 or 3 ints.
        padding: "SAME" or "VALID".
        use_cudnn_on_gpu: Ignored; XLA chooses the kernel.
        data_format: "NWC" (default) or "NCW".
        name: Op name (default ``conv1d``).
        input: Alias of ``value``.
        dilations: An int or a list of 1 or 3 ints.

    Returns:
        The 3-D result.

    Raises:
        ValueError: bad stride, padding, format, ranks or depths.

    Differs from TF1: one op named ``conv1d`` where TF1 builds
    ExpandDims/Conv2D/Squeeze under that scope.
    """
    return _conv_op(
        "Conv1D",
        value if value is not None else input,
        filters,
        _layout(data_format, 1),
        name or "conv1d",
        stride,
        padding,
        dilations,
    )


def conv3d(
    input: Any,
    filter: Any = None,
    strides: Any = None,
    padding: Any = None,
    data_format: str = "NDHWC",
    dilations: Any = (1, 1, 1, 1, 1),
    name: str | None = None,
    filters: Any = None,
) -> Tensor:
    """3-D convolution of an NDHWC (or NCDHW) input with a DHWIO filter.

    Args:
        input: A 5-D tensor.
        filter: ``[depth, height, width, in_channels, out_channels]``.
        strides: A list of 5 ints (batch and channel strides 1), or 1 or 3.
        padding: "SAME" or "VALID".
        data_format: "NDHWC" or "NCDHW".
        dilations: A list of 5 ints, or 1 or 3.
        name: Op name.
        filters: Alias of ``filter``.

    Returns:
        The 5-D result.

    Raises:
        ValueError: bad strides, padding, format, ranks or depths.
    """
    return _conv_op(
        "Conv3D",
        input,
        filter if filter is not None else filters,
        _layout(data_format, 3),
        name or "Conv3D",
        strides,
        padding,
        dilations,
    )


# -- transposed -----------------------------------------------------------------


def _conv_transpose(
    sizes: Any,
    w: Any,
    x: Any,
    *,
    strides: tuple[int, ...],
    padding: Any,
    dilations: tuple[int, ...],
    dims: tuple[str, str, str],
) -> Any:
    shape = list(_ints(sizes, "output_shape"))
    shape[0] = x.shape[0]  # the batch is the input's, as TF1's shape function says

    def forward(y: Any, w: Any) -> Any:
        return _conv(
            y, w, strides=strides, padding=padding, dilations=dilations, dims=dims
        )

    return _adjoint_of(forward, tuple(shape))(x, w)


def _adjoint_of(forward: Any, shape: tuple[int, ...]) -> Any:
    """``(x, w) ->`` the adjoint of ``forward(., w)`` at ``x``, with direct gradients.

    The adjoint is ``forward``'s vjp in its input. Differentiating that vjp
    again gives convolutions XLA:CPU runs 40 times slower than these: the
    adjoint's gradient in ``x`` is ``forward`` itself, and in ``w`` the
    forward convolution's filter gradient (both gradients of a DCGAN
    layer, batch 100: 6.9 s -> 0.45 s on 2 cores).
    """

    @jax.custom_vjp
    def adjoint(x: Any, w: Any) -> Any:
        _, vjp = jax.vjp(lambda y: forward(y, w), jnp.zeros(shape, x.dtype))
        return vjp(x)[0]

    def ahead(x: Any, w: Any) -> tuple[Any, tuple[Any, Any]]:
        return adjoint(x, w), (x, w)

    def back(saved: tuple[Any, Any], g: Any) -> tuple[Any, Any]:
        x, w = saved
        _, filter_vjp = jax.vjp(lambda v: forward(g, v), w)
        return forward(g, w), filter_vjp(x)[0]

    adjoint.defvjp(ahead, back)
    return adjoint


def _forward_size(size: int, k: int, s: int, d: int, padding: Any) -> int:
    """The spatial size a forward convolution gives from ``size``."""
    if padding == "SAME":
        return -(-size // s)
    if padding == "VALID":
        return max(0, -(-(size - (k - 1) * d) // s))
    return (size + sum(padding) - (k - 1) * d - 1) // s + 1


def _transpose_shape(
    x: Tensor,
    w: Tensor,
    sizes: Tensor,
    layout: _Layout,
    attrs: dict[str, Any],
    name: str,
) -> tuple[int | None, ...]:
    """The static output shape, checked against the input, filter and strides."""
    op_type = (
        "Conv2DBackpropInput" if layout.spatial_rank == 2 else "Conv3DBackpropInputV2"
    )
    partial = partial_shape_value(sizes) if sizes.shape.ndims == 1 else None
    if partial is None or len(partial) != layout.rank:
        got = "an unknown number of" if partial is None else len(partial)
        raise ValueError(
            f"{op_type} requires output_shape to contain {layout.rank} values, but "
            f"got: {got} for '{name}' (output_shape {sizes!r})"
        )
    out = list(partial)
    batch = _dim(x, 0)
    if None not in (out[0], batch) and out[0] != batch:
        raise errors.op_shape_error(
            op_type,
            name,
            [sizes.shape.as_tuple(), w, x],
            f"Dimensions must be equal, but are {batch} and {out[0]}: output_shape "
            f"{list(partial)} and {x!r} differ in the batch size",
        )
    out[0] = batch
    n = layout.spatial_rank
    checks = [
        (
            _dim(x, layout.channel),
            _dim(w, n + 1),
            "value's channels",
            "the filter's in_channels (its last dim)",
        ),
        (
            out[layout.channel],
            _dim(w, n),
            "output_shape's channels",
            "the filter's out_channels (dim -2)",
        ),
    ]
    for a, b, what_a, what_b in checks:
        if None not in (a, b) and a != b:
            raise ValueError(
                f"{name}: {what_a} ({a}) must equal {what_b} ({b}); value {x!r}, "
                f"filter {w!r}, output_shape {list(partial)}"
            )
    pads = attrs["padding"]
    for j, axis in enumerate(layout.spatial):
        size, k, given = out[axis], _dim(w, j), _dim(x, axis)
        if None in (size, k, given):
            continue
        pad = pads if isinstance(pads, str) else pads[j]
        want = _forward_size(size, k, attrs["strides"][j], attrs["dilations"][j], pad)
        if want != given:
            raise ValueError(
                f"{name}: output_shape {list(partial)} does not fit value {x!r}: a "
                f"{pads if isinstance(pads, str) else 'explicit'}-padded "
                f"convolution of it with strides {list(attrs['strides'])} gives "
                f"spatial dim {j} of size {want}, but value has {given}"
            )
    return tuple(out)


def _transpose(
    op_type: str,
    value: Any,
    filters: Any,
    output_shape: Any,
    strides: Any,
    padding: Any,
    dilations: Any,
    layout: _Layout,
    name: str,
) -> Tensor:
    x, w = _inputs(value, filters)
    _check_ranks(op_type, name, [x, w], layout.rank)
    sizes = convert_to_tensor(output_shape, name="output_shape")
    attrs = _attrs(layout, strides, padding, dilations)
    shape = _transpose_shape(x, w, sizes, layout, attrs, name)
    avals = [Aval(shape, x.dtype)]
    return make_op(
        op_type, _conv_transpose, [sizes, w, x], name=name, attrs=attrs, out_avals=avals
    ).outputs[0]


def conv2d_transpose(
    value: Any = None,
    filter: Any = None,
    output_shape: Any = None,
    strides: Any = None,
    padding: Any = "SAME",
    data_format: str = "NHWC",
    name: str | None = None,
    input: Any = None,
    filters: Any = None,
    dilations: Any = None,
) -> Tensor:
    """The transpose (gradient) of ``conv2d``, sometimes called deconvolution.

    Args:
        value: A 4-D input (``input`` is an alias).
        filter: ``[height, width, output_channels, in_channels]``.
        output_shape: The 4-D shape of the result: a list or a 1-D int tensor
            (``tf.stack([tf.shape(x)[0], 8, 8, 16])``, ``tf.shape(skip)``)
            whose values are known when the graph is traced.
        strides: An int or a list of 1, 2 or 4 ints.
        padding: "SAME", "VALID" or 4 explicit ``[before, after]`` pairs.
        data_format: "NHWC" or "NCHW".
        name: Op name (default ``conv2d_transpose``).
        input: Alias of ``value``.
        filters: Alias of ``filter``.
        dilations: An int or a list of 1, 2 or 4 ints.

    Returns:
        A tensor of ``output_shape`` (its batch dim is ``value``'s).

    Raises:
        ValueError: ``output_shape`` does not have 4 values, or a convolution
            of a tensor of ``output_shape`` would not give ``value``'s shape,
            or the channels do not match the filter.
    """
    return _transpose(
        "Conv2DBackpropInput",
        value if value is not None else input,
        filter if filter is not None else filters,
        output_shape,
        strides,
        padding,
        dilations,
        _layout(data_format, 2),
        name or "conv2d_transpose",
    )


def conv3d_transpose(
    value: Any = None,
    filter: Any = None,
    output_shape: Any = None,
    strides: Any = None,
    padding: Any = "SAME",
    data_format: str = "NDHWC",
    name: str | None = None,
    input: Any = None,
    filters: Any = None,
    dilations: Any = None,
) -> Tensor:
    """The transpose of ``conv3d``; arguments as ``conv2d_transpose`` in 3-D.

    The filter is ``[depth, height, width, output_channels, in_channels]``.

    Raises:
        ValueError: as ``conv2d_transpose``.
    """
    return _transpose(
        "Conv3DBackpropInputV2",
        value if value is not None else input,
        filter if filter is not None else filters,
        output_shape,
        strides,
        padding,
        dilations,
        _layout(data_format, 3),
        name or "conv3d_transpose",
    )


# -- depthwise, separable, atrous -----------------------------------------------


def _depthwise(x: Any, w: Any, **attrs: Any) -> Any:
    kh, kw, depth, mult = w.shape
    # Output channel i * mult + m is input channel i times filter [..., i, m].
    w = w.reshape(kh, kw, 1, depth * mult)
    return _conv(x, w, groups=depth, **attrs)


def _rate(rate: Any, dilations: Any, layout: _Layout) -> tuple[int, ...]:
    if rate is not None and dilations is not None:
        raise ValueError("rate and dilations cannot both be given")
    return _window(rate if rate is not None else dilations, layout, "dilations")


def _depthwise_op(
    x: Tensor,
    w: Tensor,
    strides: Any,
    padding: Any,
    dilations: tuple[int, ...],
    layout: _Layout,
    name: str,
) -> Tensor:
    op_type = "DepthwiseConv2dNative"
    _check_ranks(op_type, name, [x, w], 4)
    depth, filter_depth = _dim(x, layout.channel), _dim(w, 2)
    if None not in (depth, filter_depth) and depth != filter_depth:
        raise errors.op_shape_error(
            op_type,
            name,
            [x, w],
            f"Dimensions must be equal, but are {depth} and {filter_depth}",
        )
    attrs = _attrs(layout, strides, padding, dilations)
    return make_op(op_type, _depthwise, [x, w], name=name, attrs=attrs).outputs[0]


def depthwise_conv2d(
    input: Any,
    filter: Any,
    strides: Any,
    padding: Any,
    rate: Any = None,
    name: str | None = None,
    data_format: str | None = None,
    dilations: Any = None,
) -> Tensor:
    """Depthwise 2-D convolution: each input channel has its own filters.

    Args:
        input: A 4-D tensor with ``in_channels`` channels.
        filter: ``[height, width, in_channels, channel_multiplier]``.
        strides: A list of 4 ints (or 1 or 2).
        padding: "SAME", "VALID" or explicit pairs.
        rate: The dilation rate (an int or 2 ints); ``dilations`` is an alias.
        name: Op name (default ``depthwise``).
        data_format: "NHWC" (default) or "NCHW".
        dilations: Alias of ``rate``.

    Returns:
        The result with ``in_channels * channel_multiplier`` channels, channel
        ``i * channel_multiplier + m`` from input channel ``i``.

    Raises:
        ValueError: bad ranks, or the filter's in_channels differ from the input's.
    """
    layout = _layout(data_format, 2)
    x, w = _inputs(input, filter)
    dilations = _rate(rate, dilations, layout)
    return _depthwise_op(x, w, strides, padding, dilations, layout, name or "depthwise")


def depthwise_conv2d_native(
    input: Any,
    filter: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    dilations: Any = (1, 1, 1, 1),
    name: str | None = None,
) -> Tensor:
    """The depthwise convolution op itself; see ``depthwise_conv2d``.

    Raises:
        ValueError: as ``depthwise_conv2d``.
    """
    layout = _layout(data_format, 2)
    x, w = _inputs(input, filter)
    return _depthwise_op(
        x, w, strides, padding, dilations, layout, name or "DepthwiseConv2dNative"
    )


def separable_conv2d(
    input: Any,
    depthwise_filter: Any,
    pointwise_filter: Any,
    strides: Any,
    padding: Any,
    rate: Any = None,
    name: str | None = None,
    data_format: str | None = None,
    dilations: Any = None,
) -> Tensor:
    """A depthwise convolution followed by a 1x1 (pointwise) convolution.

    Args:
        input: A 4-D tensor.
        depthwise_filter: ``[height, width, in_channels, channel_multiplier]``.
        pointwise_filter: ``[1, 1, in_channels * channel_multiplier, out]``.
        strides: The depthwise convolution's strides.
        padding: The depthwise convolution's padding.
        rate: The depthwise dilation rate; ``dilations`` is an alias.
        name: Name of the result (default ``separable_conv2d``).
        data_format: "NHWC" (default) or "NCHW".
        dilations: Alias of ``rate``.

    Returns:
        The 4-D result with ``out`` channels.

    Raises:
        ValueError: the pointwise filter is not ``[1, 1, in * mult, out]``.
    """
    layout = _layout(data_format, 2)
    x, dw = _inputs(input, depthwise_filter)
    pw = convert_to_tensor(pointwise_filter, dtype=x.dtype, name="pointwise_filter")
    dilations = _rate(rate, dilations, layout)
    with name_scope(name or "separable_conv2d") as scope:
        if pw.shape.ndims == 4 and pw.shape.as_list()[:2] not in ([1, 1], [None, None]):
            raise ValueError(
                f"{scope.rstrip('/')}: pointwise_filter must be [1, 1, in_channels "
                f"* channel_multiplier, out_channels], got {pw!r}"
            )
        depthwise = _depthwise_op(
            x, dw, strides, padding, dilations, layout, "depthwise"
        )
        return conv2d(
            depthwise,
            pw,
            strides=1,
            padding="VALID",
            data_format=layout.data_format,
            name=scope,
        )


def atrous_conv2d(
    value: Any, filters: Any, rate: int, padding: Any, name: str | None = None
) -> Tensor:
    """2-D convolution with holes: ``conv2d`` with ``dilations=rate``, stride 1.

    Args:
        value: A 4-D NHWC tensor.
        filters: ``[height, width, in_channels, out_channels]``.
        rate: The positive int dilation rate.
        padding: "SAME" or "VALID".
        name: Op name (default ``convolution``).

    Returns:
        The 4-D result.

    Raises:
        ValueError: ``rate`` is not a positive int.

    Differs from TF1: one dilated convolution op where TF1 builds
    SpaceToBatchND/Conv2D/BatchToSpaceND; the values are the same.
    """
    if not isinstance(rate, int | np.integer) or rate < 1:
        raise ValueError(f"rate {rate!r} should be a positive integer")
    return conv2d(
        value,
        filters,
        strides=1,
        padding=padding,
        dilations=int(rate),
        name=name or "convolution",
    )


# -- xw_plus_b ------------------------------------------------------------------


def xw_plus_b(x: Any, weights: Any, biases: Any, name: str | None = None) -> Tensor:
    """``matmul(x, weights) + biases`` (``biases`` 1-D); the sum is named ``name``.

    Raises:
        ValueError: the shapes do not fit the matmul or the bias.
    """
    with name_scope(name or "xw_plus_b") as scope:
        mm = math_ops.matmul(x, weights)
        return nn_ops.bias_add(mm, biases, name=scope)
