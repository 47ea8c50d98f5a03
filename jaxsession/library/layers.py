"""TF1's functional layers (``tf.layers``): dense, conv, pooling, dropout, BN.

Each call with variables opens a variable scope named after the layer
(``dense``, ``dense_1``, ... or ``name``) holding them, so ``reuse=True`` with
the same name shares them, as in TF1. Layers without variables open a name
scope (``max_pooling2d/MaxPool``). Regularizer losses, the activity
regularizer's included, go to REGULARIZATION_LOSSES.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from jaxsession.graph import initializers as init_ops, variables as vs
from jaxsession.graph.core import GraphKeys, Tensor, get_default_graph, name_scope
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.graph.rules import constant_value
from jaxsession.ops import (
    control_flow as control_flow_ops,
    conv as conv_ops,
    conv_variants,
    math as math_ops,
    nn as nn_ops,
    normalization as normalization_ops,
    pool as pool_ops,
)
from jaxsession.ops.array import combine as combine_ops, shape as shape_ops

__all__ = [
    "average_pooling2d",
    "batch_normalization",
    "conv1d",
    "conv2d",
    "conv2d_transpose",
    "conv3d",
    "dense",
    "dropout",
    "flatten",
    "max_pooling2d",
    "separable_conv2d",
]

_FORMATS = {"channels_last": "NHWC", "channels_first": "NCHW"}
# Data formats of n spatial dims: (channels_last, channels_first).
_ND_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


class _Weight(NamedTuple):
    """How one weight is made: initializer, regularizer and constraint."""

    initializer: Any
    regularizer: Any
    constraint: Any


# -- argument checks ------------------------------------------------------------


def _pair(value: Any, what: str, n: int = 2) -> tuple[int, ...]:
    """An int or ``n`` ints as ``n`` ints (keras's ``normalize_tuple``)."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(
            f"The `{what}` argument must be a tuple of {n} integers. Received: {value}"
        )
    return value


def _padding(padding: str) -> str:
    upper = padding.upper()
    if upper not in ("SAME", "VALID"):
        raise ValueError(
            f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}"
        )
    return upper


def _data_format(data_format: str) -> str:
    if data_format not in _FORMATS:
        raise ValueError(
            'The `data_format` argument must be one of "channels_first", '
            f'"channels_last". Received: {data_format}'
        )
    return _FORMATS[data_format]


def _spatial(value: Any, what: str, fmt: str) -> list[int]:
    """A 2-D window argument as the 4 ints of ``fmt``'s layout."""
    h, w = _pair(value, what)
    return [1, 1, h, w] if fmt == "NCHW" else [1, h, w, 1]


def _static_bool(flag: Any) -> bool | None:
    """The value of a training flag if known while building (TF1's smart_cond)."""
    if isinstance(flag, bool) or type(flag).__name__ == "bool_":
        return bool(flag)
    value = constant_value(flag)
    return None if value is None else bool(value)


def _smart_cond(
    training: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]
) -> Any:
    static = _static_bool(training)
    if static is not None:
        return true_fn() if static else false_fn()
    return control_flow_ops.cond(convert_to_tensor(training), true_fn, false_fn)


# -- shared pieces --------------------------------------------------------------


def _variable(
    name: str, shape: list[int], dtype: Any, weight: _Weight, trainable: bool
) -> vs.Variable:
    return vs.get_variable(
        name,
        shape,
        dtype=dtype,
        initializer=weight.initializer,
        regularizer=weight.regularizer,
        constraint=weight.constraint,
        trainable=trainable,
    )


def _activate(
    x: Tensor, activation: Callable[[Tensor], Tensor] | None, activity_regularizer: Any
) -> Tensor:
    if activation is not None:
        x = activation(x)
    if activity_regularizer is not None:
        with name_scope("ActivityRegularizer"):
            loss = activity_regularizer(x)
            if loss is not None:
                # TF1 averages the activity loss over the batch.
                batch = math_ops.cast(shape_ops.shape(x)[0], loss.dtype)
                get_default_graph().add_to_collection(
                    GraphKeys.REGULARIZATION_LOSSES, math_ops.truediv(loss, batch)
                )
    return x


def _weight(options: dict[str, Any], prefix: str) -> _Weight:
    """The ``<prefix>_initializer/_regularizer/_constraint`` of a layer's args."""
    return _Weight(
        options.get(f"{prefix}_initializer"),
        options.get(f"{prefix}_regularizer"),
        options.get(f"{prefix}_constraint"),
    )


