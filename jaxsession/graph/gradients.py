"""Symbolic differentiation: ``tf.gradients`` and ``tf.hessians`` via JAX autodiff.

``gradients(ys, xs)`` builds ONE op ("Gradients"). Its lowering re-evaluates
the ops on the paths from ``xs`` to ``ys`` (a ``Subgraph``) as a JAX function
of the values of ``xs`` and differentiates it with ``jax.vjp``; no per-op
gradient rules are needed, and XLA shares the re-evaluated forward pass with
the original one. Random ops inside the region get the run's key, so they draw
the same numbers as in the forward pass.

A Variable in ``xs`` stands for every op that reads it (its ``v:0`` snapshot,
``v/read`` ops made under control dependencies, and ``cond``/``while_loop``
ops whose regions read it): each read is an argument of the region and the
variable's gradient is the sum over its reads.

An x gets None, as in TF1, unless some path from it to a y is differentiable:
no op on it is in ``rules.NOT_DIFFERENTIABLE``, no edge enters an input in
``rules.NO_GRADIENT_INPUTS``, and every tensor on it is floating or complex.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxsession.graph import initializers, subgraph
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Graph, Operation, Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import (
    NO_GRADIENT_INPUTS,
    NOT_DIFFERENTIABLE,
    PRIMAL_OUTPUTS,
)
from jaxsession.graph.variables import Variable

__all__ = ["AggregationMethod", "UnconnectedGradients", "gradients", "hessians"]

# Op types TF1 registers as not differentiable: no gradient flows through them.
_STOP_TYPES = ("StopGradient",)

# Per graph, each Gradients op's differentiated ys with the index of the
# output that also holds their value (``rules.PRIMAL_OUTPUTS``).
_PRIMALS: weakref.WeakKeyDictionary[
    Graph, dict[int, tuple[tuple[Tensor, int], ...]]
] = weakref.WeakKeyDictionary()
PRIMAL_OUTPUTS["Gradients"] = lambda op: _PRIMALS.get(op.graph, {}).get(op.id, ())


class AggregationMethod:
    """Accepted for TF1 compatibility; XLA decides how gradients are summed."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class UnconnectedGradients:
    """What ``gradients`` returns for an ``x`` that ``ys`` does not depend on."""

    NONE = "none"
    ZERO = "zero"


@dataclasses.dataclass(frozen=True)
class _Path:
    """The region from the differentiated tensors to ``ys``.

    ``sub.args`` are the differentiated tensors, then the ``n_state``
    differentiated Variables read inside regions (``n_diff`` in all, each
    owned by the xs in ``owners``), then the stop-gradient tensors.
    """

    sub: subgraph.Subgraph
    n_diff: int
    n_state: int
    owners: tuple[tuple[int, ...], ...]
    connected: tuple[int, ...]


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, list | tuple) else [x]


def _differentiable(dtype: Any) -> bool:
    return dtype.is_floating or dtype.is_complex


def _variable_reads(graph: Graph) -> dict[Variable, list[Tensor]]:
    """Each variable's pure read ops: no inputs, no writes, one output."""
    found: dict[Variable, list[Tensor]] = {}
    for op in graph.get_operations():
        if (
            len(op.reads) == 1
            and not op.inputs
            and not op.writes
            and len(op.outputs) == 1
        ):
            found.setdefault(op.reads[0], []).append(op.outputs[0])
    return found


def _arg_candidates(xs: Sequence[Any], graph: Graph) -> dict[Any, list[int]]:
    """Tensor or Variable -> indices of the xs it stands for (float/complex xs)."""
    reads = None
    owners: dict[Any, list[int]] = {}
    for i, x in enumerate(xs):
        if not _differentiable(x.dtype):
            continue
        if isinstance(x, Variable):
            reads = _variable_reads(graph) if reads is None else reads
            tensors = [*reads.get(x, []), x]
        else:
            tensors = [x]
        for t in tensors:
            owners.setdefault(t, []).append(i)
    return owners


def _stop_tensors(graph: Graph, stop_gradients: Sequence[Any]) -> list[Tensor]:
    stops = [convert_to_tensor(s) for s in stop_gradients]
    for op in graph.get_operations():
        if op.type in _STOP_TYPES:
            stops.extend(op.outputs)
    return list(dict.fromkeys(stops))


