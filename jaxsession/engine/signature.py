"""RunSignature: the frozen, hashable key of one compiled run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A tensor is keyed by (op id, output index): stable for the graph's life.
TensorKey = tuple  # (op id, output index), plus "end" for a fetched Variable


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """The static type of one fed value (and the value of a static feed)."""

    tensor: TensorKey
    shape: tuple[int, ...]
    dtype: str
    value: tuple | None = None


@dataclass(frozen=True, slots=True)
class RunSignature:
    """What selects an executable: fetches, targets, feed types and steps.

    ``host_fetches`` are requested tensors whose values the caller supplies
    on the host (the Session's global-step mirror); the call does not return
    them. ``stacked`` are fetches a K-step run also returns for every step
    (``engine.multistep``). A Variable fetched as such
    (``engine.plan.EndOfRun``) has a fetch key of its own (``tensor_key``).

    The graph is not part of the key: each graph keeps its own cache, and
    because ops are immutable and only ever added, ops created after a run
    cannot change what an existing signature computes, so growing the graph
    does not invalidate compiled runs.
    """

    fetches: tuple[TensorKey, ...]
    targets: tuple[int, ...]
    feeds: tuple[FeedSpec, ...]
    steps: int = 1
    host_fetches: tuple[TensorKey, ...] = ()
    stacked: tuple[TensorKey, ...] = ()

    def describe(self, graph: Any) -> str:
        """A readable form naming the tensors, for cache-miss logs."""
        ops = graph.get_operations()

        def tname(key: TensorKey) -> str:
            return f"{ops[key[0]].name}:{key[1]}"

        feeds = ", ".join(
            f"{tname(f.tensor)}={f.dtype}{list(f.shape)}" for f in self.feeds
        )
        host = (
            f", host_fetches=[{', '.join(tname(k) for k in self.host_fetches)}]"
            if self.host_fetches
            else ""
        )
        stacked = (
            f", stacked=[{', '.join(tname(k) for k in self.stacked)}]"
            if self.stacked
            else ""
        )
        return (
            f"RunSignature(fetches=[{', '.join(tname(k) for k in self.fetches)}], "
            f"targets=[{', '.join(ops[i].name for i in self.targets)}], "
            f"feeds=[{feeds}], steps={self.steps}{host}{stacked})"
        )


def tensor_key(tensor: Any) -> TensorKey:
    """The key of a Tensor within its graph (a fetched Variable's differs)."""
    key = (tensor.op.id, tensor.value_index)
    return (*key, "end") if getattr(tensor, "end_of_run", False) else key
