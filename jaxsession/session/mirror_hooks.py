"""A worker's mirrors of the chief's saving hooks in a multi-process job.

Every process must run the same device computations in the same order:
their collectives pair up by order, and one extra cross-device reduction in
one process makes Gloo abort ("collective mismatch"). So chief-only work
stays on host data, and workers run mirrors of the chief's saving hooks: the
summary mirror computes the chief's summaries and writes nothing, the
checkpoint mirror calls ``Saver.save`` at the same steps as the chief (only
the chief writes the state file and events). Seconds cadences are decided by
the chief's clock (``timers.SharedTimer``). Chief-only hooks that fetch
batch-dependent tensors are not safe in a multi-process job.
"""

from __future__ import annotations

from typing import Any

from jaxsession.session.basic_hooks import SummarySaverHook
from jaxsession.session.checkpoint_hooks import CheckpointSaverHook


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
    if not output_dir or not ((steps and steps > 0) or (secs and secs > 0)):
        return []
    hook = SummarySaverHook(
        save_steps=steps,
        save_secs=secs,
        scaffold=scaffold,
        summary_writer=_NullWriter(),
    )
    return [hook]
