"""Host cost of one run on a graph whose device work is negligible (issues 11, 16).

A 10-element variable updated per run, so a run's time is the Python around
the compiled call: ``Session.run`` with no feed, with a feed_dict, and fed
by a Dataset over in-memory arrays, then the same three through
MonitoredTrainingSession with the chief's default hooks; and issue 11's
tiny dispatch rows (``x <- 0.99 x + 1`` by ``sess.run`` and
``make_callable`` against one raw ``jax.jit`` call). In between, the cost
of a MonitoredSession run with no hooks, with each default chief hook
alone, and with all of MonitoredTrainingSession's.

On a machine shared with other jobs, medians swing with the load; here each
side's figure is a low order statistic (the 6th best of ``repeats``
repeats, sides alternating), which the load inflates least. Ratios are
against a plain ``Session.run`` (first table) or the raw call (second).

Run it from any tree, to compare trees alternately:
``cd <tree> && PYTHONPATH=<tree> python <this file>``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable

import jax
import numpy as np

import jaxsession as tf
from benchmarks.common import INFO, Row, print_section

RANK = 5  # the 6th best repeat


def _best(sides: dict[str, Callable[[], object]], calls: int, repeats: int) -> dict:
    for side in sides.values():
        for _ in range(calls):
            side()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, side in sides.items():
            start = time.perf_counter()
            for _ in range(calls):
                side()
            times[name].append((time.perf_counter() - start) / calls * 1e6)
    rank = min(RANK, repeats - 1)
    return {name: sorted(t)[rank] for name, t in times.items()}


def _row(name: str, best: dict, ours: str, base: str) -> Row:
    return Row(name, best[ours], best[base], INFO, best[ours] / best[base])


def bench_hooks(calls: int, repeats: int) -> list[Row]:
    """Plain and monitored runs: no feed, feed_dict, Dataset."""
    with tf.Graph().as_default(), tempfile.TemporaryDirectory() as ckpt:
        step = tf.train.get_or_create_global_step()
        v = tf.Variable(1.0)
        x = tf.placeholder(tf.float32, [None])
        data = np.arange(64, dtype=np.float32)
        batch = (
            tf.data.Dataset.from_tensor_slices(data)
            .repeat()
            .batch(4)
            .make_one_shot_iterator()
            .get_next()
        )
        ops = {
            "plain": tf.group(tf.assign_add(v, 1.0), tf.assign_add(step, 1)),
            "feed": tf.group(
                tf.assign_add(v, tf.reduce_sum(x)), tf.assign_add(step, 1)
            ),
            "data": tf.group(
                tf.assign_add(v, tf.reduce_sum(batch)), tf.assign_add(step, 1)
            ),
        }
        init = tf.global_variables_initializer()
        mts = tf.train.MonitoredTrainingSession(checkpoint_dir=ckpt)
        sess = tf.Session()
        sess.run(init)
        feed = {x: np.ones(4, np.float32)}
        sides = {
            "run_plain": lambda: sess.run(ops["plain"]),
            "run_feed": lambda: sess.run(ops["feed"], feed),
            "run_data": lambda: sess.run(ops["data"]),
            "mts_plain": lambda: mts.run(ops["plain"]),
            "mts_feed": lambda: mts.run(ops["feed"], feed),
            "mts_data": lambda: mts.run(ops["data"]),
        }
        try:
            best = _best(sides, calls, repeats)
        finally:
            mts.close()
            sess.close()
    labels = {
        "run_feed": "Session.run, feed_dict",
        "run_data": "Session.run, Dataset",
        "mts_plain": "MTS + default hooks, no feed",
        "mts_feed": "MTS + default hooks, feed_dict",
        "mts_data": "MTS + default hooks, Dataset",
    }
    return [
        _row(f"{label} vs plain run", best, k, "run_plain")
        for k, label in labels.items()
    ]


def bench_by_hook(calls: int, repeats: int) -> list[Row]:
    """A MonitoredSession run with no hooks, each default hook alone, and all of them."""
    from jaxsession.session.checkpoint_hooks import (
        CheckpointSaverHook,
        PreemptionStopHook,
    )

    with tf.Graph().as_default(), tempfile.TemporaryDirectory() as out:
        step = tf.train.get_or_create_global_step()
        v = tf.Variable(1.0)
        train = tf.group(tf.assign_add(v, 1.0), tf.assign_add(step, 1))
        init = tf.global_variables_initializer()
        scaffold = tf.train.Scaffold()
        hooks = {
            "StepCounterHook": [tf.train.StepCounterHook(output_dir=out)],
            "SummarySaverHook": [
                tf.train.SummarySaverHook(
                    save_steps=100, output_dir=out, scaffold=scaffold
                )
            ],
            "CheckpointSaverHook": [
                CheckpointSaverHook(out, save_secs=600, scaffold=scaffold)
            ],
            "PreemptionStopHook": [PreemptionStopHook()],
            "no hooks": [],
        }
        # Hooks' begin() adds the global step's read to the graph: their
        # sessions come before the hookless one, which finalizes it.
        creator = tf.train.ChiefSessionCreator(scaffold)
        sessions = {
            name: tf.train.MonitoredSession(creator, hooks=h)
            for name, h in hooks.items()
        }
        sessions["all MTS defaults"] = tf.train.MonitoredTrainingSession(
            checkpoint_dir=out, scaffold=scaffold
        )
        plain = tf.Session()
        plain.run(init)
        sides = {"plain": lambda: plain.run(train)}
        sides.update({k: (lambda s=s: s.run(train)) for k, s in sessions.items()})
        try:
            best = _best(sides, calls, repeats)
        finally:
            for s in sessions.values():
                s.close()
            plain.close()
    return [
        _row(f"MonitoredSession, {k} vs plain run", best, k, "plain")
        for k in ["no hooks", *[*hooks][:-1], "all MTS defaults"]
    ]


def bench_tiny(calls: int, repeats: int) -> list[Row]:
    """Issue 11's tiny rows: sess.run and make_callable against one raw jit call."""
    with tf.Graph().as_default():
        v = tf.Variable(tf.zeros([10]))
        op = v.assign(0.99 * tf.convert_to_tensor(v) + 1.0).op
        with tf.Session() as sess:
            sess.run(v.initializer)
            fast = sess.make_callable(op)
            step = jax.jit(lambda a: 0.99 * a + 1.0, donate_argnums=0)
            state = [jax.numpy.zeros(10)]

            def raw() -> None:
                state[0] = step(state[0])

            best = _best(
                {"run": lambda: sess.run(op), "callable": fast, "raw": raw},
                calls,
                repeats,
            )
    return [
        _row("(a) tiny: sess.run(train_op)", best, "run", "raw"),
        _row("(a) tiny: make_callable(train_op)()", best, "callable", "raw"),
    ]


def main(quick: bool = False) -> list[Row]:
    """Runs both tables, prints them and returns their rows.

    Args:
        quick: Few calls and repeats: a smoke run, not a figure.
    """
    calls, repeats = (5, 2) if quick else (100, 40)
    hooks = bench_hooks(calls, repeats)
    columns = {"ours": "µs per run", "raw": "plain run µs"}
    print_section("Host cost per run (6th best of 40 repeats)", hooks, **columns)
    by_hook = bench_by_hook(calls, repeats)
    print_section(
        "Host cost per run by hook (6th best of 40 repeats)", by_hook, **columns
    )
    tiny = bench_tiny(2 * calls, 5 * repeats)
    print_section("Tiny dispatch (6th best of 200 repeats)", tiny)
    return hooks + by_hook + tiny


if __name__ == "__main__":
    main()
