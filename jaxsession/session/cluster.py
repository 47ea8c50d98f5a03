"""Processes of a job: ``master`` / ``is_chief`` <-> ``jax.distributed``.

A multi-process job is multi-controller JAX: every process runs the same
program, and ``jax.distributed`` connects them through a coordinator.
``master='host:port'`` names that coordinator, ``master=''`` is one process.
TF1's ``ClusterSpec``/``Server`` idiom (and the ``TF_CONFIG`` variable) map
onto it: the coordinator is the first worker's address, the process id is
the task index, the process count is the number of workers. Parameter
servers do not exist: training is synchronous SPMD data parallelism.

Start-up is a handshake over the coordination service (its key-value store,
never a device collective that could hang): the chief initializes or
restores, then publishes the variable names; each worker waits for them up
to ``max_wait_secs`` and then receives the chief's values.

Every process must run the same device computations in the same order:
their collectives pair up by order, and one extra cross-device reduction
in one process makes Gloo abort ("collective mismatch"). So chief-only work
stays on host data: variables are replicated, and workers run mirrors of
the chief's saving hooks: the summary mirror computes the chief's summaries
and writes nothing, the checkpoint mirror calls ``Saver.save`` at the same
steps as the chief (only the chief writes the state file and events).
Seconds cadences are decided by the chief's clock and shared through the
coordination service (``timers.SharedTimer``). Chief-only hooks that fetch
batch-dependent tensors are not safe in a multi-process job.

Faults: a job starts with JAX's recoverable mode (``jax_enable_recoverability``),
so the death of a worker does not abort the others in C++. A thread of each
process asks the coordination service which processes are alive (it knows
within the heartbeat timeout); a session run then raises
``PeerLostError`` (an ``errors.UnavailableError``) naming the lost
process(es), as does a
collective failing on the broken connection (``raise_if_peer_lost``). A run
stuck in a computation with the dead process (XLA's CPU runtime can hang
there) ends the process with exit 1 and that message after
min(heartbeat timeout, 10) secs. The chief runs the coordination service:
when it dies, the others still abort (exit -6, within about a second),
because jax 0.10's missed-heartbeat callback cannot be set from Python (its
status argument has no Python conversion: a Python callback aborts with
``std::bad_cast``).
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession import errors

logger = logging.getLogger("jaxsession")

_KEY_PREFIX = "jaxsession"


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


def _strip_scheme(address: str) -> str:
    return address.split("://", 1)[1] if "://" in address else address


def _distributed_state() -> Any:
    from jax._src import distributed

    return distributed.global_state


def is_initialized() -> bool:
    """Whether ``jax.distributed`` runs in this process."""
    return _distributed_state().client is not None


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
    if is_initialized():
        _check_same(config)
        _install_log_prefix()
        return
    if config.single_process:
        return
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
    _job.update(
        heartbeat_timeout=config.heartbeat_timeout,
        shutdown_timeout=config.shutdown_timeout,
        lost=None,
    )
    if config.recoverable and _distributed_state().num_processes > 1:
        # Registered after JAX's own shutdown hook, so it runs before it.
        atexit.register(_exit_barrier)
        _job["watching"] = True
        threading.Thread(
            target=_watch_peers,
            args=(0.25, min(config.heartbeat_timeout, 10)),
            name="jaxsession peer watch",
            daemon=True,
        ).start()
    _install_log_prefix()
    logger.info("joined the job at %s", config.coordinator_address)


# What this process's job was started with (see initialize); "lost": the
# processes found dead; "told": the main thread got the UnavailableError;
# "closing": this process is exiting (peers leaving is no fault then).
_job: dict[str, Any] = {
    "heartbeat_timeout": 100,
    "shutdown_timeout": 300,
    "lost": None,
    "told": False,
    "closing": False,
    "watching": False,
}


def _watch_peers(interval: float, grace: float) -> None:
    """Watches for dead peers; ends this process if it is stuck waiting on them.

    A collective with a dead peer usually fails at once (then
    raise_if_peer_lost names it), but some hang in XLA's CPU runtime. Once a
    peer is lost, a main thread that stays in one runtime frame for
    ``grace`` seconds without having been told is stuck: print why and exit 1.
    """
    try:
        _watch(interval, grace)
    finally:
        _job["watching"] = False


def _watch(interval: float, grace: float) -> None:
    lost: list[int] = []
    while not lost:
        time.sleep(interval)
        if _job["closing"] or not is_initialized():
            return
        try:
            lost = lost_processes()
        except Exception:
            # The service is gone with the chief; JAX's client is about to
            # end this process (a C++ abort): say why first, if there is time.
            if not _job["closing"]:
                sys.stderr.write(
                    f"jaxsession: {log_prefix()} lost the chief (process 0, which "
                    "runs the coordination service); JAX ends this process.\n"
                )
                sys.stderr.flush()
            return
    _job["lost"] = lost
    logger.error("%s", _lost_text(lost, prefix=False))
    main = threading.main_thread()
    last, since = None, time.monotonic()
    while not (_job["closing"] or _job["told"]):
        frame = sys._current_frames().get(main.ident)
        where = (frame.f_code, frame.f_lineno) if frame is not None else None
        if where != last:
            last, since = where, time.monotonic()
        elif _in_runtime(frame) and time.monotonic() - since > grace:
            sys.stderr.write(
                f"jaxsession: {_lost_text(lost)}. This process waited "
                f"{grace:g} secs in {frame.f_code.co_name} "
                f"({frame.f_code.co_filename}:{frame.f_lineno}), a computation "
                "with the lost process, and exits (code 1).\n"
            )
            sys.stderr.flush()
            os._exit(1)
        time.sleep(interval)


def _in_runtime(frame: Any) -> bool:
    """Whether a frame is in jaxsession's or JAX's code (not the user's, nor a shutdown)."""
    name = frame.f_code.co_filename.replace(os.sep, "/") if frame is not None else ""
    return ("/jaxsession/" in name or "/jax/" in name) and not name.endswith(
        "/distributed.py"
    )


def _exit_barrier() -> None:
    """Waits at exit until every live process is exiting too.

    In recoverable mode JAX's shutdown does not wait for the others, and the
    chief's exit takes the coordination service away from workers still
    finishing or disconnecting (which then abort): so the chief also waits
    for the workers to disconnect. A lost peer would never arrive: skip then.
    """
    _job["closing"] = True
    if not is_initialized() or _job["lost"]:
        return
    timeout = _job["shutdown_timeout"]
    try:
        barrier("exit", timeout, "every process to finish")
        if process_index() != 0:
            return
        others = _distributed_state().num_processes - 1
        deadline = time.monotonic() + timeout
        while len(lost_processes()) < others and time.monotonic() < deadline:
            time.sleep(0.02)
    except Exception as e:  # exiting anyway: say why the wait ended
        logger.warning("leaving without the others: %s", e)


def _check_same(config: ClusterConfig) -> None:
    state = _distributed_state()
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


def process_index() -> int:
    """This process's index in the job (0 for one process)."""
    return jax.process_index()


def process_count() -> int:
    """The number of processes in the job."""
    return jax.process_count()


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


class _PrefixFilter(logging.Filter):
    """Prepends the process prefix to the jaxsession logger's lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "_jaxsession_prefixed", False):
            record.msg = f"{log_prefix()} {record.msg}"
            record._jaxsession_prefixed = True
        return True


def _install_log_prefix() -> None:
    if not any(isinstance(f, _PrefixFilter) for f in logger.filters):
        logger.addFilter(_PrefixFilter())


# -- TF1's cluster idiom ---------------------------------------------------------


class ClusterSpec:
    """Jobs and their task addresses (``tf.train.ClusterSpec``).

    Args:
        cluster: A dict ``job -> [address, ...]`` (or ``job -> {index:
            address}``), or another ClusterSpec.

    Raises:
        TypeError: ``cluster`` is neither.
    """

    def __init__(self, cluster: Mapping[str, Any] | ClusterSpec):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        if not isinstance(cluster, Mapping):
            raise TypeError(
                f"ClusterSpec expects a dict job -> addresses, got {type(cluster).__name__}"
            )
        self._jobs: dict[str, dict[int, str]] = {}
        for job, tasks in cluster.items():
            if isinstance(tasks, Mapping):
                self._jobs[job] = {int(i): str(a) for i, a in sorted(tasks.items())}
            elif isinstance(tasks, str):
                self._jobs[job] = {0: tasks}
            else:
                self._jobs[job] = dict(enumerate(map(str, tasks)))

    @property
    def jobs(self) -> list[str]:
        """The job names."""
        return list(self._jobs)

    def num_tasks(self, job_name: str) -> int:
        """The number of tasks of ``job_name``."""
        return len(self._job(job_name))

    def task_indices(self, job_name: str) -> list[int]:
        """The task indices of ``job_name``, sorted."""
        return sorted(self._job(job_name))

    def task_address(self, job_name: str, task_index: int) -> str:
        """The address of one task.

        Raises:
            ValueError: no such job or task.
        """
        tasks = self._job(job_name)
        if task_index not in tasks:
            raise ValueError(
                f"No task with index {task_index} in job '{job_name}' "
                f"(tasks {sorted(tasks)})"
            )
        return tasks[task_index]

    def job_tasks(self, job_name: str) -> list[str]:
        """The addresses of ``job_name``'s tasks, in index order."""
        return [a for _, a in sorted(self._job(job_name).items())]

    def as_dict(self) -> dict[str, Any]:
        """``job -> [addresses]`` (or ``{index: address}`` when indices have gaps)."""
        out: dict[str, Any] = {}
        for job, tasks in self._jobs.items():
            dense = sorted(tasks) == list(range(len(tasks)))
            out[job] = [tasks[i] for i in sorted(tasks)] if dense else dict(tasks)
        return out

    def _job(self, job_name: str) -> dict[int, str]:
        if job_name not in self._jobs:
            raise ValueError(f"No such job in cluster: '{job_name}' (jobs {self.jobs})")
        return self._jobs[job_name]

    def __bool__(self) -> bool:
        return bool(self._jobs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClusterSpec) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"ClusterSpec({self.as_dict()!r})"


# The jobs whose tasks are jax.distributed processes, in process-id order.
_TRAINING_JOBS = ("chief", "master", "worker")


def _process_list(cluster: ClusterSpec) -> list[tuple[str, int]]:
    """(job, task) of each process, in process-id order: chief first, then workers.

    "ps" tasks take no part: they are not processes of the SPMD job.

    Raises:
        ValueError: an unknown job.
    """
    unknown = [j for j in cluster.jobs if j not in (*_TRAINING_JOBS, "ps")]
    if unknown:
        raise ValueError(
            f"Unsupported job(s) {unknown} in cluster {cluster.as_dict()}: only "
            "'chief' (or 'master') and 'worker' jobs map to jax.distributed "
            "processes ('ps' tasks are accepted and idle)"
        )
    order: list[tuple[str, int]] = []
    for job in _TRAINING_JOBS:
        if job in cluster.jobs:
            order.extend((job, i) for i in cluster.task_indices(job))
    return order


def config_from_cluster(
    cluster: ClusterSpec, job_name: str, task_index: int, **timeouts: Any
) -> ClusterConfig | None:
    """The ClusterConfig of one task of a TF1 cluster; None for a "ps" task.

    The coordinator is the first process's address (the chief's, else worker
    0's), the process id is the task's position, the count is all training
    tasks. Differs from TF1: "ps" tasks hold no variables and join no job.

    Raises:
        ValueError: an unknown job, or ``job_name``/``task_index`` not in the cluster.
    """
    order = _process_list(cluster)
    if job_name == "ps":
        if task_index not in cluster.task_indices("ps"):
            raise ValueError(
                f"Task ps:{task_index} is not in cluster {cluster.as_dict()}"
            )
        return None
    if (job_name, task_index) not in order:
        raise ValueError(
            f"Task {job_name}:{task_index} is not in cluster {cluster.as_dict()}"
        )
    first_job, first_index = order[0]
    return ClusterConfig(
        coordinator_address=cluster.task_address(first_job, first_index),
        num_processes=len(order),
        process_id=order.index((job_name, task_index)),
        **timeouts,
    )


def config_from_tf_config(value: str | None = None) -> ClusterConfig | None:
    """The ClusterConfig described by ``TF_CONFIG``, or None if it is unset.

    Args:
        value: The JSON text (default: the ``TF_CONFIG`` environment variable).

    Raises:
        ValueError: malformed JSON, no task, or an unknown job.
    """
    value = os.environ.get("TF_CONFIG") if value is None else value
    if not value:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as e:
        raise ValueError(f"TF_CONFIG is not valid JSON: {e}: {value!r}") from None
    cluster = ClusterSpec(parsed.get("cluster") or {})
    task = parsed.get("task") or {}
    if not cluster:
        return None
    if "type" not in task:
        raise ValueError(f"TF_CONFIG has a cluster but no task type: {value!r}")
    return config_from_cluster(cluster, task["type"], int(task.get("index", 0)))


class Server:
    """This process's place in a TF1 cluster (``tf.train.Server``).

    Creating it (with ``start=True``) starts ``jax.distributed`` for the task.
    ``target`` is the coordinator address, usable as ``master``.

    Differs from TF1: no in-process gRPC server runs. A "ps" task starts
    nothing (variables live on the training processes' devices) and its
    ``join()`` logs why and returns.

    Args:
        server_or_cluster_def: A ClusterSpec or a dict for one.
        job_name: "worker", "chief" or "ps".
        task_index: The task index within the job.
        protocol: Accepted for TF1 compatibility.
        config: Accepted for TF1 compatibility.
        start: Start ``jax.distributed`` now.
        initialization_timeout: See ClusterConfig.
        heartbeat_timeout: See ClusterConfig.
        shutdown_timeout: See ClusterConfig.

    Raises:
        ValueError: an unknown job, or a task not in the cluster.
    """

    def __init__(
        self,
        server_or_cluster_def: Any,
        job_name: str | None = None,
        task_index: int | None = None,
        protocol: str | None = None,
        config: Any = None,
        start: bool = True,
        *,
        initialization_timeout: int = 300,
        heartbeat_timeout: int = 100,
        shutdown_timeout: int = 300,
    ):
        self.cluster_spec = ClusterSpec(server_or_cluster_def)
        if job_name is None:
            jobs = self.cluster_spec.jobs
            if len(jobs) != 1:
                raise ValueError(
                    f"job_name must be given for a cluster with jobs {jobs}"
                )
            job_name = jobs[0]
        self.config = config_from_cluster(
            self.cluster_spec,
            job_name,
            task_index or 0,
            initialization_timeout=initialization_timeout,
            heartbeat_timeout=heartbeat_timeout,
            shutdown_timeout=shutdown_timeout,
        )
        self.job_name = job_name
        self.task_index = task_index or 0
        if start:
            self.start()

    @property
    def target(self) -> str:
        """``grpc://`` + the coordinator address, or '' for a one-process job or a ps task."""
        if self.config is None or self.config.single_process:
            return ""
        return f"grpc://{self.config.coordinator_address}"

    @property
    def server_def(self) -> ClusterConfig | None:
        """The ClusterConfig this server starts with."""
        return self.config

    def start(self) -> None:
        """Starts ``jax.distributed`` (nothing if it already runs alike, or on ps)."""
        if self.config is not None:
            initialize(self.config)

    def join(self) -> None:
        """On a ps task: logs that there is nothing to serve and returns.

        Raises:
            errors.UnimplementedError: on a training task (it would never return).
        """
        if self.config is None:
            logger.info(
                "Server.join() on ps task %d returns at once: jaxsession keeps the "
                "variables on the training processes' devices (synchronous SPMD), "
                "so a ps task has nothing to serve.",
                self.task_index,
            )
            return
        raise errors.UnimplementedError(
            None,
            None,
            f"Server.join() on {self.job_name} task {self.task_index} is not "
            "supported: jaxsession has no parameter servers; every training "
            "process trains (run the same program on each task)",
        )

    @staticmethod
    def create_local_server(config: Any = None, start: bool = True) -> Server:
        """A one-process server (target '')."""
        return Server(
            {"worker": ["localhost:0"]}, "worker", 0, config=config, start=start
        )


def start_for_session(master: str, is_chief: bool | None, config: Any = None) -> bool:
    """Starts the job a monitored session names; returns the resolved ``is_chief``.

    ``config`` may be a ClusterConfig; otherwise ``master`` (and, with
    ``master=''``, ``TF_CONFIG``) decide.

    Raises:
        ValueError: ``is_chief`` contradicts the process index, or a bad cluster.
    """
    if isinstance(config, ClusterConfig):
        initialize(config)
    elif master:
        initialize(master)
    elif not is_initialized():
        tf_config = config_from_tf_config()
        if tf_config is not None:
            initialize(tf_config)
    return resolve_is_chief(is_chief)


# -- the coordination service ------------------------------------------------------


def _client() -> Any:
    client = _distributed_state().client
    if client is None:
        raise RuntimeError("jax.distributed is not initialized in this process")
    return client


def _timeout_ms(secs: float) -> int:
    return max(1, min(int(secs * 1000), 2**31 - 1))


def key_set(key: str, value: str) -> None:
    """Publishes ``value`` under ``key`` in the coordination service."""
    _client().key_value_set(f"{_KEY_PREFIX}/{key}", value)


def key_delete(key: str) -> None:
    """Removes ``key`` from the coordination service."""
    _client().key_value_delete(f"{_KEY_PREFIX}/{key}")


def key_wait(key: str, timeout_secs: float, what: str) -> str:
    """The value of ``key``, waiting for it up to ``timeout_secs``.

    Raises:
        errors.DeadlineExceededError: it did not appear in time; the message
            says ``what`` was awaited and for how long.
    """
    try:
        return _client().blocking_key_value_get(
            f"{_KEY_PREFIX}/{key}", _timeout_ms(timeout_secs)
        )
    except Exception as e:  # the client raises a bare runtime error
        if "DEADLINE_EXCEEDED" not in str(e) and "timed out" not in str(e).lower():
            raise
        raise errors.DeadlineExceededError(
            None,
            None,
            f"{log_prefix()} waited {timeout_secs:g} secs for {what} "
            f"(coordination key '{_KEY_PREFIX}/{key}') and gave up",
        ) from None


def barrier(name: str, timeout_secs: float, what: str) -> None:
    """Waits until every process reaches barrier ``name``.

    Raises:
        errors.DeadlineExceededError: not all arrived within ``timeout_secs``.
    """
    try:
        _client().wait_at_barrier(f"{_KEY_PREFIX}/{name}", _timeout_ms(timeout_secs))
    except Exception as e:
        if "DEADLINE_EXCEEDED" not in str(e):
            raise
        raise errors.DeadlineExceededError(
            None,
            None,
            f"{log_prefix()} waited {timeout_secs:g} secs at barrier '{name}' "
            f"for {what} and gave up: {e}",
        ) from None


# -- lost processes ------------------------------------------------------------------

# Fragments of the runtime errors a collective gives when a peer's
# connection is gone (Gloo on CPU; gRPC/coordination wording elsewhere).
_PEER_LOSS_MARKS = (
    "connection closed",
    "connection reset",
    "closed by peer",
    "reset by peer",
    "broken pipe",
    "connection refused",
    "socket closed",
    "unavailable",
    "unhealthy",
    "heartbeat",
)


def lost_processes() -> list[int]:
    """The processes the coordination service no longer sees alive (sorted).

    Barrier-like (JAX's ``get_live_nodes``): it returns once every live
    process has called it too; dead ones are not waited for. Only the peer
    watch thread and the exit wait call it.

    Raises:
        RuntimeError: ``jax.distributed`` is not initialized.
    """
    # The job's size without jax.process_count(), which could start a backend at exit.
    count = _distributed_state().num_processes
    live = _client().get_live_nodes(list(range(count)))
    return sorted(set(range(count)) - set(live))


def _await_lost(bound_secs: float) -> tuple[list[int], float]:
    """Lost processes, polling until one shows or ``bound_secs`` pass; and the wait."""
    # The peer watch thread (see initialize) asks the service; asking here
    # too would mix two barrier-like calls of one process.
    start = time.monotonic()
    while True:
        lost = _job["lost"] or []
        waited = time.monotonic() - start
        if lost or waited >= bound_secs or not _job["watching"]:
            return lost, waited
        time.sleep(0.05)


class PeerLostError(errors.UnavailableError):
    """A process of this multi-process job stopped; the job cannot go on without it.

    MonitoredSession does not retry it (as it would another
    ``UnavailableError``): a new session would fail the same way. Restart
    every process.

    Attributes:
        lost_processes: The indices of the processes the coordination
            service no longer sees alive; empty when it still sees all.
    """

    def __init__(
        self, node_def: Any, op: Any, message: str, lost_processes: Sequence[int] = ()
    ) -> None:
        super().__init__(node_def, op, message)
        self.lost_processes = list(lost_processes)

    def __reduce__(self) -> tuple:
        return (type(self), (self.node_def, self.op, self.message, self.lost_processes))


def raise_if_peer_lost(error: BaseException) -> None:
    """Raises ``PeerLostError`` if ``error`` comes from a lost process.

    Call it with a runtime error of a device computation; it returns (for
    the caller to re-raise ``error``) unless this is a multi-process job and
    the error reads as a broken connection. The coordination service's view
    of the live processes names the lost ones; it may lag the collective's
    failure, so this polls it for up to the heartbeat timeout (+1 s).

    Raises:
        PeerLostError: naming the lost processes.
    """
    if not is_initialized() or process_count() < 2:
        return
    text = str(error)
    if _job["lost"] is None and not any(m in text.lower() for m in _PEER_LOSS_MARKS):
        return
    lost = _job["lost"]
    if not lost:
        lost, _ = _await_lost(_job["heartbeat_timeout"] + 1)
    raise _unavailable(lost, error) from error


def raise_if_job_broken() -> None:
    """Raises ``PeerLostError`` if a process of this job was found dead.

    Called before each device computation of a multi-process session: one
    with a dead peer could hang instead of failing.
    """
    if _job["lost"]:
        raise _unavailable(_job["lost"], None)


def _lost_text(lost: list[int], prefix: bool = True) -> str:
    count = _distributed_state().num_processes
    me = f"{log_prefix()} " if prefix else ""
    if not lost:
        return (
            f"{me}lost the connection to a peer process (the "
            f"coordination service still sees all {count} alive)"
        )
    names = ", ".join(map(str, lost))
    if len(lost) == 1:
        return (
            f"{me}lost process {names} of {count} (it stopped: "
            "killed, crashed or unreachable)"
        )
    return (
        f"{me}lost processes {names} of {count} (they stopped: "
        "killed, crashed or unreachable)"
    )


def _unavailable(lost: list[int], error: BaseException | None) -> PeerLostError:
    if lost:
        _job["lost"] = lost
    _job["told"] = True
    cause = ""
    if error is not None:
        text = str(error).strip()
        first = text.splitlines()[0] if text else ""
        cause = f" The computation failed with {type(error).__name__}: {first}"
    return PeerLostError(
        None,
        None,
        f"{_lost_text(lost)}; the job cannot continue without it: restart every "
        f"process to resume from the last checkpoint.{cause}",
        lost,
    )


# -- chief -> workers start-up ------------------------------------------------------

_handshakes = {"count": 0}


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


def publish_chief_values(sess: Any) -> None:
    """Chief: announces its variables, then sends their values to every worker.

    Call after the chief initialized or restored; every worker must be in
    ``receive_chief_values`` for the same session. A sharded variable (held
    in parts by every process) cannot be sent from the chief's parts: the
    chief names the checkpoint it restored it from, if any, and each worker
    restores or initializes its own parts (``receive_chief_values``).
    """
    from jaxsession.checkpoint.saver import restored_from

    current = {v.op.name: value for v, value in sess.variable_values().items()}
    names = sorted(n for n, value in current.items() if _whole_here(value))
    restored = restored_from(sess)
    sharded = {n: restored.get(n) for n in sorted(current) if n not in set(names)}
    key_set(_next_key(), json.dumps({"names": names, "sharded": sharded}))
    _broadcast([_host_value(current[n]) for n in names])
    logger.info("sent %d variable values to the workers", len(names))
    if sharded:
        logger.info("%d sharded variables: each process makes its parts", len(sharded))


def receive_chief_values(sess: Any, max_wait_secs: float) -> None:
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
    payload = json.loads(key_wait(_next_key(), max_wait_secs, what))
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
    received = _broadcast(like)
    sess.set_variable_values(dict(zip(variables, received)))
    logger.info("received %d variable values from the chief", len(names))
    _make_own_parts(sess, {by_name[n]: source for n, source in sharded.items()})


def _make_own_parts(sess: Any, sources: Mapping[Any, Any]) -> None:
    """Restores or initializes this process's parts of sharded variables."""
    from jaxsession.checkpoint.saver import Saver

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


def _broadcast(values: Sequence[np.ndarray]) -> list[np.ndarray]:
    from jax.experimental import multihost_utils

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
    sess = manager._new_session(master, config)
    receive_chief_values(sess, max_wait_secs)
    ok, msg = manager._try_run_local_init_op(sess)
    if not ok:
        raise RuntimeError(f"{log_prefix(False)} local init failed: {msg}")
    return sess


class _NullWriter:
    """A summary writer that drops everything (a worker's mirror of the chief's)."""

    def add_summary(self, *args: Any, **kwargs: Any) -> None:
        pass

    def add_session_log(self, *args: Any, **kwargs: Any) -> None:
        pass

    def flush(self) -> None:
        pass


def checkpoint_mirror_hooks(
    scaffold: Any, checkpoint_dir: str | None, steps: Any, secs: Any
) -> list[Any]:
    """A worker's copy of the chief's CheckpointSaverHook.

    ``Saver.save`` is collective in a multi-process job (each process writes
    its shards; the chief the state file), so every process calls it at the
    same steps: this hook does, on the chief's cadence (a SharedTimer). In a
    worker it writes no events and no graph.
    """
    from jaxsession.session.checkpoint_hooks import CheckpointSaverHook

    if not checkpoint_dir or not ((steps and steps > 0) or (secs and secs > 0)):
        return []
    return [
        CheckpointSaverHook(
            checkpoint_dir,
            save_secs=secs,
            save_steps=steps,
            scaffold=scaffold,
            save_graph_def=False,
        )
    ]


def summary_mirror_hooks(
    scaffold: Any, output_dir: str | None, steps: Any, secs: Any
) -> list[Any]:
    """A worker's copy of the chief's SummarySaverHook, writing nothing.

    Every process must run the same computations in the same order, or their
    collectives pair up wrongly (Gloo aborts with a size mismatch): a summary
    of the loss needs a cross-device reduction, so workers compute it too.
    """
    from jaxsession.session.basic_hooks import SummarySaverHook

    if not output_dir or not ((steps and steps > 0) or (secs and secs > 0)):
        return []
    hook = SummarySaverHook(
        save_steps=steps,
        save_secs=secs,
        scaffold=scaffold,
        summary_writer=_NullWriter(),
    )
    return [hook]
