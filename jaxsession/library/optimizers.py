"""TF1 optimizers (``tf.train.*Optimizer``) and ``OptaxOptimizer``.

``apply_gradients`` builds ONE op that reads every variable and optimizer
state variable (slots such as Adam's ``m`` and ``v``, and non-slot variables
such as ``beta1_power``), computes all updates with the optimizer's exact TF1
formula in JAX, and writes them back; the whole step stays inside the
compiled run. Slots are ordinary non-trainable Variables in GLOBAL_VARIABLES
(so a Saver saves them), named as TF1 names them: ``w/Adam``, ``w/Adam_1``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxsession.graph import dtypes as dtypes_lib, variable_ops
from jaxsession.graph.core import GraphKeys, Operation, Tensor, get_default_graph
from jaxsession.graph.gradients import gradients
from jaxsession.graph.initializers import ones_initializer, zeros_initializer
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.variables import Variable, group_ops

__all__ = [
    "AdadeltaOptimizer",
    "AdagradOptimizer",
    "AdamOptimizer",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "OptaxOptimizer",
    "Optimizer",
    "RMSPropOptimizer",
]

_VALID_DTYPES = (
    dtypes_lib.float16,
    dtypes_lib.bfloat16,
    dtypes_lib.float32,
    dtypes_lib.float64,
    dtypes_lib.complex64,
    dtypes_lib.complex128,
)


def _no_gradients_error(grads_and_vars: Sequence[Any], loss: Any) -> ValueError:
    return ValueError(
        "No gradients provided for any variable, check your graph for ops that do "
        "not support gradients, between variables "
        f"{[str(v) for _, v in grads_and_vars]} and loss {loss}."
    )


def _assert_valid_dtypes(tensors: Sequence[Any]) -> None:
    for t in tensors:
        if t.dtype.base_dtype not in _VALID_DTYPES:
            raise ValueError(
                f"Invalid type {t.dtype!r} for {t.name}, expected: {list(_VALID_DTYPES)}."
            )


def _global_step_variable(global_step: Any) -> Variable:
    if isinstance(global_step, Variable):
        return global_step
    if isinstance(global_step, Tensor) and len(global_step.op.reads) == 1:
        return global_step.op.reads[0]
    raise TypeError(f"global_step must be a Variable, got {global_step!r}")


def _hyper_tensor(value: Any) -> Tensor:
    if callable(value):
        value = value()
    return convert_to_tensor(value)


class Optimizer:
    """Base class of optimizers (``tf.train.Optimizer``).

    Subclasses give ``_op_type`` (the update op's type), and either the
    slot-based hooks (``_create_slots``, ``_apply_dense``, ``_finish``,
    ``_hyper``) or override ``_state_variables`` and ``_apply_all``.

    Args:
        use_locking: Ignored; a run applies its updates atomically.
        name: Name of the optimizer: slot names and the default op name.

    Raises:
        ValueError: ``name`` is empty.
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    _op_type = "ApplyGradients"
    _slot_order: tuple[str, ...] = ()
    _non_slot_order: tuple[str, ...] = ()

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict[Variable, Variable]] = {}
        self._non_slots: dict[tuple[str, Any], Variable] = {}

    def get_name(self) -> str:
        """The optimizer's name."""
        return self._name

    # -- the TF1 API --------------------------------------------------------------

    def minimize(
        self,
        loss: Tensor,
        global_step: Any = None,
        var_list: Sequence[Variable] | None = None,
        gate_gradients: int = GATE_OP,
        aggregation_method: Any = None,
        colocate_gradients_with_ops: bool = False,
        name: str | None = None,
        grad_loss: Any = None,
    ) -> Operation:
        """Adds ops that compute the gradients of ``loss`` and apply them.

        Args:
            loss: The scalar tensor to minimize.
            global_step: Optional Variable incremented by one after the update.
            var_list: Variables to update; by default the trainable variables.
            gate_gradients: Ignored (one op computes all gradients).
            aggregation_method: Ignored.
            colocate_gradients_with_ops: Ignored.
            name: Name of the returned op.
            grad_loss: Optional tensor holding the gradient of ``loss``.

        Returns:
            The op that applies one update (and increments ``global_step``).

        Raises:
            ValueError: no variables to optimize, or none has a gradient.
        """
        grads_and_vars = self.compute_gradients(
            loss,
            var_list=var_list,
            gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops,
            grad_loss=grad_loss,
        )
        if all(g is None for g, _ in grads_and_vars):
            raise _no_gradients_error(grads_and_vars, loss)
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(
        self,
        loss: Tensor,
        var_list: Sequence[Variable] | None = None,
        gate_gradients: int = GATE_OP,
        aggregation_method: Any = None,
        colocate_gradients_with_ops: bool = False,
        grad_loss: Any = None,
    ) -> list[tuple[Tensor | None, Variable]]:
        """The gradients of ``loss`` for each variable of ``var_list``.

        Args:
            loss: The tensor to differentiate.
            var_list: Variables; by default TRAINABLE_VARIABLES and
                TRAINABLE_RESOURCE_VARIABLES.
            gate_gradients: Ignored.
            aggregation_method: Ignored.
            colocate_gradients_with_ops: Ignored.
            grad_loss: Optional tensor holding the gradient of ``loss``.

        Returns:
            A list of ``(gradient or None, variable)`` pairs.

        Raises:
            ValueError: there are no variables, or the loss or a variable it reaches
                is not of a float type.
        """
        if callable(loss):
            loss = loss()
        loss = convert_to_tensor(loss)
        if var_list is None:
            graph = loss.graph
            var_list = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
            var_list += graph.get_collection(GraphKeys.TRAINABLE_RESOURCE_VARIABLES)
            var_list = list(dict.fromkeys(var_list))
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        _assert_valid_dtypes([loss] if grad_loss is None else [loss, grad_loss])
        grads = gradients(
            loss, var_list, grad_ys=None if grad_loss is None else [grad_loss]
        )
        # As TF1: only variables the loss reaches must be float; an int32
        # global step among the trainable variables gets a None gradient.
        _assert_valid_dtypes([v for g, v in zip(grads, var_list) if g is not None])
        return list(zip(grads, var_list))

    def apply_gradients(
        self,
        grads_and_vars: Sequence[tuple[Any, Variable]],
        global_step: Any = None,
        name: str | None = None,
    ) -> Operation:
        """Adds the op applying ``grads_and_vars``; pairs with a None gradient are skipped.

        Args:
            grads_and_vars: ``(gradient, variable)`` pairs, as from ``compute_gradients``.
            global_step: Optional Variable incremented by one after the update.
            name: Name of the returned op (default: the optimizer's name).

        Returns:
            The train op.

        Raises:
            ValueError: the list is empty or has no gradient at all.
            TypeError: a gradient is not a tensor, or a variable is not a Variable.

        Differs from TF1: one op updates every variable and slot; with a global step
        (or variable constraints) the result is a NoOp grouping it with the increment.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            raise ValueError("No variables provided.")
        for g, v in pairs:
            if g is not None and not isinstance(g, Tensor):
                raise TypeError(f"Gradient must be a Tensor, or None: {g}")
            if not isinstance(v, Variable):
                raise TypeError(
                    f"Expected a Variable, got {v!r} of type {type(v).__name__}"
                )
        live = [(g, v) for g, v in pairs if g is not None]
        if not live:
            raise ValueError(
                f"No gradients provided for any variable: {[str(v) for _, v in pairs]}."
            )
        graph = live[0][1].graph
        var_list = [v for _, v in live]
        with (
            graph.as_default(),
            graph.control_dependencies(None),
            graph.name_scope(None),
        ):
            state = self._state_variables(var_list)
        with graph.as_default(), graph.name_scope(name or self._name) as scope:
            return self._train_op(live, state, global_step, scope)

    def _train_op(
        self,
        live: list[tuple[Tensor, Variable]],
        state: list[Variable],
        global_step: Any,
        scope: str,
    ) -> Operation:
        constrained = [v for _, v in live if v.constraint is not None]
        alone = global_step is None and not constrained
        update = self._update_op(live, state, scope if alone else "update")
        if alone:
            return update
        after = [update]
        with get_default_graph().control_dependencies([update]):
            after.extend(
                variable_ops.assign_op(v, v.constraint(v.read_value()), "constraint")
                for v in constrained
            )
        if global_step is not None:
            step = _global_step_variable(global_step)
            with get_default_graph().control_dependencies(list(after)):
                after.append(variable_ops.update_op(step, 1, "increment", "AssignAdd"))
        return group_ops(after, scope)

    def _update_op(
        self, live: list[tuple[Tensor, Variable]], state: list[Variable], name: str
    ) -> Operation:
        grads = [g for g, _ in live]
        var_list = [v for _, v in live]
        hyper = {k: _hyper_tensor(h) for k, h in self._hyper().items()}
        keys = list(hyper)
        written = [*var_list, *state]
        n, h = len(grads), len(keys)

        def apply(*values: Any) -> tuple[Any, ...]:
            hv = dict(zip(keys, values[n : n + h]))
            cur = list(values[n + h :])
            new_vars, new_state = self._apply_all(
                var_list, list(values[:n]), cur[:n], cur[n:], hv
            )
            return tuple(
                jnp.asarray(x, v.dtype.jax_dtype)
                for x, v in zip([*new_vars, *new_state], written)
            )

        return make_op(
            self._op_type,
            apply,
            [*grads, *hyper.values()],
            name=name,
            reads=written,
            writes=[(v, i) for i, v in enumerate(written)],
            out_avals=[v._aval for v in written],
        )

    def get_slot(self, var: Variable, name: str) -> Variable | None:
        """The slot variable ``name`` made for ``var``, or None."""
        return self._slots.get(name, {}).get(var)

    def get_slot_names(self) -> list[str]:
        """The names of the slots this optimizer makes, sorted."""
        return sorted(self._slots)

    def variables(self) -> list[Variable]:
        """The optimizer's own variables (slots and non-slot), sorted by name."""
        own = [*self._non_slots.values()]
        own.extend(s for by_var in self._slots.values() for s in by_var.values())
        return sorted(own, key=lambda v: v.name)

    # -- slot-based subclasses ------------------------------------------------------

    def _hyper(self) -> dict[str, Any]:
        """Hyperparameters passed to the update op as inputs (floats or tensors)."""
        return {}

    def _create_slots(self, var_list: list[Variable]) -> None:
        pass

    def _apply_dense(
        self,
        grad: Any,
        var: Any,
        slots: dict[str, Any],
        hyper: dict[str, Any],
        non_slot: dict[str, Any],
    ) -> tuple[Any, dict]:
        """One variable's update: returns the new value and new slot values."""
        raise NotImplementedError

    def _finish(
        self, hyper: dict[str, Any], non_slot: dict[str, Any]
    ) -> dict[str, Any]:
        """New values of the non-slot variables after all updates."""
        return non_slot

    def _state_variables(self, var_list: list[Variable]) -> list[Variable]:
        """The slot and non-slot variables the update reads and writes, in order."""
        self._create_slots(var_list)
        graph = var_list[0].graph
        slots = [self._slots[s][v] for v in var_list for s in self._slot_order]
        return slots + [self._non_slots[(n, graph)] for n in self._non_slot_order]

    def _apply_all(
        self,
        var_list: list[Variable],
        grads: list[Any],
        values: list[Any],
        state: list[Any],
        hyper: dict[str, Any],
    ) -> tuple[list, list]:
        """All new variable values and new state values, as JAX arrays."""
        k = len(self._slot_order)
        non_slot = dict(zip(self._non_slot_order, state[len(var_list) * k :]))
        new_vars, new_slots = [], []
        for i, (g, x) in enumerate(zip(grads, values)):
            dt = var_list[i].dtype.jax_dtype
            slots = dict(zip(self._slot_order, state[i * k : (i + 1) * k]))
            x_new, slots_new = self._apply_dense(
                jnp.asarray(g, dt),
                jnp.asarray(x, dt),
                slots,
                {n: jnp.asarray(h, dt) for n, h in hyper.items()},
                {n: jnp.asarray(s, dt) for n, s in non_slot.items()},
            )
            new_vars.append(x_new)
            new_slots.extend(slots_new[s] for s in self._slot_order)
        finished = self._finish(hyper, non_slot)
        return new_vars, new_slots + [finished[n] for n in self._non_slot_order]

    def _slot_variable(
        self,
        var: Variable,
        init: Callable[[], Tensor],
        slot: str,
        op_name: str,
        sharding: Any = None,
    ) -> Variable:
        by_var = self._slots.setdefault(slot, {})
        if var not in by_var:
            graph = var.graph
            with (
                graph.as_default(),
                graph.control_dependencies(None),
                graph.name_scope(None),
            ):
                by_var[var] = Variable(
                    init,
                    trainable=False,
                    name=f"{var.op.name}/{op_name}",
                    sharding=sharding,
                )
        return by_var[var]

    def _zeros_slot(self, var: Variable, slot: str, op_name: str) -> Variable:
        return self._filled_slot(var, zeros_initializer(), slot, op_name)

    def _filled_slot(
        self, var: Variable, initializer: Any, slot: str, op_name: str
    ) -> Variable:
        return self._slot_variable(
            var,
            lambda: initializer(var.shape.as_list(), dtype=var.dtype),
            slot,
            op_name,
            # A slot shaped like its variable is split like it: a sharded
            # table's Adam moments would otherwise be whole on every device.
            sharding=var.sharding,
        )

    def _non_slot_variable(self, initial_value: Any, name: str, graph: Any) -> Variable:
        key = (name, graph)
        if key not in self._non_slots:
            with (
                graph.as_default(),
                graph.control_dependencies(None),
                graph.name_scope(None),
            ):
                self._non_slots[key] = Variable(
                    initial_value, trainable=False, name=name
                )
        return self._non_slots[key]


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``.

    Args:
        learning_rate: A float or scalar tensor.
        use_locking: Ignored.
        name: Optimizer name.
    """

    _op_type = "ApplyGradientDescent"

    def __init__(
        self,
        learning_rate: Any,
        use_locking: bool = False,
        name: str = "GradientDescent",
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self._learning_rate}

    def _apply_dense(self, grad, var, slots, hyper, non_slot):
        return var - hyper["lr"] * grad, {}


class MomentumOptimizer(Optimizer):
    """TF1's momentum: ``accum = momentum * accum + grad; var -= lr * accum``.

    With ``use_nesterov``: ``var -= lr * grad + lr * momentum * accum``.

    Args:
        learning_rate: A float or scalar tensor.
        momentum: A float or scalar tensor.
        use_locking: Ignored.
        name: Optimizer name.
        use_nesterov: Use Nesterov momentum.
    """

    _op_type = "ApplyMomentum"
    _slot_order = ("momentum",)

    def __init__(
        self,
        learning_rate: Any,
        momentum: Any,
        use_locking: bool = False,
        name: str = "Momentum",
        use_nesterov: bool = False,
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self._learning_rate, "momentum": self._momentum}

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad, var, slots, hyper, non_slot):
        lr, mu = hyper["lr"], hyper["momentum"]
        accum = slots["momentum"] * mu + grad
        if self._use_nesterov:
            return var - (grad * lr + accum * mu * lr), {"momentum": accum}
        return var - lr * accum, {"momentum": accum}


class AdamOptimizer(Optimizer):
    """Adam with TF1's formula and epsilon placement.

    ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``;
    ``m = m + (g - m) * (1 - beta1)``; ``v = v + (g^2 - v) * (1 - beta2)``;
    ``var -= lr_t * m / (sqrt(v) + epsilon)``. ``beta1^t`` and ``beta2^t``
    live in the non-slot variables ``beta1_power`` and ``beta2_power``.

    Args:
        learning_rate: A float or scalar tensor.
        beta1: Decay of the first moment.
        beta2: Decay of the second moment.
        epsilon: Added to the denominator (the "epsilon hat" of the paper).
        use_locking: Ignored.
        name: Optimizer name.
    """

    _op_type = "ApplyAdam"
    _slot_order = ("m", "v")
    _non_slot_order = ("beta1_power", "beta2_power")

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta1: Any = 0.9,
        beta2: Any = 0.999,
        epsilon: Any = 1e-8,
        use_locking: bool = False,
        name: str = "Adam",
    ):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = (
            learning_rate,
            beta1,
            beta2,
            epsilon,
        )

    def _hyper(self) -> dict[str, Any]:
        return {
            "lr": self._lr,
            "beta1": self._beta1,
            "beta2": self._beta2,
            "epsilon": self._epsilon,
        }

    def _create_slots(self, var_list: list[Variable]) -> None:
        first = min(var_list, key=lambda x: x.name)
        self._non_slot_variable(self._beta1, "beta1_power", first.graph)
        self._non_slot_variable(self._beta2, "beta2_power", first.graph)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _get_beta_accumulators(self) -> tuple[Variable, Variable]:
        graph = get_default_graph()
        return self._non_slots[("beta1_power", graph)], self._non_slots[
            ("beta2_power", graph)
        ]

    def _apply_dense(self, grad, var, slots, hyper, non_slot):
        b1, b2 = hyper["beta1"], hyper["beta2"]
        b1p, b2p = non_slot["beta1_power"], non_slot["beta2_power"]
        lr_t = hyper["lr"] * jnp.sqrt(1 - b2p) / (1 - b1p)
        m = slots["m"] + (grad - slots["m"]) * (1 - b1)
        v = slots["v"] + (grad * grad - slots["v"]) * (1 - b2)
        return var - lr_t * m / (jnp.sqrt(v) + hyper["epsilon"]), {"m": m, "v": v}

    def _finish(
        self, hyper: dict[str, Any], non_slot: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "beta1_power": non_slot["beta1_power"] * hyper["beta1"],
            "beta2_power": non_slot["beta2_power"] * hyper["beta2"],
        }


class AdagradOptimizer(Optimizer):
    """TF1's Adagrad: ``accum += g^2; var -= lr * g / sqrt(accum)``.

    Args:
        learning_rate: A float or scalar tensor.
        initial_accumulator_value: Starting value of the accumulators (positive).
        use_locking: Ignored.
        name: Optimizer name.

    Raises:
        ValueError: ``initial_accumulator_value`` is not positive.
    """

    _op_type = "ApplyAdagrad"
    _slot_order = ("accumulator",)

    def __init__(
        self,
        learning_rate: Any,
        initial_accumulator_value: float = 0.1,
        use_locking: bool = False,
        name: str = "Adagrad",
    ):
        if initial_accumulator_value <= 0.0:
            raise ValueError(
                f"initial_accumulator_value must be positive: {initial_accumulator_value}"
            )
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self._learning_rate}

    def _create_slots(self, var_list: list[Variable]) -> None:
        from jaxsession.graph.initializers import constant_initializer

        init = constant_initializer(self._initial_accumulator_value)
        for v in var_list:
            self._filled_slot(v, init, "accumulator", self._name)

    def _apply_dense(self, grad, var, slots, hyper, non_slot):
        accum = slots["accumulator"] + grad * grad
        return var - hyper["lr"] * grad * jax.lax.rsqrt(accum), {"accumulator": accum}


class RMSPropOptimizer(Optimizer):
    """TF1's RMSProp.

    ``ms = ms + (g^2 - ms) * (1 - decay)``; centered: ``mg = mg + (g - mg) * (1 -
    decay)`` and ``denom = ms - mg^2 + epsilon``, else ``denom = ms + epsilon``;
    ``mom = momentum * mom + lr * g / sqrt(denom)``; ``var -= mom``. The ``rms``
    slot starts at ones, as in TF1.

    Args:
        learning_rate: A float or scalar tensor.
        decay: Discounting factor of the history.
        momentum: Momentum factor.
        epsilon: Small value avoiding a zero denominator.
        use_locking: Ignored.
        centered: Normalize by the estimated variance of the gradient.
        name: Optimizer name.
    """

    _op_type = "ApplyRMSProp"

    def __init__(
        self,
        learning_rate: Any,
        decay: Any = 0.9,
        momentum: Any = 0.0,
        epsilon: Any = 1e-10,
        use_locking: bool = False,
        centered: bool = False,
        name: str = "RMSProp",
    ):
        super().__init__(use_locking, name)
        self._learning_rate, self._decay = learning_rate, decay
        self._momentum, self._epsilon, self._centered = momentum, epsilon, centered
        self._slot_order = (
            ("rms", "mg", "momentum") if centered else ("rms", "momentum")
        )

    def _hyper(self) -> dict[str, Any]:
        return {
            "lr": self._learning_rate,
            "decay": self._decay,
            "momentum": self._momentum,
            "epsilon": self._epsilon,
        }

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._filled_slot(v, ones_initializer(), "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad, var, slots, hyper, non_slot):
        rho = hyper["decay"]
        ms = slots["rms"] + (grad * grad - slots["rms"]) * (1 - rho)
        new = {"rms": ms}
        denom = ms + hyper["epsilon"]
        if self._centered:
            mg = slots["mg"] + (grad - slots["mg"]) * (1 - rho)
            new["mg"] = mg
            denom = ms - mg * mg + hyper["epsilon"]
        mom = slots["momentum"] * hyper["momentum"] + hyper[
            "lr"
        ] * grad * jax.lax.rsqrt(denom)
        new["momentum"] = mom
        return var - mom, new


class AdadeltaOptimizer(Optimizer):
    """TF1's Adadelta.

    ``accum = rho * accum + (1 - rho) * g^2``;
    ``update = sqrt(accum_update + eps) / sqrt(accum + eps) * g``;
    ``var -= lr * update``; ``accum_update = rho * accum_update + (1 - rho) * update^2``.

    Args:
        learning_rate: A float or scalar tensor.
        rho: Decay rate.
        epsilon: Conditioning constant.
        use_locking: Ignored.
        name: Optimizer name.
    """

    _op_type = "ApplyAdadelta"
    _slot_order = ("accum", "accum_update")

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: Any = 0.95,
        epsilon: Any = 1e-8,
        use_locking: bool = False,
        name: str = "Adadelta",
    ):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self._lr, "rho": self._rho, "epsilon": self._epsilon}

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _apply_dense(self, grad, var, slots, hyper, non_slot):
        rho, eps = hyper["rho"], hyper["epsilon"]
        accum = slots["accum"] * rho + grad * grad * (1 - rho)
        update = (
            jnp.sqrt(slots["accum_update"] + eps) * jax.lax.rsqrt(accum + eps) * grad
        )
        accum_update = slots["accum_update"] * rho + update * update * (1 - rho)
        return var - update * hyper["lr"], {
            "accum": accum,
            "accum_update": accum_update,
        }


# -- optax ------------------------------------------------------------------------


def _path_name(path: Sequence[Any]) -> str:
    """A leaf's path as a name: ``[0].mu`` -> ``0.mu``."""
    text = jax.tree_util.keystr(tuple(path))
    return re.sub(
        r"[^A-Za-z0-9_.]", "", text.replace("][", ".").replace("].", ".")
    ).strip(".")