def _build_path(
    ys: list[Tensor], xs: list[Any], stop_gradients: Sequence[Any]
) -> _Path:
    graph = ys[0].graph
    owners = _arg_candidates(xs, graph)
    stops = [t for t in _stop_tensors(graph, stop_gradients) if t not in owners]
    sub = subgraph.from_path([*owners, *stops], ys)
    used = {t for op in sub.ops for t in (*op.inputs, *op.reads)} | set(ys)
    diff = [t for t in owners if t in used and isinstance(t, Tensor)]
    state = [v for v in owners if v in used and isinstance(v, Variable)]
    kept_stops = [t for t in stops if t in used]
    sub = dataclasses.replace(sub, args=(*diff, *state, *kept_stops))
    diff += state
    reached = _reached(sub, diff, ys)
    connected = sorted({i for k, t in enumerate(diff) if reached[k] for i in owners[t]})
    return _Path(
        sub,
        len(diff),
        len(state),
        tuple(tuple(owners[t]) for t in diff),
        tuple(connected),
    )


def _reached(sub: subgraph.Subgraph, diff: list[Any], ys: list[Tensor]) -> list[bool]:
    """Whether each differentiated argument reaches a y by a differentiable path."""
    masks: dict[Any, int] = {a: 1 << k for k, a in enumerate(diff)}
    for op in sub.ops:
        if op.type in NOT_DIFFERENTIABLE:
            continue
        rule = NO_GRADIENT_INPUTS.get(op.type)
        skip = rule(op) if rule is not None else ()
        mask = 0
        for j, t in enumerate(op.inputs):
            if j not in skip and _differentiable(t.dtype):
                mask |= masks.get(t, 0)
        for v in op.reads:
            mask |= masks.get(v, 0)
        if mask:
            # A region op's written values (after its results) carry no gradient.
            written = {i for _, i in op.writes}
            for i, t in enumerate(op.outputs):
                if i not in written and _differentiable(t.dtype):
                    masks[t] = masks.get(t, 0) | mask
    total = 0
    for y in ys:
        if _differentiable(y.dtype):
            total |= masks.get(y, 0)
    return [bool(total >> k & 1) for k in range(len(diff))]


def _tensor_args(sub: subgraph.Subgraph) -> list[Tensor]:
    """The region's arguments fed as op inputs (Variables come from its reads)."""
    return [a for a in sub.args if isinstance(a, Tensor)]


def _with_state_args(path: _Path, diff: Sequence[Any], state: dict) -> list[Any]:
    """The differentiated values: tensor arguments, then the read Variables'."""
    start = path.n_diff - path.n_state
    return [*diff, *(state[v] for v in path.sub.args[start : path.n_diff])]


def _outside_controls(sub: subgraph.Subgraph) -> list[Operation]:
    # Re-evaluated ops must still run after what their own ops were ordered after.
    inside = set(sub.ops)
    controls = [c for op in sub.ops for c in op.control_inputs if c not in inside]
    # The re-evaluation drops what a cond or loop assigns; the op itself must
    # still run once, as TF1's forward pass does when only gradients are run.
    controls += [op for op in sub.ops if op.writes]
    return list(dict.fromkeys(controls))


def _x_aval(x: Any) -> Aval:
    if isinstance(x, Variable):
        return x._aval
    return Aval(x.shape.as_tuple(), x.dtype)


def _region_fn(
    path: _Path, consts: Sequence[Any], ext: Sequence[Any], state: dict, key: Any
) -> Callable[..., list[Any]]:
    """The region's ys as a function of the differentiated arguments' values."""

    def f(*diff: Any) -> list[Any]:
        outs, _ = path.sub.evaluate([*diff, *consts], ext, state, key, replay=True)
        return [jnp.asarray(o) for o in outs]

    return f


def _split(values: Sequence[Any], sizes: Sequence[int]) -> list[list[Any]]:
    parts, start = [], 0
    for n in sizes:
        parts.append(list(values[start : start + n]))
        start += n
    return parts


def _sum_by_owner(path: _Path, cts: Sequence[Any], xs: list[Any]) -> list[Any]:
    totals: dict[int, Any] = {}
    for owners, ct in zip(path.owners, cts):
        for i in owners:
            totals[i] = ct if i not in totals else totals[i] + ct
    return [jnp.asarray(totals[i], xs[i].dtype.jax_dtype) for i in path.connected]


