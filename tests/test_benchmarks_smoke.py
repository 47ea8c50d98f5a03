"""Smoke runs of every benchmark (``main(quick=True)``): tiny sizes, one repeat.

They check that each benchmark runs end to end, that its correctness guard
(losses against raw JAX) passes, and that it prints a table of finite ratios;
the figures themselves mean nothing at these sizes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import run_all
from benchmarks.common import BenchmarkMismatch, compare, row
from benchmarks.mlp_model import QUICK, RawTrainer, batches, check_losses, make_data

BENCHES = run_all.bench_modules()


def test_every_bench_module_is_found() -> None:
    assert {
        "bench_bf16",
        "bench_checkpoint",
        "bench_compile_cache",
        "bench_dispatch",
        "bench_distributed",
        "bench_many_vars",
        "bench_mlp",
        "bench_mts",
        "bench_overhead",
    } <= set(BENCHES)


@pytest.mark.slow
@pytest.mark.parametrize("name", BENCHES)
def test_quick_run_prints_finite_ratios(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    suffix = name.removeprefix("bench_")
    results = run_all.main(["--quick", suffix])
    out = capsys.readouterr().out
    assert list(results) == [name]
    assert "(--quick: smoke run)" in out
    rows = results[name]
    assert rows, f"{name} returned no rows"
    for r in rows:
        assert isinstance(r.ratio, float) and math.isfinite(r.ratio), r
        assert r.ratio > 0, r
        assert f"| {r.name} |" in out
        assert f"{r.ratio:.3f}x" in out


def test_run_all_rejects_unknown_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        run_all.main(["nosuch"])
    assert e.value.code == 2
    assert "unknown benchmark(s) ['nosuch']" in capsys.readouterr().err


def test_check_losses_rejects_a_broken_comparison() -> None:
    data = batches(*make_data(QUICK), QUICK.batch)
    raw = RawTrainer(_quick_params())
    with pytest.raises(BenchmarkMismatch, match=r"broken: loss at step 0 is 1\.0"):
        check_losses("broken", lambda i: 1.0, raw, data, 2)


def _quick_params() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    shapes = [
        (QUICK.inputs, QUICK.hidden),
        (QUICK.hidden,),
        (QUICK.hidden, QUICK.hidden),
        (QUICK.hidden,),
        (QUICK.hidden, QUICK.classes),
        (QUICK.classes,),
    ]
    return [0.1 * rng.standard_normal(s).astype(np.float32) for s in shapes]


def test_speed_row_is_steps_per_second_ratio() -> None:
    # "fast" does 10 steps per call in 20 µs; "raw" one step in 4 µs.
    times = {"fast": [20.0, 20.0, 20.0], "raw": [4.0, 4.0, 8.0]}
    r = row("x", times, "fast", "raw", 1.5, speed=True, steps={"fast": 10})
    assert (r.ours_us, r.raw_us, r.ratio) == (2.0, 4.0, 2.0)
    assert r.met and r.finite
    slow = row("y", times, "raw", "fast", 1.0)
    assert slow.ratio == pytest.approx(4.0 / 20.0) and slow.met


def test_compare_alternates_sides_and_keeps_min_repeats() -> None:
    calls: list[str] = []
    sides = {
        "a": (lambda: calls.append("a"), lambda: None),
        "b": (lambda: calls.append("b"), lambda: None),
    }
    t = compare(sides, calls=2, repeats=1, warmup=0)
    assert len(t["a"]) == len(t["b"]) == 5
    assert "".join(calls) == "aabb" * 5
