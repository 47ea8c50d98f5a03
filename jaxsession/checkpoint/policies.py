"""Checkpoint policies: when to save (cadences) and what stays on disk (retention).

Save cadences decide, at each step, whether periodic work is due:
``EverySteps(n)``, ``EverySecs(s)``, ``Never()``, and ``ChiefDecides(cadence)``
which lets the chief's answer stand for every process of a job (their
clocks differ, and collective work must happen at the same steps
everywhere). ``SecondOrStepTimer`` (session/timers.py) is the stateful timer
over them; every cadence here is a pure decision, tested without I/O.

Retention (TF1_BEHAVIOUR §8.3):
The Saver keeps the newest ``max_to_keep`` checkpoints in its list (and the
state file). When a checkpoint falls out of that list the Saver asks its
policy once whether to keep it on disk anyway ("preserved") or delete it.
``Saver(max_to_keep=5, keep_checkpoint_every_n_hours=2)`` becomes
``AnyOf((KeepLatest(5), KeepEvery(2)))``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from jaxsession import errors
from jaxsession.distributed import kv, process

__all__ = [
    "AnyOf",
    "CheckpointEntry",
    "ChiefDecides",
    "CoordinationChannel",
    "DecisionChannel",
    "EverySecs",
    "EverySteps",
    "KeepEvery",
    "KeepLatest",
    "Never",
    "RetentionPolicy",
    "SaveCadence",
    "Trigger",
]


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


# -- save cadences -------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """When a cadence last fired: the step and the clock's reading (seconds)."""

    step: int
    time: float


class SaveCadence(Protocol):
    """Decides whether periodic work (a save, a summary) is due at a step."""

    def is_due(self, step: int, now: float, last: Trigger | None) -> bool:
        """Whether work is due at ``step`` (clock ``now``), given the ``last`` trigger.

        Every cadence fires at the first step asked (``last`` None) and never
        twice at one step.
        """
        ...


def _opening(step: int, last: Trigger | None) -> bool | None:
    """The rule shared by every cadence: first step yes, same step no, else None."""
    if last is None:
        return True
    if step == last.step:
        return False
    return None


@dataclass(frozen=True)
class EverySteps:
    """Due once ``n`` steps have passed since the last trigger."""

    n: int

    def is_due(self, step: int, now: float, last: Trigger | None) -> bool:
        """See SaveCadence."""
        opening = _opening(step, last)
        return opening if opening is not None else step >= last.step + self.n


@dataclass(frozen=True)
class EverySecs:
    """Due once ``secs`` seconds of the clock have passed since the last trigger."""

    secs: float

    def is_due(self, step: int, now: float, last: Trigger | None) -> bool:
        """See SaveCadence."""
        opening = _opening(step, last)
        return opening if opening is not None else now >= last.time + self.secs


@dataclass(frozen=True)
class Never:
    """Never due."""

    def is_due(self, step: int, now: float, last: Trigger | None) -> bool:
        """Always False."""
        return False


class DecisionChannel(Protocol):
    """Where the chief's cadence decisions travel to the other processes."""

    def shared(self) -> bool:
        """Whether there are other processes to decide for."""
        ...

    def is_chief(self) -> bool:
        """Whether this process decides."""
        ...

    def publish(self, key: str, value: str) -> None:
        """Chief: makes ``value`` readable under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Chief: forgets ``key``."""
        ...

    def wait(self, key: str, timeout_secs: float, what: str) -> str:
        """The value under ``key``, waiting up to ``timeout_secs`` for ``what``."""
        ...

    def log_prefix(self) -> str:
        """This process, for messages."""
        ...


class CoordinationChannel:
    """The coordination service of this process's ``jax.distributed`` job."""

    def shared(self) -> bool:
        """Whether this process is one of several of a job."""
        return process.is_initialized() and process.process_count() > 1

    def is_chief(self) -> bool:
        """Whether this is process 0."""
        return process.process_index() == 0

    def publish(self, key: str, value: str) -> None:
        """See DecisionChannel."""
        kv.key_set(key, value)

    def delete(self, key: str) -> None:
        """See DecisionChannel."""
        kv.key_delete(key)

    def wait(self, key: str, timeout_secs: float, what: str) -> str:
        """See DecisionChannel."""
        return kv.key_wait(key, timeout_secs, what)

    def log_prefix(self) -> str:
        """See DecisionChannel."""
        return process.log_prefix()


# How long a worker waits for the chief's decision before giving up: the
# chief may be busy between runs (saving, evaluating) for a while.
CADENCE_WAIT_SECS = 600.0
# Decisions kept in the coordination service: a worker is at most a run or
# two behind the chief (every run's collectives pair them up).
_KEPT_DECISIONS = 64
_ordinals: dict[str, itertools.count] = {}


@dataclass(eq=False)
class ChiefDecides:
    """A cadence whose answers the chief decides for every process of a job.

    In a job of several processes the chief asks ``cadence`` and publishes
    each answer (with its step) under ``key``; the others wait for it (up to
    ``wait_secs``). In one process ``cadence`` decides locally. Every process
    must make its ChiefDecides of one ``name`` in the same order (one
    program) and ask them at the same steps in the same order.

    Args:
        cadence: The chief's cadence.
        name: The kind of work ("summaries", "checkpoints"): names the keys
            and what a waiting worker waits for.
        wait_secs: How long a worker waits for a decision.
        channel: Where decisions travel (default: the coordination service).
        key: The decisions' key prefix (default ``cadence/<name>/<ordinal>``).
    """

    cadence: SaveCadence
    name: str = "timer"
    wait_secs: float = CADENCE_WAIT_SECS
    channel: DecisionChannel = field(default_factory=CoordinationChannel)
    key: str = ""
    calls: int = field(default=0, init=False)
    _shared: bool | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.key:
            ordinal = next(_ordinals.setdefault(self.name, itertools.count(1)))
            self.key = f"cadence/{self.name}/{ordinal}"

    @property
    def shared(self) -> bool:
        """Whether decisions go through the channel (fixed at the first call)."""
        if self._shared is None:
            self._shared = self.channel.shared()
        return self._shared

    @property
    def decided_locally(self) -> bool:
        """Whether ``cadence`` decides here alone, as found at the first call (else False)."""
        return self._shared is False

    def is_due(self, step: int, now: float, last: Trigger | None) -> bool:
        """See SaveCadence: the chief's answer in a job.

        Raises:
            errors.DeadlineExceededError: a worker did not get the chief's
                decision within ``wait_secs``.
            errors.InternalError: the chief asked about another step (the
                processes ran different steps).
        """
        if not self.shared:
            return self.cadence.is_due(step, now, last)
        self.calls += 1
        key = f"{self.key}/{self.calls}"
        if self.channel.is_chief():
            decision = self.cadence.is_due(step, now, last)
            self.channel.publish(key, f"{int(decision)} {int(step)}")
            if self.calls > _KEPT_DECISIONS:
                self.channel.delete(f"{self.key}/{self.calls - _KEPT_DECISIONS}")
            return decision
        what = f"the chief's decision whether {self.name} are due at step {step}"
        decision, chief_step = self.channel.wait(key, self.wait_secs, what).split()
        if int(chief_step) != int(step):
            raise errors.InternalError(
                None,
                None,
                f"{self.channel.log_prefix()} asked whether {self.name} are due at "
                f"step {step}, but the chief asked at step {chief_step} (key "
                f"'{key}'): the processes ran different steps",
            )
        return decision == "1"
