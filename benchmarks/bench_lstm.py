"""LSTM language model training steps/s: ``dynamic_rnn`` vs raw JAX ``lax.scan``.

A character LM: embedding (vocab 64, width 64), ``MultiRNNCell`` of two
``BasicLSTMCell(256)`` run by ``tf.nn.dynamic_rnn`` over 50 steps, batch 32,
a dense softmax layer, mean sparse cross entropy, Adam(1e-3), data fed from
NumPy each step. The raw side is the same model written with ``lax.scan``
(TF1's cell arithmetic: ``[x, h] @ kernel + bias``, gates i, j, f, o,
forget bias 1.0) and optax.adam, started from the graph's initial values;
before timing both sides train ``CHECK_STEPS`` steps and their losses must
agree. Two rows: the train op alone, and with the loss fetched too (the
usual ``sess.run([loss, train_op])``; the raw step returns its loss from
``value_and_grad`` either way). Target: >= 0.9x raw steps/s.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

import jaxsession as tf
from benchmarks import mlp_model
from benchmarks.common import Row, compare, print_section, row

CHECK_STEPS = 5


@dataclass(frozen=True)
class Sizes:
    """Vocabulary, embedding width, LSTM width and layers, sequence and batch."""

    vocab: int = 64
    embed: int = 64
    hidden: int = 256
    layers: int = 2
    steps: int = 50
    batch: int = 32
    n_batches: int = 8


FULL = Sizes()
QUICK = Sizes(vocab=16, embed=8, hidden=16, steps=6, batch=4, n_batches=2)


def make_data(sizes: Sizes, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Batches of (inputs, next-character targets), int32 ``[batch, steps]``."""
    rng = np.random.default_rng(seed)
    text = rng.integers(0, sizes.vocab, sizes.n_batches * sizes.batch * sizes.steps + 1)
    out = []
    span = sizes.batch * sizes.steps
    for i in range(sizes.n_batches):
        chunk = text[i * span : (i + 1) * span + 1]
        x = chunk[:-1].reshape(sizes.batch, sizes.steps).astype(np.int32)
        y = chunk[1:].reshape(sizes.batch, sizes.steps).astype(np.int32)
        out.append((x, y))
    return out


def build_graph(sizes: Sizes) -> tuple[Any, ...]:
    """The LM graph: (graph, x, y, loss, train_op, params in raw order)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.int32, [sizes.batch, sizes.steps], name="x")
        y = tf.placeholder(tf.int32, [sizes.batch, sizes.steps], name="y")
        embedding = tf.get_variable("embedding", [sizes.vocab, sizes.embed])
        inputs = tf.nn.embedding_lookup(embedding, x)
        cell = tf.nn.rnn_cell.MultiRNNCell(
            [tf.nn.rnn_cell.BasicLSTMCell(sizes.hidden) for _ in range(sizes.layers)]
        )
        outputs, _ = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
        logits = tf.layers.dense(tf.reshape(outputs, [-1, sizes.hidden]), sizes.vocab)
        loss = tf.losses.sparse_softmax_cross_entropy(tf.reshape(y, [-1]), logits)
        gs = tf.train.get_or_create_global_step()
        train_op = tf.train.AdamOptimizer(mlp_model.LEARNING_RATE).minimize(
            loss, global_step=gs
        )
        params = list(tf.trainable_variables())
    return graph, x, y, loss, train_op, params


def raw_loss(params: Sequence[jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    """The same LM in raw JAX (params: embedding, (kernel, bias) per layer, dense)."""
    embedding, *rest = params
    layers = list(zip(rest[:-2:2], rest[1:-2:2]))
    w_out, b_out = rest[-2:]
    h0 = [jnp.zeros((x.shape[0], k.shape[1] // 4), k.dtype) for k, _ in layers]

    def step(state: Any, xt: jax.Array) -> Any:
        new = []
        inp = xt
        for (kernel, bias), (c, h) in zip(layers, state):
            gates = jnp.concatenate([inp, h], 1) @ kernel + bias
            i, j, f, o = jnp.split(gates, 4, axis=1)
            c = c * jax.nn.sigmoid(f + 1.0) + jax.nn.sigmoid(i) * jnp.tanh(j)
            h = jnp.tanh(c) * jax.nn.sigmoid(o)
            new.append((c, h))
            inp = h
        return new, inp

    xs = jnp.swapaxes(jnp.take(embedding, x, axis=0), 0, 1)
    _, hs = lax.scan(step, [(h, h) for h in h0], xs)
    logits = jnp.swapaxes(hs, 0, 1).reshape(-1, w_out.shape[0]) @ w_out + b_out
    return optax.softmax_cross_entropy_with_integer_labels(logits, y.reshape(-1)).mean()


def bench(
    sizes: Sizes, calls: int, repeats: int, warmup: int, min_repeats: int | None = None
) -> list[Row]:
    """Runs the comparison; returns the table rows (without and with the loss)."""
    data = make_data(sizes)
    graph, x, y, loss, train_op, params = build_graph(sizes)
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        raw = mlp_model.RawTrainer(sess.run(params), raw_loss)

        def ours(i: int) -> object:
            xb, yb = data[i % len(data)]
            return sess.run([train_op, loss], {x: xb, y: yb})[1]

        mlp_model.check_losses("dynamic_rnn", ours, raw, data, CHECK_STEPS)

        def sync() -> None:
            jax.block_until_ready(list(sess.variable_values().values()))

        fast = sess.make_callable(train_op, [x, y])
        with_loss = sess.make_callable([loss, train_op], [x, y])
        it, it_loss = itertools.cycle(data), itertools.cycle(data)

        def callable_() -> None:
            fast(*next(it))

        def callable_loss() -> None:
            with_loss(*next(it_loss))

        sides = {
            "ours": (callable_, sync),
            "ours+loss": (callable_loss, sync),
            "raw": raw.side(data),
        }
        kw = {} if min_repeats is None else {"min_repeats": min_repeats}
        t = compare(sides, calls=calls, repeats=repeats, warmup=warmup, **kw)
    name = f"LSTM LM {sizes.layers}x{sizes.hidden}, T={sizes.steps}, B={sizes.batch}"
    return [
        row(f"{name}: make_callable(train_op)", t, "ours", "raw", 0.9, speed=True),
        row(
            f"{name}: make_callable([loss, train_op])",
            t,
            "ours+loss",
            "raw",
            0.9,
            speed=True,
        ),
    ]


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: Tiny sizes, few steps and repeats: a smoke run, not a figure.
    """
    if quick:
        rows = bench(QUICK, calls=2, repeats=1, warmup=1, min_repeats=1)
    else:
        rows = bench(FULL, calls=5, repeats=11, warmup=3)
    print_section(
        "LSTM LM training (µs per step; ratio = jaxsession steps/s / raw JAX "
        "steps/s, dynamic_rnn vs lax.scan)",
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
