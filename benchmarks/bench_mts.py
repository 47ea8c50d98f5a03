"""MLP training in ``MonitoredTrainingSession`` (and a plain Session) vs the raw JAX loop.

Two models (``mlp_model.SMALL``: 32-32-32-10, batch 16, where the per-step
overhead dominates; ``mlp_model.FULL``: 784-256-256-10, batch 128), Adam.
Anchors: the hand-written ``jax.jit`` step with donated state fed NumPy
batches (1.0x), and the same step K times in a hand-written ``lax.scan``
with the batches already on the device (the ceiling). Contenders, all timed
alternately in one process against the same raw loop (issue 16):

- ``Session.run`` with feed_dict (informational on the small model);
- MonitoredTrainingSession(checkpoint_dir=...) with the chief's default
  hooks, feed_dict from NumPy each step (small: >= 0.9x raw; full: >= 0.95x);
- the same, fed by ``tf.data.Dataset.from_tensor_slices(...).repeat().batch()``
  through a one-shot iterator (small: >= 1.0x; full: >= 0.95x);
- that Dataset with ``steps_per_run=10`` (small: >= 3.0x; full: >= 1.05x);
- that Dataset with a histogram summary of every weight, written every 100
  steps by the default SummarySaverHook (time vs without: <= 1.05x), and
  its anchor: the raw loop computing the same histograms on the device
  every 100 steps, doing nothing else with them (time vs the raw loop);
- TF1's ``tf.compat.v1`` MonitoredTrainingSession, feed_dict and tf.data,
  when ``tensorflow`` is importable (the ``bench`` extra; or TensorFlow's
  own environment with jaxsession's on ``PYTHONPATH``, see RESULTS.md).

Every jaxsession contender first trains a few steps next to a raw trainer
started from its initial values, and the losses must agree.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import tempfile
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

import jaxsession as tf
from benchmarks import mlp_model
from benchmarks.common import (
    INFO,
    BenchmarkMismatch,
    Row,
    compare,
    markdown_table,
    restore_compilation_cache,
    row,
)

CHECK_STEPS = 10
STEPS_PER_RUN = 10
SCAN_STEPS = (10, 100)
# Targets of issue 16 (steps/s against raw); other rows are informational.
TARGETS_SMALL = {"feed": 0.9, "data": 1.0, "multi": 3.0}
TARGETS_FULL = {"run": 0.95, "feed": 0.95, "data": 0.95, "multi": 1.05}

Side = tuple[Callable[[], object], Callable[[], object]]


class _SessionGrabber(tf.train.SessionRunHook):
    """Keeps the raw session, to sync on and read the global step without hooks."""

    session: Any = None

    def after_create_session(self, session: Any, coord: Any) -> None:
        self.session = session


class _Monitored:
    """One MonitoredTrainingSession over its own graph, closed in that graph."""

    def __init__(self, m: mlp_model.GraphModel, checkpoint_dir: str, **kwargs: Any):
        self.model = m
        self._dir = checkpoint_dir
        self._grab = _SessionGrabber()
        with m.graph.as_default():
            self.sess = tf.train.MonitoredTrainingSession(
                checkpoint_dir=checkpoint_dir, hooks=[self._grab], **kwargs
            )

    @property
    def raw(self) -> Any:
        return self._grab.session

    def global_step(self) -> int:
        return int(self.raw.run(self.model.global_step))

    def sync(self) -> None:
        jax.block_until_ready(list(self.raw.variable_values().values()))
        # The hooks' summaries are written by the event writer's thread (and
        # finished by a flush at the latest): their work is charged to this
        # side, not to the side timed next.
        tf.summary.FileWriterCache.get(self._dir).flush()

    def close(self) -> None:
        with self.model.graph.as_default():
            self.sess.close()


def _feed_side(mon: _Monitored, data: list[mlp_model.Batch]) -> Side:
    m, it = mon.model, itertools.cycle(data)

    def call() -> None:
        x, y = next(it)
        mon.sess.run(m.train_op, feed_dict={m.x: x, m.y: y})

    return call, mon.sync


def _dataset_side(mon: _Monitored) -> Side:
    train_op = mon.model.train_op
    return (lambda: mon.sess.run(train_op)), mon.sync


def _check(name: str, mon: _Monitored, data: list[mlp_model.Batch]) -> None:
    m = mon.model
    raw = mlp_model.RawTrainer(mon.raw.run(m.params))

    def ours(i: int) -> object:
        if m.x is None:
            return mon.sess.run([m.train_op, m.loss])[1]
        x, y = data[i % len(data)]
        return mon.sess.run([m.train_op, m.loss], {m.x: x, m.y: y})[1]

    mlp_model.check_losses(name, ours, raw, data, CHECK_STEPS)


def _check_multistep(mon: _Monitored, data: list[mlp_model.Batch]) -> bool:
    """Whether one run trains STEPS_PER_RUN steps, matching raw JAX; False: skip."""
    m = mon.model
    raw = mlp_model.RawTrainer(mon.raw.run(m.params))
    before = mon.global_step()
    mon.sess.run(m.train_op)
    took = mon.global_step() - before
    if took != STEPS_PER_RUN:
        print(
            f"(skipped: steps_per_run={STEPS_PER_RUN} is accepted but one run "
            f"advanced the global step by {took}, not {STEPS_PER_RUN}: multi-step "
            "execution has not landed)\n"
        )
        return False
    for i in range(STEPS_PER_RUN):
        raw.step(*data[i % len(data)])
    probe = data[0]
    ours = float(mlp_model.raw_loss(mon.raw.run(m.params), *probe))
    ref = float(mlp_model.raw_loss(raw.state[0], *probe))
    if not np.isclose(ours, ref, rtol=1e-3):
        raise BenchmarkMismatch(
            f"steps_per_run={STEPS_PER_RUN}: loss after {STEPS_PER_RUN} steps is "
            f"{ours!r}, raw JAX gives {ref!r}"
        )
    return True


def _open_multistep(
    sizes: mlp_model.Sizes, xy: tuple[np.ndarray, np.ndarray], ckpt: str
) -> _Monitored | None:
    try:
        return _Monitored(
            mlp_model.build_graph(sizes, xy), ckpt, steps_per_run=STEPS_PER_RUN
        )
    except (NotImplementedError, TypeError) as e:
        print(f"(skipped: steps_per_run={STEPS_PER_RUN}: {type(e).__name__}: {e})\n")
        return None


def _tf1_dense(v1: Any, name: str, x: Any, units: int, activation: Any) -> Any:
    # tf.compat.v1.layers needs Keras 2 on recent TensorFlow; variables and a
    # matmul are the same layer without it.
    with v1.variable_scope(name):
        k = v1.get_variable(
            "kernel", [x.shape[-1], units], initializer=v1.glorot_uniform_initializer()
        )
        b = v1.get_variable("bias", [units], initializer=v1.zeros_initializer())
    y = v1.matmul(x, k) + b
    return y if activation is None else activation(y)


def _tf1_sides(
    sizes: mlp_model.Sizes,
    xy: tuple[np.ndarray, np.ndarray],
    data: list[mlp_model.Batch],
    stack: contextlib.ExitStack,
) -> dict[str, Side]:
    """TF1 MonitoredTrainingSession sides (feed_dict, tf.data); {} if TF is absent."""
    if importlib.util.find_spec("tensorflow") is None:
        print(
            "(TF1 column skipped: `tensorflow` is not importable; install the "
            "`bench` extra to measure it)\n"
        )
        return {}
    import tensorflow as tf_real

    v1 = tf_real.compat.v1
    v1.disable_eager_execution()
    sides: dict[str, Side] = {}
    for kind in ("feed", "data"):
        graph = v1.Graph()
        with graph.as_default():
            v1.set_random_seed(0)
            if kind == "feed":
                x = v1.placeholder(v1.float32, [None, sizes.inputs])
                y = v1.placeholder(v1.int32, [None])
                inputs, labels = x, y
            else:
                ds = v1.data.Dataset.from_tensor_slices(xy).repeat().batch(sizes.batch)
                inputs, labels = v1.data.make_one_shot_iterator(ds).get_next()
            h = _tf1_dense(v1, "dense", inputs, sizes.hidden, v1.nn.relu)
            h = _tf1_dense(v1, "dense_1", h, sizes.hidden, v1.nn.relu)
            logits = _tf1_dense(v1, "dense_2", h, sizes.classes, None)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            gs = v1.train.get_or_create_global_step()
            train_op = v1.train.AdamOptimizer(mlp_model.LEARNING_RATE).minimize(
                loss, global_step=gs
            )
            ckpt = stack.enter_context(tempfile.TemporaryDirectory())
            sess = v1.train.MonitoredTrainingSession(checkpoint_dir=ckpt)
            stack.callback(sess.close)
        if kind == "feed":
            it = itertools.cycle(data)

            def call(sess=sess, op=train_op, x=x, y=y, it=it) -> None:
                xb, yb = next(it)
                sess.run(op, feed_dict={x: xb, y: yb})

        else:

            def call(sess=sess, op=train_op) -> None:
                sess.run(op)

        # Session.run returns only after the step is done: nothing to sync.
        sides[f"tf1_{kind}"] = (call, lambda: None)
    return sides


def _jax_sides(
    sizes: mlp_model.Sizes,
    xy: tuple[np.ndarray, np.ndarray],
    data: list[mlp_model.Batch],
    dirs: list[str],
    opened: list[_Monitored],
) -> dict[str, Side]:
    """Every jaxsession contender and the raw anchors, checked against raw JAX."""
    feed = _Monitored(mlp_model.build_graph(sizes), dirs[0])
    opened.append(feed)
    _check("MonitoredTrainingSession feed_dict", feed, data)
    dset = _Monitored(mlp_model.build_graph(sizes, xy), dirs[1])
    opened.append(dset)
    _check("MonitoredTrainingSession Dataset", dset, data)
    hist = _Monitored(mlp_model.build_graph(sizes, xy, histogram=True), dirs[3])
    opened.append(hist)
    _check("MonitoredTrainingSession Dataset + histograms", hist, data)
    plain = feed.raw
    run_it = itertools.cycle(data)
    m = feed.model

    def run() -> None:
        x, y = next(run_it)
        plain.run(m.train_op, feed_dict={m.x: x, m.y: y})

    sides: dict[str, Side] = {
        "run": (run, feed.sync),
        "feed": _feed_side(feed, data),
        "data": _dataset_side(dset),
        "hist": _dataset_side(hist),
    }
    multi = _open_multistep(sizes, xy, dirs[2])
    if multi is not None:
        opened.append(multi)
        if _check_multistep(multi, data):
            sides["multi"] = _dataset_side(multi)
    raw = mlp_model.RawTrainer(feed.raw.run(feed.model.params))
    sides["raw"] = raw.side(data)
    raw_hist = mlp_model.RawTrainer(feed.raw.run(feed.model.params))
    sides["raw_hist"] = raw_hist.histogram_side(data)
    for k in SCAN_STEPS:
        scan = mlp_model.RawTrainer(feed.raw.run(feed.model.params))
        sides[f"scan{k}"] = scan.scan_side(data, k)
    return sides


# The histogram rows time differences of a few percent, the size of this
# host's noise over short repeats: their sides are compared apart, over
# repeats of HIST_STEPS steps (several summaries each), HIST_REPEATS times.
HIST_SIDES = ("data", "hist", "raw", "raw_hist")
HIST_REPEATS = 21


def bench(
    sizes: mlp_model.Sizes,
    calls: int,
    repeats: int,
    warmup: int,
    min_repeats: int | None = None,
    hist_calls: int | None = None,
) -> list[Row]:
    """Runs the comparison; returns the table rows."""
    xy = mlp_model.make_data(sizes)
    data = mlp_model.batches(*xy, sizes.batch)
    opened: list[_Monitored] = []
    with restore_compilation_cache(), contextlib.ExitStack() as stack:
        dirs = [stack.enter_context(tempfile.TemporaryDirectory()) for _ in range(4)]
        # Registered after the directories: the final checkpoints need them.
        stack.callback(lambda: [mon.close() for mon in reversed(opened)])
        sides = _jax_sides(sizes, xy, data, dirs, opened)
        sides.update(_tf1_sides(sizes, xy, data, stack))
        kw = {} if min_repeats is None else {"min_repeats": min_repeats}
        main = {k: v for k, v in sides.items() if k not in ("hist", "raw_hist")}
        t = compare(main, calls=calls, repeats=repeats, warmup=warmup, **kw)
        pairs = {k: sides[k] for k in HIST_SIDES}
        hist_repeats = HIST_REPEATS if min_repeats is None else repeats
        h = compare(
            pairs,
            calls=hist_calls or calls,
            repeats=hist_repeats,
            warmup=warmup,
            **kw,
        )
    small = sizes.hidden < 64
    name = f"{sizes.inputs}-{sizes.hidden}-{sizes.hidden}-{sizes.classes}"
    targets = TARGETS_SMALL if small else TARGETS_FULL
    k = STEPS_PER_RUN
    labels = {
        "run": "Session.run, feed_dict",
        "feed": "MTS + default chief hooks, feed_dict",
        "data": "MTS + default chief hooks, Dataset",
        "multi": f"MTS, Dataset, steps_per_run={k}",
    }
    labels.update(
        {f"scan{n}": f"(ceiling) raw lax.scan, {n} steps/call" for n in SCAN_STEPS}
    )
    steps = {"multi": k} | {f"scan{n}": n for n in SCAN_STEPS}
    rows = []
    for side, label in labels.items():
        if side in t:
            rows.append(
                row(
                    f"{name}: {label}",
                    t,
                    side,
                    "raw",
                    targets.get(side, INFO),
                    speed=True,
                    steps=steps,
                )
            )
    rows.append(
        row(
            f"{name}: MTS Dataset, + histogram summaries every 100 steps "
            "(time vs without)",
            h,
            "hist",
            "data",
            1.05,
        )
    )
    rows.append(
        row(
            f"{name}: (anchor) raw JAX, + the same device histograms every 100 "
            "steps (time vs without)",
            h,
            "raw_hist",
            "raw",
            INFO,
        )
    )
    if "tf1_feed" in t:
        for ours, theirs, label in (
            ("feed", "tf1_feed", "feed_dict"),
            ("data", "tf1_data", "tf.data"),
            ("multi", "tf1_data", f"Dataset steps_per_run={k} vs TF1 tf.data"),
        ):
            if ours in t:
                rows.append(
                    row(
                        f"{name}: vs TF1 MTS (baseline TF1), {label}",
                        t,
                        ours,
                        theirs,
                        INFO,
                        speed=True,
                        steps=steps,
                    )
                )
        rows += [
            row(f"{name}: TF1 MTS, {kind}", t, f"tf1_{kind}", "raw", INFO, speed=True)
            for kind in ("feed", "data")
        ]
    return rows


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: Tiny sizes, few steps and repeats: a smoke run, not a figure.
    """
    print(
        "## MLP in MonitoredTrainingSession (µs per step; ratio = jaxsession "
        "steps/s / raw JAX steps/s)"
    )
    print()
    if quick:
        rows = bench(mlp_model.QUICK, calls=3, repeats=1, warmup=2, min_repeats=1)
    else:
        # Each repeat covers at least one histogram summary (every 100 steps).
        rows = bench(mlp_model.SMALL, calls=200, repeats=11, warmup=20, hist_calls=1000)
        rows += bench(mlp_model.FULL, calls=100, repeats=11, warmup=10, hist_calls=200)
    print(markdown_table(rows))
    print()
    return rows


if __name__ == "__main__":
    main()
