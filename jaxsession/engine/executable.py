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

    Args:
        plan: The plan to compile.
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self.trace_count = 0
        self._fn = jax.jit(lower_plan(plan, self._count_trace), donate_argnums=(0, 3))

    def _count_trace(self) -> None:
        self.trace_count += 1

    def __call__(self, rw: tuple, ro: tuple, feeds: tuple, rng: Any) -> tuple:
        """Runs the compiled call; ``rw`` and ``rng`` are donated."""
        return self._fn(rw, ro, feeds, rng)

    def as_text(self, rw: tuple, ro: tuple, feeds: tuple, rng: Any) -> str:
        """The StableHLO text JAX lowers this run to, for these arguments."""
        return self._fn.lower(rw, ro, feeds, rng).as_text()


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
