"""The ``tf.assert_*`` family (TF1's ``check_ops``), built on ``tf.Assert``.

As in TF1, a check whose inputs are known while building is decided then:
it raises ``InvalidArgumentError`` (values), ``ValueError`` (ranks) or
``TypeError`` (dtypes) at once, and gives a no-op when it holds. Otherwise
it is an Assert op that fails the run, with TF1's message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Operation, Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.graph.rules import constant_value
from jaxsession.ops import math as math_ops
from jaxsession.ops.array.shape import rank as rank_op, shape as shape_op
from jaxsession.ops.control_flow import no_op
from jaxsession.ops.debug import Assert
from jaxsession.ops.reduction import reduce_all

__all__ = [
    "assert_equal",
    "assert_greater",
    "assert_greater_equal",
    "assert_integer",
    "assert_less",
    "assert_less_equal",
    "assert_near",
    "assert_negative",
    "assert_non_negative",
    "assert_non_positive",
    "assert_none_equal",
    "assert_positive",
    "assert_rank",
    "assert_rank_at_least",
    "assert_scalar",
    "assert_type",
]

Data = Sequence[Any] | None


def _static_text(item: Any) -> str:
    if isinstance(item, Tensor):
        known = constant_value(item)
        return repr(item) if known is None else str(known)
    return str(item)


def _assert_static(holds: bool, data: Sequence[Any]) -> None:
    if not holds:
        message = "\n".join(_static_text(d) for d in data)
        raise errors.InvalidArgumentError(None, None, message)


def _prefix(message: str | None) -> str:
    return f"{message}.  " if message else ""


def _binary(
    sym: str, opname: str, op_func: Callable, static_func: Callable
) -> Callable[..., Operation]:
    def check(
        x: Any,
        y: Any,
        data: Data = None,
        summarize: int | None = None,
        message: str | None = None,
        name: str | None = None,
    ) -> Operation:
        with name_scope(name, opname):
            x = convert_to_tensor(x, name="x")
            y = convert_to_tensor(y, name="y", dtype=x.dtype)
            if data is None:
                data = [
                    f"Condition x {sym} y did not hold element-wise:",
                    f"x ({x.name}) = ",
                    x,
                    f"y ({y.name}) = ",
                    y,
                ]
            if message is not None:
                data = [message, *data]
            xv, yv = constant_value(x), constant_value(y)
            if xv is not None and yv is not None:
                _assert_static(bool(np.all(static_func(xv, yv))), data)
                return no_op(name="static_checks_determined_all_ok")
            condition = reduce_all(op_func(x, y))
            return Assert(condition, data, summarize=summarize)

    check.__name__ = check.__qualname__ = opname
    check.__doc__ = (
        f"Checks ``x {sym} y`` element-wise (``tf.{opname}``).\n\n"
        "Returns:\n    The Assert op (a no-op when decided while building).\n\n"
        "Raises:\n    errors.InvalidArgumentError: it does not hold (while building\n"
        "        when both are known, else when the op runs).\n"
    )
    return check


assert_equal = _binary("==", "assert_equal", math_ops.equal, np.equal)
assert_none_equal = _binary("!=", "assert_none_equal", math_ops.not_equal, np.not_equal)
assert_less = _binary("<", "assert_less", math_ops.less, np.less)
assert_less_equal = _binary(
    "<=", "assert_less_equal", math_ops.less_equal, np.less_equal
)
assert_greater = _binary(">", "assert_greater", math_ops.greater, np.greater)
assert_greater_equal = _binary(
    ">=", "assert_greater_equal", math_ops.greater_equal, np.greater_equal
)


def _unary(
    sym: str, opname: str, binary: Callable, zero_first: bool, joined: bool = False
) -> Callable[..., Operation]:
    def check(
        x: Any,
        data: Data = None,
        summarize: int | None = None,
        message: str | None = None,
        name: str | None = None,
    ) -> Operation:
        with name_scope(name, opname):
            x = convert_to_tensor(x, name="x")
            if data is None:
                what = f"Condition x {sym} 0 did not hold element-wise:"
                shown = f"x ({x.name}) = "
                # TF1's assert_non_positive joins these two strings (a
                # missing comma in its source); kept so messages match.
                pieces = [what + shown] if joined else [what, shown]
                data = [_prefix(message), *pieces, x]
            zero = convert_to_tensor(0, dtype=x.dtype)
            pair = (zero, x) if zero_first else (x, zero)
            return binary(*pair, data=data, summarize=summarize)

    check.__name__ = check.__qualname__ = opname
    check.__doc__ = (
        f"Checks ``x {sym} 0`` element-wise (``tf.{opname}``).\n\n"
        "Returns:\n    The Assert op (a no-op when decided while building).\n\n"
        "Raises:\n    errors.InvalidArgumentError: it does not hold.\n"
    )
    return check


assert_positive = _unary(">", "assert_positive", assert_less, True)
assert_negative = _unary("<", "assert_negative", assert_less, False)
assert_non_negative = _unary(">=", "assert_non_negative", assert_less_equal, True)
assert_non_positive = _unary(
    "<=", "assert_non_positive", assert_less_equal, False, joined=True
)


def assert_near(
    x: Any,
    y: Any,
    rtol: Any = None,
    atol: Any = None,
    data: Data = None,
    summarize: int | None = None,
    message: str | None = None,
    name: str | None = None,
) -> Operation:
    """Checks ``|x - y| < atol + rtol * |y|`` element-wise (``tf.assert_near``).

    Tolerances default to 10 machine epsilons of the dtype.

    Returns:
        The Assert op.

    Raises:
        errors.InvalidArgumentError: when the op runs and ``x``, ``y`` differ.
    """
    with name_scope(name, "assert_near"):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, name="y", dtype=x.dtype)
        eps = float(np.finfo(x.dtype.np_dtype).eps)
        rtol = convert_to_tensor(
            10 * eps if rtol is None else rtol, name="rtol", dtype=x.dtype
        )
        atol = convert_to_tensor(
            10 * eps if atol is None else atol, name="atol", dtype=x.dtype
        )
        if data is None:
            data = [
                _prefix(message),
                f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}",
                f"x ({x.name}) = ",
                x,
                f"y ({y.name}) = ",
                y,
            ]
        tol = atol + rtol * math_ops.abs(y)
        condition = reduce_all(math_ops.less(math_ops.abs(x - y), tol))
        return Assert(condition, data, summarize=summarize)


def _rank_check(
    x: Any,
    rank: int,
    at_least: bool,
    data: Data,
    summarize: int | None,
    message: str | None,
    name: str | None,
) -> Operation:
    opname = "assert_rank_at_least" if at_least else "assert_rank"
    what = "must have rank at least" if at_least else "must have rank"
    with name_scope(name, opname):
        x = convert_to_tensor(x)
        static = x.shape.ndims
        if static is not None:
            holds = static >= rank if at_least else static == rank
            if not holds:
                raise ValueError(
                    f"{_prefix(message)}Tensor {x.name} {what} {rank}.  Received "
                    f"rank {static}, shape {x.shape}"
                )
            return no_op(name="static_checks_determined_all_ok")
        if data is None:
            data = [
                _prefix(message),
                f"Tensor {x.name} {what}",
                rank,
                "Received shape: ",
                shape_op(x),
            ]
        compare = math_ops.greater_equal if at_least else math_ops.equal
        return Assert(compare(rank_op(x), rank), data, summarize=summarize)


def _rank_assert(at_least: bool) -> Callable[..., Operation]:
    opname = "assert_rank_at_least" if at_least else "assert_rank"

    def check(
        x: Any,
        rank: int,
        data: Data = None,
        summarize: int | None = None,
        message: str | None = None,
        name: str | None = None,
    ) -> Operation:
        return _rank_check(x, rank, at_least, data, summarize, message, name)

    check.__name__ = check.__qualname__ = opname
    what = "``rank`` or more" if at_least else "rank ``rank``"
    check.__doc__ = (
        f"Checks that ``x`` has {what} (``tf.{opname}``).\n\n"
        "Returns:\n    The Assert op (a no-op when the static rank decides).\n\n"
        "Raises:\n    ValueError: the static rank is known and fails (while\n"
        "        building).\n    errors.InvalidArgumentError: the run-time rank fails.\n"
    )
    return check


assert_rank = _rank_assert(False)
assert_rank_at_least = _rank_assert(True)


def assert_scalar(tensor: Any, name: str | None = None, message: str | None = None):
    """``tensor`` itself, after checking that its static rank is 0.

    Raises:
        ValueError: its rank is unknown or not 0.
    """
    with name_scope(name, "assert_scalar"):
        t = convert_to_tensor(tensor)
        if t.shape.ndims != 0:
            raise ValueError(
                f"{_prefix(message)}Expected scalar shape for {t.name}, saw shape: "
                f"{t.shape}."
            )
        return t


def assert_type(
    tensor: Any, tf_type: Any, message: str | None = None, name: str | None = None
) -> Operation:
    """Checks ``tensor``'s dtype while building (``tf.assert_type``).

    Returns:
        A no-op.

    Raises:
        TypeError: the dtype is not ``tf_type``.
    """
    want = dtypes_lib.as_dtype(tf_type)
    if tensor.dtype is not want:
        raise TypeError(
            f"{_prefix(message)}{getattr(tensor, 'name', 'tensor')} must be of type "
            f"tf.{want.name}; got tf.{tensor.dtype.name}"
        )
    with name_scope(name, "assert_type"):
        return no_op(name="statically_determined_correct_type")


def assert_integer(
    x: Any, message: str | None = None, name: str | None = None
) -> Operation:
    """Checks that ``x`` has an integer dtype, while building (``tf.assert_integer``).

    Returns:
        A no-op.

    Raises:
        TypeError: ``x`` is not integer.
    """
    with name_scope(name, "assert_integer"):
        x = convert_to_tensor(x)
        if not x.dtype.is_integer:
            raise TypeError(
                f'{_prefix(message)}Expected "x" to be integer type.  Found: '
                f"{x.name} of dtype <dtype: '{x.dtype.name}'>"
            )
        return no_op(name="statically_determined_was_integer")
