"""Static types of op outputs: ``Aval`` and its inference by ``jax.eval_shape``.

An op's output shapes and dtypes come from running its lowering function on
stand-ins: unknown (None) dims get two different stand-in sizes and an
output dim that differs between the two runs is unknown. This accepts what
TF1 accepts for unknown batch dims (two ``?`` dims are compatible), which
distinct symbolic dims would not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.rules import constant_value

# Two stand-in sizes for unknown dims; highly composite so that reshapes with
# -1 divide evenly, and different so that unknown dims can be told apart.
_SENTINELS = (55440, 110880)
_RANK_GUESSES = (0, 2, 1, 3, 4)


class Aval(NamedTuple):
    """The static type of one output: shape (None dims unknown) and dtype."""

    shape: tuple[int | None, ...] | None
    dtype: dtypes_lib.DType


def _aval_of(x: Any) -> Aval:
    return x._aval  # a Tensor's or a Variable's


def _stand_in(aval: Aval, sentinel: int, rank: int) -> jax.ShapeDtypeStruct:
    shape = aval.shape if aval.shape is not None else (None,) * rank
    dims = tuple(sentinel if d is None else d for d in shape)
    if aval.dtype is dtypes_lib.string:
        raise TypeError("string tensors cannot be used by device ops")
    return jax.ShapeDtypeStruct(dims, aval.dtype.jax_dtype)


def _abstract_eval(
    fn: Callable[..., Any],
    args: Sequence[Any],
    consts: Sequence[np.ndarray | None],
    kwargs: dict[str, Any],
    sentinel: int,
    rank: int,
) -> list[jax.ShapeDtypeStruct]:
    """One stand-in run; ``args`` are Avals, Tensors or Variables."""
    in_avals = [a if isinstance(a, Aval) else _aval_of(a) for a in args]
    avals = [
        None if c is not None else _stand_in(a, sentinel, rank)
        for a, c in zip(in_avals, consts)
    ]
    abstract = [i for i, a in enumerate(avals) if a is not None]

    def call(*xs: Any) -> Any:
        vals = list(consts)
        for i, x in zip(abstract, xs):
            vals[i] = x
        return fn(*vals, **kwargs)

    out = jax.eval_shape(call, *[avals[i] for i in abstract])
    return list(out) if isinstance(out, tuple | list) else [out]


def infer_avals(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    out_dtypes: Sequence[Any] | None,
) -> list[Aval]:
    """The output types of ``fn`` applied to ``args`` (Tensors or Variables).

    Args:
        fn: The op's lowering function.
        args: Its inputs followed by the variables it reads.
        kwargs: Static keyword arguments of ``fn``.
        out_dtypes: Output dtypes overriding the inferred ones, or None.

    Returns:
        One Aval per output; a dim that differs between the two stand-in runs
        is unknown (None), and an unknown-rank input gives unknown shapes.

    Raises:
        TypeError/ValueError: ``fn`` does not accept inputs of these types.
    """
    consts = [constant_value(a) for a in args]
    in_avals = [_aval_of(a) for a in args]
    try:
        first, shapes_ = _eval_shapes(fn, in_avals, consts, kwargs)
    except (TypeError, ValueError) as e:
        # The stand-ins of unknown dims need not broadcast against known dims
        # (TF1 accepts (3,) + (?,)): retry with the unknown dims that a static
        # broadcast pins down set to their known size.
        refined = _broadcast_refined(in_avals)
        if refined is None:
            raise
        try:
            first, shapes_ = _eval_shapes(fn, refined, consts, kwargs)
        except (TypeError, ValueError):
            raise e from None
    declared = [a.dtype for a in in_avals]
    dts = out_dtypes or [_declared_dtype(o.dtype, declared) for o in first]
    return [Aval(s, dtypes_lib.as_dtype(d)) for s, d in zip(shapes_, dts)]


def _eval_shapes(
    fn: Callable[..., Any],
    in_avals: Sequence[Aval],
    consts: Sequence[np.ndarray | None],
    kwargs: dict[str, Any],
) -> tuple[list[jax.ShapeDtypeStruct], list[Any]]:
    """The outputs of one stand-in run and the merged output shapes."""
    abstract = [a for a, c in zip(in_avals, consts) if c is None]
    if any(a.shape is None for a in abstract):
        first, error = None, None
        for rank in _RANK_GUESSES:
            try:
                first = _abstract_eval(
                    fn, in_avals, consts, kwargs, _SENTINELS[0], rank
                )
                break
            except Exception as e:
                error = e
        if first is None:
            return _unknown_rank_fallback(in_avals, error), [None]
        return first, [None] * len(first)
    first = _abstract_eval(fn, in_avals, consts, kwargs, _SENTINELS[0], 0)
    shapes_ = [tuple(o.shape) for o in first]
    if any(None in a.shape for a in abstract):
        second = _abstract_eval(fn, in_avals, consts, kwargs, _SENTINELS[1], 0)
        shapes_ = [_merge_runs(a.shape, b.shape) for a, b in zip(first, second)]
    return first, shapes_


def _unknown_rank_fallback(
    in_avals: Sequence[Aval], error: Exception
) -> list[jax.ShapeDtypeStruct]:
    """One output of unknown shape, for an op no rank guess could build.

    TF1's shape functions give an unknown shape when an input's rank is
    unknown (``tf.matmul`` of a shape-less placeholder) and leave the check to
    the run, where the lowering sees real shapes; the dtype is the inputs'
    promoted dtype.

    Raises:
        ``error``: an input is a string, or the dtypes do not promote.
    """
    if any(a.dtype is dtypes_lib.string for a in in_avals):
        raise error
    try:
        dtype = jnp.result_type(*(a.dtype.jax_dtype for a in in_avals))
    except TypeError:
        raise error from None
    return [jax.ShapeDtypeStruct((), dtype)]


def _broadcast_refined(in_avals: Sequence[Aval]) -> list[Aval] | None:
    """``in_avals`` with unknown dims set from their static broadcast, or None.

    None when the shapes do not broadcast statically or nothing is pinned down.
    """
    if any(a.shape is None for a in in_avals):
        return None
    try:
        # The initial () keeps a single input's shape a TensorShape too.
        out = functools.reduce(
            shapes.broadcast_static_shape, [a.shape for a in in_avals], ()
        ).as_list()
    except ValueError:
        return None
    refined = []
    for a in in_avals:
        tail = out[len(out) - len(a.shape) :]
        shape = tuple(o if d is None else d for d, o in zip(a.shape, tail))
        refined.append(Aval(shape, a.dtype))
    if all(r.shape == a.shape for r, a in zip(refined, in_avals)):
        return None
    return refined


def _merge_runs(
    a: tuple[int, ...], b: tuple[int, ...]
) -> tuple[int | None, ...] | None:
    if len(a) != len(b):
        return None
    return tuple(x if x == y else None for x, y in zip(a, b))


def _declared_dtype(
    jax_dtype: Any, declared: Sequence[dtypes_lib.DType]
) -> dtypes_lib.DType:
    # An int64 input computes as int32 on a 32-bit JAX; keep the declared type.
    for d in declared:
        if d is not dtypes_lib.string and d.jax_dtype == jax_dtype:
            return d
    return dtypes_lib.as_dtype(jax_dtype)
