"""Control flow: group, tuple, with_dependencies, cond, case and while_loop.

``cond``, ``case`` and ``while_loop`` build each branch (or the loop's cond
and body) while capturing the ops it creates, turn the region into a
``Subgraph`` and wrap it in one op ("Cond", "Case", "While"). The wrapping
op's inputs are the selector and every tensor the regions capture from
outside; it reads every variable the regions read or write, and outputs the
final value of every variable they write after its own outputs. Its lowering
calls ``lax.switch``, ``lax.while_loop`` or ``lax.scan`` with functions that
evaluate the regions. Ops made inside a region stay in the graph but run only
through the wrapping op.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxsession.graph import dtypes as dtypes_lib, shapes, subgraph
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor, get_default_graph
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import constant_value
from jaxsession.ops.array.creation import constant
from jaxsession.ops.array.shape import identity

__all__ = [
    "case",
    "cond",
    "group",
    "no_op",
    "switch_case",
    "tuple",
    "while_loop",
    "with_dependencies",
]

# A static maximum_iterations up to this runs as a lax.scan (reverse-mode
# differentiable); larger or dynamic bounds run as lax.while_loop.
_SCAN_MAX_ITERATIONS = 10_000


# -- grouping -------------------------------------------------------------------


def _no_op() -> builtins.tuple[()]:
    return ()


def no_op(name: str | None = None) -> Operation:
    """An op that does nothing; useful as a control-dependency target."""
    return make_op("NoOp", _no_op, (), name=name or "NoOp", out_avals=[])


def _control_op(x: Any, what: str) -> Operation:
    if hasattr(x, "_as_graph_element"):
        x = x._as_graph_element()
    if isinstance(x, Tensor):
        return x.op
    if isinstance(x, Operation):
        return x
    raise TypeError(f"{what} expected Tensor arguments not '{x}' with type '{type(x)}'")


def _leaves(tree: Any) -> list[Any]:
    return jax.tree_util.tree_leaves(tree, is_leaf=lambda x: x is None)


def group(*inputs: Any, name: str | None = None) -> Operation:
    """An op that runs after all ``inputs`` (``tf.group``).

    Args:
        *inputs: Tensors, operations, variables, or nested lists of them.
        name: Op name (default "group_deps").

    Returns:
        A NoOp with every input's op as a control input.

    Raises:
        TypeError: an input is not a tensor or operation.
    """
    deps = [_control_op(x, "tf.group()") for x in _leaves(inputs)]
    return make_op(
        "NoOp",
        _no_op,
        (),
        name=name or "group_deps",
        out_avals=[],
        control_inputs=list(dict.fromkeys(deps)),
    )


def with_dependencies(
    dependencies: Sequence[Any], output_tensor: Any, name: str | None = None
) -> Any:
    """``output_tensor``'s value, computed only after ``dependencies`` ran.

    Args:
        dependencies: Operations or tensors to run first.
        output_tensor: A tensor (or operation) to gate.
        name: Name of the returned identity (default "control_dependency").

    Returns:
        An identity of ``output_tensor`` (or a NoOp for an operation).
    """
    graph = get_default_graph()
    with graph.name_scope(name or "control_dependency") as scope:
        with graph.control_dependencies(dependencies):
            if isinstance(output_tensor, Operation):
                return group(output_tensor, name=scope)
            return identity(convert_to_tensor(output_tensor), name=scope)


def tuple_(
    tensors: Sequence[Any],
    name: str | None = None,
    control_inputs: Sequence[Any] | None = None,
) -> list[Any]:
    """Groups tensors: each result is available only when all are (``tf.tuple``).

    Args:
        tensors: Tensors, operations or None.
        name: Name scope (default "tuple").
        control_inputs: Extra operations that must run first.

    Returns:
        A list with a gated identity for each tensor (None stays None).

    Raises:
        TypeError: a control input is not an operation or tensor.
    """
    controls = [_control_op(c, "tf.tuple()") for c in control_inputs or ()]
    graph = get_default_graph()
    with graph.name_scope(name or "tuple"):
        gate = group(*[t for t in tensors if t is not None], *controls, name="gate")
        return [None if t is None else with_dependencies([gate], t) for t in tensors]


# TF1's public name shadows the builtin; this module uses builtins.tuple.
tuple = tuple_


# -- branches -------------------------------------------------------------------


class _Branch(NamedTuple):
    name: str
    sub: subgraph.Subgraph
    treedef: Any
    outputs: list[Tensor]


class _Leaf:
    """Prints as a tensor's type inside a structure description."""

    def __init__(self, tensor: Tensor):
        self.text = f"Tensor({tensor.dtype.name}, shape={tensor.shape})"

    def __repr__(self) -> str:
        return self.text


