"""Learning-rate schedules of the global step (``tf.train.exponential_decay`` ...).

Each schedule is one op whose inputs are the learning rate, the global step
and the schedule's parameters, computed with TF1's formula in the learning
rate's dtype. Feeding the result to an optimizer keeps the schedule inside the
compiled training step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp

from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op

__all__ = [
    "cosine_decay",
    "exponential_decay",
    "inverse_time_decay",
    "natural_exp_decay",
    "piecewise_constant",
    "polynomial_decay",
]


def _schedule(
    op_type: str,
    fn: Callable[..., Any],
    learning_rate: Any,
    global_step: Any,
    params: Sequence[Any],
    name: str | None,
    attrs: dict[str, Any] | None = None,
) -> Tensor:
    if global_step is None:
        raise ValueError(f"global_step is required for {_snake(op_type)}.")
    # TF1 builds each schedule in its own name scope, so its constants never
    # take a name the program wants for its own ops (``learning_rate``).
    with name_scope(name, op_type) as scope:
        lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype.jax_dtype

        def lower(lr: Any, step: Any, *ps: Any, **kw: Any) -> Any:
            return fn(
                lr,
                jnp.asarray(step, dtype),
                *(jnp.asarray(p, dtype) for p in ps),
                **kw,
            )

        inputs = [
            lr,
            convert_to_tensor(global_step),
            *(convert_to_tensor(p) for p in params),
        ]
        return make_op(op_type, lower, inputs, name=scope, attrs=attrs).outputs[0]


def _snake(op_type: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in op_type).lstrip("_")


def _progress(step: Any, decay_steps: Any, staircase: bool) -> Any:
    p = step / decay_steps
    return jnp.floor(p) if staircase else p


def _exponential(lr: Any, step: Any, steps: Any, rate: Any, *, staircase: bool) -> Any:
    return lr * rate ** _progress(step, steps, staircase)


def exponential_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
    name: str | None = None,
) -> Tensor:
    """``learning_rate * decay_rate ^ (global_step / decay_steps)``.

    Args:
        learning_rate: The initial rate (float or scalar tensor).
        global_step: The step (Variable or integer tensor).
        decay_steps: Steps per decay period.
        decay_rate: Factor per period.
        staircase: Decay in whole periods (floor the exponent).
        name: Op name.

    Returns:
        A scalar tensor of the learning rate's dtype.

    Raises:
        ValueError: ``global_step`` is None.
    """
    return _schedule(
        "ExponentialDecay",
        _exponential,
        learning_rate,
        global_step,
        [decay_steps, decay_rate],
        name,
        {"staircase": bool(staircase)},
    )


def _natural_exp(lr: Any, step: Any, steps: Any, rate: Any, *, staircase: bool) -> Any:
    return lr * jnp.exp(-rate * _progress(step, steps, staircase))


def natural_exp_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
    name: str | None = None,
) -> Tensor:
    """``learning_rate * exp(-decay_rate * global_step / decay_steps)``.

    Args and Returns as ``exponential_decay``.

    Raises:
        ValueError: ``global_step`` is None.
    """
    return _schedule(
        "NaturalExpDecay",
        _natural_exp,
        learning_rate,
        global_step,
        [decay_steps, decay_rate],
        name,
        {"staircase": bool(staircase)},
    )


def _inverse_time(lr: Any, step: Any, steps: Any, rate: Any, *, staircase: bool) -> Any:
    return lr / (1 + rate * _progress(step, steps, staircase))


def inverse_time_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
    name: str | None = None,
) -> Tensor:
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)``.

    Args and Returns as ``exponential_decay``.

    Raises:
        ValueError: ``global_step`` is None.
    """
    return _schedule(
        "InverseTimeDecay",
        _inverse_time,
        learning_rate,
        global_step,
        [decay_steps, decay_rate],
        name,
        {"staircase": bool(staircase)},
    )


