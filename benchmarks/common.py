"""Timing helpers shared by the bench_* modules.

Each measurement is the median over ``repeats`` repeats; a repeat times many
back-to-back calls and ends with ``sync()`` (block_until_ready on the state),
so queued asynchronous work is paid for inside the repeat that queued it.
The sides of a comparison alternate repeat by repeat in one process, and a
ratio is the median of the per-repeat ratios, so drifts in machine load
(other processes on a small machine) hit both sides of each ratio alike.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import jax

MIN_REPEATS = 5
INFO = float("nan")  # the target of an informational row


class BenchmarkMismatch(AssertionError):
    """The two sides of a comparison did not compute the same thing."""


@dataclass(frozen=True)
class Row:
    """One line of a results table: our time, the raw JAX time and the target.

    A time row's ratio is ours / raw (target: at most); a ``speed`` row's ratio
    is our steps/s over raw steps/s, i.e. raw µs / ours µs (target: at least).
    """

    name: str
    ours_us: float
    raw_us: float
    target: float
    ratio: float
    speed: bool = False

    @property
    def info(self) -> bool:
        """An informational row: no target (``target`` is NaN)."""
        return math.isnan(self.target)

    @property
    def met(self) -> bool:
        """Whether the ratio is within the target (False for an info row)."""
        return self.ratio >= self.target if self.speed else self.ratio <= self.target

    @property
    def finite(self) -> bool:
        """Whether every figure of the row is a finite number."""
        return all(math.isfinite(v) for v in (self.ours_us, self.raw_us, self.ratio))


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
    min_repeats: int = MIN_REPEATS,
) -> dict[str, list[float]]:
    """µs per call of each side in each repeat, the sides measured alternately.

    Args:
        sides: name -> (call, sync): ``call`` does one step, ``sync`` blocks
            until all queued work is done.
        calls: Calls per repeat.
        repeats: Repeats (at least ``min_repeats``).
        warmup: Untimed calls per side first (compilation, caches).
        min_repeats: Floor on ``repeats``; lowered only by smoke runs.

    Returns:
        name -> one µs-per-call figure per repeat.
    """
    repeats = max(repeats, min_repeats, 1)
    for fn, sync in sides.values():
        for _ in range(warmup):
            fn()
        sync()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, (fn, sync) in sides.items():
            times[name].append(_repeat_us(fn, sync, calls))
    return times


def row(
    name: str,
    times: dict[str, list[float]],
    ours: str,
    raw: str,
    target: float,
    *,
    speed: bool = False,
    steps: dict[str, int] | None = None,
) -> Row:
    """A table row: medians of both sides and the median per-repeat ratio.

    Args:
        name: The row's label.
        times: As returned by ``compare``.
        ours: The jaxsession side.
        raw: The baseline side.
        target: The target ratio.
        speed: Report steps/s ours / raw (target: at least) instead of
            time ours / raw (target: at most).
        steps: Training steps per call of a side (default 1), so sides that
            run several steps per call are compared per step.
    """
    steps = steps or {}
    a = [t / steps.get(ours, 1) for t in times[ours]]
    b = [t / steps.get(raw, 1) for t in times[raw]]
    ratios = [(y / x) if speed else (x / y) for x, y in zip(a, b)]
    return Row(
        name,
        statistics.median(a),
        statistics.median(b),
        target,
        statistics.median(ratios),
        speed,
    )


@contextlib.contextmanager
def restore_compilation_cache() -> Iterator[None]:
    """Puts JAX's persistent compilation cache setting back as it was on exit.

    MonitoredTrainingSession turns the cache on in its checkpoint_dir; a
    benchmark's checkpoint_dir is a temporary directory, deleted at its end,
    and JAX would warn on every later compile that cannot write there.
    """
    before = jax.config.jax_compilation_cache_dir
    try:
        yield
    finally:
        if jax.config.jax_compilation_cache_dir != before:
            from jax.experimental.compilation_cache import compilation_cache

            jax.config.update("jax_compilation_cache_dir", before)
            compilation_cache.reset_cache()


def markdown_table(
    rows: list[Row], ours: str = "jaxsession µs", raw: str = "raw JAX µs"
) -> str:
    """The rows as a markdown table: name, ours, raw, ratio, target, met."""
    lines = [
        f"| benchmark | {ours} | {raw} | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for r in rows:
        target = f">= {r.target:.2f}x steps/s" if r.speed else f"<= {r.target:.2f}x"
        met = "yes" if r.met else "no"
        if r.info:
            target = met = "-"
        lines.append(
            f"| {r.name} | {r.ours_us:.1f} | {r.raw_us:.1f} | {r.ratio:.3f}x "
            f"| {target} | {met} |"
        )
    return "\n".join(lines)


def print_section(title: str, rows: list[Row], **columns: str) -> None:
    """Prints ``## title`` and the rows' markdown table (``columns``: its headers)."""
    print(f"## {title}")
    print()
    print(markdown_table(rows, **columns))
    print()
