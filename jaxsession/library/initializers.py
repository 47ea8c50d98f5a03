"""The initializers TF1 adds beyond ``graph/initializers.py``.

``orthogonal_initializer`` (Saxe et al.), ``identity_initializer`` and the
LeCun variance-scaling pair, with TF1's argument checks.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.constant import constant
from jaxsession.graph.core import Tensor
from jaxsession.graph.initializers import (
    Initializer,
    _random_tensor,
    variance_scaling_initializer,
)

__all__ = [
    "identity_initializer",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal_initializer",
]


def _orthogonal(key: Any, shape: tuple[int, ...], dtype: Any, gain: float) -> Any:
    # TF1's recipe: QR of a normal matrix, signs fixed by R's diagonal, so the
    # result is uniform over orthogonal matrices.
    rows, cols = math.prod(shape[:-1]), shape[-1]
    flat = (cols, rows) if rows < cols else (rows, cols)
    q, r = jnp.linalg.qr(jax.random.normal(key, flat, dtype))
    q = q * jnp.sign(jnp.diagonal(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


class orthogonal_initializer(Initializer):
    """Initializes to a (scaled) orthogonal matrix, reshaped to the shape.

    Args:
        gain: Factor applied to the orthogonal matrix.
        seed: Op seed.
        dtype: Default dtype (floating).
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None, dtype: Any = None):
        self.gain, self.seed, self.dtype = gain, seed, dtype

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional"
            )
        gain = self.gain
        return _random_tensor(
            "orthogonal",
            shape,
            dtype,
            self.seed,
            lambda k, s, d: _orthogonal(k, s, d, gain),
        )


class identity_initializer(Initializer):
    """Initializes a 2-D matrix to ``gain`` times the identity (``tf.initializers.identity``)."""

    def __init__(self, gain: float = 1.0, dtype: Any = None):
        self.gain, self.dtype = gain, dtype

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices."
            )
        eye = self.gain * jnp.eye(*shape, dtype=dtype.jax_dtype)
        return constant(jax.device_get(eye), dtype=dtype)


def lecun_normal(seed: int | None = None) -> Initializer:
    """LeCun normal initializer: truncated normal, variance 1 / fan_in."""
    return variance_scaling_initializer(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed: int | None = None) -> Initializer:
    """LeCun uniform initializer: uniform, variance 1 / fan_in."""
    return variance_scaling_initializer(1.0, "fan_in", "uniform", seed)
