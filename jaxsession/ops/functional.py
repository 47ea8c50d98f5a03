"""Functional loops: ``scan``, ``foldl``, ``foldr`` and ``map_fn``.

Each builds its step function once on placeholder arguments (as
``while_loop`` builds its body), turns the ops it made into a ``Subgraph``
and wraps it in one "Scan" op whose lowering is a ``lax.scan`` over the
leading axis of the elements. The op is differentiable through JAX, reads
the variables the step reads and threads those it writes through the loop.
``scan_loop`` is the shared core; ``dynamic_rnn`` uses it too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxsession.graph import subgraph
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor, get_default_graph
from jaxsession.graph.dtypes import as_dtype
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.ops.array.combine import concat
from jaxsession.ops.array.shape import expand_dims
from jaxsession.ops.control_flow import (
    _cast,
    _check_body_outputs,
    _loop_var,
    _outside_controls,
    _state_types,
    _step_key,
    _union,
)

__all__ = ["foldl", "foldr", "map_fn", "scan"]


class _ScanSpec(NamedTuple):
    sub: subgraph.Subgraph
    n_carry: int
    n_xs: int
    n_ext: int
    carry_types: list[Any]
    reads: list[Any]
    written: list[Any]
    reverse: bool
    with_index: bool


def _scan_lowering(spec: _ScanSpec) -> Callable[..., Any]:
    state_types = _state_types(spec.written)
    nc, nx = spec.n_carry, spec.n_xs

    def lower(*values: Any, key: Any = None) -> Any:
        carry = [_cast(c, d) for c, d in zip(values[:nc], spec.carry_types)]
        xs = list(values[nc : nc + nx])
        ext = values[nc + nx : nc + nx + spec.n_ext]
        fixed = dict(zip(spec.reads, values[nc + nx + spec.n_ext :]))
        length = jnp.shape(xs[0])[0]
        if spec.with_index:
            xs.append(jnp.arange(length, dtype=jnp.int32))
        ws = [_cast(fixed[v], d) for v, d in zip(spec.written, state_types)]

        def step(c: Any, x: Any) -> Any:
            i, cs, ws = c
            state = {**fixed, **dict(zip(spec.written, ws))}
            outs, new = spec.sub.evaluate([*cs, *x], ext, state, _step_key(key, i))
            cs = [_cast(o, d) for o, d in zip(outs[:nc], spec.carry_types)]
            ws = [_cast(new[v], d) for v, d in zip(spec.written, state_types)]
            return (i + 1, cs, ws), list(outs[nc:])

        (_, carry, ws), ys = lax.scan(
            step, (jnp.int32(0), carry, ws), xs, reverse=spec.reverse
        )
        return (*carry, *ys, *ws)

    return lower


def _leading(xs: Sequence[Tensor], what: str) -> int | None:
    """The common static leading dimension of ``xs``."""
    n = None
    for x in xs:
        if x.shape.ndims is None:
            raise ValueError(f"{what} must have a known rank, got {x!r}")
        if x.shape.ndims == 0:
            raise ValueError(
                f"Elements in elems must be 1+ dimensional Tensors, not scalars: {x!r}"
            )
        d = x.shape[0].value
        if d is not None and n is not None and d != n:
            raise ValueError(
                f"All elements in elems must have the same leading dimension: "
                f"{n} and {d} ({x!r})"
            )
        n = d if d is not None else n
    return n


def scan_loop(
    step: Callable[[list[Tensor], list[Tensor]], tuple[list[Any], list[Any]]],
    carries: Sequence[Tensor],
    xs: Sequence[Tensor],
    *,
    reverse: bool = False,
    with_index: bool = False,
    name: str = "Scan",
) -> tuple[list[Tensor], list[Tensor]]:
    """One "Scan" op running ``step`` over the leading axis of ``xs``.

    Args:
        step: ``step(carries, slices) -> (new_carries, ys)`` on flat lists of
            tensors; built once. With ``with_index`` the slices end with the
            int32 scalar position along the axis.
        carries: Initial carried tensors; each keeps its dtype and shape.
        xs: At least one tensor; the loop runs over their first axis.
        reverse: Run from the last position to the first.
        with_index: Pass the position as an extra slice.
        name: The op's name.

    Returns:
        The final carries and the stacked ``ys``.

    Raises:
        TypeError, ValueError: a new carry changes dtype or shape.
    """
    length = _leading(xs, "elems")
    carry_args = [_loop_var(c, c.shape.as_tuple()) for c in carries]
    x_args = [_loop_var(x, x.shape.as_tuple()[1:]) for x in xs]
    if with_index:
        x_args.append(_loop_var(convert_to_tensor(0), ()))
    graph = get_default_graph()
    with subgraph.capture(graph) as made:
        new, ys = step(list(carry_args), list(x_args))
        new = [
            convert_to_tensor(n, preferred_dtype=c.dtype) for n, c in zip(new, carries)
        ]
        ys = [convert_to_tensor(y) for y in ys]
    _check_body_outputs(carries, [c.shape.as_tuple() for c in carries], new)
    sub = subgraph.from_region(made, [*carry_args, *x_args], [*new, *ys])
    reads = _union([*sub.reads, *sub.writes])
    spec = _ScanSpec(
        sub=sub,
        n_carry=len(carries),
        n_xs=len(xs),
        n_ext=len(sub.externals),
        carry_types=[c.dtype.jax_dtype for c in carries],
        reads=reads,
        written=list(sub.writes),
        reverse=reverse,
        with_index=with_index,
    )
    n_out = len(carries) + len(ys)
    op = make_op(
        "Scan",
        _scan_lowering(spec),
        [*carries, *xs, *sub.externals],
        name=name,
        reads=reads,
        writes=[(v, n_out + j) for j, v in enumerate(spec.written)],
        random=sub.random,
        out_avals=[
            *(c._aval for c in carries),
            *(Aval((length, *y.shape.as_tuple()), y.dtype) for y in ys),
            *(v._aval for v in spec.written),
        ],
        control_inputs=_outside_controls([sub]),
    )
    outs = list(op.outputs)
    return outs[: len(carries)], outs[len(carries) : n_out]


# -- the public loops -------------------------------------------------------------


def _flat(tree: Any) -> tuple[list[Tensor], Any]:
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return [convert_to_tensor(x) for x in leaves], treedef


def _same_structure(treedef: Any, result: Any, what: str, expected: Any) -> list[Any]:
    leaves, got = jax.tree_util.tree_flatten(result)
    if got != treedef:
        raise ValueError(
            f"{what} must return the same structure as {expected}: expected "
            f"{treedef}, got {got}."
        )
    return leaves


def _accumulate(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any,
    reverse: bool,
    stacked: bool,
) -> Any:
    """The shared body of scan, foldl and foldr."""
    xs, x_tree = _flat(elems)
    if not xs:
        raise ValueError("elems must contain at least one tensor")
    _leading(xs, "elems")
    if initializer is None:
        first = -1 if reverse else 0
        init_tree = x_tree
        inits = [x[first] for x in xs]
        xs = [x[:-1] if reverse else x[1:] for x in xs]
    else:
        inits, init_tree = _flat(initializer)

    def step(carry: list[Tensor], x: list[Tensor]) -> Any:
        acc = jax.tree_util.tree_unflatten(init_tree, carry)
        out = fn(acc, jax.tree_util.tree_unflatten(x_tree, x))
        new = _same_structure(init_tree, out, "fn", "the initializer")
        return new, (new if stacked else [])

    final, ys = scan_loop(step, inits, xs, reverse=reverse)
    if not stacked:
        return jax.tree_util.tree_unflatten(init_tree, final)
    if initializer is None:
        ends = [expand_dims(i, 0) for i in inits]
        ys = [concat([y, e] if reverse else [e, y], 0) for y, e in zip(ys, ends)]
    return jax.tree_util.tree_unflatten(init_tree, ys)


def scan(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    reverse: bool = False,
    name: str | None = None,
) -> Any:
    """Scans ``fn`` over the first axis of ``elems`` (``tf.scan``).

    ``fn(acc, x)`` returns the next accumulator (the structure of
    ``initializer``, or of ``elems`` without one, when the first element is
    the initial accumulator). Runs as one ``lax.scan``.

    Args:
        fn: The step; built once.
        elems: A tensor or nested structure of tensors, unpacked on axis 0.
        initializer: The initial accumulator (default: the first elements).
        parallel_iterations: Ignored.
        back_prop: Ignored: gradients always flow.
        swap_memory: Ignored.
        infer_shape: Ignored: accumulators keep one shape (XLA).
        reverse: Scan from the last element to the first.
        name: Name scope (default "scan").

    Returns:
        The accumulators after each step, stacked on a new first axis.

    Raises:
        ValueError: scalar elems, unequal leading dims, or ``fn`` returning
            another structure.
        TypeError: ``fn`` changes an accumulator's dtype.
    """
    with get_default_graph().name_scope(name or "scan"):
        return _accumulate(fn, elems, initializer, reverse, stacked=True)


def foldl(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: str | None = None,
) -> Any:
    """Folds ``fn`` over ``elems`` from first to last (``tf.foldl``).

    Args:
        fn: ``fn(acc, x)`` returning the next accumulator.
        elems: A tensor or nested structure of tensors, unpacked on axis 0.
        initializer: The initial accumulator (default: the first elements).
        parallel_iterations: Ignored.
        back_prop: Ignored: gradients always flow.
        swap_memory: Ignored.
        name: Name scope (default "foldl").

    Returns:
        The final accumulator.

    Raises:
        ValueError: as ``scan``.
    """
    with get_default_graph().name_scope(name or "foldl"):
        return _accumulate(fn, elems, initializer, False, stacked=False)


def foldr(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: str | None = None,
) -> Any:
    """Folds ``fn`` over ``elems`` from last to first (``tf.foldr``).

    As ``foldl`` (same arguments and errors), but the default initializer is
    the last elements and the fold runs backwards; ``name`` defaults to
    "foldr".
    """
    with get_default_graph().name_scope(name or "foldr"):
        return _accumulate(fn, elems, initializer, True, stacked=False)


def map_fn(
    fn: Callable[[Any], Any],
    elems: Any,
    dtype: Any = None,
    parallel_iterations: int | None = None,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    name: str | None = None,
) -> Any:
    """Applies ``fn`` to each element of ``elems`` on axis 0 (``tf.map_fn``).

    Args:
        fn: ``fn(x)`` with ``x`` of the structure of ``elems``; built once.
        elems: A tensor or nested structure of tensors, unpacked on axis 0.
        dtype: The output structure of dtypes when it differs from ``elems``'.
        parallel_iterations: Ignored.
        back_prop: Ignored: gradients always flow.
        swap_memory: Ignored.
        infer_shape: Ignored.
        name: Name scope (default "map").

    Returns:
        ``fn``'s results stacked on a new first axis.

    Raises:
        ValueError: scalar elems, unequal leading dims, or ``fn``'s result
            structure differs from ``dtype``.
        TypeError: a result's dtype differs from ``dtype``.
    """
    with get_default_graph().name_scope(name or "map"):
        xs, x_tree = _flat(elems)
        if not xs:
            raise ValueError("elems must contain at least one tensor")
        out_tree = x_tree if dtype is None else jax.tree_util.tree_structure(dtype)
        expected = (
            [x.dtype for x in xs]
            if dtype is None
            else [as_dtype(d) for d in jax.tree_util.tree_leaves(dtype)]
        )

        def step(carry: list[Tensor], x: list[Tensor]) -> Any:
            out = fn(jax.tree_util.tree_unflatten(x_tree, x))
            ys = _same_structure(out_tree, out, "fn", "dtype (or elems)")
            ys = [convert_to_tensor(y, preferred_dtype=d) for y, d in zip(ys, expected)]
            for y, d in zip(ys, expected):
                if y.dtype is not d:
                    raise TypeError(
                        f"map_fn: fn returned {y!r}, but dtype says {d.name}"
                    )
            return [], ys

        _, ys = scan_loop(step, [], xs)
        return jax.tree_util.tree_unflatten(out_tree, ys)
