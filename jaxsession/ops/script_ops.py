"""``tf.py_func`` and ``tf.numpy_function``: Python functions as graph ops.

Where every input is fed or known while building, the function runs on the
host before the device call, on the real values (a host op, like TF1's
input pipelines). Elsewhere it runs inside the compiled run through
``jax.pure_callback`` (``stateful=False``) or ``jax.experimental.io_callback``.
There the output shapes must be known when the run is compiled: they come
from the outputs' static shapes when the program set them fully
(``y.set_shape([...])``, as TF1 programs do), else from one call of the
function on zeros of the inputs' shapes.

An exception in the function fails the run with TF1's error class for it
(``ValueError``/``TypeError`` -> ``InvalidArgumentError``, ``StopIteration``
-> ``OutOfRangeError``, ...); a run whose device callback failed keeps its
variables, as any failed check does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import io_callback

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import (
    CHECK_OPS,
    EFFECT_OPS,
    HOST_OPS,
    NOT_DIFFERENTIABLE,
    constant_value,
)

__all__ = ["numpy_function", "py_func"]

_ERROR_CLASSES: tuple[tuple[type[BaseException], type[errors.OpError]], ...] = (
    (ValueError, errors.InvalidArgumentError),
    (TypeError, errors.InvalidArgumentError),
    (StopIteration, errors.OutOfRangeError),
    (MemoryError, errors.ResourceExhaustedError),
    (NotImplementedError, errors.UnimplementedError),
)


class _Func:
    """The wrapped Python function of one op; remembers a failed call's error."""

    def __init__(self, func: Callable[..., Any], dtypes: Sequence[Any]):
        self.func = func
        self.dtypes = tuple(dtypes)
        self.error: BaseException | None = None
        # The op's result tensors, whose static shapes (``set_shape``) the
        # compiled callback uses when they are fully known.
        self.outputs: tuple = ()

    def __repr__(self) -> str:
        return f"<py_func {getattr(self.func, '__name__', 'func')}>"

    def call(self, op: Operation | None, *args: Any) -> list[np.ndarray]:
        """Calls the function; returns its results checked against ``Tout``."""
        result = self.func(*(np.asarray(a) for a in args))
        values = list(result) if isinstance(result, list | tuple) else [result]
        if len(values) != len(self.dtypes):
            raise ValueError(
                f"{self!r} returned {len(values)} values; Tout has {len(self.dtypes)}"
            )
        return [
            _checked(i, v, d, self) for i, (v, d) in enumerate(zip(values, self.dtypes))
        ]


def _checked(i: int, value: Any, dtype: Any, func: _Func) -> np.ndarray:
    # Python numbers and lists take Tout's dtype; arrays must already have it.
    if not isinstance(value, np.ndarray | np.generic):
        return np.asarray(value, dtype=dtype.np_dtype)
    arr = np.asarray(value)
    if arr.dtype != dtype.np_dtype and dtype is not dtypes_lib.string:
        raise ValueError(
            f"{i}-th value returned by {func!r} is {arr.dtype.name}, but expects "
            f"{dtype.name}"
        )
    return arr


def _op_error(op: Operation, e: BaseException) -> errors.OpError:
    cls = next((c for k, c in _ERROR_CLASSES if isinstance(e, k)), errors.UnknownError)
    return cls(
        None, op, f"{type(e).__name__}: {e}\n\t [[{errors.op_site(op)} (py_func)]]"
    )


# -- the host op -----------------------------------------------------------------


def _host_py_func(op: Operation, ctx: Any, inputs: list[Any]) -> tuple[Any, ...]:
    try:
        return tuple(op.attrs["func"].call(op, *inputs))
    except errors.OpError:
        raise
    except Exception as e:
        raise _op_error(op, e) from e


# -- the device op ---------------------------------------------------------------


def _device_lowering(*args: Any, func: _Func, stateful: bool) -> tuple[Any, ...]:
    shapes = _result_shapes(func, args)

    def host(*values: Any) -> tuple[Any, ...]:
        try:
            out = func.call(None, *values)
            return (*out, np.bool_(True))
        except Exception as e:  # reported by the check, after the call
            func.error = e
            zeros = [np.zeros(s.shape, s.dtype) for s in shapes]
            return (*zeros, np.bool_(False))

    result = (*shapes, jax.ShapeDtypeStruct((), jnp.bool_))
    if stateful:
        return tuple(io_callback(host, result, *args, ordered=False))
    return tuple(jax.pure_callback(host, result, *args))


