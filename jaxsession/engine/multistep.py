"""K training steps in one compiled call (TPUEstimator's iterations_per_loop).

``repeat_steps`` turns the lowered function of one run into a ``lax.scan``
over K steps with the same signature: the state (packs and loose
variables) and the PRNG key are the loop carry, each fed value (and each
iterator's output) has a leading K axis that the loop slices, and the
fetched values are those of the last step. Because the carry threads
exactly what consecutive single runs pass to each other, K steps in one
call compute what K single runs compute.
Fetches asked for at every step (``stacked``, what hooks such as
NanTensorHook request) are also returned as the loop's per-step outputs,
stacked on a leading K axis; only those pay for K values.

The host side (``host_values``) pulls K elements from each iterator at once;
``engine/feeds.py`` checks that fed values carry the K axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession.engine import infeed
from jaxsession.engine.context import HostContext
from jaxsession.engine.host import constant_on_host, unfed
from jaxsession.engine.plan import Plan
from jaxsession.graph.core import Tensor
from jaxsession.graph.rules import HOST_OPS

StepFn = Callable[[tuple, tuple, tuple, Any], tuple]


class StepValues(NamedTuple):
    """What ``Session.run(..., every_step=...)`` returns.

    Attributes:
        values: The fetches' values, those of the last step.
        every_step: ``every_step``'s values, each stacked on a leading axis
            of the steps made.
        steps: The steps the run made: ``steps_per_run``, or fewer when the
            data ran out.
    """

    values: Any
    every_step: Any
    steps: int


def repeat_steps(
    step: StepFn,
    n_rw: int,
    plan: Plan,
    steps: int,
    on_trace: Callable[[], None] | None = None,
    stacked: tuple[int, ...] = (),
) -> StepFn:
    """``step(rw, ro, feeds, rng)`` run ``steps`` times in one ``lax.scan``.

    Args:
        step: One run of ``plan``: ``(rw, ro, feeds, rng) -> (fetches,
            written, rng)``, the first ``n_rw`` of ``written`` the new values
            of ``rw`` (the loop carry), the rest write-only state.
        n_rw: How many values ``rw`` holds.
        plan: The plan ``step`` runs.
        steps: How many steps (K >= 1).
        on_trace: Called each time the K-step function is traced.
        stacked: Positions in ``plan.fetches`` whose values are also
            returned for every step.

    Returns:
        A function of the same signature whose feeds have a leading K axis
        and whose fetches are those of the last step, followed by the
        ``stacked`` fetches' values of every step, each of shape ``(K, ...)``.
    """
    # Where each check's passed flag is among the fetches.
    checks = tuple(where[0] for _, where in plan.check_reports())

    def run(rw: tuple, ro: tuple, feeds: tuple, rng: Any) -> tuple:
        if on_trace is not None:
            on_trace()
        first = jax.tree_util.tree_map(lambda f: f[0], feeds)
        fetch_avals, written_avals, _ = jax.eval_shape(step, rw, ro, first, rng)
        # Write-only variables and fetches have no value before the first
        # step; zeros of their type stand in and are overwritten by it.
        init = (
            tuple(rw),
            tuple(jnp.zeros(a.shape, a.dtype) for a in written_avals[n_rw:]),
            tuple(
                jnp.full(a.shape, i in checks, a.dtype)
                for i, a in enumerate(fetch_avals)
            ),
            rng,
        )

        def body(carry: tuple, step_feeds: tuple) -> tuple:
            rw_c, _, _, rng_c = carry
            fetched, written, rng_c = step(rw_c, ro, step_feeds, rng_c)
            written = _like(written, written_avals)
            fetched = _like(fetched, fetch_avals)
            per_step = tuple(fetched[i] for i in stacked)
            new = (written[:n_rw], written[n_rw:], fetched, rng_c)
            if checks:
                new = _stop_after_failure(carry, new, checks)
            return new, per_step

        (rw_out, wo_out, fetched, rng), per_step = jax.lax.scan(
            body, init, feeds, length=steps
        )
        return fetched + per_step, rw_out + wo_out, rng

    return run


def _stop_after_failure(old: tuple, new: tuple, checks: tuple[int, ...]) -> tuple:
    """The carry after a step: ``new``, or ``old`` once a check has failed.

    A failed step keeps its start values (``engine/lower.py``) and its
    reports; the steps after it change nothing, so the run raises that
    step's error with the state of the steps before it.
    """
    passed = jnp.all(jnp.stack([old[2][i] for i in checks]))
    keep = jax.tree_util.tree_map(
        lambda o, n: jnp.where(passed, n, o), old[:3], new[:3]
    )
    return (*keep, new[3])


def _like(values: tuple, avals: tuple) -> tuple:
    # A weakly typed value would not match its zero-initialized carry slot.
    return tuple(jnp.asarray(v, a.dtype) for v, a in zip(values, avals))


# -- the host side ---------------------------------------------------------------


def host_values(
    plan: Plan, ctx: HostContext, feeds: dict[Tensor, Any], steps: int
) -> tuple[dict[Tensor, Any], int]:
    """Feeds and the plan's host-op outputs for a K-step run, with its length.

    Each iterator yields K elements stacked on a leading axis. Near the end of
    the data an iterator may give only n < K: the run is then shortened to n
    steps (the returned count) and every value is cut to n, so no element is
    dropped; the next run raises ``errors.OutOfRangeError``. Other host ops
    (variable status) are evaluated once and repeated K times.

    Raises:
        ValueError: the plan initializes an iterator (not a per-step op).
        errors.OutOfRangeError: an iterator has no element left.
    """
    values = dict(feeds)
    for t in plan.constants:
        values[t] = constant_on_host(t)
    count = steps
    for op in plan.host_ops:
        if op.type == "IteratorGetNext":
            leaves, n = infeed.take_uncut(op, ctx, steps)
            count = min(count, n)
            values.update(unfed(op, leaves, feeds))
        elif op.type == "MakeIterator":
            raise ValueError(
                f"{op!r} initializes an iterator and cannot run in a run of "
                f"steps_per_run={steps}; run it on its own first."
            )
        else:
            outs = HOST_OPS[op.type](op, ctx, [])
            values.update(
                (t, np.stack([np.asarray(v)] * steps))
                for t, v in unfed(op, outs, feeds)
            )
    if count < steps:
        per_step = set(plan.feeds)
        values = {
            t: _rows(v)[:count] if t in per_step else v for t, v in values.items()
        }
    return values, count


def _rows(value: Any) -> Any:
    """A value, its rows gathered if it came uncut (``infeed.take_uncut``)."""
    if type(value) is tuple:
        array, index = value
        return array[index]
    return value