def _weights(
    gys: Sequence[Any], given: Sequence[bool], wanted: Sequence[bool]
) -> list[Any]:
    """The supplied grad_ys (None where defaulted) of the differentiable ys."""
    supplied = iter(gys)
    out = []
    for has, w in zip(given, wanted):
        g = next(supplied) if has else None
        if w:
            out.append(g)
    return out


def _gradient_lowering(
    path: _Path, xs: list[Any], given: Sequence[bool], ys: list[Tensor]
) -> Callable[..., tuple[Any, ...]]:
    sub = path.sub
    sizes = (
        path.n_diff - path.n_state,
        len(sub.args) - path.n_diff,
        sum(given),
        len(sub.externals),
        len(sub.reads),
    )
    wanted = [_differentiable(y.dtype) for y in ys]

    def lower(*values: Any, key: Any = None) -> tuple[Any, ...]:
        diff, consts, gys, ext, state = _split(values, sizes)
        state = dict(zip(sub.reads, state))
        diff = _with_state_args(path, diff, state)
        f = _region_fn(path, consts, ext, state, key)

        def g(*d: Any) -> list[Any]:
            return [o for o, w in zip(f(*d), wanted) if w]

        outs, vjp = jax.vjp(g, *diff)
        cotangents = [
            jnp.ones_like(o) if c is None else jnp.asarray(c, o.dtype)
            for o, c in zip(outs, _weights(gys, given, wanted))
        ]
        return (*_sum_by_owner(path, vjp(cotangents), xs), *outs)

    return lower


def _check_grad_ys(ys: list[Tensor], grad_ys: list[Any]) -> list[Tensor | None]:
    if len(grad_ys) != len(ys):
        raise ValueError(
            f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys: grad_ys must have one "
            "entry (or None) per y."
        )
    out: list[Tensor | None] = []
    for y, g in zip(ys, grad_ys):
        if g is None:
            out.append(None)
            continue
        g = convert_to_tensor(g, dtype=y.dtype)
        if not g.shape.is_compatible_with(y.shape):
            raise ValueError(
                f"Incompatible shapes between op input and calculated input gradient: "
                f"{y!r} has shape {y.shape}, its grad_ys entry {g!r} has shape {g.shape}."
            )
        out.append(g)
    return out


def _unconnected(xs: list[Any], path_connected: Sequence[int], mode: Any) -> list[Any]:
    """Fills the results for xs that ys does not depend on."""
    mode = getattr(mode, "value", mode)
    if mode not in (UnconnectedGradients.NONE, UnconnectedGradients.ZERO):
        raise ValueError(f"Unknown value for unconnected_gradients: {mode!r}")
    result: list[Any] = [None] * len(xs)
    if mode == UnconnectedGradients.ZERO:
        for i, x in enumerate(xs):
            if i not in path_connected:
                result[i] = _zeros_like(x)
    return result


def _zeros_like(x: Any) -> Tensor:
    aval = _x_aval(x)
    if aval.shape is not None and None not in aval.shape:
        # A known shape needs no value of x (which may be an unfed placeholder).
        return initializers.zeros_initializer()(aval.shape, dtype=aval.dtype)

    def zeros(v: Any) -> Any:
        return jnp.zeros_like(v)

    t = convert_to_tensor(x)
    return make_op(
        "ZerosLike", zeros, [t], name="zeros_like", out_avals=[aval]
    ).outputs[0]


