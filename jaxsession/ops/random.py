"""Random tensors with TF1's seed rules (``tf.random_normal`` and friends).

Each op draws from ``op_key(run_key, seed)``: the run key changes every run,
the seeds come from ``get_seed`` at build time, so a graph built the same way
with the same graph seed gives the same sequence of numbers.

A shape that is a Tensor with no build-time value (e.g. from ``tf.shape`` of
a placeholder) becomes an input of the op; its value must then be known when
the run is traced (shape ops yield NumPy there), and the output's static
shape keeps the dims that are known while building (``tf.shape(x)`` keeps
``x``'s known dims, as TF1's constant folding of partial shapes does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, random as random_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import NOT_DIFFERENTIABLE, constant_value
from jaxsession.ops.array._common import partial_shape_value

__all__ = [
    "multinomial",
    "random_gamma",
    "random_normal",
    "random_shuffle",
    "random_uniform",
    "truncated_normal",
]

# sample(key, shape, jax_dtype, *param_values) -> array
_Sampler = Callable[..., Any]


def _shape_arg(shape: Any) -> tuple[tuple[int, ...] | None, Tensor | None]:
    """The static shape, or None and the shape tensor when not known yet."""
    if (
        isinstance(shape, Tensor)
        or hasattr(shape, "_as_tensor")
        or (
            isinstance(shape, list | tuple)
            and any(isinstance(d, Tensor) for d in shape)
        )
    ):
        tensor = convert_to_tensor(shape)
        value = constant_value(tensor)
        if value is None:
            if tensor.shape.ndims not in (None, 1):
                raise ValueError(
                    f"Shape must be rank 1 but is rank {tensor.shape.ndims}"
                )
            return None, tensor
        shape = value
    if isinstance(shape, shapes.TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(
                f"Cannot convert a partially known TensorShape to a Tensor: {shape}"
            )
        shape = shape.as_list()
    arr = np.asarray(shape)
    if arr.ndim != 1:
        raise ValueError(
            f"Shape must be rank 1 but is rank {arr.ndim} (shape={shape!r})"
        )
    return tuple(int(d) for d in arr), None


def _unknown_shape(tensor: Tensor) -> tuple[int | None, ...] | None:
    # As TF1's constant_value_as_shape: tf.shape(x) keeps x's known dims.
    return partial_shape_value(tensor)


def _concrete_shape(value: Any, op_type: str) -> tuple[int, ...]:
    if isinstance(value, jax.core.Tracer):
        raise ValueError(
            f"{op_type}: the shape must be known when the run is traced (a constant "
            "or computed from tf.shape), not computed on the device."
        )
    return tuple(int(d) for d in np.asarray(value).reshape(-1))


def _random_op(
    op_type: str,
    sample: _Sampler,
    shape: Any,
    dtype: dtypes_lib.DType,
    seed: int | None,
    params: list[Any],
    name: str | None,
    out_shape: Callable[[tuple[int | None, ...] | None], Any] | None = None,
) -> Tensor:
    """A random op drawing ``sample(key, shape, dtype, *params)``."""
    static, shape_tensor = _shape_arg(shape)
    params = [convert_to_tensor(p, dtype=dtype) for p in params]
    jdt = dtype.jax_dtype

    def draw(*values: Any, key: Any, seed: tuple[int, int], shape: Any) -> Any:
        if shape is None:
            shape, values = _concrete_shape(values[0], op_type), values[1:]
        return sample(random_lib.op_key(key, seed), shape, jdt, *values)

    inputs = params if shape_tensor is None else [shape_tensor, *params]
    out_avals = None
    if shape_tensor is not None:
        dims = _unknown_shape(shape_tensor)
        out_avals = [Aval(out_shape(dims) if out_shape else dims, dtype)]
    op = make_op(
        op_type,
        draw,
        inputs,
        name=name or op_type,
        random=True,
        attrs={"seed": random_lib.get_seed(seed), "shape": static},
        out_avals=out_avals,
        out_dtypes=[dtype],
    )
    return op.outputs[0]


def _float_dtype(dtype: Any, what: str) -> dtypes_lib.DType:
    dtype = dtypes_lib.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(
            f"Invalid dtype {dtype.name} for {what}: must be a float type."
        )
    return dtype


def _normal(key: Any, shape: Any, dt: Any, mean: Any, stddev: Any) -> Any:
    return jax.random.normal(key, shape, dt) * stddev + mean


def random_normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = dtypes_lib.float32,
    seed: int | None = None,
    name: str | None = None,
) -> Tensor:
    """Samples from a normal distribution (``tf.random_normal``).

    Args:
        shape: 1-D list, array or int32 Tensor: the output shape.
        mean: Mean (a number or tensor broadcastable to ``shape``).
        stddev: Standard deviation.
        dtype: A float type.
        seed: Op seed (combined with the graph seed, TF1's rules).
        name: Op name.

    Returns:
        A tensor of ``shape`` and ``dtype``.

    Raises:
        ValueError: ``dtype`` is not a float type or ``shape`` is not 1-D.
    """
    dtype = _float_dtype(dtype, "random_normal")
    return _random_op(
        "RandomStandardNormal", _normal, shape, dtype, seed, [mean, stddev], name
    )


def _truncated(key: Any, shape: Any, dt: Any, mean: Any, stddev: Any) -> Any:
    return jax.random.truncated_normal(key, -2.0, 2.0, shape, dt) * stddev + mean


def truncated_normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = dtypes_lib.float32,
    seed: int | None = None,
    name: str | None = None,
) -> Tensor:
    """Samples a normal distribution cut at two stddevs (``tf.truncated_normal``).

    Args:
        shape: 1-D list, array or int32 Tensor: the output shape.
        mean: Mean.
        stddev: Standard deviation before truncation.
        dtype: A float type.
        seed: Op seed.
        name: Op name.

    Returns:
        A tensor of ``shape`` whose values lie within ``mean ± 2 * stddev``.

    Raises:
        ValueError: ``dtype`` is not a float type or ``shape`` is not 1-D.
    """
    dtype = _float_dtype(dtype, "truncated_normal")
    return _random_op(
        "TruncatedNormal", _truncated, shape, dtype, seed, [mean, stddev], name
    )


def _uniform(key: Any, shape: Any, dt: Any, lo: Any, hi: Any) -> Any:
    return jax.random.uniform(key, shape, dt) * (hi - lo) + lo


def _uniform_int(key: Any, shape: Any, dt: Any, lo: Any, hi: Any) -> Any:
    return jax.random.randint(key, shape, lo, hi, dt)


def random_uniform(
    shape: Any,
    minval: Any = 0,
    maxval: Any = None,
    dtype: Any = dtypes_lib.float32,
    seed: int | None = None,
    name: str | None = None,
) -> Tensor:
    """Samples uniformly from ``[minval, maxval)`` (``tf.random_uniform``).

    Args:
        shape: 1-D list, array or int32 Tensor: the output shape.
        minval: Lower bound (inclusive).
        maxval: Upper bound (exclusive); 1 for floats if None; required for ints.
        dtype: float16/32/64, bfloat16, int32 or int64.
        seed: Op seed.
        name: Op name.

    Returns:
        A tensor of ``shape`` and ``dtype``.

    Raises:
        ValueError: ``dtype`` is an integer type and ``maxval`` is None, or
            ``dtype`` is not supported.
    """
    dtype = dtypes_lib.as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
        sample = _uniform_int
    elif dtype.is_floating:
        maxval = 1 if maxval is None else maxval
        sample = _uniform
    else:
        raise ValueError(f"Invalid dtype {dtype.name} for random_uniform.")
    return _random_op(
        "RandomUniform" if dtype.is_floating else "RandomUniformInt",
        sample,
        shape,
        dtype,
        seed,
        [minval, maxval],
        name,
    )


def _shuffle(x: Any, *, key: Any, seed: tuple[int, int]) -> Any:
    if jnp.ndim(x) == 0:
        return x
    return jax.random.permutation(random_lib.op_key(key, seed), x, axis=0)


def random_shuffle(
    value: Any, seed: int | None = None, name: str | None = None
) -> Tensor:
    """Shuffles ``value`` along its first dimension (``tf.random_shuffle``).

    Args:
        value: A tensor.
        seed: Op seed.
        name: Op name.

    Returns:
        A tensor of the same shape and dtype with rows permuted.
    """
    value = convert_to_tensor(value)
    return make_op(
        "RandomShuffle",
        _shuffle,
        [value],
        name=name or "RandomShuffle",
        random=True,
        attrs={"seed": random_lib.get_seed(seed)},
    ).outputs[0]


# TF registers RandomShuffle as not differentiable.
NOT_DIFFERENTIABLE.add("RandomShuffle")


def _multinomial(
    logits: Any, *, key: Any, seed: tuple[int, int], num_samples: int
) -> Any:
    logits = logits.astype(jnp.float32)
    draws = jax.random.categorical(
        random_lib.op_key(key, seed),
        logits,
        axis=-1,
        shape=(num_samples, logits.shape[0]),
    )
    return draws.T


def multinomial(
    logits: Any,
    num_samples: Any,
    seed: int | None = None,
    name: str | None = None,
    output_dtype: Any = dtypes_lib.int64,
) -> Tensor:
    """Draws class indices from categorical distributions (``tf.multinomial``).

    Args:
        logits: ``[batch, num_classes]`` unnormalized log-probabilities.
        num_samples: Number of draws per row (a number or constant tensor).
        seed: Op seed.
        name: Op name.
        output_dtype: int32 or int64.

    Returns:
        A ``[batch, num_samples]`` tensor of class indices.

    Raises:
        ValueError: ``logits`` is not 2-D or ``num_samples`` is not constant.
    """
    logits = convert_to_tensor(logits)
    if logits.shape.ndims not in (None, 2):
        raise ValueError(f"logits should be a matrix, got shape {logits.shape}")
    n = constant_value(num_samples) if isinstance(num_samples, Tensor) else num_samples
    if n is None:
        raise ValueError("multinomial: num_samples must be known while building.")
    return make_op(
        "Multinomial",
        _multinomial,
        [logits],
        name=name or "Multinomial",
        random=True,
        attrs={"seed": random_lib.get_seed(seed), "num_samples": int(n)},
        out_dtypes=[dtypes_lib.as_dtype(output_dtype)],
    ).outputs[0]


def _gamma(key: Any, shape: Any, dt: Any, alpha: Any, beta: Any) -> Any:
    params = jnp.broadcast_shapes(jnp.shape(alpha), jnp.shape(beta))
    full = (*shape, *params)
    draws = jax.random.gamma(key, jnp.broadcast_to(alpha, full), full, dt)
    return draws / beta


def random_gamma(
    shape: Any,
    alpha: Any,
    beta: Any = None,
    dtype: Any = dtypes_lib.float32,
    seed: int | None = None,
    name: str | None = None,
) -> Tensor:
    """Samples Gamma(alpha, beta) distributions (``tf.random_gamma``).

    Args:
        shape: 1-D shape of samples drawn per distribution.
        alpha: Concentration(s); a number or tensor.
        beta: Inverse scale(s), broadcastable with ``alpha``; 1 if None.
        dtype: A float type.
        seed: Op seed.
        name: Op name.

    Returns:
        A tensor of shape ``shape + broadcast(alpha, beta).shape``.

    Raises:
        ValueError: ``dtype`` is not a float type.
    """
    dtype = _float_dtype(dtype, "random_gamma")
    alpha = convert_to_tensor(alpha, dtype=dtype)
    beta = convert_to_tensor(1 if beta is None else beta, dtype=dtype)
    params = _broadcast_static(alpha.shape.as_tuple(), beta.shape.as_tuple())

    def out_shape(dims: tuple[int | None, ...] | None) -> Any:
        return None if dims is None or params is None else (*dims, *params)

    return _random_op(
        "RandomGamma", _gamma, shape, dtype, seed, [alpha, beta], name, out_shape
    )


def _broadcast_static(a: Any, b: Any) -> tuple[int | None, ...] | None:
    if a is None or b is None:
        return None
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(
        y if x == 1 else x if y == 1 else (x if x == y else None) for x, y in zip(a, b)
    )
