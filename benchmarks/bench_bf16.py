"""Reduced precision: the MLP trained in bfloat16 against the same MLP in float32.

The MLP of ``mlp_model`` (784-256-256-10, batch 128, Adam) is built twice in
one process: once in float32, once inside ``tf.tpu.bfloat16_scope`` with its
inputs cast to bfloat16 (float32 variables read as bfloat16, as TF1 on TPUs),
and a wider variant (784-1024-1024-10, batch 512) where the matrix products
dominate. A third row wraps the float32 model's Adam in
``enable_mixed_precision_graph_rewrite`` (dynamic loss scaling) to show what
the finite check and the conditional update cost. The sides alternate repeat
by repeat; ratios are steps/s of the variant over float32. Informational:
on CPUs, XLA computes bfloat16 through float32 conversions, so expect little.
Before timing, both sides' first losses must agree to bfloat16 precision.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

import jax
import numpy as np

import jaxsession as tf
from benchmarks import mlp_model
from benchmarks.common import INFO, BenchmarkMismatch, Row, compare, print_section, row

WIDE = replace(mlp_model.FULL, hidden=1024, batch=512, n_batches=4)


def build(sizes: mlp_model.Sizes, variant: str) -> mlp_model.GraphModel:
    """The MLP in ``variant``: ``f32``, ``bf16`` or ``f32_loss_scale``."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, sizes.inputs], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")
        if variant == "bf16":
            with tf.tpu.bfloat16_scope():
                logits = _layers(tf.cast(x, tf.bfloat16), sizes)
            logits = tf.cast(logits, tf.float32)
        else:
            logits = _layers(x, sizes)
        loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
        gs = tf.train.get_or_create_global_step()
        opt = tf.train.AdamOptimizer(mlp_model.LEARNING_RATE)
        if variant == "f32_loss_scale":
            opt = tf.train.experimental.enable_mixed_precision_graph_rewrite(opt)
        train_op = opt.minimize(loss, global_step=gs)
        params = list(tf.trainable_variables())
    return mlp_model.GraphModel(graph, x, y, loss, train_op, gs, params)


def _layers(h: tf.Tensor, sizes: mlp_model.Sizes) -> tf.Tensor:
    h = tf.layers.dense(h, sizes.hidden, activation=tf.nn.relu)
    h = tf.layers.dense(h, sizes.hidden, activation=tf.nn.relu)
    return tf.layers.dense(h, sizes.classes)


def _side(
    m: mlp_model.GraphModel, data: list[mlp_model.Batch]
) -> tuple[tf.Session, Callable[[], object], Callable[[], object]]:
    sess = tf.Session(graph=m.graph)
    with m.graph.as_default():
        sess.run(tf.global_variables_initializer())
    step = sess.make_callable(m.train_op, [m.x, m.y])
    batches = itertools.cycle(data)

    def call() -> object:
        return step(*next(batches))

    def sync() -> None:
        jax.block_until_ready(list(sess.variable_values().values()))

    return sess, call, sync


def _check_first_losses(
    sessions: dict[str, tuple[tf.Session, mlp_model.GraphModel]],
    batch: mlp_model.Batch,
) -> None:
    # Same initial float32 values everywhere (the casts shift the op seeds,
    # so copy them): the first losses then differ only by bfloat16 rounding.
    f32_sess, f32_model = sessions["f32"]
    values = f32_sess.run(f32_model.params)
    for sess, m in sessions.values():
        for var, value in zip(m.params, values):
            var.load(value, sess)
    losses = {
        name: float(sess.run(m.loss, {m.x: batch[0], m.y: batch[1]}))
        for name, (sess, m) in sessions.items()
    }
    base = losses["f32"]
    for name, value in losses.items():
        if not np.isclose(value, base, rtol=1e-2):
            raise BenchmarkMismatch(f"first loss of {name}: {value}, f32: {base}")


def bench(
    sizes: mlp_model.Sizes, variants: list[str], calls: int, repeats: int, warmup: int
) -> dict[str, list[float]]:
    """µs per step of each variant, measured alternately."""
    data = mlp_model.batches(*mlp_model.make_data(sizes), sizes.batch)
    models = {v: build(sizes, v) for v in ["f32", *variants]}
    sides, sessions = {}, {}
    for name, m in models.items():
        sess, call, sync = _side(m, data)
        sides[name], sessions[name] = (call, sync), (sess, m)
    _check_first_losses(sessions, data[0])
    try:
        return compare(
            sides, calls=calls, repeats=repeats, warmup=warmup, min_repeats=1
        )
    finally:
        for sess, _ in sessions.values():
            sess.close()


def _label(sizes: mlp_model.Sizes) -> str:
    h = sizes.hidden
    return f"MLP {sizes.inputs}-{h}-{h}-{sizes.classes} batch {sizes.batch}"


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: Tiny sizes, few steps and repeats: a smoke run, not a figure.
    """
    if quick:
        runs = [(mlp_model.QUICK, ["bf16", "f32_loss_scale"], 3, 1, 2)]
        wide = None
    else:
        runs = [(mlp_model.FULL, ["bf16", "f32_loss_scale"], 30, 11, 10)]
        wide = (WIDE, ["bf16"], 10, 11, 3)
    rows = []
    t = bench(*runs[0])
    name = _label(runs[0][0])
    rows.append(row(f"{name}, bfloat16_scope", t, "bf16", "f32", INFO, speed=True))
    rows.append(
        row(f"{name}, dynamic loss scale", t, "f32_loss_scale", "f32", INFO, speed=True)
    )
    if wide is not None:
        t = bench(*wide)
        rows.append(
            row(f"{_label(WIDE)}, bfloat16_scope", t, "bf16", "f32", INFO, speed=True)
        )
    print_section(
        "Reduced precision (µs per step; ratio = variant steps/s / float32 "
        "steps/s, same process, interleaved)",
        rows,
        ours="variant µs",
        raw="float32 µs",
    )
    return rows


if __name__ == "__main__":
    main()