class _OptaxState:
    """The state variables of one transform over one variable list."""

    def __init__(self, names: list[str], treedef: Any, variables: list[Variable]):
        self.names = names
        self.treedef = treedef
        self.variables = variables


class OptaxOptimizer(Optimizer):
    """Any optax ``GradientTransformation`` as a TF1 optimizer.

    The transform's state leaves become variables: a leaf belonging to one
    variable is that variable's slot (``w/Optax``, ``w/Optax_1``, ..., named
    by the leaf's path such as ``0.mu`` for ``get_slot``); other leaves (step
    counts) are non-slot variables named ``<name>/<path>``. They start at
    ``transform.init`` of the variables' initial values. Each step runs
    ``transform.update`` and ``optax.apply_updates`` inside the compiled run.

    Args:
        transform: The optax transformation, e.g. ``optax.adamw(1e-3)``.
        name: Optimizer name.
        use_locking: Ignored.

    Example::

        train_op = tf.train.OptaxOptimizer(optax.adamw(1e-3)).minimize(loss)
    """

    _op_type = "ApplyOptax"

    def __init__(
        self,
        transform: optax.GradientTransformation,
        name: str = "Optax",
        use_locking: bool = False,
    ):
        super().__init__(use_locking, name)
        self._transform = transform
        self._states: dict[tuple[Variable, ...], _OptaxState] = {}

    def _state_variables(self, var_list: list[Variable]) -> list[Variable]:
        key = tuple(var_list)
        if key not in self._states:
            self._states[key] = self._make_state(var_list)
        return self._states[key].variables

    def _make_state(self, var_list: list[Variable]) -> _OptaxState:
        names = [v.op.name for v in var_list]
        transform = self._transform

        def init(*values: Any) -> tuple[Any, ...]:
            return tuple(
                jax.tree_util.tree_leaves(transform.init(dict(zip(names, values))))
            )

        avals = {
            n: jax.ShapeDtypeStruct(v.shape.as_tuple(), v.dtype.jax_dtype)
            for n, v in zip(names, var_list)
        }
        shapes = jax.eval_shape(transform.init, avals)
        paths, treedef = jax.tree_util.tree_flatten_with_path(shapes)
        leaves = make_op(
            "OptaxInit",
            init,
            [v.initial_value for v in var_list],
            name=f"{self._name}/init",
        ).outputs
        by_name = dict(zip(names, var_list))
        variables = [
            self._state_leaf(path, t, by_name) for (path, _), t in zip(paths, leaves)
        ]
        return _OptaxState(names, treedef, variables)

    def _state_leaf(self, path: Sequence[Any], init: Tensor, by_name: dict) -> Variable:
        owner = next(
            (
                k.key
                for k in path
                if isinstance(k, jax.tree_util.DictKey) and k.key in by_name
            ),
            None,
        )
        rest = [
            k
            for k in path
            if not (isinstance(k, jax.tree_util.DictKey) and k.key == owner)
        ]
        if owner is None:
            # Not keyed by name alone: each variable list has its own counters.
            graph = init.graph
            with graph.as_default(), graph.name_scope(None):
                var = Variable(
                    init, trainable=False, name=f"{self._name}/{_path_name(rest)}"
                )
            self._non_slots[(var.op.name, graph)] = var
            return var
        var = by_name[owner]
        same_shape = init.shape.is_fully_defined() and (
            init.shape.as_list() == var.shape.as_list()
        )
        return self._slot_variable(
            var,
            lambda: init,
            _path_name(rest),
            self._name,
            sharding=var.sharding if same_shape else None,
        )

    def _apply_all(
        self,
        var_list: list[Variable],
        grads: list[Any],
        values: list[Any],
        state: list[Any],
        hyper: dict[str, Any],
    ) -> tuple[list, list]:
        spec = self._states[tuple(var_list)]
        params = {n: jnp.asarray(x) for n, x in zip(spec.names, values)}
        grad_tree = {
            n: jnp.asarray(g, params[n].dtype) for n, g in zip(spec.names, grads)
        }
        opt_state = jax.tree_util.tree_unflatten(
            spec.treedef, [jnp.asarray(s) for s in state]
        )
        updates, new_state = self._transform.update(grad_tree, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        return [new_params[n] for n in spec.names], jax.tree_util.tree_leaves(new_state)
