"""Graph and op seeds -> reproducible PRNG keys, following TF1's seed rules.

An op's key is derived from the run key the session passes to each compiled
call (new every run) and the op's two seeds, so the same graph seed, op seeds
and run count give the same numbers on every run of the program.

With neither a graph nor an op seed, TF1 draws fresh randomness in every
program run; so does jaxsession: the op records no graph seed (``None``) and
its op seed from the graph's counter, as ``tf.set_random_seed`` would give
it. The graph seed is resolved when the op is lowered (or a dataset
shuffles): the process's seed, drawn once per process and logged, so that
``tf.set_random_seed(N)`` with the logged N repeats the run bit for bit. A
multi-process session first sets every process's seed to the chief's
(``session/chief_sync.py``): all processes then compile the same program.
"""

from __future__ import annotations

import logging
import secrets
import threading
from typing import Any

import jax

from jaxsession.graph.core import get_default_graph

logger = logging.getLogger("jaxsession")

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1

_lock = threading.Lock()
# This process's graph seed for ops without one: drawn (or taken from a
# provider) at its first use, and logged then.
_process: dict[str, Any] = {
    "seed": None,
    "source": "drew",
    "provider": None,
    "logged": False,
}


def set_random_seed(seed: int | None) -> None:
    """Sets the graph-level seed of the default graph (``tf.set_random_seed``)."""
    get_default_graph().seed = seed


def get_seed(op_seed: int | None) -> tuple[int | None, int]:
    """The (graph seed, op seed) pair an op created now uses, TF1's rules.

    The graph seed is None when neither seed is set: ``resolve_graph_seed``
    gives the process's seed in its place when the op is lowered.
    """
    graph = get_default_graph()
    graph_seed = graph.seed
    if graph_seed is not None:
        if op_seed is None:
            op_seed = graph.next_op_seed()
        return int(graph_seed) & _MAXINT32, int(op_seed) & _MAXINT32
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, int(op_seed) & _MAXINT32
    return None, graph.next_op_seed()


def process_seed(use: bool = True) -> int:
    """This process's seed for ops with no seed: fixed at its first call.

    Drawn fresh (``secrets``) unless ``set_process_seed_provider`` named
    where to take it from. Its first use (``use``) logs it at INFO; a chief
    publishing it for the other processes does not use it.
    """
    with _lock:
        if _process["seed"] is None:
            provider = _process["provider"]
            seed = provider() if provider is not None else secrets.randbelow(_MAXINT32)
            _process["seed"] = int(seed) & _MAXINT32
        if use and not _process["logged"]:
            _process["logged"] = True
            logger.info(
                "no graph seed set: %s %d; tf.set_random_seed(%d) repeats this run",
                _process["source"],
                _process["seed"],
                _process["seed"],
            )
        return _process["seed"]


def set_process_seed_provider(provider: Any, source: str) -> None:
    """Takes this process's seed from ``provider()`` (called at its first use).

    A multi-process session names the chief's seed so that every process
    compiles the same program. ``source`` says where it came from in the log
    ("took the chief's"). Once the seed was used it stays (warned).
    """
    with _lock:
        if _process["seed"] is not None:
            logger.warning(
                "random ops without a seed already use this process's seed %d; "
                "it is not replaced by the one %s",
                _process["seed"],
                source.replace("took ", "", 1),
            )
            return
        _process["provider"], _process["source"] = provider, source


def resolve_graph_seed(graph_seed: int | None) -> int:
    """``graph_seed``, or for an op without one the process's seed."""
    return process_seed() if graph_seed is None else graph_seed


def op_key(run_key: Any, seed: tuple[int | None, int]) -> Any:
    """The PRNG key of one random op in one run.

    A run's key is traced (the engine jits every run); a concrete one is the
    stand-in of shape inference at build time, which must not fix the
    process's seed yet (a multi-process session sets it later): there an op
    without a graph seed folds in a placeholder, its values unused.
    """
    graph_seed = seed[0]
    if graph_seed is None:
        if isinstance(run_key, jax.core.Tracer) or jax.config.jax_disable_jit:
            graph_seed = process_seed()
        else:
            graph_seed = DEFAULT_GRAPH_SEED
    return jax.random.fold_in(jax.random.fold_in(run_key, graph_seed), seed[1])
