"""TF1's cluster idiom: ``ClusterSpec``, ``Server`` and ``TF_CONFIG``.

They map onto ``jax.distributed``: the coordinator is the first training
task's address, the process id is the task's position, the process count is
the number of training tasks. Parameter servers do not exist: training is
synchronous SPMD data parallelism, and a "ps" task joins no job.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from jaxsession import errors
from jaxsession.distributed import process
from jaxsession.distributed.lifecycle import initialize
from jaxsession.distributed.process import ClusterConfig

logger = logging.getLogger("jaxsession")


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
    nothing (variables live on the training processes' devices); its
    ``join()`` blocks, as TF1's does, until the process is signalled.

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
        """On a ps task: blocks until the process is signalled, as TF1's does.

        A ps task serves nothing here (the variables live on the training
        processes' devices), but a TF1 script relies on ``join()`` never
        returning: the ps branch would otherwise fall through into the
        training code. SIGTERM ends the process with the signal's default
        action (unless the program installed a handler); SIGINT raises
        ``KeyboardInterrupt`` as usual.

        Raises:
            errors.UnimplementedError: on a training task (it would never return).
        """
        if self.config is None:
            logger.info(
                "Server.join() on ps task %d: blocking until this process is "
                "signalled; jaxsession keeps the variables on the training "
                "processes' devices (synchronous SPMD), so a ps task serves nothing.",
                self.task_index,
            )
            while True:  # time.sleep wakes for signal handlers and resumes.
                time.sleep(3600)
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
    elif not process.is_initialized():
        tf_config = config_from_tf_config()
        if tf_config is not None:
            initialize(tf_config)
    return process.resolve_is_chief(is_chief)
