"""Elementwise math, comparisons, products, casts, and the operators on Tensor.

Elementwise binary ops infer their static shape with TF1's broadcasting rule
(an unknown dim against a known dim > 1 takes the known size) instead of
``make_op``'s stand-in evaluation, which would reject ``(?, 3) + (2, 3)``.
Python numbers combined with a tensor take the tensor's dtype; two tensors of
different dtypes raise TypeError, as in TF1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import (
    binary_inputs,
    check_input_dtype,
    convert_to_tensor,
    make_op,
)
from jaxsession.graph.rules import NOT_DIFFERENTIABLE, constant_value
from jaxsession.graph.variables import Variable
from jaxsession.ops.array._common import _static
from jaxsession.ops.array.indexing import where_v2
from jaxsession.ops.array.shape import identity

__all__ = [
    "abs",
    "accumulate_n",
    "acos",
    "add",
    "add_n",
    "asin",
    "atan",
    "atan2",
    "cast",
    "ceil",
    "cos",
    "cosh",
    "digamma",
    "div",
    "div_no_nan",
    "divide",
    "einsum",
    "equal",
    "erf",
    "erfc",
    "exp",
    "expm1",
    "floor",
    "floordiv",
    "floormod",
    "greater",
    "greater_equal",
    "is_finite",
    "is_inf",
    "is_nan",
    "less",
    "less_equal",
    "lgamma",
    "log",
    "log1p",
    "log_sigmoid",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "matmul",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "negative",
    "not_equal",
    "pow",
    "realdiv",
    "reciprocal",
    "rint",
    "round",
    "rsqrt",
    "scalar_mul",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "squared_difference",
    "subtract",
    "tan",
    "tanh",
    "tensordot",
    "to_double",
    "to_float",
    "to_int32",
    "to_int64",
    "truediv",
    "truncatediv",
    "truncatemod",
    "where",
]

# Dtype families an op accepts, as TF1's kernels register them.
_FLOAT = ("float", "complex")
_REAL = ("float",)
_NUMBER = ("float", "complex", "int")
_BOOL = ("bool",)
_ANY = ("float", "complex", "int", "bool")
_ORDERED = ("float", "int")

# TF1's truediv table: integer inputs are cast to this float type first.
_TRUEDIV_FLOAT = {
    dtypes_lib.int8: dtypes_lib.float32,
    dtypes_lib.uint8: dtypes_lib.float32,
    dtypes_lib.int16: dtypes_lib.float32,
    dtypes_lib.uint16: dtypes_lib.float32,
    dtypes_lib.int32: dtypes_lib.float64,
    dtypes_lib.int64: dtypes_lib.float64,
}


# -- shared helpers -------------------------------------------------------------


def _family(dtype: dtypes_lib.DType) -> str:
    if dtype.is_floating:
        return "float"
    if dtype.is_complex:
        return "complex"
    if dtype.is_integer:
        return "int"
    return "bool" if dtype.is_bool else dtype.name


def _check_dtype(t: Tensor, families: Sequence[str], op_type: str) -> None:
    if _family(t.dtype) not in families:
        raise TypeError(
            f"{op_type} does not accept {t.dtype.name} input {t!r}: expected a "
            f"{' or '.join(families)} tensor"
        )


def _merge_dim(a: int | None, b: int | None) -> int | None:
    if a == 1:
        return b
    if b == 1 or b is None or a == b:
        return a
    if a is None:
        return b
    raise ValueError(f"Dimensions must be equal, but are {a} and {b}")


def _broadcast_dims(
    dims: Sequence[tuple[int | None, ...] | None],
) -> tuple[int | None, ...] | None:
    """The TF1 static broadcast of shapes, or None for unknown rank.

    Raises:
        ValueError: two dims differ and neither is 1.
    """
    if any(d is None for d in dims):
        return None
    out: tuple[int | None, ...] = ()
    for d in dims:
        n = max(len(out), len(d))
        a, b = (1,) * (n - len(out)) + out, (1,) * (n - len(d)) + d
        out = tuple(_merge_dim(x, y) for x, y in zip(a, b))
    return out


def _broadcast_shape(
    op_type: str, name: str, tensors: Sequence[Tensor]
) -> tuple[int | None, ...] | None:
    try:
        return _broadcast_dims([t.shape.as_tuple() for t in tensors])
    except ValueError as e:
        raise errors.op_shape_error(op_type, name, tensors, str(e)) from None


def _elementwise(
    op_type: str,
    fn: Callable[..., Any],
    tensors: Sequence[Tensor],
    name: str,
    dtype: dtypes_lib.DType,
    attrs: dict[str, Any] | None = None,
) -> Tensor:
    shape = _broadcast_shape(op_type, name, tensors)
    known = all(t.shape.is_fully_defined() for t in tensors)
    avals = None if known else [Aval(shape, dtype)]
    return make_op(
        op_type,
        fn,
        tensors,
        name=name,
        attrs=attrs,
        out_avals=avals,
        out_dtypes=[dtype],
    ).outputs[0]


def _binary(
    op_type: str,
    fn: Callable[..., Any],
    x: Any,
    y: Any,
    name: str | None,
    families: Sequence[str] = _NUMBER,
    out_dtype: dtypes_lib.DType | None = None,
) -> Tensor:
    x, y = binary_inputs(x, y)
    _check_dtype(x, families, op_type)
    return _elementwise(op_type, fn, [x, y], name or op_type, out_dtype or x.dtype)


def _unary_op(
    tf_name: str,
    op_type: str,
    fn: Callable[..., Any],
    what: str,
    families: Sequence[str],
) -> Callable[..., Tensor]:
    def op(x: Any, name: str | None = None) -> Tensor:
        x = convert_to_tensor(x)
        _check_dtype(x, families, op_type)
        return make_op(op_type, fn, [x], name=name or op_type).outputs[0]

    op.__name__ = op.__qualname__ = tf_name
    op.__doc__ = (
        f"Elementwise {what} (``tf.{tf_name}``; op type {op_type}).\n\n"
        f"Raises:\n    TypeError: ``x`` is not a {' or '.join(families)} tensor.\n"
    )
    return op


def _binary_op(
    tf_name: str,
    op_type: str,
    fn: Callable[..., Any],
    what: str,
    families: Sequence[str] = _NUMBER,
    out_dtype: dtypes_lib.DType | None = None,
    default_name: str | None = None,
) -> Callable[..., Tensor]:
    def op(x: Any, y: Any, name: str | None = None) -> Tensor:
        name = name or default_name
        return _binary(op_type, fn, x, y, name, families, out_dtype)

    op.__name__ = op.__qualname__ = tf_name
    op.__doc__ = (
        f"Elementwise {what} with broadcasting (``tf.{tf_name}``; op type "
        f"{op_type}).\n\nRaises:\n    TypeError: the dtypes differ or are not "
        f"{' or '.join(families)}.\n    ValueError: the shapes do not broadcast.\n"
    )
    return op


def _alias(new: Any, old: Any, new_name: str, old_name: str) -> Any:
    if old is None:
        return new
    if new is not None:
        raise ValueError(f"Cannot specify both '{old_name}' and '{new_name}'")
    return old


# -- arithmetic -----------------------------------------------------------------


def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x + y`` with broadcasting (``tf.add``)."""
    return _binary("Add", jnp.add, x, y, name, _ANY)


