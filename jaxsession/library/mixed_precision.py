"""Reduced precision: TF1's bfloat16 scope and float16 dynamic loss scaling.

``bfloat16_scope`` (``tf.tpu.bfloat16_scope``): variables asked for in
bfloat16 are stored in float32 and read as bfloat16, so checkpoints and the
optimizer keep float32 masters while the model computes in bfloat16.

``enable_mixed_precision_graph_rewrite`` (``tf.train.experimental``,
``tf.mixed_precision``) wraps an optimizer in
``MixedPrecisionLossScaleOptimizer``: the loss is multiplied by a loss scale
before differentiating and the gradients divided by it; with a
``DynamicLossScale`` (TF1's defaults: 2**15, doubled after 2000 finite
steps, halved (not below 1) on a step whose gradients are not all finite,
whose update is then skipped, global step included).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from jaxsession.graph import dtypes, variables as vs
from jaxsession.graph.core import Operation, Tensor, get_default_graph
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.graph.variables import Variable
from jaxsession.library.optimizers import Optimizer
from jaxsession.ops import (
    control_flow as control_flow_ops,
    math as math_ops,
    reduction,
    state as state_ops,
)
from jaxsession.ops.array import combine as array_ops

__all__ = [
    "DynamicLossScale",
    "FixedLossScale",
    "LossScale",
    "MixedPrecisionLossScaleOptimizer",
    "bfloat16_scope",
    "disable_mixed_precision_graph_rewrite",
    "enable_mixed_precision_graph_rewrite",
]


# -- bfloat16 ----------------------------------------------------------------------


def _bfloat16_getter(getter: Any, *args: Any, **kwargs: Any) -> Any:
    requested = kwargs.get("dtype")
    as_bfloat16 = (
        requested is not None and dtypes.as_dtype(requested) is dtypes.bfloat16
    )
    if as_bfloat16:
        kwargs["dtype"] = dtypes.float32
    var = getter(*args, **kwargs)
    return math_ops.cast(var, dtypes.bfloat16) if as_bfloat16 else var


@contextlib.contextmanager
def bfloat16_scope(name: str | None = None) -> Iterator[vs.VariableScope]:
    """A variable scope where bfloat16 variables are float32 read as bfloat16.

    As TF1 on TPUs: ``get_variable(..., dtype=tf.bfloat16)`` (a layer given
    bfloat16 inputs asks for that) creates a float32 variable and returns
    it cast to bfloat16; other dtypes are left alone. Savers and optimizers
    see the float32 variables.

    Args:
        name: The variable scope's name (default ``''``, as TF1).

    Yields:
        The variable scope.
    """
    with vs.variable_scope(name or "", custom_getter=_bfloat16_getter) as scope:
        yield scope


# -- loss scales -------------------------------------------------------------------


class LossScale:
    """How the loss is scaled (``tf.mixed_precision.LossScale``).

    Calling it gives the current scale (a float32 tensor); ``update(grads)``
    gives the op that updates it and whether the gradients should be applied.
    """

    def __call__(self) -> Tensor:
        """The current scale."""
        raise NotImplementedError

    def update(self, grads: Sequence[Tensor]) -> tuple[Any, Tensor]:
        """(update op, bool tensor: apply the gradients) after seeing ``grads``."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        raise NotImplementedError


class FixedLossScale(LossScale):
    """A constant loss scale; gradients are always applied."""

    def __init__(self, loss_scale_value: float):
        if not isinstance(loss_scale_value, (int, float)):
            raise ValueError(
                f"loss_scale_value must be a Python int or float, got {loss_scale_value!r}"
            )
        if loss_scale_value < 1:
            raise ValueError(
                f"loss_scale_value must be at least 1, got {loss_scale_value}"
            )
        self._value = float(loss_scale_value)

    def __call__(self) -> Tensor:
        """The scale, a float32 constant."""
        return math_ops.cast(self._value, dtypes.float32)

    def update(self, grads: Sequence[Tensor]) -> tuple[Any, Tensor]:
        """(a no-op, True): a fixed scale never skips a step."""
        del grads
        return control_flow_ops.no_op(), math_ops.cast(True, dtypes.bool_)

    def get_config(self) -> dict[str, Any]:
        """``{'loss_scale_value': ...}``."""
        return {"loss_scale_value": self._value}