def _describe(treedef: Any, tensors: Sequence[Tensor]) -> str:
    return repr(jax.tree_util.tree_unflatten(treedef, [_Leaf(t) for t in tensors]))


def _as_output(x: Any) -> Tensor:
    # TF1 turns an operation a branch returns into a bool tensor gated on it.
    if isinstance(x, Operation):
        with x.graph.control_dependencies([x]):
            return constant(True, name="control_dependency")
    return convert_to_tensor(x)


def _build_branch(fn: Callable[[], Any], fn_name: str) -> _Branch:
    graph = get_default_graph()
    with subgraph.capture(graph) as created:
        result = fn()
        if result is None:
            raise ValueError(f"{fn_name} must have a return value.")
        leaves, treedef = jax.tree_util.tree_flatten(result)
        outputs = [_as_output(x) for x in leaves]
    return _Branch(
        fn_name, subgraph.from_region(created, [], outputs), treedef, outputs
    )


def _check_branches(branches: Sequence[_Branch]) -> None:
    first = branches[0]
    for other in branches[1:]:
        if other.treedef != first.treedef:
            raise ValueError(
                f"{first.name} and {other.name} must return the same nested structure: "
                f"{first.name} returned {_describe(first.treedef, first.outputs)}, "
                f"{other.name} returned {_describe(other.treedef, other.outputs)}."
            )
        for i, (a, b) in enumerate(zip(first.outputs, other.outputs)):
            if a.dtype is not b.dtype:
                raise ValueError(
                    f"Outputs of {first.name} and {other.name} must have the same "
                    f"type: {a.dtype.name}, {b.dtype.name} (output {i}: {a!r} and {b!r})."
                )


def _common_shape(a: Any, b: Any) -> builtins.tuple[int | None, ...] | None:
    """The most specific shape compatible with both (TF1's Merge shape)."""
    if a is None or b is None or len(a) != len(b):
        return None
    return builtins.tuple(x if x == y else None for x, y in zip(a, b))


def _merged_avals(branches: Sequence[_Branch]) -> list[Aval]:
    avals = []
    for i, t in enumerate(branches[0].outputs):
        shape = t.shape.as_tuple()
        for b in branches[1:]:
            shape = _common_shape(shape, b.outputs[i].shape.as_tuple())
        avals.append(Aval(shape, t.dtype))
    return avals


def _union(items: Any) -> list[Any]:
    return list(dict.fromkeys(items))


def _outside_controls(subs: Sequence[subgraph.Subgraph]) -> list[Operation]:
    """Control inputs of region ops that lie outside every region."""
    inside = {op for s in subs for op in s.ops}
    return _union(
        c for s in subs for op in s.ops for c in op.control_inputs if c not in inside
    )


def _cast(x: Any, dtype: Any) -> Any:
    return jnp.asarray(x, dtype)


def _state_types(written: Sequence[Any]) -> list[Any]:
    return [v.dtype.jax_dtype for v in written]


# -- cond, case, switch_case ----------------------------------------------------


def _switch_lowering(
    subs: Sequence[subgraph.Subgraph],
    ext_maps: Sequence[list[int]],
    reads: Sequence[Any],
    written: Sequence[Any],
    out_avals: Sequence[Aval],
    n_ext: int,
) -> Callable[..., Any]:
    out_types = [a.dtype.jax_dtype for a in out_avals]
    state_types = _state_types(written)

    def branch(i: int) -> Callable[..., Any]:
        def run(ext: Sequence[Any], state: Sequence[Any], key: Any) -> Any:
            outs, new = subs[i].evaluate(
                [], [ext[j] for j in ext_maps[i]], dict(zip(reads, state)), key
            )
            return (
                [_cast(o, d) for o, d in zip(outs, out_types)],
                [_cast(new[v], d) for v, d in zip(written, state_types)],
            )

        return run

    def lower(index: Any, *values: Any, key: Any = None) -> Any:
        ext, state = list(values[:n_ext]), list(values[n_ext:])
        fns = [branch(i) for i in range(len(subs))]
        if isinstance(index, np.ndarray | np.generic):
            # Known while tracing: only the chosen branch is traced.
            chosen = min(max(int(index), 0), len(fns) - 1)
            outs, new = fns[chosen](ext, state, key)
        else:
            outs, new = lax.switch(index.astype(jnp.int32), fns, ext, state, key)
        return (*outs, *new)

    return lower


