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
    math as math_ops,
    nn as nn_ops,
    normalization as normalization_ops,
    pool as pool_ops,
)
from jaxsession.ops.array import combine as combine_ops, shape as shape_ops

__all__ = [
    "average_pooling2d",
    "batch_normalization",
    "conv2d",
    "dense",
    "dropout",
    "flatten",
    "max_pooling2d",
]

_FORMATS = {"channels_last": "NHWC", "channels_first": "NCHW"}


class _Weight(NamedTuple):
    """How one weight is made: initializer, regularizer and constraint."""

    initializer: Any
    regularizer: Any
    constraint: Any


# -- argument checks ------------------------------------------------------------


def _pair(value: Any, what: str) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(
            f"The `{what}` argument must be a tuple of 2 integers. Received: {value}"
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


def _kernel_layer(
    default_name: str,
    x: Tensor,
    kernel_shape: list[int],
    apply_kernel: Callable[[vs.Variable], Tensor],
    *,
    kernel: _Weight,
    bias: _Weight | None,
    fmt: str,
    activation: Callable[[Tensor], Tensor] | None,
    activity_regularizer: Any,
    trainable: bool,
    name: str | None,
    reuse: Any,
) -> Tensor:
    """``activation(apply_kernel(kernel) + bias)`` under the layer's scope."""
    with vs.variable_scope(name, default_name=default_name, reuse=reuse):
        w = _variable("kernel", kernel_shape, x.dtype, kernel, trainable)
        out = apply_kernel(w)
        if bias is not None:
            b = _variable("bias", [kernel_shape[-1]], x.dtype, bias, trainable)
            out = nn_ops.bias_add(out, b, data_format=fmt)
        return _activate(out, activation, activity_regularizer)


def _bias(
    use_bias: bool, initializer: Any, regularizer: Any, constraint: Any
) -> _Weight | None:
    if not use_bias:
        return None
    return _Weight(initializer or init_ops.zeros_initializer(), regularizer, constraint)


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
        "dense",
        x,
        [depth, units],
        apply,
        kernel=_Weight(kernel_initializer, kernel_regularizer, kernel_constraint),
        bias=_bias(use_bias, bias_initializer, bias_regularizer, bias_constraint),
        fmt="NHWC",
        activation=activation,
        activity_regularizer=activity_regularizer,
        trainable=trainable,
        name=name,
        reuse=reuse,
    )


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
    fmt = _data_format(data_format)
    x = convert_to_tensor(inputs)
    channels = None
    if x.shape.ndims == 4:
        channels = x.shape[1 if fmt == "NCHW" else 3].value
    if channels is None:
        raise ValueError(
            "The channel dimension of the inputs should be defined. Found `None`."
        )
    kh, kw = _pair(kernel_size, "kernel_size")
    window = {
        "strides": _spatial(strides, "strides", fmt),
        "padding": _padding(padding),
        "dilations": _spatial(dilation_rate, "dilation_rate", fmt),
    }

    def apply(w: vs.Variable) -> Tensor:
        return conv_ops.conv2d(x, w, data_format=fmt, **window)

    return _kernel_layer(
        "conv2d",
        x,
        [kh, kw, channels, filters],
        apply,
        kernel=_Weight(kernel_initializer, kernel_regularizer, kernel_constraint),
        bias=_bias(use_bias, bias_initializer, bias_regularizer, bias_constraint),
        fmt=fmt,
        activation=activation,
        activity_regularizer=activity_regularizer,
        trainable=trainable,
        name=name,
        reuse=reuse,
    )


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