def _result_shapes(func: _Func, args: Sequence[Any]) -> list[jax.ShapeDtypeStruct]:
    # The compiled run needs the result shapes: the static shapes when the
    # program set them (``y.set_shape(...)``), else one call on zeros.
    if func.outputs and all(t.shape.is_fully_defined() for t in func.outputs):
        return [
            jax.ShapeDtypeStruct(tuple(t.shape.as_list()), d.jax_dtype)
            for t, d in zip(func.outputs, func.dtypes)
        ]
    zeros = [np.zeros(a.shape, a.dtype) for a in args]
    out = func.call(None, *zeros)
    return [
        jax.ShapeDtypeStruct(v.shape, d.jax_dtype) for v, d in zip(out, func.dtypes)
    ]


def _device_error(op: Operation, reports: list[Any]) -> errors.OpError:
    func = op.attrs["func"]
    error, func.error = func.error, None
    return _op_error(op, error or RuntimeError("the function failed"))


# -- the public functions ----------------------------------------------------------


def _on_host(inputs: Sequence[Tensor]) -> bool:
    return all(
        t.op.type == "Placeholder" or constant_value(t) is not None for t in inputs
    )


def py_func(
    func: Callable[..., Any],
    inp: Sequence[Any],
    Tout: Any,
    stateful: bool = True,
    name: str | None = None,
) -> Tensor | list[Tensor]:
    """Wraps ``func`` (NumPy in, NumPy out) as an op (``tf.py_func``).

    Differs from TF1: inside a compiled run, outputs whose shapes the program
    did not set (``set_shape``) get them from one call of ``func`` on zeros
    when the run is compiled (see the module).

    Args:
        func: A Python function of NumPy arrays returning an array or a list.
        inp: Its input tensors.
        Tout: One dtype, or a list of dtypes (then a list is returned).
        stateful: Whether ``func`` has side effects (run every time).
        name: Op name.

    Returns:
        One tensor of unknown shape, or a list when ``Tout`` is a list.

    Raises:
        errors.InvalidArgumentError (and TF1's other classes): at run time,
            ``func`` raised or returned a value of another dtype.
    """
    single = not isinstance(Tout, list | tuple)
    dtypes = [dtypes_lib.as_dtype(d) for d in ([Tout] if single else Tout)]
    tensors = [convert_to_tensor(x) for x in inp]
    wrapped = _Func(func, dtypes)
    avals = [Aval(None, d) for d in dtypes]
    if _on_host(tensors):
        op = make_op(
            "PyFunc" if stateful else "PyFuncStateless",
            _no_device,
            tensors,
            name=name or "PyFunc",
            attrs={"func": wrapped},
            out_avals=avals,
        )
        outs = list(op.outputs)
    else:
        op = make_op(
            "PyFuncCallback",
            _device_lowering,
            tensors,
            name=name or "PyFunc",
            attrs={"func": wrapped, "stateful": stateful},
            out_avals=[*avals, Aval((), dtypes_lib.bool_)],
        )
        outs = list(op.outputs[:-1])
        wrapped.outputs = tuple(outs)
    return outs[0] if single else outs


def numpy_function(
    func: Callable[..., Any],
    inp: Sequence[Any],
    Tout: Any,
    stateful: bool = True,
    name: str | None = None,
) -> Tensor | list[Tensor]:
    """``tf.numpy_function``: the same as ``py_func``."""
    return py_func(func, inp, Tout, stateful=stateful, name=name)


def _no_device(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a host py_func never runs on the device")


HOST_OPS["PyFunc"] = _host_py_func
HOST_OPS["PyFuncStateless"] = _host_py_func
CHECK_OPS["PyFuncCallback"] = (-1, _device_error)
EFFECT_OPS.update(("PyFunc", "PyFuncStateless", "PyFuncCallback"))
NOT_DIFFERENTIABLE.update(("PyFunc", "PyFuncStateless", "PyFuncCallback"))
