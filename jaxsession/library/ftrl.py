"""``tf.train.FtrlOptimizer``: TF1's FTRL-Proximal update, exactly (optax has none)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from jaxsession.graph.initializers import constant_initializer
from jaxsession.graph.variables import Variable
from jaxsession.library.optimizers import Optimizer

__all__ = ["FtrlOptimizer"]


class FtrlOptimizer(Optimizer):
    """TF1's FTRL-Proximal optimizer (McMahan et al., 2013), slots ``accum`` and ``linear``.

    With ``p = -learning_rate_power``: ``accum' = accum + g^2``;
    ``linear += g' - (accum'^p - accum^p) / lr * var`` (``g'`` is ``g + 2 *
    l2_shrinkage * var``); ``quadratic = accum'^p / lr + 2 * l2``;
    ``var = (sign(linear) * l1 - linear) / quadratic`` where ``|linear| >
    l1``, else 0.

    Args:
        learning_rate: A float or scalar tensor.
        learning_rate_power: At most 0 (-0.5: the square root).
        initial_accumulator_value: Starting value of ``accum`` (>= 0).
        l1_regularization_strength: At least 0.
        l2_regularization_strength: At least 0.
        use_locking: Ignored.
        name: Optimizer name.
        accum_name: Slot variable name of ``accum`` (default the name).
        linear_name: Slot variable name of ``linear`` (default name + "_1").
        l2_shrinkage_regularization_strength: At least 0.
        beta: TF2's extra L2 term (``beta / (2 * lr)`` added to l2); None is 0.

    Raises:
        ValueError: a strength or power out of range, with TF1's message.
    """

    _op_type = "ApplyFtrl"
    _slot_order = ("accum", "linear")

    def __init__(
        self,
        learning_rate: Any,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        use_locking: bool = False,
        name: str = "Ftrl",
        accum_name: str | None = None,
        linear_name: str | None = None,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float | None = None,
    ):
        super().__init__(use_locking, name)
        checks = [
            (initial_accumulator_value, "initial_accumulator_value", 0.0),
            (learning_rate_power, "learning_rate_power", None),
            (l1_regularization_strength, "l1_regularization_strength", 0.0),
            (l2_regularization_strength, "l2_regularization_strength", 0.0),
            (
                l2_shrinkage_regularization_strength,
                "l2_shrinkage_regularization_strength",
                0.0,
            ),
        ]
        for value, what, low in checks:
            if low is not None and value < low:
                raise ValueError(f"{what} {value} needs to be positive or zero")
        if learning_rate_power > 0.0:
            raise ValueError(
                f"learning_rate_power {learning_rate_power} needs to be negative or zero"
            )
        self._learning_rate = learning_rate
        self._power = learning_rate_power
        self._initial = initial_accumulator_value
        self._l1 = l1_regularization_strength
        self._l2 = l2_regularization_strength
        self._shrinkage = l2_shrinkage_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self._learning_rate}

    def _create_slots(self, var_list: list[Variable]) -> None:
        init = constant_initializer(self._initial)
        for v in var_list:
            self._filled_slot(v, init, "accum", self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name + "_1")

    def _apply_dense(self, grad, var, slots, hyper, non_slot):
        lr, p = hyper["lr"], -self._power
        accum, linear = slots["accum"], slots["linear"]
        new_accum = accum + grad * grad
        shrunk = grad + 2.0 * self._shrinkage * var
        if p == 0.5:
            sigma = (jnp.sqrt(new_accum) - jnp.sqrt(accum)) / lr
            scale = jnp.sqrt(new_accum)
        else:
            sigma = (new_accum**p - accum**p) / lr
            scale = new_accum**p
        linear = linear + shrunk - sigma * var
        l2 = self._l2 + self._beta / (2.0 * lr)
        quadratic = scale / lr + 2.0 * l2
        l1 = self._l1
        new_var = jnp.where(
            jnp.abs(linear) > l1, (jnp.sign(linear) * l1 - linear) / quadratic, 0.0
        )
        return new_var.astype(var.dtype), {"accum": new_accum, "linear": linear}