def _kernel_layer(
    default_name: str,
    x: Tensor,
    kernels: dict[str, list[int]],
    apply_kernels: Callable[..., Tensor],
    fmt: str,
    options: dict[str, Any],
    bias_size: int | None = None,
) -> Tensor:
    """``activation(apply_kernels(*kernels) + bias)`` under the layer's scope.

    ``kernels`` maps each kernel's variable name to its shape, in creation
    order; ``options`` is the layer function's ``locals()`` (the weight
    arguments, ``use_bias``, activation, activity_regularizer, trainable,
    name and reuse). The bias has ``bias_size`` (default: the last kernel's
    last dim) elements.
    """
    trainable = options["trainable"]
    with vs.variable_scope(
        options["name"], default_name=default_name, reuse=options["reuse"]
    ):
        weights = [
            _variable(k, shape, x.dtype, _weight(options, k.split("_")[0]), trainable)
            for k, shape in kernels.items()
        ]
        out = apply_kernels(*weights)
        if options["use_bias"]:
            bias = _weight(options, "bias")
            if bias.initializer is None:
                bias = bias._replace(initializer=init_ops.zeros_initializer())
            size = bias_size or list(kernels.values())[-1][-1]
            b = _variable("bias", [size], x.dtype, bias, trainable)
            out = nn_ops.bias_add(out, b, data_format=fmt)
        return _activate(out, options["activation"], options["activity_regularizer"])


# -- layers ---------------------------------------------------------------------


