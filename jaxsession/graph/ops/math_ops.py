"""Elementwise math, reductions, matmul, and the operators on Tensor."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from jaxsession.graph.core import Tensor
from jaxsession.graph.ops import binary_inputs, convert_to_tensor, make_op

__all__ = ["add", "matmul", "multiply", "subtract"]


def _binary(op_type: str, fn: Any, x: Any, y: Any, name: str | None) -> Tensor:
    x, y = binary_inputs(x, y)
    return make_op(op_type, fn, [x, y], name=name or op_type).outputs[0]


def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x + y`` with broadcasting."""
    return _binary("Add", jnp.add, x, y, name)


def subtract(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x - y`` with broadcasting."""
    return _binary("Sub", jnp.subtract, x, y, name)


def multiply(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x * y`` with broadcasting."""
    return _binary("Mul", jnp.multiply, x, y, name)


def _matmul(a: Any, b: Any, *, transpose_a: bool, transpose_b: bool) -> Any:
    if transpose_a:
        a = jnp.swapaxes(a, -1, -2)
    if transpose_b:
        b = jnp.swapaxes(b, -1, -2)
    return jnp.matmul(a, b)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name: str | None = None) -> Tensor:  # fmt: skip
    """Matrix product of the two innermost dims (``tf.matmul``)."""
    a, b = binary_inputs(a, b)
    attrs = {
        "transpose_a": transpose_a or adjoint_a,
        "transpose_b": transpose_b or adjoint_b,
    }
    return make_op(
        "MatMul", _matmul, [a, b], name=name or "MatMul", attrs=attrs
    ).outputs[0]


def _install_operators(cls: type) -> None:
    cls.__add__ = lambda x, y: add(x, y, name="add")
    cls.__radd__ = lambda x, y: add(y, x, name="add")
    cls.__sub__ = lambda x, y: subtract(x, y, name="sub")
    cls.__rsub__ = lambda x, y: subtract(y, x, name="sub")
    cls.__mul__ = lambda x, y: multiply(x, y, name="mul")
    cls.__rmul__ = lambda x, y: multiply(y, x, name="mul")
    cls.__matmul__ = lambda x, y: matmul(x, y)
    cls.__rmatmul__ = lambda x, y: matmul(y, x)


_install_operators(Tensor)
_ = convert_to_tensor
