"""TF1's functional layers (``tf.layers``): dense, conv, pooling, dropout, BN.

Each call opens a variable scope named after the layer (``dense``,
``dense_1``, ... or ``name``) holding its variables, so ``reuse=True`` with
the same name shares them, as in TF1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from jaxsession.graph import variables as vs
from jaxsession.graph.core import GraphKeys, Tensor, get_default_graph
from jaxsession.graph.ops import (
    array_ops,
    control_flow_ops,
    convert_to_tensor,
    math_ops,
    nn_ops,
)

__all__ = [
    "average_pooling2d",
    "batch_normalization",
    "conv2d",
    "dense",
    "dropout",
    "flatten",
    "max_pooling2d",
]


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


def _check_channels_last(data_format: str) -> None:
    if data_format != "channels_last":
        raise ValueError(
            f"data_format={data_format!r} is not supported: jaxsession layers are "
            "channels_last (NHWC); transpose the input instead."
        )


def _weight(name: str, shape: list[int], dtype: Any, initializer: Any, regularizer: Any,
            constraint: Any, trainable: bool) -> vs.Variable:  # fmt: skip
    return vs.get_variable(
        name, shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
        constraint=constraint, trainable=trainable,
    )  # fmt: skip


def _activate(x: Tensor, activation: Callable[[Tensor], Tensor] | None,
              activity_regularizer: Any) -> Tensor:  # fmt: skip
    if activation is not None:
        x = activation(x)
    if activity_regularizer is not None:
        loss = activity_regularizer(x)
        if loss is not None:
            get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return x


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

    Raises:
        ValueError: the last dimension of ``inputs`` is unknown.
    """
    x = convert_to_tensor(inputs)
    depth = x.shape[-1].value if x.shape.ndims else None
    if depth is None:
        raise ValueError(
            "The last dimension of the inputs to `Dense` should be defined. Found `None`."
        )
    with vs.variable_scope(name, default_name="dense", reuse=reuse):
        kernel = _weight("kernel", [depth, units], x.dtype, kernel_initializer,
                         kernel_regularizer, kernel_constraint, trainable)  # fmt: skip
        if x.shape.ndims == 2:
            out = math_ops.matmul(x, kernel)
        else:
            out = math_ops.tensordot(x, kernel, [[x.shape.ndims - 1], [0]])
        if use_bias:
            bias = _weight("bias", [units], x.dtype, bias_initializer or vs.zeros_initializer(),
                           bias_regularizer, bias_constraint, trainable)  # fmt: skip
            out = nn_ops.bias_add(out, bias)
        return _activate(out, activation, activity_regularizer)


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
    """A 2-D convolution layer over NHWC inputs.

    Raises:
        ValueError: the channel dimension is unknown, or bad sizes/padding.
    """
    _check_channels_last(data_format)
    x = convert_to_tensor(inputs)
    channels = x.shape[-1].value if x.shape.ndims == 4 else None
    if channels is None:
        raise ValueError(
            "The channel dimension of the inputs should be defined. Found `None`."
        )
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(strides, "strides")
    dh, dw = _pair(dilation_rate, "dilation_rate")
    with vs.variable_scope(name, default_name="conv2d", reuse=reuse):
        kernel = _weight("kernel", [kh, kw, channels, filters], x.dtype, kernel_initializer,
                         kernel_regularizer, kernel_constraint, trainable)  # fmt: skip
        out = nn_ops.conv2d(x, kernel, strides=[1, sh, sw, 1], padding=_padding(padding),
                            dilations=[1, dh, dw, 1])  # fmt: skip
        if use_bias:
            bias = _weight("bias", [filters], x.dtype, bias_initializer or vs.zeros_initializer(),
                           bias_regularizer, bias_constraint, trainable)  # fmt: skip
            out = nn_ops.bias_add(out, bias)
        return _activate(out, activation, activity_regularizer)


def _pool(fn: Callable[..., Tensor], default: str, inputs: Any, pool_size: Any,
          strides: Any, padding: str, data_format: str, name: str | None) -> Tensor:  # fmt: skip
    _check_channels_last(data_format)
    ph, pw = _pair(pool_size, "pool_size")
    sh, sw = _pair(strides, "strides")
    return fn(convert_to_tensor(inputs), ksize=[1, ph, pw, 1], strides=[1, sh, sw, 1],
              padding=_padding(padding), name=name or default)  # fmt: skip


def max_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Tensor:  # fmt: skip
    """2-D max pooling over NHWC inputs."""
    return _pool(nn_ops.max_pool, "max_pooling2d", inputs, pool_size, strides,
                 padding, data_format, name)  # fmt: skip


def average_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Tensor:  # fmt: skip
    """2-D average pooling over NHWC inputs."""
    return _pool(nn_ops.avg_pool, "average_pooling2d", inputs, pool_size, strides,
                 padding, data_format, name)  # fmt: skip


