"""Joining the job (``initialize``) and leaving it (the exit barrier)."""

from __future__ import annotations

import atexit
import logging
import time

import jax

from jaxsession.distributed import health, kv, process
from jaxsession.distributed.process import JOB, ClusterConfig

logger = logging.getLogger("jaxsession")


def initialize(
    master: str | ClusterConfig = "",
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    auto_detect: bool = False,
    initialization_timeout: int = 300,
    heartbeat_timeout: int = 100,
    shutdown_timeout: int = 300,
    recoverable: bool = True,
) -> None:
    """Joins the job named by ``master``: once per process, idempotent.

    Args:
        master: The coordinator ``host:port`` (a ``grpc://`` scheme is
            accepted), '' for one process, or a ClusterConfig (then the other
            arguments are ignored).
        num_processes: Processes in the job.
        process_id: This process's index.
        auto_detect: Use JAX's cluster auto-detection for what is missing.
        initialization_timeout: See ClusterConfig.
        heartbeat_timeout: See ClusterConfig.
        shutdown_timeout: See ClusterConfig.
        recoverable: See ClusterConfig.

    Raises:
        ValueError: ``jax.distributed`` already runs with another coordinator,
            process count or process id.
    """
    if isinstance(master, ClusterConfig):
        config = master
    else:
        config = ClusterConfig(
            _strip_scheme(master) or None,
            num_processes,
            process_id,
            auto_detect,
            initialization_timeout,
            heartbeat_timeout,
            shutdown_timeout,
            recoverable,
        )
    if process.is_initialized():
        _check_same(config)
        process.install_log_prefix()
        return
    if config.single_process:
        return
    _start(config)
    process.install_log_prefix()
    logger.info("joined the job at %s", config.coordinator_address)


def _start(config: ClusterConfig) -> None:
    # Read by jax.distributed.initialize: the service then lets the others
    # live on when a task dies, so the loss reaches Python (raise_if_peer_lost).
    jax.config.update("jax_enable_recoverability", config.recoverable)
    jax.distributed.initialize(
        coordinator_address=config.coordinator_address,
        num_processes=config.num_processes,
        process_id=config.process_id,
        initialization_timeout=config.initialization_timeout,
        heartbeat_timeout_seconds=config.heartbeat_timeout,
        shutdown_timeout_seconds=config.shutdown_timeout,
    )
    JOB.heartbeat_timeout = config.heartbeat_timeout
    JOB.shutdown_timeout = config.shutdown_timeout
    JOB.lost = None
    if config.recoverable and process.job_size() > 1:
        # Registered after JAX's own shutdown hook, so it runs before it.
        atexit.register(_exit_barrier)
        health.start_watching(config.heartbeat_timeout)


def _leave_broken_job() -> None:
    """Disconnects now, so that threads waiting on the dead peer end before exit.

    A thread still inside the coordination client's barrier when the
    interpreter finalizes would abort the process (a C++ forced unwind);
    the client's shutdown cancels its wait, and it ends with an error.
    """
    try:
        jax.distributed.shutdown()
    except Exception as e:  # exiting anyway
        logger.warning("leaving the job: %s", e)
    for thread in list(health.MEETING):
        thread.join(timeout=_RELEASE_SECS)


# How long a thread released by the shutdown may take to end.
_RELEASE_SECS = 5.0


def _strip_scheme(address: str) -> str:
    return address.split("://", 1)[1] if "://" in address else address


def _check_same(config: ClusterConfig) -> None:
    state = process.distributed_state()
    given = {
        "coordinator": config.coordinator_address,
        "num_processes": config.num_processes,
        "process_id": config.process_id,
    }
    running = {
        "coordinator": state.coordinator_address,
        "num_processes": state.num_processes,
        "process_id": state.process_id,
    }
    diff = [
        f"{k}: running {running[k]!r}, asked {v!r}"
        for k, v in given.items()
        if v is not None and running[k] is not None and v != running[k]
    ]
    if diff:
        raise ValueError(
            "jax.distributed already runs in this process with another "
            f"configuration ({'; '.join(diff)}); it can start only once per process"
        )


def _exit_barrier() -> None:
    """Waits at exit until every live process is exiting too.

    In recoverable mode JAX's shutdown does not wait for the others, and the
    chief's exit takes the coordination service away from workers still
    finishing or disconnecting (which then abort): so the chief also waits
    for the workers to disconnect. A lost peer would never arrive: skip then,
    and leave the job at once instead.
    """
    JOB.closing = True
    if not process.is_initialized():
        return
    if JOB.lost:
        _leave_broken_job()
        return
    timeout = JOB.shutdown_timeout
    try:
        kv.barrier("exit", timeout, "every process to finish")
        if process.process_index() != 0:
            return
        others = process.job_size() - 1
        deadline = time.monotonic() + timeout
        while len(health.lost_processes()) < others and time.monotonic() < deadline:
            time.sleep(0.02)
    except Exception as e:  # exiting anyway: say why the wait ended
        logger.warning("leaving without the others: %s", e)