def _switch_op(
    op_type: str, index: Tensor, branches: Sequence[_Branch], scope: str
) -> list[Tensor]:
    """The op running ``branches[index]``; returns its flat outputs."""
    _check_branches(branches)
    subs = [b.sub for b in branches]
    externals = _union(t for s in subs for t in s.externals)
    position = {t: i for i, t in enumerate(externals)}
    reads = _union(v for s in subs for v in (*s.reads, *s.writes))
    written = _union(v for s in subs for v in s.writes)
    out_avals = _merged_avals(branches)
    n = len(out_avals)
    fn = _switch_lowering(
        subs,
        [[position[t] for t in s.externals] for s in subs],
        reads,
        written,
        out_avals,
        len(externals),
    )
    op = make_op(
        op_type,
        fn,
        [index, *externals],
        name=scope,
        reads=reads,
        writes=[(v, n + j) for j, v in enumerate(written)],
        random=any(s.random for s in subs),
        out_avals=[*out_avals, *(v._aval for v in written)],
        control_inputs=_outside_controls(subs),
    )
    return list(op.outputs[:n])


def _pack(branch: _Branch, flat: Sequence[Tensor], strict: bool) -> Any:
    return _unpack_singleton(jax.tree_util.tree_unflatten(branch.treedef, flat), strict)


def _unpack_singleton(out: Any, strict: bool) -> Any:
    if not strict and isinstance(out, list | builtins.tuple) and len(out) == 1:
        return out[0]
    return out


def _branch_fn(given: Any, alias: Any, name: str, alias_name: str) -> Callable:
    if alias is not None:
        if given is not None:
            raise TypeError(
                f"cond(): {name} and {alias_name} may not be set simultaneously."
            )
        given = alias
    if not callable(given):
        raise TypeError(f"{name} must be callable.")
    return given


def _scalar_bool(pred: Any, what: str) -> Tensor:
    pred = convert_to_tensor(pred)
    if pred.dtype is not dtypes_lib.bool_:
        raise TypeError(f"{what} must be a bool tensor, got {pred!r}")
    if pred.shape.ndims not in (None, 0):
        raise ValueError(f"{what} must be a scalar, got shape {pred.shape}: {pred!r}")
    return pred