def subtract(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x - y`` with broadcasting (``tf.subtract``)."""
    return _binary("Sub", jnp.subtract, x, y, name)


def multiply(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x * y`` with broadcasting (``tf.multiply``)."""
    return _binary("Mul", jnp.multiply, x, y, name)


def _realdiv(x: Any, y: Any, *, dtype: dtypes_lib.DType | None) -> Any:
    if dtype is not None:
        x, y = jnp.astype(x, dtype.jax_dtype), jnp.astype(y, dtype.jax_dtype)
    if jnp.issubdtype(x.dtype, jnp.integer):
        return _truncate_div(x, y)  # C-style, as TF's integer RealDiv
    return jnp.true_divide(x, y)


def _truncate_div(x: Any, y: Any) -> Any:
    x, y = jnp.broadcast_arrays(x, y)
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.trunc(jnp.true_divide(x, y))  # TF's TruncateDiv on floats
    return lax.div(x, y)


def _truncate_mod(x: Any, y: Any) -> Any:
    return lax.rem(*jnp.broadcast_arrays(x, y))


def truediv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x / y``, casting integer inputs to float first (``tf.truediv``).

    int8/int16/uint8/uint16 become float32, int32/int64 float64, as in TF1.

    Raises:
        TypeError: the dtypes differ, or are bool or unsigned 32/64-bit.
    """
    x, y = binary_inputs(x, y)
    _check_dtype(x, _NUMBER, "RealDiv")
    to = _TRUEDIV_FLOAT.get(x.dtype)
    if x.dtype.is_integer and to is None:
        raise TypeError(f"Invalid dtype {x.dtype.name} in __truediv__: {x!r}")
    return _elementwise(
        "RealDiv", _realdiv, [x, y], name or "truediv", to or x.dtype, {"dtype": to}
    )


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x / y`` with Python 3 semantics (``tf.divide``; same as ``truediv``)."""
    return truediv(x, y, name=name)


def realdiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x / y`` without casting; integers truncate toward zero (``tf.realdiv``)."""
    x, y = binary_inputs(x, y)
    _check_dtype(x, _NUMBER, "RealDiv")
    return _elementwise(
        "RealDiv", _realdiv, [x, y], name or "RealDiv", x.dtype, {"dtype": None}
    )


def floordiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``floor(x / y)``, i.e. Python's ``//`` (``tf.floordiv``; op FloorDiv)."""
    return _binary("FloorDiv", jnp.floor_divide, x, y, name or "floordiv", _ORDERED)


def div(x: Any, y: Any, name: str | None = None) -> Tensor:
    """TF1's legacy ``tf.div``: floor division for integers, ``x / y`` for floats."""
    x, y = binary_inputs(x, y)
    if x.dtype.is_integer:
        return floordiv(x, y, name=name or "div")
    return _elementwise(
        "RealDiv", _realdiv, [x, y], name or "div", x.dtype, {"dtype": None}
    )


def pow(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x ** y`` (``tf.pow``)."""
    return _binary("Pow", jnp.power, x, y, name)


def _div_no_nan(x: Any, y: Any) -> Any:
    safe = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, jnp.zeros_like(x), jnp.true_divide(x, safe))


floormod = _binary_op(
    "floormod",
    "FloorMod",
    jnp.mod,
    "``x mod y``, with the sign of ``y`` (Python's %)",
    _ORDERED,
)
mod = floormod
truncatediv = _binary_op(
    "truncatediv",
    "TruncateDiv",
    _truncate_div,
    "``x / y`` rounded toward zero",
    _ORDERED,
)
truncatemod = _binary_op(
    "truncatemod", "TruncateMod", _truncate_mod, "C's ``fmod(x, y)``", _ORDERED
)
# TF1's div_no_nan is a Python wrapper that names its op div_no_nan.
div_no_nan = _binary_op(
    "div_no_nan",
    "DivNoNan",
    _div_no_nan,
    "``x / y``, 0 where ``y`` is 0",
    _FLOAT,
    default_name="div_no_nan",
)


def _ties_to_x(fn: Callable[..., Any], x_wins: Callable[..., Any]) -> Any:
    """``fn`` whose gradient goes wholly to x where ``x_wins(x, y)``.

    TF's gradients of Maximum and Minimum give a tie to x (JAX splits it).
    The rule returns the primal through the function itself, so that higher
    derivatives follow it too.
    """

    @jax.custom_jvp
    def tied(x: Any, y: Any) -> Any:
        return fn(x, y)

    @tied.defjvp
    def _jvp(primals: Any, tangents: Any) -> tuple[Any, Any]:
        (x, y), (tx, ty) = primals, tangents
        return tied(x, y), jnp.where(x_wins(x, y), tx, ty)

    return tied


_tf_maximum = _ties_to_x(jnp.maximum, jnp.greater_equal)
_tf_minimum = _ties_to_x(jnp.minimum, jnp.less_equal)


def _maximum(x: Any, y: Any) -> Any:
    if jnp.issubdtype(jnp.result_type(x, y), jnp.floating):
        return _tf_maximum(x, y)
    return jnp.maximum(x, y)


def _minimum(x: Any, y: Any) -> Any:
    if jnp.issubdtype(jnp.result_type(x, y), jnp.floating):
        return _tf_minimum(x, y)
    return jnp.minimum(x, y)


maximum = _binary_op("maximum", "Maximum", _maximum, "max(x, y)", _ORDERED)
minimum = _binary_op("minimum", "Minimum", _minimum, "min(x, y)", _ORDERED)
squared_difference = _binary_op(
    "squared_difference",
    "SquaredDifference",
    lambda x, y: jnp.square(jnp.subtract(x, y)),
    "``(x - y) ** 2``",
)
atan2 = _binary_op("atan2", "Atan2", jnp.arctan2, "arctan(x / y) by quadrant", _REAL)


def scalar_mul(scalar: Any, x: Any, name: str | None = None) -> Tensor:
    """``scalar * x`` for a scalar ``scalar`` (``tf.scalar_mul``).

    Raises:
        ValueError: ``scalar`` is not a scalar.
    """
    x = convert_to_tensor(x)
    s = convert_to_tensor(scalar, dtype=x.dtype)
    if s.shape.ndims != 0:
        raise ValueError(f"Only scalar multiply works, got shape {s.shape}")
    return multiply(s, x, name=name or "scalar_mul")


# -- unary ----------------------------------------------------------------------


def _rint(x: Any) -> Any:
    return jnp.round(x) if jnp.issubdtype(x.dtype, jnp.inexact) else x


# TF's gradient of Abs is sign(x): 0 at 0 (JAX's is 1).
@jax.custom_jvp
def _tf_abs(x: Any) -> Any:
    return jnp.abs(x)


@_tf_abs.defjvp
def _tf_abs_jvp(primals: Any, tangents: Any) -> tuple[Any, Any]:
    (x,), (t,) = primals, tangents
    return _tf_abs(x), jnp.sign(x) * t


def _abs(x: Any) -> Any:
    return _tf_abs(x) if jnp.issubdtype(x.dtype, jnp.floating) else jnp.abs(x)


def _reciprocal(x: Any) -> Any:
    if jnp.issubdtype(x.dtype, jnp.integer):
        return lax.div(jnp.ones_like(x), x)
    return jnp.reciprocal(x)


negative = _unary_op("negative", "Neg", jnp.negative, "``-x``", _NUMBER)
abs = _unary_op("abs", "Abs", _abs, "``|x|``", _NUMBER)
sign = _unary_op("sign", "Sign", jnp.sign, "sign (-1, 0 or 1)", _NUMBER)
square = _unary_op("square", "Square", jnp.square, "``x * x``", _NUMBER)
reciprocal = _unary_op("reciprocal", "Reciprocal", _reciprocal, "``1 / x``", _NUMBER)
round = _unary_op("round", "Round", _rint, "rounding, half to even", _NUMBER)
rint = _unary_op("rint", "Rint", _rint, "rounding, half to even", _REAL)
floor = _unary_op("floor", "Floor", jnp.floor, "floor", _REAL)
ceil = _unary_op("ceil", "Ceil", jnp.ceil, "ceiling", _REAL)
sqrt = _unary_op("sqrt", "Sqrt", jnp.sqrt, "square root", _FLOAT)
rsqrt = _unary_op("rsqrt", "Rsqrt", lax.rsqrt, "``1 / sqrt(x)``", _FLOAT)
exp = _unary_op("exp", "Exp", jnp.exp, "``e ** x``", _FLOAT)
expm1 = _unary_op("expm1", "Expm1", jnp.expm1, "``e ** x - 1``", _FLOAT)
log = _unary_op("log", "Log", jnp.log, "natural logarithm", _FLOAT)
log1p = _unary_op("log1p", "Log1p", jnp.log1p, "``log(1 + x)``", _FLOAT)
sin = _unary_op("sin", "Sin", jnp.sin, "sine", _FLOAT)
cos = _unary_op("cos", "Cos", jnp.cos, "cosine", _FLOAT)
tan = _unary_op("tan", "Tan", jnp.tan, "tangent", _FLOAT)
asin = _unary_op("asin", "Asin", jnp.arcsin, "arcsine", _FLOAT)
acos = _unary_op("acos", "Acos", jnp.arccos, "arccosine", _FLOAT)
atan = _unary_op("atan", "Atan", jnp.arctan, "arctangent", _FLOAT)
sinh = _unary_op("sinh", "Sinh", jnp.sinh, "hyperbolic sine", _FLOAT)
cosh = _unary_op("cosh", "Cosh", jnp.cosh, "hyperbolic cosine", _FLOAT)
tanh = _unary_op("tanh", "Tanh", jnp.tanh, "hyperbolic tangent", _FLOAT)
sigmoid = _unary_op(
    "sigmoid", "Sigmoid", jax.nn.sigmoid, "``1 / (1 + e ** -x)``", _FLOAT
)
log_sigmoid = _unary_op(
    "log_sigmoid", "LogSigmoid", jax.nn.log_sigmoid, "``log(sigmoid(x))``", _REAL
)
erf = _unary_op("erf", "Erf", jax.scipy.special.erf, "error function", _REAL)
erfc = _unary_op("erfc", "Erfc", jax.scipy.special.erfc, "``1 - erf(x)``", _REAL)
lgamma = _unary_op(
    "lgamma", "Lgamma", jax.scipy.special.gammaln, "log |Gamma(x)|", _REAL
)
digamma = _unary_op("digamma", "Digamma", jax.scipy.special.digamma, "digamma", _REAL)
is_nan = _unary_op("is_nan", "IsNan", jnp.isnan, "test for NaN", _REAL)
is_inf = _unary_op("is_inf", "IsInf", jnp.isinf, "test for +-inf", _REAL)
is_finite = _unary_op("is_finite", "IsFinite", jnp.isfinite, "test for finite", _REAL)

# No gradient in TF: Floor, Ceil, Round, Rint, FloorDiv and TruncateDiv return None.
NOT_DIFFERENTIABLE.update(("Ceil", "Floor", "FloorDiv", "Rint", "Round", "TruncateDiv"))


# -- comparison and logic -------------------------------------------------------

equal = _binary_op("equal", "Equal", jnp.equal, "``x == y``", _ANY, dtypes_lib.bool_)
not_equal = _binary_op(
    "not_equal", "NotEqual", jnp.not_equal, "``x != y``", _ANY, dtypes_lib.bool_
)
less = _binary_op("less", "Less", jnp.less, "``x < y``", _ORDERED, dtypes_lib.bool_)
less_equal = _binary_op(
    "less_equal", "LessEqual", jnp.less_equal, "``x <= y``", _ORDERED, dtypes_lib.bool_
)
greater = _binary_op(
    "greater", "Greater", jnp.greater, "``x > y``", _ORDERED, dtypes_lib.bool_
)
greater_equal = _binary_op(
    "greater_equal",
    "GreaterEqual",
    jnp.greater_equal,
    "``x >= y``",
    _ORDERED,
    dtypes_lib.bool_,
)
logical_and = _binary_op(
    "logical_and", "LogicalAnd", jnp.logical_and, "``x AND y``", _BOOL
)
logical_or = _binary_op("logical_or", "LogicalOr", jnp.logical_or, "``x OR y``", _BOOL)
logical_xor = _binary_op(
    "logical_xor", "LogicalXor", jnp.logical_xor, "``x XOR y``", _BOOL
)
logical_not = _unary_op("logical_not", "LogicalNot", jnp.logical_not, "NOT", _BOOL)


def _select_v1(cond: Any, x: Any, y: Any) -> Any:
    if cond.ndim == 1 and x.ndim > 1:
        cond = cond.reshape(cond.shape + (1,) * (x.ndim - 1))
    return jnp.where(cond, x, y)


def _select_shape(cond: Tensor, x: Tensor, y: Tensor, name: str) -> Any:
    tensors = [cond, x, y]
    if not x.shape.is_compatible_with(y.shape):
        raise errors.op_shape_error(
            "Select", name, tensors, "x and y must have the same shape"
        )
    out = x.shape.merge_with(y.shape)
    c_rank, x_rank = cond.shape.ndims, out.ndims
    if c_rank is None or x_rank is None or c_rank == 0:
        return out
    if c_rank == 1 and x_rank > 1:
        ok = cond.shape[0].is_compatible_with(out[0])
    else:
        ok = cond.shape.is_compatible_with(out)
    if not ok:
        raise errors.op_shape_error(
            "Select",
            name,
            tensors,
            "condition must be a scalar, have the shape of x and y, or be a vector "
            "as long as their first dimension",
        )
    return out if c_rank == 1 and x_rank > 1 else out.merge_with(cond.shape)


def where(
    condition: Any, x: Any = None, y: Any = None, name: str | None = None
) -> Tensor:
    """Selects from ``x`` or ``y`` by ``condition`` (TF1's ``tf.where``, op Select).

    ``condition`` is a scalar, has the shape of ``x`` and ``y``, or is a
    vector selecting whole rows of ``x``/``y`` by their first dimension.
    With ``x`` and ``y`` None: the int64 coordinates ``[n, rank]`` of the True
    entries.

    Differs from TF1: the coordinate form needs ``condition``'s value known
    while building (the result's length depends on it and XLA needs static
    shapes).

    Raises:
        ValueError: only one of ``x`` and ``y`` is given, or shapes do not fit.
        TypeError: ``condition`` is not bool, or ``x`` and ``y`` dtypes differ.
        errors.UnimplementedError: the coordinate form with a runtime condition.
    """
    if (x is None) != (y is None):
        raise ValueError("x and y must both be non-None or both be None.")
    cond = convert_to_tensor(condition)
    if x is None:
        return _where_coordinates(cond, name)
    _check_dtype(cond, _BOOL, "Select")
    xt, yt = binary_inputs(x, y)
    name = name or "Select"
    shape = _select_shape(cond, xt, yt, name).as_tuple()
    known = all(t.shape.is_fully_defined() for t in (cond, xt, yt))
    avals = None if known else [Aval(shape, xt.dtype)]
    return make_op(
        "Select", _select_v1, [cond, xt, yt], name=name, out_avals=avals
    ).outputs[0]


def _where_coordinates(cond: Tensor, name: str | None) -> Tensor:
    if constant_value(cond) is None:
        raise errors.UnimplementedError(
            None,
            None,
            f"{name or 'Where'}: tf.where(condition) with one argument returns the "
            f"coordinates of the True entries of {cond!r}, whose number depends on "
            "its value, which is only known when the graph runs; XLA needs static "
            "shapes. Pass x and y to select elementwise (tf.where(condition, x, y)), "
            "or make the condition a constant.",
        )
    return where_v2(cond, name=name)


# -- products -------------------------------------------------------------------


def _matmul(a: Any, b: Any, *, transpose_a: bool, transpose_b: bool) -> Any:
    if transpose_a:
        a = jnp.swapaxes(a, -1, -2)
    if transpose_b:
        b = jnp.swapaxes(b, -1, -2)
    return jnp.matmul(a, b)


def _matmul_shape(
    a: Tensor, b: Tensor, ta: bool, tb: bool, op_type: str, name: str
) -> tuple[int | None, ...] | None:
    sa, sb = a.shape.as_tuple(), b.shape.as_tuple()
    if sa is None or sb is None:
        return None
    if len(sa) < 2 or len(sb) < 2:
        rank = min(len(sa), len(sb))
        raise errors.op_shape_error(
            op_type, name, [a, b], f"Shape must be rank >= 2 but is rank {rank}"
        )
    m, k = sa[-2:][::-1] if ta else sa[-2:]
    k2, n = sb[-2:][::-1] if tb else sb[-2:]
    if k is not None and k2 is not None and k != k2:
        raise errors.op_shape_error(
            op_type, name, [a, b], f"Dimensions must be equal, but are {k} and {k2}"
        )
    try:
        batch = _broadcast_dims([sa[:-2], sb[:-2]])
    except ValueError as e:
        raise errors.op_shape_error(op_type, name, [a, b], str(e)) from None
    return (*batch, m, n)


# TF's MatMul/BatchMatMulV2 op definitions, in their order.
_MATMUL_TYPES = (
    "bfloat16",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "complex64",
    "complex128",
)
_BATCH_MATMUL_TYPES = (*_MATMUL_TYPES[:4], "int16", *_MATMUL_TYPES[4:])


def matmul(
    a: Any,
    b: Any,
    transpose_a: bool = False,
    transpose_b: bool = False,
    adjoint_a: bool = False,
    adjoint_b: bool = False,
    a_is_sparse: bool = False,
    b_is_sparse: bool = False,
    name: str | None = None,
) -> Tensor:
    """Matrix product of the two innermost dims (``tf.matmul``).

    Rank > 2 inputs are batches (op BatchMatMulV2); batch dims broadcast.

    Raises:
        ValueError: a rank is below 2 or the inner dimensions differ.
        TypeError: the dtypes differ.
    """
    a, b = binary_inputs(a, b)
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    ranks = (a.shape.ndims, b.shape.ndims)
    op_type = "MatMul" if ranks == (2, 2) else "BatchMatMulV2"
    if op_type == "MatMul":
        check_input_dtype(a, "a", _MATMUL_TYPES, op_type)
    else:
        check_input_dtype(a, "x", _BATCH_MATMUL_TYPES, op_type)
    name = name or "MatMul"
    shape = _matmul_shape(a, b, ta, tb, op_type, name)
    known = a.shape.is_fully_defined() and b.shape.is_fully_defined()
    avals = None if known or shape is None else [Aval(shape, a.dtype)]
    attrs = {"transpose_a": ta, "transpose_b": tb}
    return make_op(
        op_type, _matmul, [a, b], name=name, attrs=attrs, out_avals=avals
    ).outputs[0]


def _tensordot(a: Any, b: Any, *, axes: Any) -> Any:
    return jnp.tensordot(a, b, axes=axes)


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    """Sums products over ``axes`` (``tf.tensordot``).

    Args:
        a: A tensor.
        b: A tensor of the same dtype.
        axes: An int N (last N dims of ``a`` with first N of ``b``), or a pair
            of lists of axes.
        name: Op name.

    Raises:
        ValueError: the contracted dims differ.
    """
    a, b = binary_inputs(a, b)
    value = _static(axes, "axes")
    if not isinstance(value, int):
        value = tuple(v if isinstance(v, tuple) else (v,) for v in value)
    return make_op(
        "Tensordot", _tensordot, [a, b], name=name or "Tensordot", attrs={"axes": value}
    ).outputs[0]


def _einsum(*xs: Any, equation: str) -> Any:
    return jnp.einsum(equation, *xs)


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Tensor:
    """Einstein summation over ``inputs`` (``tf.einsum``; kwarg ``name``).

    Raises:
        TypeError: the inputs' dtypes differ.
        ValueError: the equation does not fit the inputs.
    """
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"invalid keyword arguments for einsum: {sorted(kwargs)}")
    ts = [convert_to_tensor(x) for x in inputs]
    _same_dtype(ts, "Einsum")
    return make_op(
        "Einsum", _einsum, ts, name=name or "Einsum", attrs={"equation": equation}
    ).outputs[0]


def _same_dtype(ts: Sequence[Tensor], op_type: str) -> None:
    for t in ts[1:]:
        if t.dtype is not ts[0].dtype:
            raise TypeError(
                f"{op_type} inputs must have one dtype, got {ts[0].dtype.name} and "
                f"{t.dtype.name}: {ts[0]!r} and {t!r}"
            )


def _add_n(*xs: Any) -> Any:
    return functools.reduce(jnp.add, xs)


def add_n(inputs: Sequence[Any], name: str | None = None) -> Tensor:
    """Sums tensors of one shape and dtype elementwise (``tf.add_n``).

    Raises:
        ValueError: ``inputs`` is empty or the shapes differ.
        TypeError: the dtypes differ.
    """
    if not isinstance(inputs, list | tuple) or not inputs:
        raise ValueError(
            "inputs must be a list of at least one Tensor with the same dtype and shape"
        )
    ts = [convert_to_tensor(x) for x in inputs]
    if len(ts) == 1:
        return identity(ts[0], name=name) if name else ts[0]
    _same_dtype(ts, "AddN")
    name = name or "AddN"
    shape = ts[0].shape
    for t in ts[1:]:
        if not shape.is_compatible_with(t.shape):
            raise errors.op_shape_error(
                "AddN", name, ts, "Shapes of all inputs must match"
            )
        shape = shape.merge_with(t.shape)
    known = all(t.shape.is_fully_defined() for t in ts)
    avals = None if known else [Aval(shape.as_tuple(), ts[0].dtype)]
    return make_op("AddN", _add_n, ts, name=name, out_avals=avals).outputs[0]


def accumulate_n(
    inputs: Sequence[Any],
    shape: Any = None,
    tensor_dtype: Any = None,
    name: str | None = None,
) -> Tensor:
    """Same as ``add_n`` (``tf.accumulate_n``); ``shape``/``tensor_dtype`` unused."""
    return add_n(inputs, name=name or "AccumulateNV2")


# -- casts ----------------------------------------------------------------------


def _cast(x: Any, *, dtype: dtypes_lib.DType) -> Any:
    if jnp.iscomplexobj(x) and not dtype.is_complex:
        x = jnp.real(x)
    return jnp.astype(x, dtype.jax_dtype)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """Converts ``x`` to ``dtype`` (``tf.cast``); floats truncate toward zero.

    A tensor already of ``dtype`` is returned as is, as in TF1.

    Raises:
        TypeError: either dtype is string.
    """
    dtype = dtypes_lib.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype is dtype:
        return x
    if dtypes_lib.string in (x.dtype, dtype):
        raise TypeError(
            f"Cast between {x.dtype.name} and {dtype.name} is not supported"
        )
    return make_op(
        "Cast",
        _cast,
        [x],
        name=name or "Cast",
        attrs={"dtype": dtype},
        out_dtypes=[dtype],
    ).outputs[0]


def to_float(x: Any, name: str = "ToFloat") -> Tensor:
    """``cast(x, float32)`` (``tf.to_float``)."""
    return cast(x, dtypes_lib.float32, name=name)


def to_double(x: Any, name: str = "ToDouble") -> Tensor:
    """``cast(x, float64)`` (``tf.to_double``)."""
    return cast(x, dtypes_lib.float64, name=name)


def to_int32(x: Any, name: str = "ToInt32") -> Tensor:
    """``cast(x, int32)`` (``tf.to_int32``)."""
    return cast(x, dtypes_lib.int32, name=name)


def to_int64(x: Any, name: str = "ToInt64") -> Tensor:
    """``cast(x, int64)`` (``tf.to_int64``)."""
    return cast(x, dtypes_lib.int64, name=name)


# -- operators ------------------------------------------------------------------


def _binary_operator(fn: Callable[..., Tensor], op_name: str) -> tuple[Any, Any]:
    def forward(x: Any, y: Any) -> Tensor:
        return fn(x, y, name=op_name)

    def reflected(y: Any, x: Any) -> Tensor:
        return fn(x, y, name=op_name)

    return forward, reflected


# Python operator -> (function, TF1's default op name for it).
_BINARY_OPERATORS = {
    "add": (add, "add"),
    "sub": (subtract, "sub"),
    "mul": (multiply, "mul"),
    "truediv": (truediv, "truediv"),
    "floordiv": (floordiv, "floordiv"),
    "mod": (floormod, "mod"),
    "pow": (pow, "pow"),
    "matmul": (matmul, "matmul"),
    "and": (logical_and, "and"),
    "or": (logical_or, "or"),
    "xor": (logical_xor, "xor"),
}
_UNARY_OPERATORS = {"neg": negative, "abs": abs, "invert": logical_not}
_COMPARISONS = {"lt": less, "le": less_equal, "gt": greater, "ge": greater_equal}


def _install_operators(cls: type) -> None:
    """Gives ``cls`` TF1's operator overloads; ``==``/``!=`` stay identity-based."""
    for dunder, (fn, op_name) in _BINARY_OPERATORS.items():
        forward, reflected = _binary_operator(fn, op_name)
        setattr(cls, f"__{dunder}__", forward)
        setattr(cls, f"__r{dunder}__", reflected)
    for dunder, fn in _UNARY_OPERATORS.items():
        setattr(cls, f"__{dunder}__", lambda x, fn=fn: fn(x))
    for dunder, fn in _COMPARISONS.items():
        setattr(cls, f"__{dunder}__", lambda x, y, fn=fn: fn(x, y))
    # NumPy values on the left defer to the tensor's reflected operator.
    cls.__array_priority__ = 100


_install_operators(Tensor)
_install_operators(Variable)
