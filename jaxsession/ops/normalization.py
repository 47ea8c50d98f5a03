"""Normalization: l2_normalize, moments, batch norm (plain and fused), lrn.

Each op is one ``make_op`` with a jax.numpy lowering.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxsession import errors
from jaxsession.graph.core import Operation, Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import NO_GRADIENT_INPUTS
from jaxsession.ops.array.shape import identity
from jaxsession.ops.nn import _unary

__all__ = [
    "batch_normalization",
    "fused_batch_norm",
    "l2_normalize",
    "local_response_normalization",
    "lrn",
    "moments",
]


def _axes(axis: Any) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if isinstance(axis, int | np.integer):
        return (int(axis),)
    return tuple(int(a) for a in axis)


def _l2_normalize(x: Any, *, axis: tuple[int, ...] | None, epsilon: float) -> Any:
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    return x * lax.rsqrt(jnp.maximum(square_sum, epsilon))


def l2_normalize(
    x: Any,
    axis: Any = None,
    epsilon: float = 1e-12,
    name: str | None = None,
    dim: Any = None,
) -> Tensor:
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))``; all axes when None.

    Raises:
        ValueError: both ``axis`` and ``dim`` are given.
    """
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    attrs = {"axis": _axes(axis if dim is None else dim), "epsilon": float(epsilon)}
    return _unary("L2Normalize", _l2_normalize, x, name or "l2_normalize", **attrs)


def _moments(x: Any, *, axes: tuple[int, ...], keepdims: bool) -> tuple[Any, Any]:
    # float16 statistics are computed in float32, as TF1 does.
    y = x.astype(jnp.float32) if x.dtype == jnp.float16 else x
    mean = jnp.mean(y, axis=axes, keepdims=True)
    variance = jnp.mean(
        jnp.square(y - lax.stop_gradient(mean)), axis=axes, keepdims=True
    )
    if not keepdims:
        mean, variance = jnp.squeeze(mean, axes), jnp.squeeze(variance, axes)
    return mean.astype(x.dtype), variance.astype(x.dtype)


