"""``tf.assign`` and friends: variable writes as graph ops."""

from __future__ import annotations

from typing import Any

from jaxsession.graph.core import Tensor
from jaxsession.graph.variable_ops import (
    _assign_add,
    _assign_sub,
    _update_op,
    assign_op,
)

__all__ = ["assign", "assign_add", "assign_sub"]


def _as_variable(ref: Any) -> Any:
    if not hasattr(ref, "_aval") or not hasattr(ref, "initializer"):
        raise TypeError(f"expected a Variable, got {type(ref).__name__}: {ref!r}")
    return ref


def assign(
    ref: Any,
    value: Any,
    validate_shape: bool | None = None,
    use_locking: bool | None = None,
    name: str | None = None,
) -> Tensor:
    """``tf.assign``: sets ``ref`` to ``value``; returns the new value."""
    var = _as_variable(ref)
    return assign_op(var, value, name, validate_shape is not False).outputs[0]


def assign_add(
    ref: Any, value: Any, use_locking: bool | None = None, name: str | None = None
) -> Tensor:
    """``tf.assign_add``: adds ``value`` to ``ref``; returns the new value."""
    var = _as_variable(ref)
    return _update_op(var, value, name, "AssignAdd", _assign_add).outputs[0]


def assign_sub(
    ref: Any, value: Any, use_locking: bool | None = None, name: str | None = None
) -> Tensor:
    """``tf.assign_sub``: subtracts ``value`` from ``ref``; returns the new value."""
    var = _as_variable(ref)
    return _update_op(var, value, name, "AssignSub", _assign_sub).outputs[0]