def dense(
    inputs: Any,
    units: int,
    activation: Callable[[Tensor], Tensor] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A fully connected layer on the last axis: ``activation(x @ kernel + bias)``.

    The kernel (``dense/kernel``, glorot-uniform by default) has shape
    ``[depth, units]``; inputs of rank > 2 contract their last axis.

    Raises:
        ValueError: the last dimension of ``inputs`` is unknown.
    """
    x = convert_to_tensor(inputs)
    rank = x.shape.ndims
    depth = x.shape[-1].value if rank else None
    if depth is None:
        raise ValueError(
            "The last dimension of the inputs to `Dense` should be defined. Found `None`."
        )

    def apply(w: vs.Variable) -> Tensor:
        if rank == 2:
            return math_ops.matmul(x, w)
        return math_ops.tensordot(x, w, [[rank - 1], [0]])

    return _kernel_layer(
        "dense", x, {"kernel": [depth, units]}, apply, "NHWC", locals()
    )


def _channels(x: Tensor, rank: int, fmt: str) -> int:
    channels = None
    if x.shape.ndims == rank + 2:
        channels = x.shape[1 if fmt[1] == "C" else -1].value
    if channels is None:
        raise ValueError(
            "The channel dimension of the inputs should be defined. Found `None`."
        )
    return channels


def _conv_layer(
    rank: int,
    inputs: Any,
    filters: int,
    kernel_size: Any,
    options: dict[str, Any],
) -> Tensor:
    """The convolution layer of ``rank`` spatial dims behind conv1d/2d/3d.

    ``options`` is the layer function's ``locals()``: strides, padding,
    data_format, dilation_rate, the weight arguments, activation,
    activity_regularizer, trainable, name and reuse.
    """
    fmt = _ND_FORMATS[rank][_data_format(options["data_format"]) == "NCHW"]
    x = convert_to_tensor(inputs)
    channels = _channels(x, rank, fmt)
    strides = _pair(options["strides"], "strides", rank)
    padding = _padding(options["padding"])
    dilations = _pair(options["dilation_rate"], "dilation_rate", rank)
    conv = {1: conv_variants.conv1d, 2: conv_ops.conv2d, 3: conv_variants.conv3d}

    def apply(w: vs.Variable) -> Tensor:
        return conv[rank](x, w, strides, padding, data_format=fmt, dilations=dilations)

    kernel_shape = [*_pair(kernel_size, "kernel_size", rank), channels, filters]
    return _kernel_layer(
        f"conv{rank}d", x, {"kernel": kernel_shape}, apply, fmt, options
    )


def conv1d(
    inputs: Any,
    filters: int,
    kernel_size: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: Any = 1,
    activation: Callable[[Tensor], Tensor] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A 1-D convolution layer with a kernel ``[width, channels, filters]``.

    Raises:
        ValueError: the channel dimension is unknown, or bad sizes/padding/format.
    """
    return _conv_layer(1, inputs, filters, kernel_size, locals())


def conv2d(
    inputs: Any,
    filters: int,
    kernel_size: Any,
    strides: Any = (1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: Any = (1, 1),
    activation: Callable[[Tensor], Tensor] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A 2-D convolution layer with an HWIO kernel ``[kh, kw, channels, filters]``.

    Raises:
        ValueError: the channel dimension is unknown, or bad sizes/padding/format.
    """
    return _conv_layer(2, inputs, filters, kernel_size, locals())


def conv3d(
    inputs: Any,
    filters: int,
    kernel_size: Any,
    strides: Any = (1, 1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: Any = (1, 1, 1),
    activation: Callable[[Tensor], Tensor] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A 3-D convolution layer with a kernel ``[kd, kh, kw, channels, filters]``.

    Raises:
        ValueError: the channel dimension is unknown, or bad sizes/padding/format.
    """
    return _conv_layer(3, inputs, filters, kernel_size, locals())


def _transposed_size(x: Tensor, axis: int, k: int, s: int, padding: str) -> Any:
    """The output size (Keras's ``deconv_output_length``), unknown ones from tf.shape."""
    size = x.shape[axis].value
    if size is None:
        size = shape_ops.shape(x)[axis]
    return size * s if padding == "SAME" else size * s + max(k - s, 0)


def conv2d_transpose(
    inputs: Any,
    filters: int,
    kernel_size: Any,
    strides: Any = (1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    activation: Callable[[Tensor], Tensor] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A transposed 2-D convolution layer (deconvolution).

    The kernel is ``[kh, kw, filters, channels]``. Each spatial size ``n``
    becomes ``n * stride`` ("same") or ``n * stride + max(k - stride, 0)``
    ("valid").

    Raises:
        ValueError: the channel dimension is unknown, or bad sizes/padding/format.
    """
    fmt = _data_format(data_format)
    x = convert_to_tensor(inputs)
    channels = _channels(x, 2, fmt)
    kernel_size = _pair(kernel_size, "kernel_size")
    strides = _pair(strides, "strides")
    padding = _padding(padding)
    axes = (2, 3) if fmt == "NCHW" else (1, 2)

    def apply(w: vs.Variable) -> Tensor:
        dims = [
            _transposed_size(x, a, k, s, padding)
            for a, k, s in zip(axes, kernel_size, strides)
        ]
        dims.insert(0 if fmt == "NCHW" else 2, filters)
        output_shape = combine_ops.stack([shape_ops.shape(x)[0], *dims])
        return conv_variants.conv2d_transpose(
            x, w, output_shape, strides, padding, fmt, name="conv2d_transpose"
        )

    kernels = {"kernel": [*kernel_size, filters, channels]}
    return _kernel_layer("conv2d_transpose", x, kernels, apply, fmt, locals(), filters)


def separable_conv2d(
    inputs: Any,
    filters: int,
    kernel_size: Any,
    strides: Any = (1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: Any = (1, 1),
    depth_multiplier: int = 1,
    activation: Callable[[Tensor], Tensor] | None = None,
    use_bias: bool = True,
    depthwise_initializer: Any = None,
    pointwise_initializer: Any = None,
    bias_initializer: Any = None,
    depthwise_regularizer: Any = None,
    pointwise_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    depthwise_constraint: Any = None,
    pointwise_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A depthwise then pointwise (1x1) convolution layer.

    Its weights are ``depthwise_kernel`` ``[kh, kw, channels,
    depth_multiplier]``, ``pointwise_kernel`` ``[1, 1, channels *
    depth_multiplier, filters]`` and ``bias`` ``[filters]``.

    Raises:
        ValueError: the channel dimension is unknown, or bad sizes/padding/format.
    """
    options = locals()
    fmt = _data_format(data_format)
    x = convert_to_tensor(inputs)
    channels = _channels(x, 2, fmt)
    depthwise_shape = [*_pair(kernel_size, "kernel_size"), channels, depth_multiplier]
    window = {
        "strides": [1, *_pair(strides, "strides"), 1],
        "padding": _padding(padding),
        "rate": _pair(dilation_rate, "dilation_rate"),
        "data_format": fmt,
    }

    def apply(depthwise: vs.Variable, pointwise: vs.Variable) -> Tensor:
        return conv_variants.separable_conv2d(x, depthwise, pointwise, **window)

    kernels = {
        "depthwise_kernel": depthwise_shape,
        "pointwise_kernel": [1, 1, channels * depth_multiplier, filters],
    }
    return _kernel_layer("separable_conv2d", x, kernels, apply, fmt, options)


def _pool(
    fn: Callable[..., Tensor],
    default: str,
    inputs: Any,
    pool_size: Any,
    strides: Any,
    padding: str,
    data_format: str,
    name: str | None,
) -> Tensor:
    fmt = _data_format(data_format)
    x = convert_to_tensor(inputs)
    with name_scope(name or default):
        return fn(
            x,
            ksize=_spatial(pool_size, "pool_size", fmt),
            strides=_spatial(strides, "strides", fmt),
            padding=_padding(padding),
            data_format=fmt,
        )


def max_pooling2d(
    inputs: Any,
    pool_size: Any,
    strides: Any,
    padding: str = "valid",
    data_format: str = "channels_last",
    name: str | None = None,
) -> Tensor:
    """2-D max pooling.

    Raises:
        ValueError: bad sizes, padding or format.
    """
    return _pool(
        pool_ops.max_pool,
        "max_pooling2d",
        inputs,
        pool_size,
        strides,
        padding,
        data_format,
        name,
    )


def average_pooling2d(
    inputs: Any,
    pool_size: Any,
    strides: Any,
    padding: str = "valid",
    data_format: str = "channels_last",
    name: str | None = None,
) -> Tensor:
    """2-D average pooling ("same" border windows average their valid elements).

    Raises:
        ValueError: bad sizes, padding or format.
    """
    return _pool(
        pool_ops.avg_pool,
        "average_pooling2d",
        inputs,
        pool_size,
        strides,
        padding,
        data_format,
        name,
    )


def flatten(
    inputs: Any, name: str | None = None, data_format: str = "channels_last"
) -> Tensor:
    """Reshapes ``[batch, d1, d2, ...]`` to ``[batch, d1 * d2 * ...]``.

    Channels-first inputs are first transposed to channels-last, as in TF1, so
    both formats flatten to the same order. Unknown non-batch dims are
    flattened at run time.

    Raises:
        ValueError: bad ``data_format``.
    """
    fmt = _data_format(data_format)
    x = convert_to_tensor(inputs)
    rank = x.shape.ndims
    with name_scope(name or "flatten"):
        if fmt == "NCHW" and rank is not None and rank >= 3:
            x = shape_ops.transpose(x, [0, *range(2, rank), 1])
        dims = x.shape.as_list() if rank is not None else [None, None]
        if None not in dims[1:]:
            return shape_ops.reshape(x, [-1, math.prod(dims[1:])])
        if dims[0] is not None:
            return shape_ops.reshape(x, [dims[0], -1])
        return shape_ops.reshape(x, combine_ops.stack([shape_ops.shape(x)[0], -1]))


def dropout(
    inputs: Any,
    rate: float = 0.5,
    noise_shape: Any = None,
    seed: int | None = None,
    training: Any = False,
    name: str | None = None,
) -> Tensor:
    """Dropout applied only when ``training`` (a bool or a bool tensor) is true.

    Kept elements are scaled by ``1 / (1 - rate)``; with ``training`` false the
    result is ``identity(inputs)``. A tensor flag known while building picks
    its branch statically, as TF1's ``smart_cond``.
    """
    x = convert_to_tensor(inputs)
    with name_scope(name or "dropout"):
        return _smart_cond(
            training,
            lambda: nn_ops.dropout(x, rate=rate, noise_shape=noise_shape, seed=seed),
            lambda: shape_ops.identity(x),
        )


def batch_normalization(
    inputs: Any,
    axis: int = -1,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
    center: bool = True,
    scale: bool = True,
    beta_initializer: Any = None,
    gamma_initializer: Any = None,
    moving_mean_initializer: Any = None,
    moving_variance_initializer: Any = None,
    beta_regularizer: Any = None,
    gamma_regularizer: Any = None,
    beta_constraint: Any = None,
    gamma_constraint: Any = None,
    training: Any = False,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
    renorm: bool = False,
    renorm_clipping: Any = None,
    renorm_momentum: float = 0.99,
    fused: bool | None = None,
    virtual_batch_size: int | None = None,
    adjustment: Any = None,
) -> Tensor:
    """Batch normalization over all axes but ``axis``.

    With ``training`` true the batch statistics normalize and the moving
    averages move toward them (``m -= (m - batch) * (1 - momentum)``) through
    two ops added to UPDATE_OPS, as in TF1: run them with the train op (e.g.
    under ``tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS))``).
    Otherwise the moving averages normalize. As TF1's fused kernel (the
    default for 4-D inputs with axis 1 or 3) does, the moving variance then
    moves toward the unbiased batch variance (``n / (n - 1)`` times it).

    Raises:
        ValueError: the rank or the ``axis`` dimension is unknown.
        NotImplementedError: renorm, virtual_batch_size or adjustment is set.

    Differs from TF1: batch renormalization and virtual batches are not supported.
    """
    if renorm or virtual_batch_size is not None or adjustment is not None:
        raise NotImplementedError(
            "batch_normalization: renorm, virtual_batch_size and adjustment are "
            "not supported"
        )
    x = convert_to_tensor(inputs)
    rank = x.shape.ndims
    if rank is None:
        raise ValueError(f"Input has undefined rank: {x!r}")
    axis = axis % rank
    depth = x.shape[axis].value
    if depth is None:
        raise ValueError(
            f"Input has undefined `axis` dimension. Input shape: {x.shape} ({x!r})"
        )
    zeros, ones = init_ops.zeros_initializer(), init_ops.ones_initializer()
    with vs.variable_scope(name, default_name="batch_normalization", reuse=reuse):
        gamma = beta = None
        if scale:
            gamma = _variable(
                "gamma",
                [depth],
                x.dtype,
                _Weight(gamma_initializer or ones, gamma_regularizer, gamma_constraint),
                trainable,
            )
        if center:
            beta = _variable(
                "beta",
                [depth],
                x.dtype,
                _Weight(beta_initializer or zeros, beta_regularizer, beta_constraint),
                trainable,
            )
        moving = [
            _variable(
                "moving_mean",
                [depth],
                x.dtype,
                _Weight(moving_mean_initializer or zeros, None, None),
                False,
            ),
            _variable(
                "moving_variance",
                [depth],
                x.dtype,
                _Weight(moving_variance_initializer or ones, None, None),
                False,
            ),
        ]
        shape = [depth if i == axis else 1 for i in range(rank)]

        def norm(mean: Any, var: Any) -> Tensor:
            def param(t: Any) -> Any:
                return None if t is None else shape_ops.reshape(t, shape)

            return normalization_ops.batch_normalization(
                x, param(mean), param(var), param(beta), param(gamma), epsilon
            )

        if _static_bool(training) is False:
            return norm(*(v.value() for v in moving))
        unbiased = fused is not False and rank == 4 and axis in (1, 3)
        stats = _batch_stats(x, axis, depth, unbiased)
        return norm(*_moving_updates(training, stats, moving, momentum, x.dtype))


def _batch_stats(x: Tensor, axis: int, depth: int, unbiased: bool) -> list[Tensor]:
    """[mean, variance, variance the moving average moves toward]."""
    mean, var = normalization_ops.moments(
        x, [i for i in range(x.shape.ndims) if i != axis]
    )
    if not unbiased:
        return [mean, var, var]
    n = math_ops.cast(shape_ops.size(x), x.dtype) / float(depth)
    return [mean, var, var * (n / math_ops.maximum(n - 1.0, 1.0))]


def _moving_updates(
    training: Any,
    stats: list[Tensor],
    moving: list[vs.Variable],
    momentum: float,
    dtype: Any,
) -> list[Any]:
    """Adds the moving-average updates to UPDATE_OPS; returns the mean/var to use."""
    mean, var, target_var = stats
    if _static_bool(training):
        use, decay = [mean, var], 1.0 - momentum
    else:
        flag = convert_to_tensor(training)
        use = [
            control_flow_ops.cond(flag, lambda s=s: s, lambda v=v: v.value())
            for s, v in zip((mean, var), moving)
        ]
        # The moving averages only move when training: decay is 0 otherwise.
        decay = math_ops.cast(flag, dtype) * (1.0 - momentum)
    graph = get_default_graph()
    for i, (v, target) in enumerate(zip(moving, (mean, target_var))):
        update = v.assign_sub(
            (v - target) * decay, name="AssignMovingAvg" + (f"_{i}" if i else "")
        )
        graph.add_to_collection(GraphKeys.UPDATE_OPS, update)
    return use
