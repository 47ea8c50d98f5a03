"""``tf.train.SyncReplicasOptimizer``: a pass-through here.

TF1 aggregated the gradients of ``replicas_to_aggregate`` workers through
parameter servers before one update. jaxsession already trains
synchronously data-parallel over its JAX processes (every process runs the
same step on its shard of the global batch, and the gradients are averaged
by XLA), so the wrapper applies the wrapped optimizer's update as it is, and
its hooks and token ops do nothing. Programs written for it run unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from jaxsession.library.optimizers import Optimizer
from jaxsession.ops.control_flow import no_op
from jaxsession.session.hooks import SessionRunHook

logger = logging.getLogger("jaxsession")

__all__ = ["SyncReplicasOptimizer"]


class _NoQueueRunner:
    """The chief queue runner of TF1's token queue: nothing to run here."""

    def create_threads(
        self, sess: Any, coord: Any = None, daemon: bool = False, start: bool = False
    ) -> list:
        """No threads."""
        return []


class _SyncReplicasHook(SessionRunHook):
    """TF1's SyncReplicasOptimizer hook; synchronization needs nothing here."""

    def __init__(self, is_chief: bool):
        self.is_chief = is_chief


class SyncReplicasOptimizer(Optimizer):
    """Wraps an optimizer for synchronous replicas (``tf.train.SyncReplicasOptimizer``).

    Differs from TF1: a pass-through. Training is already synchronous data
    parallel over the JAX processes (see the module docstring), so
    ``replicas_to_aggregate`` and ``total_num_replicas`` only have to agree
    with the process count, and the update is the wrapped optimizer's.

    Args:
        opt: The optimizer whose update is applied.
        replicas_to_aggregate: Replicas whose gradients make one update.
        total_num_replicas: Replicas in all (default ``replicas_to_aggregate``).
        variable_averages: Accepted for TF1 compatibility.
        variables_to_average: Accepted for TF1 compatibility.
        use_locking: Ignored.
        name: Optimizer name.

    Raises:
        ValueError: ``total_num_replicas`` is smaller than
            ``replicas_to_aggregate`` (backup workers are not supported).
    """

    def __init__(
        self,
        opt: Optimizer,
        replicas_to_aggregate: int,
        total_num_replicas: int | None = None,
        variable_averages: Any = None,
        variables_to_average: Any = None,
        use_locking: bool = False,
        name: str = "sync_replicas",
    ):
        super().__init__(use_locking, name)
        total = (
            replicas_to_aggregate if total_num_replicas is None else total_num_replicas
        )
        if total < replicas_to_aggregate:
            raise ValueError(
                f"total_num_replicas ({total}) must be at least replicas_to_aggregate "
                f"({replicas_to_aggregate})"
            )
        self._opt = opt
        self._replicas_to_aggregate = replicas_to_aggregate
        self._total_num_replicas = total

    def compute_gradients(self, *args: Any, **kwargs: Any) -> Any:
        """The wrapped optimizer's ``compute_gradients``."""
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(
        self, grads_and_vars: Any, global_step: Any = None, name: str | None = None
    ) -> Any:
        """The wrapped optimizer's update (already synchronous across processes).

        Raises:
            ValueError: no ``global_step`` (TF1 needs it to check staleness).
        """
        if global_step is None:
            raise ValueError("Global step is required to check staleness")
        return self._opt.apply_gradients(
            grads_and_vars, global_step=global_step, name=name
        )

    def get_slot(self, var: Any, name: str) -> Any:
        """The wrapped optimizer's slot."""
        return self._opt.get_slot(var, name)

    def get_slot_names(self) -> list[str]:
        """The wrapped optimizer's slot names."""
        return self._opt.get_slot_names()

    def variables(self) -> list[Any]:
        """The wrapped optimizer's variables."""
        return self._opt.variables()

    def get_chief_queue_runner(self) -> _NoQueueRunner:
        """A queue runner with no threads (TF1's token queue is not needed)."""
        return _NoQueueRunner()

    def get_init_tokens_op(self, num_tokens: int = -1) -> Any:
        """A no-op (TF1 filled the token queue)."""
        return no_op(name="sync_replicas_init_tokens")

    def make_session_run_hook(
        self, is_chief: bool, num_tokens: int = -1
    ) -> SessionRunHook:
        """A hook for ``MonitoredTrainingSession(hooks=[...])``; it does nothing."""
        return _SyncReplicasHook(is_chief)