def flatten(
    inputs: Any, name: str | None = None, data_format: str = "channels_last"
) -> Tensor:
    """Reshapes ``[batch, d1, d2, ...]`` to ``[batch, d1 * d2 * ...]``.

    Raises:
        ValueError: a non-batch dimension is unknown.
    """
    x = convert_to_tensor(inputs)
    dims = x.shape.as_list()
    if any(d is None for d in dims[1:]):
        raise ValueError(f"flatten needs the non-batch dims of {x!r} to be known")
    return array_ops.reshape(x, [-1, math.prod(dims[1:])], name=name or "flatten")


def _smart_cond(
    training: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]
) -> Any:
    if isinstance(training, bool):
        return true_fn() if training else false_fn()
    return control_flow_ops.cond(convert_to_tensor(training), true_fn, false_fn)


def dropout(inputs: Any, rate: float = 0.5, noise_shape: Any = None, seed: int | None = None,
            training: Any = False, name: str | None = None) -> Tensor:  # fmt: skip
    """Dropout applied only when ``training`` (a bool or a bool tensor) is true."""
    x = convert_to_tensor(inputs)
    with vs.variable_scope(name, default_name="dropout"):
        return _smart_cond(
            training,
            lambda: nn_ops.dropout(x, rate=rate, noise_shape=noise_shape, seed=seed),
            lambda: array_ops.identity(x),
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
    fused: Any = None,
    **_: Any,
) -> Tensor:
    """Batch normalization; in training, moving-average updates go to UPDATE_OPS.

    As in TF1, run the UPDATE_OPS with the train op (e.g. under
    ``tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS))``).
    """
    x = convert_to_tensor(inputs)
    rank = x.shape.ndims
    axis = axis % rank
    depth = x.shape[axis].value
    reduce_axes = [i for i in range(rank) if i != axis]
    with vs.variable_scope(name, default_name="batch_normalization", reuse=reuse):
        beta = gamma = None
        if center:
            beta = _weight("beta", [depth], x.dtype, beta_initializer or vs.zeros_initializer(),
                           beta_regularizer, beta_constraint, trainable)  # fmt: skip
        if scale:
            gamma = _weight("gamma", [depth], x.dtype, gamma_initializer or vs.ones_initializer(),
                            gamma_regularizer, gamma_constraint, trainable)  # fmt: skip
        moving_mean = _weight("moving_mean", [depth], x.dtype,
                              moving_mean_initializer or vs.zeros_initializer(),
                              None, None, False)  # fmt: skip
        moving_var = _weight("moving_variance", [depth], x.dtype,
                             moving_variance_initializer or vs.ones_initializer(),
                             None, None, False)  # fmt: skip
        shape = [1] * rank
        shape[axis] = depth

        def norm(mean: Tensor, var: Tensor) -> Tensor:
            return nn_ops.batch_normalization(
                x, array_ops.reshape(mean, shape), array_ops.reshape(var, shape),
                None if beta is None else array_ops.reshape(beta, shape),
                None if gamma is None else array_ops.reshape(gamma, shape), epsilon,
            )  # fmt: skip

        def train_branch() -> Tensor:
            mean, var = nn_ops.moments(x, reduce_axes)
            decay = 1.0 - momentum
            get_default_graph().add_to_collection(
                GraphKeys.UPDATE_OPS,
                moving_mean.assign_sub((moving_mean - mean) * decay),
            )
            get_default_graph().add_to_collection(
                GraphKeys.UPDATE_OPS, moving_var.assign_sub((moving_var - var) * decay)
            )
            return norm(mean, var)

        if isinstance(training, bool):
            return (
                train_branch()
                if training
                else norm(moving_mean.value(), moving_var.value())
            )
        return _bn_with_tensor_flag(
            x, training, reduce_axes, moving_mean, moving_var, momentum, norm
        )


def _bn_with_tensor_flag(x: Tensor, training: Any, reduce_axes: list[int], moving_mean: Any,
                         moving_var: Any, momentum: float, norm: Any) -> Tensor:  # fmt: skip
    training = convert_to_tensor(training)
    mean, var = nn_ops.moments(x, reduce_axes)
    use_mean = control_flow_ops.cond(
        training, lambda: mean, lambda: moving_mean.value()
    )
    use_var = control_flow_ops.cond(training, lambda: var, lambda: moving_var.value())
    # The moving averages only move when training: decay is 0 otherwise.
    decay = math_ops.cast(training, x.dtype) * (1.0 - momentum)
    get_default_graph().add_to_collection(
        GraphKeys.UPDATE_OPS, moving_mean.assign_sub((moving_mean - mean) * decay)
    )
    get_default_graph().add_to_collection(
        GraphKeys.UPDATE_OPS, moving_var.assign_sub((moving_var - var) * decay)
    )
    return norm(use_mean, use_var)
