"""Timing helpers shared by the bench_* modules.

Each measurement is the median over ``repeats`` repeats; a repeat times many
back-to-back calls and ends with ``sync()`` (block_until_ready on the state),
so queued asynchronous work is paid for inside the repeat that queued it.
The sides of a comparison alternate repeat by repeat in one process, and a
ratio is the median of the per-repeat ratios, so drifts in machine load
(other processes on a small machine) hit both sides of each ratio alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

MIN_REPEATS = 5


@dataclass(frozen=True)
class Row:
    """One line of a results table: our time, the raw JAX time and the target."""

    name: str
    ours_us: float
    raw_us: float
    target: float
    ratio: float

    @property
    def met(self) -> bool:
        """Whether the ratio is within the target."""
        return self.ratio <= self.target


def _repeat_us(
    fn: Callable[[], object], sync: Callable[[], object], calls: int
) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sync()
    return (time.perf_counter() - start) / calls * 1e6


def compare(
    sides: dict[str, tuple[Callable[[], object], Callable[[], object]]],
    *,
    calls: int,
    repeats: int = 31,
    warmup: int = 20,
) -> dict[str, list[float]]:
    """µs per call of each side in each repeat, the sides measured alternately.

    Args:
        sides: name -> (call, sync): ``call`` does one step, ``sync`` blocks
            until all queued work is done.
        calls: Calls per repeat.
        repeats: Repeats (at least ``MIN_REPEATS``).
        warmup: Untimed calls per side first (compilation, caches).

    Returns:
        name -> one µs-per-call figure per repeat.
    """
    repeats = max(repeats, MIN_REPEATS)
    for fn, sync in sides.values():
        for _ in range(warmup):
            fn()
        sync()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, (fn, sync) in sides.items():
            times[name].append(_repeat_us(fn, sync, calls))
    return times


def row(name: str, times: dict[str, list[float]], ours: str, raw: str,
        target: float) -> Row:  # fmt: skip
    """A table row: medians of both sides and the median per-repeat ratio."""
    ratios = [a / b for a, b in zip(times[ours], times[raw])]
    return Row(
        name,
        statistics.median(times[ours]),
        statistics.median(times[raw]),
        target,
        statistics.median(ratios),
    )


def markdown_table(rows: list[Row]) -> str:
    """The rows as a markdown table: name, µs ours, µs raw, ratio, target."""
    lines = [
        "| benchmark | jaxsession µs | raw JAX µs | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.ours_us:.1f} | {r.raw_us:.1f} | {r.ratio:.2f}x "
            f"| <= {r.target:.1f}x | {'yes' if r.met else 'no'} |"
        )
    return "\n".join(lines)