def cond(
    pred: Any,
    true_fn: Callable[[], Any] | None = None,
    false_fn: Callable[[], Any] | None = None,
    strict: bool = False,
    name: str | None = None,
    fn1: Callable[[], Any] | None = None,
    fn2: Callable[[], Any] | None = None,
) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()`` (``tf.cond``).

    Both branches are built; only the chosen one runs. Branches may assign
    variables and draw random numbers. Each returns a tensor or a nested
    structure of tensors (operations become bool tensors gated on them).

    Differs from TF1: a Python bool ``pred`` calls the chosen branch directly,
    as TF1's ``smart_cond`` does, instead of raising.

    Args:
        pred: A scalar bool tensor or Python bool.
        true_fn: Called with no arguments to build the true branch.
        false_fn: Called with no arguments to build the false branch.
        strict: If False, single-element lists or tuples are unpacked.
        name: Name scope (default "cond").
        fn1: Deprecated alias of ``true_fn``.
        fn2: Deprecated alias of ``false_fn``.

    Returns:
        Tensors with the structure the branches return.

    Raises:
        TypeError: a branch is not callable or ``pred`` is not bool.
        ValueError: the branches return different structures or dtypes, a
            branch returns None, or ``pred`` is not a scalar.
    """
    true_fn = _branch_fn(true_fn, fn1, "true_fn", "fn1")
    false_fn = _branch_fn(false_fn, fn2, "false_fn", "fn2")
    if isinstance(pred, bool | np.bool_):
        return _unpack_singleton((true_fn if pred else false_fn)(), strict)
    pred = _scalar_bool(pred, "cond pred")
    with get_default_graph().name_scope(name or "cond") as scope:
        true_b = _build_branch(true_fn, "true_fn")
        false_b = _build_branch(false_fn, "false_fn")
        _check_branches([true_b, false_b])
        flat = _switch_op("Cond", pred, [false_b, true_b], scope)
    return _pack(true_b, flat, strict)


def _select_index(preds: Sequence[Tensor], exclusive: bool) -> Tensor:
    """Index of the first true predicate, ``len(preds)`` if none is true."""

    def first_true(*ps: Any) -> Any:
        stacked = jnp.stack([jnp.reshape(p, ()) for p in ps] + [jnp.array(True)])
        return jnp.argmax(stacked).astype(jnp.int32)

    return make_op(
        "CaseIndex",
        first_true,
        preds,
        name="case_index",
        attrs={} if not exclusive else {"exclusive": True},
    ).outputs[0]


def _case_pairs(pred_fn_pairs: Any) -> list[builtins.tuple[Tensor, Callable]]:
    if isinstance(pred_fn_pairs, dict):
        # TF1 orders a dict's pairs by predicate name for determinism.
        pairs = sorted(
            pred_fn_pairs.items(), key=lambda kv: convert_to_tensor(kv[0]).name
        )
    else:
        pairs = list(pred_fn_pairs)
    out = []
    for pair in pairs:
        if not isinstance(pair, builtins.tuple | list) or len(pair) != 2:
            raise TypeError(
                f"Each entry in pred_fn_pairs must be a 2-tuple, got {pair!r}"
            )
        pred, fn = pair
        if not callable(fn):
            raise TypeError(f"fn for pred {pred!r} must be callable.")
        out.append((_scalar_bool(pred, "case pred"), fn))
    if not out:
        raise ValueError("pred_fn_pairs must not be empty.")
    return out


def case(
    pred_fn_pairs: Any,
    default: Callable[[], Any] | None = None,
    exclusive: bool = False,
    strict: bool = False,
    name: str = "case",
) -> Any:
    """Runs the fn of the first true predicate, else ``default`` (``tf.case``).

    Differs from TF1: ``exclusive=True`` is not checked at run time (the first
    true predicate wins).

    Args:
        pred_fn_pairs: List of ``(bool scalar tensor, callable)`` pairs, or a
            dict from predicates to callables (ordered by predicate name).
        default: Called when no predicate is true; if None the last pair's fn
            is the default.
        exclusive: Whether at most one predicate may be true.
        strict: If False, single-element lists or tuples are unpacked.
        name: Name scope.

    Returns:
        Tensors with the structure the fns return.

    Raises:
        TypeError: a pair is malformed, a fn is not callable, a pred not bool.
        ValueError: the fns return different structures or dtypes.
    """
    pairs = _case_pairs(pred_fn_pairs)
    if default is None:
        pairs, default = pairs[:-1], pairs[-1][1]
    if not pairs:
        return _unpack_singleton(default(), strict)
    with get_default_graph().name_scope(name) as scope:
        index = _select_index([p for p, _ in pairs], exclusive)
        fns = [*(fn for _, fn in pairs), default]
        names = [*(f"branch {i}" for i in range(len(pairs))), "default"]
        branches = [_build_branch(f, n) for f, n in zip(fns, names)]
        flat = _switch_op("Case", index, branches, scope)
    return _pack(branches[0], flat, strict)


def _clamped_index(index: Any, *, n: int) -> Any:
    in_range = (index >= 0) & (index < n)
    return jnp.where(in_range, index, n).astype(jnp.int32)


def switch_case(
    branch_index: Any,
    branch_fns: Any,
    default: Callable[[], Any] | None = None,
    name: str = "switch_case",
) -> Any:
    """Runs ``branch_fns[branch_index]`` (``tf.switch_case``).

    Args:
        branch_index: A scalar int32 tensor.
        branch_fns: A list of callables, or ``(int, callable)`` pairs / a dict
            keyed 0..n-1.
        default: Run for an out-of-range index; if None the last branch.
        name: Name scope.

    Returns:
        Tensors with the structure the branches return.

    Raises:
        TypeError: ``branch_index`` is not an integer tensor.
        ValueError: the branches return different structures or dtypes.
    """
    if isinstance(branch_fns, dict):
        branch_fns = sorted(branch_fns.items())
    fns = [f[1] if isinstance(f, builtins.tuple | list) else f for f in branch_fns]
    if default is None:
        fns, default = fns[:-1], fns[-1]
    index = convert_to_tensor(branch_index)
    if not index.dtype.is_integer:
        raise TypeError(f"branch_index must be an integer tensor, got {index!r}")
    with get_default_graph().name_scope(name) as scope:
        clamped = make_op(
            "BranchIndex",
            _clamped_index,
            [index],
            name="branch_index",
            attrs={"n": len(fns)},
        ).outputs[0]
        names = [*(f"branch {i}" for i in range(len(fns))), "default"]
        branches = [_build_branch(f, n) for f, n in zip([*fns, default], names)]
        flat = _switch_op("Case", clamped, branches, scope)
    return _pack(branches[0], flat, True)


# -- while_loop -----------------------------------------------------------------


def _loop_var_lowering(*_: Any) -> Any:
    raise RuntimeError("a loop variable has a value only inside its while_loop")


def _loop_var(init: Tensor, shape: Any) -> Tensor:
    return make_op(
        "Enter",
        _loop_var_lowering,
        (),
        name="Enter",
        out_avals=[Aval(shape, init.dtype)],
    ).outputs[0]


def _invariants(
    loop_vars: Any, inits: Sequence[Tensor], shape_invariants: Any
) -> list[Any]:
    """Each loop variable's declared shape (its initial shape by default)."""
    if shape_invariants is None:
        return [t.shape.as_tuple() for t in inits]
    is_shape = lambda x: isinstance(x, shapes.TensorShape)  # noqa: E731
    leaves, treedef = jax.tree_util.tree_flatten(
        list(shape_invariants), is_leaf=is_shape
    )
    if treedef != jax.tree_util.tree_structure(list(loop_vars)):
        raise ValueError(
            "shape_invariants must have the same nested structure as loop_vars: "
            f"{shape_invariants!r} vs {loop_vars!r}"
        )
    out = []
    for t, inv in zip(inits, leaves):
        inv = shapes.as_shape(inv)
        if not inv.is_compatible_with(t.shape):
            raise ValueError(
                f"The shape invariant specified for {t.name} is not compatible with "
                f"the initial shape of the loop variable. It enters the loop with "
                f"shape {t.shape}, but the specified shape invariant is {inv}."
            )
        out.append(inv.as_tuple())
    return out


