"""Per-step time of the 2-process data-parallel MLP vs one process, same global batch.

Both sides run in fresh subprocesses started by this invocation, each with
one CPU device: one process training on the whole global batch, then a job
of two processes (``jax.distributed`` on a loopback port) each feeding half
of it, whose gradients are averaged across the processes (Gloo). Each side
times ``repeats`` blocks of back-to-back ``sess.run([loss, train_op])`` after
a warm-up; a block's per-step time is its wall time over its steps (the
fetched loss makes every step wait for its result). The figure is the median
per-step time of each side and the ratio of the medians. On a machine whose
two processes share two CPU cores, this measures the cross-process overhead,
not a speed-up.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import INFO, MIN_REPEATS, Row, print_section
from benchmarks.processes import join, run_job

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300
GLOBAL_BATCH = 256
SIZES = (64, 256, 10)  # inputs, hidden units, classes


def _child(pid: int, n: int, port: int, steps: int, repeats: int, out: str) -> None:
    """One process of a side: trains, times blocks of steps, writes JSON to ``out``."""
    join(pid, n, port)
    import numpy as np

    import jaxsession as tf

    d_in, hidden, classes = SIZES
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, d_in], name="x")
    y = tf.placeholder(tf.int32, [None], name="y")
    h = tf.layers.dense(x, hidden, activation=tf.nn.relu, name="h1")
    h = tf.layers.dense(h, hidden, activation=tf.nn.relu, name="h2")
    logits = tf.layers.dense(h, classes, name="logits")
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(GLOBAL_BATCH, d_in)).astype(np.float32)
    ys = rng.integers(0, classes, size=GLOBAL_BATCH).astype(np.int32)
    part = GLOBAL_BATCH // n
    feed = {x: xs[pid * part : (pid + 1) * part], y: ys[pid * part : (pid + 1) * part]}
    per_step = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run([loss, train_op], feed)
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(steps):
                sess.run([loss, train_op], feed)
            per_step.append((time.perf_counter() - start) / steps)
    Path(out).write_text(json.dumps({"per_step": per_step}))


def _side(n: int, steps: int, repeats: int, work: str) -> list[float]:
    """Runs one side in ``n`` fresh processes; the chief's per-step times (s)."""
    args = [str(steps), str(repeats)]
    return run_job("benchmarks.bench_distributed", n, args, work)["per_step"]


def main(quick: bool = False) -> list[Row]:
    """Runs both sides, prints the markdown table and returns its row.

    Args:
        quick: Few steps, one block each: a smoke run.
    """
    steps, repeats = (5, 1) if quick else (100, MIN_REPEATS)
    with tempfile.TemporaryDirectory() as work:
        one = _side(1, steps, repeats, work)
        two = _side(2, steps, repeats, work)
    us = 1e6
    one_med, two_med = statistics.median(one) * us, statistics.median(two) * us
    rows = [
        Row(
            f"MLP {SIZES[0]}-{SIZES[1]}-{SIZES[1]}-{SIZES[2]}, Adam, global batch "
            f"{GLOBAL_BATCH}: "
            "2 processes x 1 CPU device vs 1 process, per step",
            two_med,
            one_med,
            INFO,
            two_med / one_med,
        )
    ]
    print_section(
        "Distributed (2 processes): per-step time vs one process",
        rows,
        ours="2 processes µs/step",
        raw="1 process µs/step",
    )
    print(
        f"- medians of {repeats} block(s) of {steps} steps per side; "
        f"2-process blocks (ms/step): {', '.join(f'{t * 1e3:.2f}' for t in two)}; "
        f"1-process: {', '.join(f'{t * 1e3:.2f}' for t in one)}"
    )
    print(f"- {os.cpu_count()} CPU core(s): this measures cross-process overhead")
    print()
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        pid, n, port = map(int, sys.argv[2:5])
        steps, repeats = map(int, sys.argv[6:8])
        _child(pid, n, port, steps, repeats, sys.argv[5])
    else:
        main("--quick" in sys.argv)