def moments(
    x: Any,
    axes: Any,
    shift: Any = None,
    name: str | None = None,
    keep_dims: bool | None = None,
    keepdims: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """Mean and variance of ``x`` over ``axes``.

    Args:
        x: A tensor.
        axes: Axes to reduce over.
        shift: Unused, as in TF1.
        name: Op name.
        keep_dims: Keep reduced axes with size 1 (TF1 name).
        keepdims: Same as ``keep_dims``.

    Returns:
        ``(mean, variance)``.
    """
    keep = bool(keepdims if keepdims is not None else keep_dims)
    # The outputs carry TF1's names (moments/Squeeze, moments/Squeeze_1, or
    # moments/mean, moments/variance), which name what is derived from them:
    # ExponentialMovingAverage's shadows, so checkpoints agree with TF's.
    with name_scope(name, "moments"):
        op = make_op(
            "Moments",
            _moments,
            [convert_to_tensor(x)],
            name="Moments",
            attrs={"axes": _axes(axes), "keepdims": keep},
        )
        names = ("mean", "variance") if keep else ("Squeeze", "Squeeze_1")
        return tuple(identity(t, name=n) for t, n in zip(op.outputs, names))


def _batch_norm(
    x: Any,
    mean: Any,
    variance: Any,
    *rest: Any,
    epsilon: float,
    has_offset: bool,
    has_scale: bool,
) -> Any:
    offset = rest[0] if has_offset else None
    scale = rest[-1] if has_scale else None
    inv = lax.rsqrt(variance + epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -mean * inv if offset is None else offset - mean * inv
    return x * inv + shift


def batch_normalization(
    x: Any,
    mean: Any,
    variance: Any,
    offset: Any,
    scale: Any,
    variance_epsilon: float,
    name: str | None = None,
) -> Tensor:
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset``.

    ``offset`` and ``scale`` may be None.
    """
    x = convert_to_tensor(x)
    rest = [v for v in (offset, scale) if v is not None]
    attrs = {
        "epsilon": float(variance_epsilon),
        "has_offset": offset is not None,
        "has_scale": scale is not None,
    }
    inputs = [
        x,
        *(convert_to_tensor(v, dtype=x.dtype) for v in (mean, variance, *rest)),
    ]
    return make_op(
        "BatchNorm", _batch_norm, inputs, name=name or "batchnorm", attrs=attrs
    ).outputs[0]


def _fused_batch_norm(
    x: Any,
    scale: Any,
    offset: Any,
    *stats: Any,
    epsilon: float,
    training: bool,
    channels_first: bool,
) -> tuple[Any, Any, Any]:
    axis = 1 if channels_first else x.ndim - 1
    axes = tuple(i for i in range(x.ndim) if i != axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    if training:
        mean = jnp.mean(x, axis=axes)
        var = jnp.mean(jnp.square(x - mean.reshape(shape)), axis=axes)
        n = x.size // x.shape[axis]
        # The returned variance is unbiased (it feeds moving averages), as in TF1.
        out_var = var * (n / max(n - 1, 1))
    else:
        # TF's FusedBatchNorm gradient gives the given statistics none.
        mean, var = (lax.stop_gradient(s) for s in stats)
        out_var = var
    inv = lax.rsqrt(var + epsilon) * scale
    y = (x - mean.reshape(shape)) * inv.reshape(shape) + offset.reshape(shape)
    return y, mean, out_var


def fused_batch_norm(
    x: Any,
    scale: Any,
    offset: Any,
    mean: Any = None,
    variance: Any = None,
    epsilon: float = 0.001,
    data_format: str = "NHWC",
    is_training: bool = True,
    name: str | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Batch normalization of a 4-D tensor over all but the channel dim.

    Returns:
        ``(y, batch_mean, batch_variance)``; in training the variance returned
        is the unbiased estimate while ``y`` uses the biased one, as in TF1.

    Raises:
        ValueError: inference without ``mean`` and ``variance``.
    """
    x = convert_to_tensor(x)
    if not is_training and (mean is None or variance is None):
        raise ValueError(
            "Both 'mean' and 'variance' must be a 1D tensor when is_training is False."
        )
    stats = [] if is_training else [mean, variance]
    inputs = [
        x,
        *(convert_to_tensor(v, dtype=x.dtype) for v in (scale, offset, *stats)),
    ]
    attrs = {
        "epsilon": max(float(epsilon), 1.001e-5),
        "training": bool(is_training),
        "channels_first": data_format.startswith("NC"),
    }
    op = make_op(
        "FusedBatchNorm",
        _fused_batch_norm,
        inputs,
        name=name or "FusedBatchNorm",
        attrs=attrs,
    )
    return op.outputs[0], op.outputs[1], op.outputs[2]


def _fused_batch_norm_no_gradient(op: Operation) -> tuple[int, ...]:
    return () if op.get_attr("training") else (3, 4)


NO_GRADIENT_INPUTS["FusedBatchNorm"] = _fused_batch_norm_no_gradient

# -- local response normalization -----------------------------------------------


def _lrn(x: Any, *, depth_radius: int, bias: float, alpha: float, beta: float) -> Any:
    # Half-precision inputs are normalized in float32, as TF1's kernels do.
    y = x.astype(jnp.float32) if jnp.finfo(x.dtype).bits < 32 else x
    r = depth_radius
    sqr_sum = lax.reduce_window(
        jnp.square(y),
        np.array(0, y.dtype),
        lax.add,
        (1, 1, 1, 2 * r + 1),
        (1, 1, 1, 1),
        ((0, 0), (0, 0), (0, 0), (r, r)),
    )
    return (y * (bias + alpha * sqr_sum) ** -beta).astype(x.dtype)


def lrn(
    input: Any,
    depth_radius: int = 5,
    bias: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.5,
    name: str | None = None,
) -> Tensor:
    """Local response normalization over the last dim of a 4-D NHWC tensor.

    ``sqr_sum[a, b, c, d] = sum(input[a, b, c, d - depth_radius : d +
    depth_radius + 1] ** 2)`` and ``output = input / (bias + alpha *
    sqr_sum) ** beta``, as TF1's ``tf.nn.lrn``.

    Args:
        input: A 4-D floating point tensor.
        depth_radius: Half-width of the 1-D normalization window.
        bias: Offset, usually positive to avoid dividing by 0.
        alpha: Scale factor.
        beta: Exponent.
        name: Op name.

    Returns:
        A tensor like ``input``.

    Raises:
        ValueError: ``input`` is not 4-D or ``depth_radius`` is negative.
    """
    x = convert_to_tensor(input, name="input")
    name = name or "LRN"
    if x.shape.ndims not in (None, 4):
        raise ValueError(
            f"Shape must be rank 4 but is rank {x.shape.ndims} for '{name}' "
            f"(op: 'LRN') with input shapes: {errors.format_dims(x.shape.as_tuple())}: {x!r} must be a 4-D "
            "NHWC tensor."
        )
    if int(depth_radius) < 0:
        raise ValueError(f"depth_radius must be >= 0, got {depth_radius} for '{name}'")
    if not x.dtype.is_floating:
        raise TypeError(f"lrn: input must be a float tensor, got {x!r}")
    attrs = {
        "depth_radius": int(depth_radius),
        "bias": float(bias),
        "alpha": float(alpha),
        "beta": float(beta),
    }
    return make_op("LRN", _lrn, [x], name=name, attrs=attrs).outputs[0]


local_response_normalization = lrn