def _shape_at_most(shape: Any, invariant: Any) -> bool:
    """Whether ``shape`` is at least as specific as ``invariant`` (TF1's rule)."""
    if invariant is None:
        return True
    if shape is None or len(shape) != len(invariant):
        return False
    return all(b is None or a == b for a, b in zip(shape, invariant))


def _check_body_outputs(
    inits: Sequence[Tensor], invariants: Sequence[Any], outs: Sequence[Tensor]
) -> None:
    for t, inv, o in zip(inits, invariants, outs):
        if o.dtype is not t.dtype:
            raise TypeError(
                f"Loop var {t.name} enters the loop with type {t.dtype.name}, but has "
                f"type {o.dtype.name} after one iteration."
            )
        if not _shape_at_most(o.shape.as_tuple(), inv):
            raise ValueError(
                f"Input tensor '{t.name}' enters the loop with shape "
                f"{shapes.TensorShape(inv)}, but has shape {o.shape} after one "
                "iteration. To allow the shape to vary across iterations, use the "
                "`shape_invariants` argument of tf.while_loop to specify a "
                "less-specific shape."
            )


class _Loop(NamedTuple):
    cond: subgraph.Subgraph
    body: subgraph.Subgraph
    result: Any  # the body's result structure, to pack the outputs
    invariants: list[Any]


def _body_outputs(result: Any, inits: Sequence[Tensor]) -> list[Tensor]:
    leaves = jax.tree_util.tree_leaves(list(result))
    return [
        convert_to_tensor(x, preferred_dtype=t.dtype) for x, t in zip(leaves, inits)
    ]


