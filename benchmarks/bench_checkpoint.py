"""Checkpoint benchmarks: how long a save blocks training, and what saving costs a loop.

1. Blocked time of an asynchronous ``Saver.save`` (returns once the values are
   on the host) vs a synchronous save of the same state (``save`` +
   ``wait_until_finished``), for a ~200 MB state and an MLP-size state.
   Target: blocked <= 0.1x sync.
2. A 1000-step MLP training loop saving every 100 steps vs the same loop not
   saving (the last save is waited for inside the timing). Target <= 1.05x.

Medians over repeats, the two sides alternating, in one process.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import jaxsession as tf
from jaxsession.checkpoint import Saver


@dataclass(frozen=True)
class Result:
    """One table line: the two timings (ms), their ratio and the target."""

    name: str
    ours_ms: float
    base_ms: float
    ratio: float
    target: float


def _median_pair(
    ours: Callable[[], float], base: Callable[[], float], repeats: int
) -> tuple[float, float, float]:
    a, b = [], []
    for _ in range(repeats):
        a.append(ours())
        b.append(base())
    ratios = [x / y for x, y in zip(a, b)]
    return statistics.median(a), statistics.median(b), statistics.median(ratios)


def _state_session(
    shapes: list[tuple[int, ...]],
) -> tuple[tf.Session, list[tf.Variable]]:
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        variables = [
            tf.get_variable(f"v{i}", shape=s, initializer=tf.zeros_initializer())
            for i, s in enumerate(shapes)
        ]
        sess = tf.Session(graph=graph)
        # Random values: zeros would compress to nothing and flatter the writes.
        sess.set_variable_values(
            {
                v: rng.standard_normal(s, dtype=np.float32)
                for v, s in zip(variables, shapes)
            }
        )
    return sess, variables


def bench_blocked(name: str, shapes: list[tuple[int, ...]], repeats: int) -> Result:
    """Blocked time of an async save vs a synchronous save of the same state."""
    sess, variables = _state_session(shapes)
    with sess.graph.as_default(), tempfile.TemporaryDirectory() as d:
        saver = Saver(variables, max_to_keep=2)
        step = iter(range(1, 10_000))

        def blocked() -> float:
            start = time.perf_counter()
            saver.save(sess, f"{d}/m", global_step=next(step))
            took = time.perf_counter() - start
            saver.wait_until_finished()
            return took

        def sync() -> float:
            start = time.perf_counter()
            saver.save(sess, f"{d}/m", global_step=next(step))
            saver.wait_until_finished()
            return time.perf_counter() - start

        blocked(), sync()  # warm up Orbax and the file system
        ours, base, ratio = _median_pair(blocked, sync, repeats)
    return Result(name, ours * 1e3, base * 1e3, ratio, 0.1)


def _mlp(
    batch: int = 128, width: int = 512
) -> tuple[Callable[[], None], tf.Session, tf.Graph]:
    graph = tf.Graph()
    with graph.as_default():
        rng = np.random.default_rng(0)
        x = tf.constant(rng.standard_normal((batch, 784), dtype=np.float32))
        y = tf.constant(rng.integers(0, 10, batch))
        h = tf.layers.dense(x, width, activation=tf.nn.relu)
        h = tf.layers.dense(h, width, activation=tf.nn.relu)
        logits = tf.layers.dense(h, 10)
        loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
        gs = tf.train.get_or_create_global_step()
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=gs)
        sess = tf.Session(graph=graph)
        sess.run(tf.global_variables_initializer())

    def step() -> None:
        sess.run(train_op)

    return step, sess, graph


def bench_loop(steps: int, every: int, repeats: int, width: int = 512) -> Result:
    """A training loop saving every ``every`` steps vs the same loop without saves."""
    step, sess, graph = _mlp(width=width)
    with graph.as_default(), tempfile.TemporaryDirectory() as d:
        saver = Saver(max_to_keep=2)
        counter = iter(range(10**9))

        def run(save: bool) -> float:
            start = time.perf_counter()
            for i in range(1, steps + 1):
                step()
                if save and i % every == 0:
                    saver.save(sess, f"{d}/m", global_step=next(counter))
            saver.wait_until_finished()
            sess.run(graph.get_collection("variables")[0])  # wait for queued steps
            return time.perf_counter() - start

        for _ in range(20):
            step()
        run(True)
        ours, base, ratio = _median_pair(lambda: run(True), lambda: run(False), repeats)
    n_saves = steps // every
    return Result(
        f"{steps}-step MLP loop, {n_saves} saves vs none",
        ours * 1e3,
        base * 1e3,
        ratio,
        1.05,
    )


def _mlp_shapes() -> list[tuple[int, ...]]:
    return [(784, 1024), (1024,), (1024, 1024), (1024,), (1024, 10), (10,)]


def markdown(results: list[Result]) -> str:
    """The results as a markdown table."""
    lines = [
        "| benchmark | ours ms | baseline ms | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for r in results:
        met = "yes" if r.ratio <= r.target else "no"
        lines.append(
            f"| {r.name} | {r.ours_ms:.1f} | {r.base_ms:.1f} | {r.ratio:.3f}x "
            f"| <= {r.target:.2f}x | {met} |"
        )
    return "\n".join(lines)


def main(quick: bool = False) -> list[Result]:
    """Runs the checkpoint benchmarks, prints the markdown table, returns the rows.

    Args:
        quick: Small states, a short loop, one repeat: a smoke run, not a figure.
    """
    if quick:
        results = [
            bench_blocked("async save blocked vs sync save, 64 KB", [(128, 128)], 1),
            bench_loop(steps=20, every=10, repeats=1, width=32),
        ]
    else:
        results = [
            bench_blocked(
                "async save blocked vs sync save, 200 MB", [(1024, 1024)] * 50, 5
            ),
            bench_blocked(
                "async save blocked vs sync save, MLP 4.2 MB", _mlp_shapes(), 7
            ),
            bench_loop(steps=1000, every=100, repeats=3),
        ]
    print("## Checkpoints (ratio = ours / baseline)")
    print()
    print(markdown(results))
    print()
    return results


if __name__ == "__main__":
    main()
