"""What a histogram summary step costs, part by part (issue 16, item 3).

The small MLP of ``mlp_model.SMALL`` (32-32-32-10, batch 16, Adam, fed by a
Dataset) with a histogram summary of each of its 6 weights, in a plain
``Session``. Every side is timed alternately in one process against the
plain training step ``sess.run(train_op)`` (the baseline, 1.0x):

- the summary step ``sess.run([train_op, merge_all()])``: everything a
  SummarySaverHook's step adds (the hook finishes the host part on a
  background thread, but on a small machine that CPU is still paid);
- (a) the 6 device histograms alone (``_device_histogram``, one jit);
- (b) the host part alone: turning the 6 fetched stats into ``Summary``
  bytes, then merging them (the ``HOST_POST_OPS`` of the summary ops).

Besides the medians, the best and 6th best µs of each side are printed
(the machine may be shared). Informational rows: the target (<= 5% more
time over a run with a summary every 100 steps) is checked by
bench_mts.py's histogram row.
"""

from __future__ import annotations

import jax
import numpy as np

import jaxsession as tf
from benchmarks import mlp_model
from benchmarks.common import INFO, Row, compare, print_section, row
from jaxsession.library import summary_ops

CALLS = 20
FULL = {"repeats": 61, "warmup": 20}
QUICK = {"repeats": 1, "warmup": 2, "min_repeats": 1}


def _sides(sess: tf.Session, m: mlp_model.GraphModel, merged: tf.Tensor) -> dict:
    def sync() -> None:
        jax.block_until_ready(list(sess.variable_values().values()))

    stats_ops = [op for op in m.graph.get_operations() if op.type == "HistogramStats"]
    stats = sess.run([op.outputs for op in stats_ops])
    summary_ops_ = [op.outputs[0].consumers()[0] for op in stats_ops]
    merge_op = merged.op

    def host() -> None:
        parts = [
            summary_ops._eval_histogram(op, list(s))
            for op, s in zip(summary_ops_, stats)
        ]
        summary_ops._eval_merge(merge_op, parts)

    weights = [jax.device_put(w) for w in sess.run(m.params)]
    device = jax.jit(lambda ws: [summary_ops._device_histogram(w) for w in ws])
    return {
        "plain": (lambda: sess.run(m.train_op), sync),
        "summary": (lambda: sess.run([m.train_op, merged]), sync),
        "device": (lambda: jax.block_until_ready(device(weights)), lambda: None),
        "host": (host, lambda: None),
    }


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: Few steps and one repeat: a smoke run, not a figure.
    """
    sizes = mlp_model.QUICK if quick else mlp_model.SMALL
    m = mlp_model.build_graph(sizes, mlp_model.make_data(sizes), histogram=True)
    with m.graph.as_default():
        merged = tf.summary.merge_all()
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
    try:
        t = compare(
            _sides(sess, m, merged),
            calls=3 if quick else CALLS,
            **(QUICK if quick else FULL),
        )
    finally:
        sess.close()
    name = f"{sizes.inputs}-{sizes.hidden}-{sizes.hidden}-{sizes.classes}, 6 histograms"
    labels = {
        "summary": "step + merged summary (time vs plain step)",
        "device": "(a) the 6 device histograms, one jit (vs plain step)",
        "host": "(b) stats to Summary bytes + merge, host (vs plain step)",
    }
    rows = [
        row(f"{name}: {label}", t, side, "plain", INFO)
        for side, label in labels.items()
    ]
    print_section(
        "Histogram summary step, by part (µs per call)",
        rows,
        ours="part µs",
        raw="plain step µs",
    )
    # Low-order statistics too: on a shared machine the medians drift.
    for side, times in t.items():
        low = sorted(times)
        print(
            f"- {side}: best {low[0]:.1f} µs, 6th best {low[min(5, len(low) - 1)]:.1f} µs"
        )
    extra = np.median(t["summary"]) - np.median(t["plain"])
    print(f"\nextra µs of a summary step (medians): {extra:.0f}\n")
    return rows


if __name__ == "__main__":
    main()