def gradients(
    ys: Any,
    xs: Any,
    grad_ys: Any = None,
    name: str = "gradients",
    colocate_gradients_with_ops: bool = False,
    gate_gradients: bool = False,
    aggregation_method: Any = None,
    stop_gradients: Any = None,
    unconnected_gradients: Any = UnconnectedGradients.NONE,
) -> list[Tensor | None]:
    """Symbolic derivatives of ``sum(ys)`` with respect to each of ``xs``.

    Args:
        ys: A tensor or list of tensors to differentiate.
        xs: A tensor, Variable, or list of them.
        grad_ys: Optional tensors (one per y, or None) weighting each y; ones by default.
        name: Name of the gradient op.
        colocate_gradients_with_ops: Ignored; XLA places the computation.
        gate_gradients: Ignored; the gradients come from one op.
        aggregation_method: Ignored; XLA sums the gradients.
        stop_gradients: Tensors treated as constants: no gradient flows through them.
        unconnected_gradients: ``"none"`` (TF1) or ``"zero"`` for xs that ys do not use.

    Returns:
        One tensor per x, with x's shape and dtype; None where ys do not depend on x
        (or x is an integer tensor).

    Raises:
        ValueError: ``grad_ys`` does not match ``ys``.

    Differs from TF1: one op computes all gradients (no ``gradients/*_grad`` ops).
    """
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [x if isinstance(x, Variable) else convert_to_tensor(x) for x in _as_list(xs)]
    given = _check_grad_ys(
        ys, _as_list(grad_ys) if grad_ys is not None else [None] * len(ys)
    )
    path = _build_path(
        ys, xs, _as_list(stop_gradients) if stop_gradients is not None else []
    )
    result = _unconnected(xs, path.connected, unconnected_gradients)
    if not path.connected:
        return result
    sub = path.sub
    # After the gradients, the values of the differentiated ys (for the engine).
    primal = [y for y in ys if _differentiable(y.dtype)]
    op = make_op(
        "Gradients",
        _gradient_lowering(path, xs, [g is not None for g in given], ys),
        [*_tensor_args(sub), *(g for g in given if g is not None), *sub.externals],
        name=name,
        reads=sub.reads,
        random=sub.random,
        out_avals=[_x_aval(xs[i]) for i in path.connected] + [y._aval for y in primal],
        control_inputs=_outside_controls(sub),
    )
    n = len(path.connected)
    _PRIMALS.setdefault(op.graph, {})[op.id] = tuple(
        (y, n + k) for k, y in enumerate(primal)
    )
    for i, t in zip(path.connected, op.outputs):
        result[i] = t
    return result


def _hessian_lowering(path: _Path, xs: list[Any]) -> Callable[..., tuple[Any, ...]]:
    sub = path.sub
    sizes = (
        path.n_diff - path.n_state,
        len(sub.args) - path.n_diff,
        len(sub.externals),
        len(sub.reads),
    )

    def lower(*values: Any, key: Any = None) -> tuple[Any, ...]:
        diff, consts, ext, state = _split(values, sizes)
        state = dict(zip(sub.reads, state))
        diff = _with_state_args(path, diff, state)
        f = _region_fn(path, consts, ext, state, key)
        results = []
        for i in path.connected:
            mine = [j for j, owners in enumerate(path.owners) if i in owners]

            def total(xv: Any, mine: list[int] = mine) -> Any:
                args = [xv if j in mine else d for j, d in enumerate(diff)]
                return sum(jnp.sum(o) for o in f(*args))

            # Reverse over reverse, as TF1's gradients of gradients: an op
            # with a custom gradient (conv2d_transpose's) has no forward mode.
            h = jax.jacrev(jax.jacrev(total))(jnp.asarray(diff[mine[0]]))
            results.append(jnp.asarray(h, xs[i].dtype.jax_dtype))
        return tuple(results)

    return lower


def hessians(
    ys: Any,
    xs: Any,
    name: str = "hessians",
    colocate_gradients_with_ops: bool = False,
    gate_gradients: bool = False,
    aggregation_method: Any = None,
) -> list[Tensor | None]:
    """The Hessian of ``sum(ys)`` with respect to each x in ``xs``.

    Args:
        ys: A tensor or list of tensors.
        xs: A tensor, Variable, or list of them.
        name: Name of the op.
        colocate_gradients_with_ops: Ignored.
        gate_gradients: Ignored.
        aggregation_method: Ignored.

    Returns:
        One tensor per x of shape ``x.shape + x.shape``; None where ys do not depend
        on x.
    """
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [x if isinstance(x, Variable) else convert_to_tensor(x) for x in _as_list(xs)]
    path = _build_path(ys, xs, [])
    result: list[Tensor | None] = [None] * len(xs)
    if not path.connected:
        return result
    sub = path.sub

    def aval(x: Any) -> Aval:
        shape = _x_aval(x).shape
        return Aval(None if shape is None else shape + shape, x.dtype)

    op = make_op(
        "Hessians",
        _hessian_lowering(path, xs),
        [*_tensor_args(sub), *sub.externals],
        name=name,
        reads=sub.reads,
        random=sub.random,
        out_avals=[aval(xs[i]) for i in path.connected],
        control_inputs=_outside_controls(sub),
    )
    for i, t in zip(path.connected, op.outputs):
        result[i] = t
    return result
