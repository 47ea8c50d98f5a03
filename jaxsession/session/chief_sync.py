"""Chief -> worker start-up of a multi-process job, through the coordination service.

The chief initializes or restores, then publishes the variable names on the
key-value store (never a device collective that could hang); each worker
waits for them up to ``max_wait_secs`` and then receives the chief's values
(``broadcast``, a collective every process joins).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from jax.experimental import multihost_utils

from jaxsession import errors
from jaxsession.checkpoint.saver import Saver, restored_from
from jaxsession.checkpoint.session_like import SessionLike
from jaxsession.distributed import kv, process
from jaxsession.distributed.process import log_prefix
from jaxsession.graph import random as random_lib

logger = logging.getLogger("jaxsession")

_handshakes = {"count": 0}

_SEED_KEY = "process_seed"
# Seconds a worker waits for the chief's seed (when it first needs it).
SEED_WAIT_SECS = 600.0
_seed_shared = {"done": False}


def share_process_seed() -> None:
    """Makes every process of a job draw unseeded randomness from the chief's seed.

    Ops with neither a graph nor an op seed take the process's seed when
    they are lowered (``graph/random.py``); the processes of one job must
    agree, or they would compile different programs and initialize
    replicated variables differently. The chief publishes its seed on the
    key-value store at its first session; a worker takes it from there when
    it first needs it. Nothing happens outside a multi-process job.
    """
    if _seed_shared["done"] or not process.is_initialized():
        return
    if process.job_size() < 2:
        return
    _seed_shared["done"] = True
    if process.is_chief():
        kv.key_set(_SEED_KEY, str(random_lib.process_seed(use=False)))
        return

    def chief_seed() -> int:
        what = "the chief's seed for random ops without one (its first session)"
        return int(kv.key_wait(_SEED_KEY, SEED_WAIT_SECS, what))

    random_lib.set_process_seed_provider(chief_seed, "took the chief's")


def _next_key() -> str:
    # Every process creates its sessions in the same order (one program), so
    # a per-process counter names the same handshake everywhere.
    _handshakes["count"] += 1
    return f"chief_ready/{_handshakes['count']}"


def _variables_by_name(graph: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in graph.get_all_collection_keys():
        for item in graph.get_collection(key):
            if hasattr(item, "initializer") and hasattr(item, "op"):
                out.setdefault(item.op.name, item)
    return out


def publish_chief_values(sess: SessionLike) -> None:
    """Chief: announces its variables, then sends their values to every worker.

    Call after the chief initialized or restored; every worker must be in
    ``receive_chief_values`` for the same session. A sharded variable (held
    in parts by every process) cannot be sent from the chief's parts: the
    chief names the checkpoint it restored it from, if any, and each worker
    restores or initializes its own parts (``receive_chief_values``).
    """
    current = {v.op.name: value for v, value in sess.variable_values().items()}
    names = sorted(n for n, value in current.items() if _whole_here(value))
    restored = restored_from(sess)
    sharded = {n: restored.get(n) for n in sorted(current) if n not in set(names)}
    kv.key_set(_next_key(), json.dumps({"names": names, "sharded": sharded}))
    broadcast([_host_value(current[n]) for n in names])
    logger.info("sent %d variable values to the workers", len(names))
    if sharded:
        logger.info("%d sharded variables: each process makes its parts", len(sharded))


def receive_chief_values(sess: SessionLike, max_wait_secs: float) -> None:
    """Worker: waits for the chief's variables, then takes their values.

    A sharded variable comes from the checkpoint the chief restored it from
    (this process reads its own parts) or, if the chief initialized it, from
    its initializer run here: the same seeded ops give the same values when
    the initialization is the session's first random run, as on the chief.

    Raises:
        errors.DeadlineExceededError: the chief was not ready within
            ``max_wait_secs``.
        ValueError: the chief has a variable this process's graph lacks.
    """
    what = "the chief (process 0) to initialize or restore the variables"
    payload = json.loads(kv.key_wait(_next_key(), max_wait_secs, what))
    names, sharded = payload["names"], payload["sharded"]
    by_name = _variables_by_name(sess.graph)
    missing = [n for n in [*names, *sharded] if n not in by_name]
    if missing:
        raise ValueError(
            f"{log_prefix(False)} the chief's graph has variables this process's "
            f"graph lacks: {errors.format_list(missing)}; every process must "
            "build the same graph"
        )
    variables = [by_name[n] for n in names]
    like = [np.zeros(v.shape.as_tuple(), v.dtype.np_dtype) for v in variables]
    received = broadcast(like)
    sess.set_variable_values(dict(zip(variables, received)))
    logger.info("received %d variable values from the chief", len(names))
    _make_own_parts(sess, {by_name[n]: source for n, source in sharded.items()})


def _make_own_parts(sess: SessionLike, sources: Mapping[Any, Any]) -> None:
    """Restores or initializes this process's parts of sharded variables."""
    by_checkpoint: dict[str, dict[str, Any]] = {}
    fresh = []
    for var, source in sources.items():
        if source is None:
            fresh.append(var)
        else:
            path, name = source
            by_checkpoint.setdefault(path, {})[name] = var
    for path, var_list in by_checkpoint.items():
        Saver(var_list).restore(sess, path)
    if fresh:
        sess.run([v.initializer for v in fresh])


def _whole_here(value: Any) -> bool:
    """Whether this process holds all of ``value``."""
    return getattr(value, "is_fully_addressable", True) or value.is_fully_replicated


def _host_value(value: Any) -> np.ndarray:
    if getattr(value, "is_fully_addressable", True):
        return np.asarray(value)
    return np.asarray(value.addressable_data(0))


def broadcast(values: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The chief's ``values`` in every process (a collective all must join).

    Workers pass arrays of the same shapes and dtypes; their contents are ignored.
    """
    if not values:
        return []
    return [np.asarray(v) for v in multihost_utils.broadcast_one_to_all(list(values))]


def worker_session(manager: Any, master: str, config: Any, max_wait_secs: float) -> Any:
    """Worker of a multi-process job: a session holding the chief's values.

    Args:
        manager: The SessionManager (makes the session, runs local init).
        master: Session target.
        config: Session config.
        max_wait_secs: How long to wait for the chief.

    Raises:
        errors.DeadlineExceededError: the chief was not ready in time.
        RuntimeError: the local init op could not run.
    """
    sess = manager.new_session(master, config)
    receive_chief_values(sess, max_wait_secs)
    ok, msg = manager.run_local_init_op(sess)
    if not ok:
        raise RuntimeError(f"{log_prefix(False)} local init failed: {msg}")
    return sess
