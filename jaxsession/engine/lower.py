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
from jaxsession.graph.make_op import apply_op
from jaxsession.graph.rules import CHECK_OPS


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
        for op in plan.ops:
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
        # A Variable fetched as such gives its value at the end of the run.
        fetched = tuple(
            current[t.op.reads[0]] if t in final else env[t] for t in plan.fetches
        )
        written = tuple(current[v] for v in plan.written_vars)
        if plan.checks:
            written = _unless_failed(plan, env, initial, written)
        return fetched, written, rng

    return run


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
