"""Initializers (``tf.zeros_initializer``, ``glorot_uniform_initializer``, ...).

Calling one as ``init(shape, dtype)`` builds the ops of an initial value;
``get_variable`` defaults to glorot_uniform for floats, zeros for ints and bools.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, random as random_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.constant import constant
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import make_op
from jaxsession.graph.rules import set_constant

# -- initializers -----------------------------------------------------------------


class Initializer:
    """Base class of initializers: ``init(shape, dtype) -> Tensor``."""

    dtype: Any = None

    def __call__(
        self, shape: Any, dtype: Any = None, partition_info: Any = None
    ) -> Tensor:
        """A tensor holding the initial value for ``shape`` and ``dtype``."""
        dtype = dtypes_lib.as_dtype(dtype or self.dtype or dtypes_lib.float32)
        shape = tuple(int(d) for d in shapes.as_shape(shape).as_list())
        return self._build(shape, dtype)

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


_HOST_FILL_MAX = 1024


def _filled(
    shape: tuple[int, ...], dtype: dtypes_lib.DType, value: Any, name: str
) -> Tensor:
    jdt = dtype.jax_dtype

    def fill() -> Any:
        return jnp.full(shape, value, jdt)

    out = make_op(name, fill, (), name=name, out_avals=[Aval(shape, dtype)]).outputs[0]
    if math.prod(shape) <= _HOST_FILL_MAX:
        # A known small value lets the session mirror it on the host (the
        # global step's start value) instead of reading it back from the device.
        set_constant(out, np.full(shape, value, dtype.as_numpy_dtype))
    return out


class zeros_initializer(Initializer):
    """Initializes to zeros."""

    def __init__(self, dtype: Any = None):
        self.dtype = dtype

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        return _filled(shape, dtype, 0, "zeros")


class ones_initializer(Initializer):
    """Initializes to ones."""

    def __init__(self, dtype: Any = None):
        self.dtype = dtype

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        return _filled(shape, dtype, 1, "ones")


class constant_initializer(Initializer):
    """Initializes to a constant, or to the values of an array of the shape."""

    def __init__(self, value: Any = 0, dtype: Any = None, verify_shape: bool = False):
        self.value = value
        self.dtype = dtype
        self.verify_shape = verify_shape

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        return constant(
            self.value, dtype=dtype, shape=shape, verify_shape=self.verify_shape
        )


def _random_tensor(
    name: str,
    shape: tuple[int, ...],
    dtype: dtypes_lib.DType,
    seed: int | None,
    sample: Callable[[Any, tuple[int, ...], Any], Any],
) -> Tensor:
    seeds = random_lib.get_seed(seed)
    jdt = dtype.jax_dtype

    def draw(*, key: Any, seed: tuple[int, int]) -> Any:
        return sample(random_lib.op_key(key, seed), shape, jdt)

    op = make_op(
        name,
        draw,
        (),
        name=name,
        attrs={"seed": seeds},
        random=True,
        out_avals=[Aval(shape, dtype)],
    )
    return op.outputs[0]


class random_normal_initializer(Initializer):
    """Initializes from a normal distribution."""

    def __init__(
        self,
        mean: float = 0.0,
        stddev: float = 1.0,
        seed: int | None = None,
        dtype: Any = None,
    ):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, dtype

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        mean, std = self.mean, self.stddev
        return _random_tensor(
            "random_normal",
            shape,
            dtype,
            self.seed,
            lambda k, s, d: mean + std * jax.random.normal(k, s, d),
        )


class truncated_normal_initializer(Initializer):
    """Initializes from a normal distribution truncated at two stddevs."""

    def __init__(
        self,
        mean: float = 0.0,
        stddev: float = 1.0,
        seed: int | None = None,
        dtype: Any = None,
    ):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, dtype

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        mean, std = self.mean, self.stddev
        return _random_tensor(
            "truncated_normal",
            shape,
            dtype,
            self.seed,
            lambda k, s, d: (
                mean + std * jax.random.truncated_normal(k, -2.0, 2.0, s, d)
            ),
        )


class random_uniform_initializer(Initializer):
    """Initializes from a uniform distribution on [minval, maxval)."""

    def __init__(
        self,
        minval: float = 0.0,
        maxval: float | None = None,
        seed: int | None = None,
        dtype: Any = None,
    ):
        self.minval, self.maxval, self.seed, self.dtype = minval, maxval, seed, dtype

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        lo = self.minval
        hi = self.maxval if self.maxval is not None else 1.0
        if dtype.is_integer:
            return _random_tensor(
                "random_uniform",
                shape,
                dtype,
                self.seed,
                lambda k, s, d: jax.random.randint(k, s, int(lo), int(hi), d),
            )
        return _random_tensor(
            "random_uniform",
            shape,
            dtype,
            self.seed,
            lambda k, s, d: jax.random.uniform(k, s, d, lo, hi),
        )


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    if not shape:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class variance_scaling_initializer(Initializer):
    """Scales the spread to the fan-in, fan-out or their mean (TF1's rules)."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        dtype: Any = None,
    ):
        if scale <= 0.0:
            raise ValueError("`scale` must be positive float.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.seed, self.dtype = seed, dtype

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        scale = self.scale / max(1.0, n[self.mode])
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return random_uniform_initializer(-limit, limit, self.seed)._build(
                shape, dtype
            )
        if self.distribution == "untruncated_normal":
            return random_normal_initializer(0.0, math.sqrt(scale), self.seed)._build(
                shape, dtype
            )
        # 0.879... is the stddev of a unit normal truncated at two stddevs.
        std = math.sqrt(scale) / 0.87962566103423978
        return truncated_normal_initializer(0.0, std, self.seed)._build(shape, dtype)


class glorot_uniform_initializer(variance_scaling_initializer):
    """Glorot (Xavier) uniform initializer; the default of ``get_variable``."""

    def __init__(self, seed: int | None = None, dtype: Any = None):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)


class glorot_normal_initializer(variance_scaling_initializer):
    """Glorot (Xavier) truncated-normal initializer."""

    def __init__(self, seed: int | None = None, dtype: Any = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)


def he_normal(seed: int | None = None) -> Initializer:
    """He normal initializer."""
    return variance_scaling_initializer(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed: int | None = None) -> Initializer:
    """He uniform initializer."""
    return variance_scaling_initializer(2.0, "fan_in", "uniform", seed)