def _build_loop(
    cond: Callable, body: Callable, loop_vars: Any, inits: list[Tensor], invariants: Any
) -> _Loop:
    treedef = jax.tree_util.tree_structure(list(loop_vars))
    args = [_loop_var(t, s) for t, s in zip(inits, invariants)]
    packed = jax.tree_util.tree_unflatten(treedef, args)
    graph = get_default_graph()
    with subgraph.capture(graph) as made_cond:
        pred = _scalar_bool(cond(*packed), "while_loop cond result")
    with subgraph.capture(graph) as made_body:
        result = body(*packed)
        if not isinstance(result, list | builtins.tuple):
            result = [result]
        if jax.tree_util.tree_structure(list(result)) != treedef:
            raise ValueError(
                "body must return the same nested structure as loop_vars: loop_vars "
                f"are {loop_vars!r}, body returned {result!r}."
            )
        outs = _body_outputs(result, inits)
    _check_body_outputs(inits, invariants, outs)
    cond_sub = subgraph.from_region(made_cond, args, [pred])
    if cond_sub.writes:
        raise ValueError(
            f"while_loop cond must not assign variables; it assigns {cond_sub.writes!r}"
        )
    body_sub = subgraph.from_region(made_body, args, outs)
    return _Loop(cond_sub, body_sub, result, invariants)


def _max_iterations(maximum_iterations: Any) -> builtins.tuple[int | None, Any]:
    """(static bound, dynamic bound tensor); both None without a bound."""
    if maximum_iterations is None:
        return None, None
    if isinstance(maximum_iterations, int):
        return maximum_iterations, None
    t = convert_to_tensor(maximum_iterations)
    if not t.dtype.is_integer or t.shape.ndims not in (None, 0):
        raise ValueError(f"maximum_iterations must be a scalar integer, got {t!r}")
    value = constant_value(t)
    return (None, t) if value is None else (int(value), None)


def _step_key(key: Any, i: Any) -> Any:
    return None if key is None else jax.random.fold_in(key, i)


class _LoopSpec(NamedTuple):
    loop: _Loop
    names: list[str]
    var_types: list[Any]
    cond_ext: list[int]
    body_ext: list[int]
    n_ext: int
    reads: list[Any]
    written: list[Any]
    max_static: int | None
    dynamic_max: bool
    use_scan: bool


def _fixed_shapes(spec: _LoopSpec, xs: Sequence[Any], outs: Sequence[Any]) -> None:
    for name, x, o in zip(spec.names, xs, outs):
        if jnp.shape(x) != jnp.shape(o):
            raise ValueError(
                f"Input tensor '{name}' enters the loop with shape {jnp.shape(x)}, but "
                f"has shape {jnp.shape(o)} after one iteration; XLA loops need "
                "loop variables of a fixed shape."
            )


