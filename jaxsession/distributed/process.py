"""This process's place in the job: its config, index, role and log prefix."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import jax
from jax._src import distributed as _jax_distributed

logger = logging.getLogger("jaxsession")


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """How this process joins a job.

    Args:
        coordinator_address: ``host:port`` of the coordinator (process 0);
            None with ``auto_detect`` lets JAX find it.
        num_processes: Processes in the job (None: auto-detected).
        process_id: This process's index (None: auto-detected).
        auto_detect: Use JAX's cluster auto-detection (Cloud TPU, Slurm,
            Open MPI, environment variables) for what is not given.
        initialization_timeout: Seconds to wait for all processes to connect.
        heartbeat_timeout: Seconds without a heartbeat before a peer is
            declared dead and every process fails.
        shutdown_timeout: Seconds to wait for the others at shutdown.
        recoverable: Start JAX's recoverable mode, so that a dead worker
            surfaces in the others as a ``PeerLostError`` naming it
            instead of a C++ abort; at exit the processes then meet at a
            barrier of their own (JAX's shutdown barrier skips recoverable
            tasks), bounded by ``shutdown_timeout``.
    """

    coordinator_address: str | None = None
    num_processes: int | None = None
    process_id: int | None = None
    auto_detect: bool = False
    initialization_timeout: int = 300
    heartbeat_timeout: int = 100
    shutdown_timeout: int = 300
    recoverable: bool = True

    @property
    def single_process(self) -> bool:
        """Whether this config describes a one-process job (nothing to start)."""
        if self.auto_detect:
            return False
        return not self.coordinator_address or self.num_processes == 1


@dataclasses.dataclass
class JobState:
    """What this process knows of its job beyond ``jax.distributed``'s state.

    Attributes:
        heartbeat_timeout: The job's heartbeat timeout (seconds).
        shutdown_timeout: The job's shutdown timeout (seconds).
        lost: The processes found dead, or None while none was.
        told: The main thread got the ``PeerLostError``.
        closing: This process is exiting (peers leaving is no fault then).
        watching: The peer watch thread runs.
    """

    heartbeat_timeout: float = 100
    shutdown_timeout: float = 300
    lost: list[int] | None = None
    told: bool = False
    closing: bool = False
    watching: bool = False


# The one JobState of this process (one job per OS process).
JOB = JobState()


def distributed_state() -> Any:
    """``jax.distributed``'s global state (its client, process id and count)."""
    # Read at every monitored step (PreemptionStopHook): no import there.
    return _jax_distributed.global_state


def is_initialized() -> bool:
    """Whether ``jax.distributed`` runs in this process."""
    return distributed_state().client is not None


def client() -> Any:
    """The coordination service client of this process.

    Raises:
        RuntimeError: ``jax.distributed`` is not initialized.
    """
    found = distributed_state().client
    if found is None:
        raise RuntimeError("jax.distributed is not initialized in this process")
    return found


def job_size() -> int:
    """The processes of the job, read without starting a backend (safe at exit)."""
    return distributed_state().num_processes


def process_index() -> int:
    """This process's index in the job (0 for one process)."""
    return jax.process_index()


def process_count() -> int:
    """The number of processes in the job."""
    return jax.process_count()


def is_chief() -> bool:
    """Whether this process is the chief (process 0; one process always is)."""
    return not is_initialized() or process_index() == 0


def resolve_is_chief(is_chief: bool | None) -> bool:
    """``is_chief`` checked against the process index; None means index 0.

    Raises:
        ValueError: ``is_chief`` contradicts ``jax.process_index()``.
    """
    default = jax.process_index() == 0
    if is_chief is None:
        return default
    if process_count() > 1 and bool(is_chief) != default:
        raise ValueError(
            f"is_chief={is_chief} contradicts this process's index "
            f"{jax.process_index()} of {process_count()}: the chief is process 0 "
            "(pass is_chief=None to derive it)"
        )
    return bool(is_chief)


def log_prefix(is_chief: bool | None = None) -> str:
    """``[process i/n chief|worker]`` for log lines of this process."""
    if is_chief is None:
        is_chief = jax.process_index() == 0
    role = "chief" if is_chief else "worker"
    return f"[process {jax.process_index()}/{jax.process_count()} {role}]"


class PrefixFilter(logging.Filter):
    """Prepends the process prefix to the jaxsession logger's lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Prefixes ``record`` once; never drops it."""
        if not getattr(record, "_jaxsession_prefixed", False):
            record.msg = f"{log_prefix()} {record.msg}"
            record._jaxsession_prefixed = True
        return True


def install_log_prefix() -> None:
    """Prefixes the jaxsession logger's lines with this process (once)."""
    if not any(isinstance(f, PrefixFilter) for f in logger.filters):
        logger.addFilter(PrefixFilter())
