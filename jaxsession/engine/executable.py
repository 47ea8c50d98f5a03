"""Executable: a jitted run with donated state, and the per-graph cache."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import jax

from jaxsession.engine.lower import lower_plan
from jaxsession.engine.plan import Plan, make_plan
from jaxsession.engine.signature import RunSignature

logger = logging.getLogger("jaxsession")


class Executable:
    """One compiled run: the plan, the jitted function and its trace count.

    Attributes:
        plan: The plan compiled.
        trace_count: How many times JAX traced the run (1 once it has run).
        call: The jitted function, ``call(rw, ro, feeds, rng) -> (fetches,
            written, rng)`` when ``plan.random``, else ``call(rw, ro, feeds)
            -> (fetches, written)``; ``rw`` (and ``rng``) are donated.

    Args:
        plan: The plan to compile.
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self.trace_count = 0
        run = lower_plan(plan, self._count_trace)
        if plan.random:
            self.call = jax.jit(run, donate_argnums=(0, 3))
        else:
            # Without random ops the key is neither passed nor returned: one
            # buffer less to donate and hand back on every run.
            self.call = jax.jit(
                lambda rw, ro, feeds: run(rw, ro, feeds, None)[:2], donate_argnums=0
            )

    def _count_trace(self) -> None:
        self.trace_count += 1

    def __call__(self, rw: tuple, ro: tuple, feeds: tuple, rng: Any) -> tuple:
        """Runs the compiled call; ``rw`` (and ``rng`` if used) are donated."""
        if self.plan.random:
            return self.call(rw, ro, feeds, rng)
        return (*self.call(rw, ro, feeds), rng)

    def as_text(self, rw: tuple, ro: tuple, feeds: tuple, rng: Any) -> str:
        """The StableHLO text JAX lowers this run to, for these arguments."""
        args = (rw, ro, feeds, rng) if self.plan.random else (rw, ro, feeds)
        return self.call.lower(*args).as_text()


def _debug() -> bool:
    return os.environ.get("JAXSESSION_DEBUG", "") not in ("", "0")


def get_executable(
    graph: Any, signature: RunSignature, build_plan: Callable[[], Plan] | None = None
) -> Executable:
    """The cached Executable of ``signature`` on ``graph``, built on a miss.

    The cache lives on the graph, so a dropped graph frees its executables.
    """
    cache: dict[RunSignature, Executable] = graph.__dict__.setdefault(
        "_executables", {}
    )
    exe = cache.get(signature)
    if exe is None:
        if _debug():
            logger.info("jaxsession cache miss: %s", signature.describe(graph))
        ops = graph.get_operations()
        plan = build_plan() if build_plan is not None else make_plan(
            [ops[i].outputs[j] for i, j in signature.fetches],
            [ops[i] for i in signature.targets],
            [ops[f.tensor[0]].outputs[f.tensor[1]] for f in signature.feeds],
        )  # fmt: skip
        exe = cache[signature] = Executable(plan)
    return exe