def _while_lowering(spec: _LoopSpec) -> Callable[..., Any]:
    n = len(spec.var_types)
    state_types = _state_types(spec.written)

    def lower(*values: Any, key: Any = None) -> Any:
        ext = values[n : n + spec.n_ext]
        rest = values[n + spec.n_ext :]
        max_it = rest[0] if spec.dynamic_max else spec.max_static
        fixed = dict(zip(spec.reads, rest[int(spec.dynamic_max) :]))

        def state(ws: Sequence[Any]) -> dict[Any, Any]:
            return {**fixed, **dict(zip(spec.written, ws))}

        def keep_going(carry: Any) -> Any:
            i, xs, ws = carry
            (p,), _ = spec.loop.cond.evaluate(
                xs, [ext[j] for j in spec.cond_ext], state(ws), _step_key(key, i)
            )
            p = jnp.reshape(p, ())
            return p if max_it is None else p & (i < max_it)

        def step(carry: Any) -> Any:
            i, xs, ws = carry
            outs, new = spec.loop.body.evaluate(
                xs, [ext[j] for j in spec.body_ext], state(ws), _step_key(key, i)
            )
            outs = [_cast(o, d) for o, d in zip(outs, spec.var_types)]
            _fixed_shapes(spec, xs, outs)
            return (
                i + 1,
                outs,
                [_cast(new[v], d) for v, d in zip(spec.written, state_types)],
            )

        xs = [_cast(x, d) for x, d in zip(values[:n], spec.var_types)]
        ws = [_cast(fixed[v], d) for v, d in zip(spec.written, state_types)]
        carry = (jnp.int32(0), xs, ws)
        if spec.use_scan:

            def scan_step(c: Any, _: Any) -> Any:
                return lax.cond(keep_going(c), step, lambda c: c, c), None

            carry, _ = lax.scan(scan_step, carry, None, length=spec.max_static)
        else:
            carry = lax.while_loop(keep_going, step, carry)
        return (*carry[1], *carry[2])

    return lower


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    shape_invariants: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: str | None = None,
    maximum_iterations: Any = None,
    return_same_structure: bool = False,
) -> Any:
    """Repeats ``body`` while ``cond`` is true (``tf.while_loop``).

    ``cond(*loop_vars)`` returns a bool scalar; ``body(*loop_vars)`` returns
    new values with the same structure. Both may read variables; ``body``
    may assign them and draw random numbers (new numbers each iteration).

    Differs from TF1: loop variables must keep one shape at run time (XLA);
    ``shape_invariants`` only relax the static shapes. With a static
    ``maximum_iterations`` of at most 10000 and ``back_prop`` the loop runs as
    a ``lax.scan`` (differentiable); otherwise as ``lax.while_loop``.
    ``parallel_iterations`` and ``swap_memory`` are ignored.

    Args:
        cond: Callable returning a bool scalar tensor.
        body: Callable returning the next loop variables.
        loop_vars: A list, tuple or nested structure of tensors.
        shape_invariants: TensorShapes with the structure of ``loop_vars``.
        parallel_iterations: Ignored.
        back_prop: Whether gradients may flow through the loop.
        swap_memory: Ignored.
        name: Name scope (default "while").
        maximum_iterations: Optional bound on the number of iterations.
        return_same_structure: If False, a single loop variable is returned
            as a tensor rather than a one-element list.

    Returns:
        The final loop variables, with the structure ``body`` returns.

    Raises:
        TypeError: ``cond`` or ``body`` is not callable, or a loop variable
            changes dtype.
        ValueError: no loop variables, structure mismatch, or a shape that
            changes without a shape invariant allowing it.
    """
    if not callable(cond) or not callable(body):
        raise TypeError("cond and body must be callable.")
    if not loop_vars:
        raise ValueError("No loop variables provided")
    graph = get_default_graph()
    with graph.name_scope(name or "while") as scope:
        inits = [
            convert_to_tensor(x) for x in jax.tree_util.tree_leaves(list(loop_vars))
        ]
        max_static, max_tensor = _max_iterations(maximum_iterations)
        invariants = _invariants(loop_vars, inits, shape_invariants)
        loop = _build_loop(cond, body, loop_vars, inits, invariants)
        flat = _while_op(scope, loop, inits, max_static, max_tensor, back_prop)
    packed = jax.tree_util.tree_unflatten(
        jax.tree_util.tree_structure(loop.result), flat
    )
    if not return_same_structure and len(flat) == 1:
        return flat[0]
    return packed


def _while_op(
    scope: str,
    loop: _Loop,
    inits: list[Tensor],
    max_static: int | None,
    max_tensor: Tensor | None,
    back_prop: bool,
) -> list[Tensor]:
    subs = [loop.cond, loop.body]
    externals = _union(t for s in subs for t in s.externals)
    position = {t: i for i, t in enumerate(externals)}
    written = list(loop.body.writes)
    spec = _LoopSpec(
        loop=loop,
        names=[t.name for t in inits],
        var_types=[t.dtype.jax_dtype for t in inits],
        cond_ext=[position[t] for t in loop.cond.externals],
        body_ext=[position[t] for t in loop.body.externals],
        n_ext=len(externals),
        reads=_union(v for s in subs for v in (*s.reads, *s.writes)),
        written=written,
        max_static=max_static,
        dynamic_max=max_tensor is not None,
        use_scan=back_prop
        and max_static is not None
        and max_static <= _SCAN_MAX_ITERATIONS,
    )
    n = len(inits)
    extra = [] if max_tensor is None else [max_tensor]
    op = make_op(
        "While",
        _while_lowering(spec),
        [*inits, *externals, *extra],
        name=scope,
        reads=spec.reads,
        writes=[(v, n + j) for j, v in enumerate(written)],
        random=any(s.random for s in subs),
        out_avals=[
            *(Aval(s, t.dtype) for s, t in zip(loop.invariants, inits)),
            *(v._aval for v in written),
        ],
        control_inputs=_outside_controls(subs),
    )
    return list(op.outputs[:n])