def _polynomial(
    lr: Any, step: Any, steps: Any, end: Any, power: Any, *, cycle: bool
) -> Any:
    if cycle:
        # TF1: at step 0 the first period is used, not a zero-length one.
        multiplier = jnp.where(step == 0, 1.0, jnp.ceil(step / steps))
        steps = steps * multiplier
    else:
        step = jnp.minimum(step, steps)
    return (lr - end) * (1 - step / steps) ** power + end


def polynomial_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    end_learning_rate: Any = 0.0001,
    power: Any = 1.0,
    cycle: bool = False,
    name: str | None = None,
) -> Tensor:
    """Polynomial decay from ``learning_rate`` to ``end_learning_rate``.

    ``(lr - end) * (1 - min(step, decay_steps) / decay_steps) ^ power + end``; with
    ``cycle``, ``decay_steps`` is multiplied by ``ceil(step / decay_steps)`` instead.

    Args:
        learning_rate: The initial rate.
        global_step: The step.
        decay_steps: Steps to reach the end rate.
        end_learning_rate: The final rate.
        power: Exponent of the polynomial.
        cycle: Restart the decay after each ``decay_steps``.
        name: Op name.

    Returns:
        A scalar tensor of the learning rate's dtype.

    Raises:
        ValueError: ``global_step`` is None.
    """
    return _schedule(
        "PolynomialDecay",
        _polynomial,
        learning_rate,
        global_step,
        [decay_steps, end_learning_rate, power],
        name,
        {"cycle": bool(cycle)},
    )


def _cosine(lr: Any, step: Any, steps: Any, alpha: Any) -> Any:
    step = jnp.minimum(step, steps)
    cosine = 0.5 * (1 + jnp.cos(math.pi * step / steps))
    return lr * ((1 - alpha) * cosine + alpha)


def cosine_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    alpha: Any = 0.0,
    name: str | None = None,
) -> Tensor:
    """Cosine decay: ``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * t / T)) + alpha)``.

    Args:
        learning_rate: The initial rate.
        global_step: The step; ``t = min(global_step, decay_steps)``.
        decay_steps: ``T``, steps to decay over.
        alpha: Minimum rate as a fraction of ``learning_rate``.
        name: Op name.

    Returns:
        A scalar tensor of the learning rate's dtype.

    Raises:
        ValueError: ``global_step`` is None.
    """
    return _schedule(
        "CosineDecay", _cosine, learning_rate, global_step, [decay_steps, alpha], name
    )


def _piecewise(x: Any, *values: Any, boundaries: tuple[Any, ...]) -> Any:
    out = values[-1]
    for b, v in zip(reversed(boundaries), reversed(values[:-1])):
        out = jnp.where(x <= b, v, out)
    return out


def piecewise_constant(
    x: Any, boundaries: Sequence[Any], values: Sequence[Any], name: str | None = None
) -> Tensor:
    """``values[i]`` where ``boundaries[i-1] < x <= boundaries[i]``.

    Args:
        x: The step (scalar tensor or Variable).
        boundaries: Increasing step boundaries (Python numbers).
        values: One more value than boundaries, all of one dtype.
        name: Op name.

    Returns:
        A scalar tensor of the values' dtype.

    Raises:
        ValueError: ``len(values) != len(boundaries) + 1``, or the values' dtypes differ.
    """
    if len(boundaries) != len(values) - 1:
        raise ValueError(
            "The length of boundaries should be 1 less than the length of values"
        )
    with name_scope(name, "PiecewiseConstant") as scope:
        vals = [convert_to_tensor(v) for v in values]
        if any(v.dtype is not vals[0].dtype for v in vals):
            raise ValueError(
                f"Values must have elements all with the same dtype "
                f"({sorted({v.dtype.name for v in vals})})."
            )
        attrs = {"boundaries": tuple(float(b) for b in boundaries)}
        return make_op(
            "PiecewiseConstant",
            _piecewise,
            [convert_to_tensor(x), *vals],
            name=scope,
            attrs=attrs,
            out_dtypes=[vals[0].dtype],
        ).outputs[0]
