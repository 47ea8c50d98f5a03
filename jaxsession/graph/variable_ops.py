"""Variable reads and writes as ops whose effects the engine orders.

The IR level of ``tf.assign``: Variable methods and ``ops/state.py`` build
through these.
"""

from __future__ import annotations

from typing import Any

from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op


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


def update_op(var: Any, value: Any, name: str | None, kind: str) -> Operation:
    """The AssignAdd or AssignSub op, for Variable methods."""
    fn = _assign_add if kind == "AssignAdd" else _assign_sub
    return _update_op(var, value, name, kind, fn)
