"""Retention policies: which checkpoints stay on disk (TF1_BEHAVIOUR §8.3).

The Saver keeps the newest ``max_to_keep`` checkpoints in its list (and the
state file). When a checkpoint falls out of that list the Saver asks its
policy once whether to keep it on disk anyway ("preserved") or delete it.
``Saver(max_to_keep=5, keep_checkpoint_every_n_hours=2)`` becomes
``AnyOf((KeepLatest(5), KeepEvery(2)))``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["AnyOf", "CheckpointEntry", "KeepEvery", "KeepLatest", "RetentionPolicy"]


@dataclass(frozen=True)
class CheckpointEntry:
    """A saved checkpoint: its prefix and its save time (seconds since the epoch)."""

    path: str
    time: float


class RetentionPolicy(Protocol):
    """Decides whether a checkpoint leaving the Saver's list stays on disk."""

    def should_keep(self, entry: CheckpointEntry, newer: int) -> bool:
        """Whether to keep ``entry``, which has ``newer`` checkpoints saved after it.

        Called once per checkpoint, when it leaves the list; a policy may
        update its own state (KeepEvery advances its next keep time).
        """
        ...


@dataclass(frozen=True)
class KeepLatest:
    """Keeps the ``n`` newest checkpoints."""

    n: int

    def should_keep(self, entry: CheckpointEntry, newer: int) -> bool:
        """True while fewer than ``n`` checkpoints are newer."""
        return newer < self.n


@dataclass
class KeepEvery:
    """Keeps one checkpoint per ``hours`` of training, as TF1 does.

    The first checkpoint saved more than ``hours`` after the policy was made is
    kept and the next keep time moves on by ``hours`` (once, even if more than
    ``hours`` passed: TF1's rule).

    Args:
        hours: The interval; TF1's default 10000 means "never" in practice.
        clock: Wall-clock seconds (checkpoint times are file times after a
            restart, so this is ``time.time``, not a monotonic clock).
    """

    hours: float
    clock: Callable[[], float] = time.time
    next_keep_time: float = field(init=False)

    def __post_init__(self) -> None:
        self.next_keep_time = self.clock() + self.hours * 3600

    def should_keep(self, entry: CheckpointEntry, newer: int) -> bool:
        """True for an entry saved after the next keep time (which then advances)."""
        if entry.time > self.next_keep_time:
            self.next_keep_time += self.hours * 3600
            return True
        return False


@dataclass(frozen=True)
class AnyOf:
    """Keeps a checkpoint if any policy does; asks them in order and stops at a yes."""

    policies: Sequence[RetentionPolicy]

    def should_keep(self, entry: CheckpointEntry, newer: int) -> bool:
        """Whether one of the policies keeps ``entry``."""
        return any(p.should_keep(entry, newer) for p in self.policies)
