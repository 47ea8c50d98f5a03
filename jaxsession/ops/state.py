"""Variable reads and writes as ops whose effects the engine orders."""

from __future__ import annotations

from typing import Any

from jaxsession.graph.core import Aval, Operation, Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op

__all__ = ["assign", "assign_add", "assign_sub"]


def _read(value: Any) -> Any:
    return value


def read_op(var: Any, name: str, op_type: str = "ReadVariableOp") -> Operation:
    """An op whose output is the variable's value."""
    return make_op(op_type, _read, (), name=name, reads=(var,), out_avals=[var._aval])


def _assign(value: Any) -> Any:
    return value


def _assign_add(delta: Any, current: Any) -> Any:
    return current + delta


def _assign_sub(delta: Any, current: Any) -> Any:
    return current - delta


def _value_for(var: Any, value: Any, what: str) -> Tensor:
    try:
        return convert_to_tensor(value, dtype=var.dtype)
    except (TypeError, ValueError) as e:
        raise type(e)(f"cannot {what} variable '{var.op.name}': {e}") from e


def assign_op(
    var: Any, value: Any, name: str | None = None, validate_shape: bool = True
) -> Operation:
    """An op setting ``var`` to ``value``; its output is the new value.

    Raises:
        ValueError: the value's shape does not fit the variable's.
    """
    value = _value_for(var, value, "assign to")
    aval = Aval(
        var._aval.shape if validate_shape else value.shape.as_tuple(), var.dtype
    )
    if validate_shape and not var.shape.is_compatible_with(value.shape):
        raise ValueError(
            f"Shapes {var.shape} and {value.shape} are incompatible: cannot assign a "
            f"value of shape {value.shape} to variable '{var.op.name}' of shape {var.shape}."
        )
    return make_op(
        "Assign",
        _assign,
        [value],
        name=name or "Assign",
        writes=[(var, 0)],
        out_avals=[aval],
    )


def _update_op(
    var: Any, value: Any, name: str | None, op_type: str, fn: Any
) -> Operation:
    value = _value_for(var, value, "update")
    return make_op(
        op_type,
        fn,
        [value],
        name=name or op_type,
        reads=(var,),
        writes=[(var, 0)],
        out_avals=[var._aval],
    )


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


def update_op(var: Any, value: Any, name: str | None, kind: str) -> Operation:
    """The AssignAdd or AssignSub op, for Variable methods."""
    fn = _assign_add if kind == "AssignAdd" else _assign_sub
    return _update_op(var, value, name, kind, fn)
