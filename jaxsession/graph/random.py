"""Graph and op seeds -> reproducible PRNG keys, following TF1's seed rules.

An op's key is derived from the run key the session passes to each compiled
call (new every run) and the op's two seeds, so the same graph seed, op seeds
and run count give the same numbers on every run of the program.

Differs from TF1: with neither a graph nor an op seed, numbers are still
reproducible (TF1 draws a fresh random seed per program run).
"""

from __future__ import annotations

from typing import Any

import jax

from jaxsession.graph.core import get_default_graph

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def set_random_seed(seed: int | None) -> None:
    """Sets the graph-level seed of the default graph (``tf.set_random_seed``)."""
    get_default_graph().seed = seed


def get_seed(op_seed: int | None) -> tuple[int, int]:
    """The (graph seed, op seed) pair an op created now uses, TF1's rules."""
    graph = get_default_graph()
    graph_seed = graph.seed
    if graph_seed is not None:
        if op_seed is None:
            op_seed = graph.next_op_seed()
        return int(graph_seed) & _MAXINT32, int(op_seed) & _MAXINT32
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, int(op_seed) & _MAXINT32
    return DEFAULT_GRAPH_SEED, graph.next_op_seed()


def op_key(run_key: Any, seed: tuple[int, int]) -> Any:
    """The PRNG key of one random op in one run."""
    return jax.random.fold_in(jax.random.fold_in(run_key, seed[0]), seed[1])
