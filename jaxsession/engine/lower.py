"""Plan -> one pure JAX function; the engine's single interpreter loop.

The function is ``fn(rw_state, ro_state, feeds, rng) -> (fetches, written,
rng)``: start values of variables read (``rw`` ones are donated), fed
values, and a PRNG key; it returns the fetched values, the final values of
the variables written, and the next key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from jaxsession import errors
from jaxsession.engine.host import constant_on_host
from jaxsession.engine.plan import Plan
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.make_op import apply_op
from jaxsession.graph.rules import CHECK_OPS, PRIMAL_OUTPUTS


def lower_plan(
    plan: Plan, on_trace: Callable[[], None] | None = None
) -> Callable[..., Any]:
    """The pure function computing one run of ``plan``."""
    state_in = plan.rw_vars + plan.ro_vars
    final = plan.final
    # Requested constants are served on the host and cut from the plan; an
    # op of the plan that consumes one (a total loss over a constant loss)
    # takes the known value.
    consumed = {t for op in plan.ops for t in op.inputs}
    known = {t: constant_on_host(t) for t in plan.constants if t in consumed}
    known.update(plan.static_feeds)
    early, moved, aliases = _primal_aliases(plan)

    def run(rw: tuple, ro: tuple, feeds: tuple, rng: Any) -> tuple:
        if on_trace is not None:
            on_trace()
        initial = dict(zip(state_in, rw + ro))
        current = dict(initial)
        env = dict(zip(plan.feeds, feeds))
        env.update(known)
        run_key = None
        if plan.random:
            run_key, rng = jax.random.split(rng)

        def evaluate(op: Operation) -> None:
            args = [env[t] for t in op.inputs]
            reads = [
                current[v] if (op.id, v) in plan.current_reads else initial[v]
                for v in op.reads
            ]
            try:
                outs = apply_op(op, args, reads, run_key)
            except errors.OpError:
                raise
            except Exception as e:
                raise errors.lowering_error(op, e) from e
            env.update(zip(op.outputs, outs))
            for v, index in op.writes:
                current[v] = jax.numpy.asarray(outs[index], v.dtype.jax_dtype)

        for i, op in enumerate(plan.ops):
            for grad in early.get(i, ()):
                evaluate(grad)
            if op not in moved:
                evaluate(op)
            for y, source in aliases.get(i, ()):
                env[y] = env[source]
        # A Variable fetched as such gives its value at the end of the run.
        fetched = tuple(
            current[t.op.reads[0]] if t in final else env[t] for t in plan.fetches
        )
        written = tuple(current[v] for v in plan.written_vars)
        if plan.checks:
            written = _unless_failed(plan, env, initial, written)
        return fetched, written, rng

    return run


def _primal_aliases(plan: Plan) -> tuple[dict, set, dict]:
    """Where a run takes a fetched y from the gradient op that also computes it.

    A gradient op re-evaluates its ys' forward pass; XLA merges that with
    the run's own forward pass, except for loops (an RNN, ``tf.scan``),
    which would run twice. So the gradient op is evaluated just before the
    op making ``y``, and ``y`` is read from the gradient op's output: the
    run's own forward ops are then dead code. Only where nothing in between
    writes a variable or is a control input of the gradient op.

    Returns:
        ``early``: op index -> gradient ops evaluated before it; ``moved``:
        those gradient ops (not evaluated at their place); ``aliases``: op
        index -> ``(y, source tensor)`` pairs set after it.
    """
    at = {op: i for i, op in enumerate(plan.ops)}
    made = {t: at[op] for op in plan.ops for t in op.outputs}
    early: dict[int, list[Operation]] = {}
    moved: set[Operation] = set()
    aliases: dict[int, list[tuple[Tensor, Tensor]]] = {}
    for j, grad in enumerate(plan.ops):
        rule = PRIMAL_OUTPUTS.get(grad.type)
        pairs = [(y, grad.outputs[k]) for y, k in rule(grad)] if rule else []
        pairs = [(y, src) for y, src in pairs if made.get(y, j) < j]
        if not pairs:
            continue
        i = min(made[y] for y, _ in pairs)
        needs = [made.get(t, -1) for t in grad.inputs]
        needs += [at.get(c, -1) for c in grad.control_inputs]
        if max(needs, default=-1) >= i or any(op.writes for op in plan.ops[i:j]):
            continue
        early.setdefault(i, []).append(grad)
        moved.add(grad)
        for y, src in pairs:
            aliases.setdefault(made[y], []).append((y, src))
    return early, moved, aliases


def _unless_failed(plan: Plan, env: dict, initial: dict, written: tuple) -> tuple:
    """``written``, with the start values of ``plan.rw_vars`` if a check failed.

    A failed run changes nothing: the engine raises the check's error after
    the call, and the buffers stored back are the ones the run started from.
    (A write-only variable has no start value; it stays marked uninitialized.)
    """
    oks = [env[op.outputs[CHECK_OPS[op.type][0]]] for op in plan.checks]
    ok = jax.numpy.all(jax.numpy.stack(oks))
    kept = [
        jax.numpy.where(ok, new, initial[v]) for v, new in zip(plan.rw_vars, written)
    ]
    return (*kept, *written[len(kept) :])