class DynamicLossScale(LossScale):
    """A loss scale that adapts to overflow, as TF1's ``DynamicLossScale``.

    Creates two non-trainable global variables at the graph's root,
    ``current_loss_scale`` (float32) and ``good_steps`` (int64), so
    checkpoints keep the scale.

    Args:
        initial_loss_scale: The first scale (TF1's default 2**15).
        increment_period: Finite steps in a row before the scale is multiplied.
        multiplier: The factor; a non-finite step divides by it (not below 1).
    """

    def __init__(
        self,
        initial_loss_scale: float = 2**15,
        increment_period: int = 2000,
        multiplier: float = 2.0,
    ):
        self._initial = float(initial_loss_scale)
        self._period = int(increment_period)
        self._multiplier = float(multiplier)
        self._vars: tuple[Variable, Variable] | None = None

    def _variables(self) -> tuple[Variable, Variable]:
        if self._vars is None:
            graph = get_default_graph()
            with graph.name_scope(None), graph.control_dependencies(None):
                scale = Variable(
                    self._initial,
                    trainable=False,
                    name="current_loss_scale",
                    dtype=dtypes.float32,
                )
                good = Variable(
                    0, trainable=False, name="good_steps", dtype=dtypes.int64
                )
            self._vars = (scale, good)
        return self._vars

    def __call__(self) -> Tensor:
        """The current scale (reads ``current_loss_scale``)."""
        return self._variables()[0].read_value()

    def update(self, grads: Sequence[Tensor]) -> tuple[Any, Tensor]:
        """Grows, keeps or shrinks the scale after ``grads``; see the class."""
        scale, good = self._variables()
        finite = _all_finite(grads)

        def grow() -> Any:
            bigger = scale * self._multiplier
            # Never grow into infinity: keep the old scale then.
            kept = control_flow_ops.cond(
                reduction.reduce_all(math_ops.is_finite(bigger)),
                lambda: state_ops.assign(scale, bigger),
                lambda: scale.read_value(),
            )
            return control_flow_ops.group(kept, state_ops.assign(good, 0))

        def count() -> Any:
            return control_flow_ops.cond(
                good + 1 >= self._period,
                grow,
                lambda: control_flow_ops.group(state_ops.assign_add(good, 1)),
            )

        def shrink() -> Any:
            return control_flow_ops.group(
                state_ops.assign(good, 0),
                state_ops.assign(
                    scale, math_ops.maximum(scale / self._multiplier, 1.0)
                ),
            )

        update = control_flow_ops.cond(finite, count, shrink)
        return update, finite

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, as TF1 gives them."""
        return {
            "initial_loss_scale": self._initial,
            "increment_period": self._period,
            "multiplier": self._multiplier,
        }


def _all_finite(grads: Sequence[Tensor]) -> Tensor:
    checks = [reduction.reduce_all(math_ops.is_finite(g)) for g in grads]
    return reduction.reduce_all(array_ops.stack(checks))


def _as_loss_scale(loss_scale: Any) -> LossScale:
    if isinstance(loss_scale, LossScale):
        return loss_scale
    if loss_scale == "dynamic":
        return DynamicLossScale()
    if isinstance(loss_scale, (int, float)):
        return FixedLossScale(loss_scale)
    raise ValueError(f"Could not interpret loss scale identifier: {loss_scale}")


# -- the optimizer -----------------------------------------------------------------


class MixedPrecisionLossScaleOptimizer(Optimizer):
    """Wraps an optimizer with loss scaling (TF1's of the same name).

    Differs from TF1: the wrapped optimizer's non-slot variables keep their
    names (TF1 makes Adam's inside a ``tf.cond``: ``cond_1/beta1_power``).

    Args:
        opt: The optimizer to wrap (a ``tf.train.Optimizer``).
        loss_scale: ``'dynamic'``, a number (a fixed scale) or a ``LossScale``.

    Raises:
        ValueError: ``opt`` is not an Optimizer or ``loss_scale`` is invalid.
    """

    def __init__(self, opt: Optimizer, loss_scale: Any):
        if not isinstance(opt, Optimizer):
            raise ValueError(
                f'"opt" must be an instance of a tf.train.Optimizer, but got: {opt}'
            )
        super().__init__(False, opt.get_name())
        self._optimizer = opt
        self._loss_scale = _as_loss_scale(loss_scale)

    @property
    def loss_scale(self) -> LossScale:
        """The ``LossScale`` in use."""
        return self._loss_scale

    def compute_gradients(
        self,
        loss: Any,
        var_list: Sequence[Variable] | None = None,
        gate_gradients: int = Optimizer.GATE_OP,
        aggregation_method: Any = None,
        colocate_gradients_with_ops: bool = False,
        grad_loss: Any = None,
    ) -> list[tuple[Tensor | None, Variable]]:
        """The gradients of ``loss`` times the scale, divided by the scale."""
        if callable(loss):
            loss = loss()
        loss = convert_to_tensor(loss)
        scale = self._loss_scale()
        scaled = loss * math_ops.cast(scale, loss.dtype)
        pairs = self._optimizer.compute_gradients(
            scaled,
            var_list=var_list,
            gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops,
            grad_loss=grad_loss,
        )
        return [
            (None if g is None else g * math_ops.cast(1.0 / scale, g.dtype), v)
            for g, v in pairs
        ]

    def apply_gradients(
        self,
        grads_and_vars: Sequence[tuple[Any, Variable]],
        global_step: Any = None,
        name: str | None = None,
    ) -> Operation:
        """Applies the gradients if all are finite, and updates the loss scale.

        A skipped step changes no variable, slot or global step.
        """
        pairs = list(grads_and_vars)
        grads = [g for g, _ in pairs if g is not None]
        update_scale, finite = self._loss_scale.update(grads)
        apply = control_flow_ops.cond(
            finite,
            lambda: self._optimizer.apply_gradients(pairs, global_step, name),
            control_flow_ops.no_op,
        )
        return control_flow_ops.group(apply, update_scale)

    def get_slot(self, var: Variable, name: str) -> Variable | None:
        """The wrapped optimizer's slot."""
        return self._optimizer.get_slot(var, name)

    def get_slot_names(self) -> list[str]:
        """The wrapped optimizer's slot names."""
        return self._optimizer.get_slot_names()

    def variables(self) -> list[Variable]:
        """The wrapped optimizer's variables."""
        return self._optimizer.variables()


def enable_mixed_precision_graph_rewrite(
    opt: Optimizer, loss_scale: Any = "dynamic"
) -> MixedPrecisionLossScaleOptimizer:
    """Returns ``opt`` wrapped in loss scaling for float16 training.

    Differs from TF1: no op is rewritten to float16 (TF1's grappler rewrite,
    GPU only, has no counterpart here; XLA keeps the dtypes the graph has):
    cast the model's inputs to float16 or bfloat16 yourself, or build it in
    ``tf.tpu.bfloat16_scope``. The loss scaling is TF1's.

    Args:
        opt: The optimizer.
        loss_scale: ``'dynamic'`` (default), a number, or a ``LossScale``.

    Raises:
        ValueError: ``opt`` is already wrapped, or is not an Optimizer.
    """
    if isinstance(opt, MixedPrecisionLossScaleOptimizer):
        raise ValueError(
            '"opt" must not already be an instance of a '
            "MixedPrecisionLossScaleOptimizer. "
            "`enable_mixed_precision_graph_rewrite` will automatically wrap the "
            "optimizer with a MixedPrecisionLossScaleOptimizer."
        )
    return MixedPrecisionLossScaleOptimizer(opt, loss_scale)


def disable_mixed_precision_graph_rewrite() -> None:
    """Accepted for TF1 compatibility: enabling changed no global setting here."""
