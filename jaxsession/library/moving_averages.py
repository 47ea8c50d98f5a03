"""``train.ExponentialMovingAverage``: shadow variables tracking other values.

``apply(var_list)`` creates one shadow variable per variable or tensor, named
``<variable scope>/<var op name>/<ema name>`` (``w/ExponentialMovingAverage``
outside any variable scope), in
GLOBAL_VARIABLES and not trainable, so a default Saver saves and restores
it. The averaged variables are added to MOVING_AVERAGE_VARIABLES, as TF1
does. Each run of the returned op updates::

    shadow -= (1 - decay) * (shadow - value)

with ``decay = min(decay, (1 + num_updates) / (10 + num_updates))`` when
``num_updates`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jaxsession.graph import dtypes
from jaxsession.graph.core import GraphKeys, Tensor, get_default_graph
from jaxsession.graph.initializers import zeros_initializer
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.graph.variables import Variable, get_variable_scope
from jaxsession.ops import (
    control_flow as control_flow_ops,
    math as math_ops,
    state as state_ops,
)

_FLOATS = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)


def _shadow(name: str, initial_value: Any, dtype: Any) -> Variable:
    # TF1 creates shadows in a variable scope named after their primary, opened
    # inside the current one: under variable_scope("bn"), bn/w's shadow is
    # bn/bn/w/ExponentialMovingAverage. Checkpoints carry these names.
    scope = get_variable_scope().name
    name = f"{scope}/{name}" if scope else name
    graph = get_default_graph()
    with graph.name_scope(None), graph.control_dependencies(None):
        return Variable(initial_value, trainable=False, name=name, dtype=dtype)


def assign_moving_average(
    variable: Variable,
    value: Any,
    decay: Any,
    zero_debias: bool = True,
    name: str | None = None,
) -> Tensor:
    """``variable -= (1 - decay) * (variable - value)``; returns the new value.

    With ``zero_debias`` the update goes through a biased accumulator and a
    step counter (created next to ``variable``) and ``variable`` gets the
    bias-corrected mean, as TF1's ``assign_moving_average``.
    """
    graph = get_default_graph()
    with graph.name_scope(name or "AssignMovingAvg"):
        decay = math_ops.cast(convert_to_tensor(decay), variable.dtype)
        value = math_ops.cast(convert_to_tensor(value), variable.dtype)
        if not zero_debias:
            delta = math_ops.multiply(
                math_ops.subtract(variable.value(), value), 1.0 - decay
            )
            return state_ops.assign_sub(variable, delta)
        base = variable.op.name
        shape = variable.shape.as_list()
        biased = _shadow(
            f"{base}/biased", zeros_initializer()(shape, variable.dtype), None
        )
        local_step = _shadow(
            f"{base}/local_step", zeros_initializer()([], variable.dtype), None
        )
        delta = math_ops.multiply(math_ops.subtract(biased.value(), value), 1.0 - decay)
        new_biased = state_ops.assign_sub(biased, delta)
        new_step = state_ops.assign_add(local_step, 1.0)
        unbiased = math_ops.truediv(new_biased, 1.0 - math_ops.pow(decay, new_step))
        return state_ops.assign(variable, unbiased)


class ExponentialMovingAverage:
    """Keeps exponential moving averages of variables and tensors (TF1 API).

    Args:
        decay: The decay, e.g. 0.999.
        num_updates: Optional count of updates (e.g. the global step); makes
            the decay smaller early in training.
        zero_debias: Debias the averages of tensors (variables' shadows start
            at their initial values and are never debiased, as in TF1).
        name: Suffix of the shadow variables' names.
    """

    def __init__(
        self,
        decay: float,
        num_updates: Any = None,
        zero_debias: bool = False,
        name: str = "ExponentialMovingAverage",
    ):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict[int, Variable] = {}

    @property
    def name(self) -> str:
        """The suffix of the shadow variables' names."""
        return self._name

    def apply(self, var_list: Sequence[Any] | None = None) -> Any:
        """Creates shadows for ``var_list`` and returns the op that updates them.

        Args:
            var_list: Variables and tensors of float dtype (default: the
                trainable variables).

        Returns:
            An op running every update.

        Raises:
            TypeError: an entry is not float32/float16/bfloat16/float64.
            ValueError: an entry already has a moving average.
        """
        if var_list is None:
            var_list = get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES)
        for var in var_list:
            if var.dtype.base_dtype not in _FLOATS:
                raise TypeError(
                    "The variables must be half, float, or double: "
                    f"{var.name} has dtype {var.dtype.name}"
                )
            if id(var) in self._averages:
                raise ValueError(f"Moving average already computed for: {var.name}")
        graph = get_default_graph()
        pairs = []
        for var in var_list:
            if isinstance(var, Variable):
                shadow = _shadow(
                    self.average_name(var), var.initialized_value(), var.dtype
                )
                graph.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
            else:
                init = zeros_initializer()(var.shape.as_list(), var.dtype)
                shadow = _shadow(self.average_name(var), init, var.dtype)
            self._averages[id(var)] = shadow
            pairs.append((var, shadow))
        with graph.name_scope(self._name) as scope:
            decay = self._decay_tensor()
            updates = [
                assign_moving_average(
                    shadow,
                    var,
                    decay,
                    zero_debias=self._zero_debias and not isinstance(var, Variable),
                )
                for var, shadow in pairs
            ]
            # TF1 names the group after the scope itself: ExponentialMovingAverage.
            return control_flow_ops.group(*updates, name=scope)

    def _decay_tensor(self) -> Tensor:
        decay = convert_to_tensor(self._decay, dtype=dtypes.float32, name="decay")
        if self._num_updates is None:
            return decay
        n = math_ops.cast(convert_to_tensor(self._num_updates), dtypes.float32)
        return math_ops.minimum(decay, math_ops.truediv(1.0 + n, 10.0 + n))

    def average(self, var: Any) -> Variable | None:
        """The shadow variable of ``var``, or None if ``apply`` did not see it."""
        return self._averages.get(id(var))

    def average_name(self, var: Any) -> str:
        """The name ``var``'s shadow has (or will have): ``<op name>/<ema name>``."""
        if id(var) in self._averages:
            return self._averages[id(var)].op.name
        return f"{var.op.name}/{self._name}"

    def variables_to_restore(
        self, moving_avg_variables: Sequence[Any] | None = None
    ) -> dict[str, Any]:
        """A Saver ``var_list`` that restores each variable from its shadow's value.

        Args:
            moving_avg_variables: Variables whose averages to restore (default:
                trainable and MOVING_AVERAGE_VARIABLES).

        Returns:
            Checkpoint name -> variable: ``average_name(v)`` for averaged
            variables, the variable's own name for every other global variable.
        """
        graph = get_default_graph()
        if moving_avg_variables is None:
            moving_avg_variables = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
            moving_avg_variables += graph.get_collection(
                GraphKeys.MOVING_AVERAGE_VARIABLES
            )
        averaged = {id(v): v for v in moving_avg_variables}
        name_map = {self.average_name(v): v for v in averaged.values()}
        for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES):
            if id(v) not in averaged and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
