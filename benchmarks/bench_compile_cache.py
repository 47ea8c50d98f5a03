"""Restart to first step with a warm persistent compilation cache vs a cold start.

Each repeat starts ``benchmarks/first_step.py`` (the MLP of ``mlp_model``, one
training step) twice in a fresh subprocess: cold, with an empty cache
directory, then warm, with the cache that cold run filled. The time is from
just before the process is started to the moment the child has the first
step's loss. Cold and warm alternate within each repeat; a fresh cache
directory per repeat keeps repeats independent. Target (issue 6): warm <= 0.5x
cold.

Two scripts: ``session`` (tf.Session; the script itself turns JAX's cache on
via ``jax.config`` with no minimum compile time) and ``mts``
(MonitoredTrainingSession with checkpoint_dir; the cache left to jaxsession,
pointed at the directory by ``JAXSESSION_COMPILATION_CACHE_DIR``, JAX's own
thresholds applying). The import time (process start to ``import jaxsession``
done, the same for both) is reported alongside: a cache cannot shorten it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jaxsession.engine.executable as _executable
from benchmarks.common import INFO, Row, print_section

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300


def _start_to_first_step(
    mode: str, cache: str, work: str, quick: bool
) -> tuple[float, float]:
    """(seconds to imports done, seconds to first step done) of one fresh process."""
    env = dict(os.environ, JAXSESSION_COMPILATION_CACHE_DIR=cache)
    args = [sys.executable, "-m", "benchmarks.first_step", mode, cache, work]
    start = time.time()
    out = subprocess.run(
        args + (["quick"] if quick else []),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    if out.returncode != 0:
        raise RuntimeError(
            f"benchmarks.first_step {mode} exited with {out.returncode}:\n"
            f"{out.stderr[-3000:]}"
        )
    stamps = dict(line.split()[:2] for line in out.stdout.splitlines())
    return float(stamps["imported"]) - start, float(stamps["first_step"]) - start


def _cache_files(cache: str) -> int:
    return sum(len(files) for _, _, files in os.walk(cache))


def bench(mode: str, repeats: int, quick: bool) -> tuple[Row, Row, int]:
    """Cold vs warm start; returns the ratio row, the import-time row, cache files."""
    cold, warm, imports, files = [], [], [], 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            cache, work = f"{d}/cache", f"{d}/work"
            imp_c, c = _start_to_first_step(mode, cache, f"{work}_cold", quick)
            files = _cache_files(cache)
            imp_w, w = _start_to_first_step(mode, cache, f"{work}_warm", quick)
        cold.append(c)
        warm.append(w)
        imports += [imp_c, imp_w]
    ratios = [w / c for w, c in zip(warm, cold)]
    ms = 1e3
    imp = statistics.median(imports) * ms
    main_row = Row(
        f"{mode}: start to first step, warm cache vs cold",
        statistics.median(warm) * ms,
        statistics.median(cold) * ms,
        0.5,
        statistics.median(ratios),
    )
    # The floor any cache leaves: the imports' share of a cold start.
    imp_row = Row(
        f"{mode}: (info) imports alone vs cold",
        imp,
        statistics.median(cold) * ms,
        INFO,
        statistics.median(i / c for i, c in zip(imports[::2], cold)),
    )
    return main_row, imp_row, files


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: One repeat of the session script on tiny sizes: a smoke run.
    """
    modes = ["session"] if quick else ["session", "mts"]
    rows: list[Row] = []
    notes = []
    for mode in modes:
        if mode == "mts" and not hasattr(_executable, "enable_compilation_cache"):
            notes.append("mts: skipped, jaxsession does not enable the cache itself")
            continue
        main_row, imp_row, files = bench(mode, 1 if quick else 5, quick)
        rows += [main_row, imp_row]
        notes.append(f"{mode}: the cold run left {files} file(s) in the cache")
    print_section(
        "Restart with a warm compilation cache (ms from process start)",
        rows,
        ours="warm ms",
        raw="cold ms",
    )
    for note in notes:
        print(f"- {note}")
    print()
    return rows


if __name__ == "__main__":
    main()
