"""Per-run time with 300 variables: a 100-layer MLP with Adam slots vs raw JAX.

100 bias-free tanh dense layers of width 16 on a constant batch of 8, mean
square loss, Adam: 100 kernels + 200 Adam slots = 300 state variables (plus
the global step and Adam's two beta powers). The raw side is a hand-written
``jax.jit`` step over the same 100 kernels and an optax.adam state (count +
200 moments), donated, from the same initial values. Losses are compared for
a few steps before timing. Target (issue 6): per-run time <= 0.5x raw, which
a per-variable buffer layout cannot reach: it needs packed state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import jaxsession as tf
from benchmarks import mlp_model
from benchmarks.common import Row, compare, print_section, row

CHECK_STEPS = 5


def _deep_loss(params: tuple[jax.Array, ...], x: jax.Array, _: object) -> jax.Array:
    h = x
    for k in params:
        h = jnp.tanh(h @ k)
    return jnp.mean(h * h)


def bench(
    layers: int,
    width: int,
    calls: int,
    repeats: int,
    warmup: int,
    min_repeats: int | None = None,
) -> list[Row]:
    """Runs the comparison; returns the table rows."""
    x_np = np.random.default_rng(0).standard_normal((8, width), dtype=np.float32)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        h = tf.constant(x_np)
        for _ in range(layers):
            h = tf.layers.dense(h, width, activation=tf.tanh, use_bias=False)
        loss = tf.reduce_mean(h * h)
        gs = tf.train.get_or_create_global_step()
        train_op = tf.train.AdamOptimizer(mlp_model.LEARNING_RATE).minimize(
            loss, global_step=gs
        )
        params = list(tf.trainable_variables())
        n_state = len(tf.global_variables())
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            raw = mlp_model.RawTrainer(sess.run(params), _deep_loss)
            data = [(x_np, None)]
            mlp_model.check_losses(
                f"{layers}-layer MLP",
                lambda _: sess.run([train_op, loss])[1],
                raw,
                data,
                CHECK_STEPS,
            )

            def sync() -> None:
                jax.block_until_ready(list(sess.variable_values().values()))

            fast = sess.make_callable(train_op)
            x_dev = jnp.asarray(x_np)

            def raw_call() -> None:
                raw.state, _ = raw._step(raw.state, x_dev, None)

            sides = {
                "run": (lambda: sess.run(train_op), sync),
                "callable": (fast, sync),
                "raw": (raw_call, raw.sync),
            }
            kw = {} if min_repeats is None else {"min_repeats": min_repeats}
            t = compare(sides, calls=calls, repeats=repeats, warmup=warmup, **kw)
    n_raw = len(jax.tree_util.tree_leaves(raw.state))
    what = f"{n_state} vars ({layers}-layer MLP + Adam) vs raw {n_raw}-leaf state"
    return [
        row(f"{what}: sess.run(train_op)", t, "run", "raw", 0.5),
        row(f"{what}: make_callable(train_op)", t, "callable", "raw", 0.5),
    ]


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: Tiny sizes, few steps and repeats: a smoke run, not a figure.
    """
    if quick:
        rows = bench(4, 8, calls=3, repeats=1, warmup=2, min_repeats=1)
    else:
        rows = bench(100, 16, calls=30, repeats=11, warmup=10)
    print_section("Many variables (µs per run; ratio = jaxsession / raw jax.jit)", rows)
    return rows


if __name__ == "__main__":
    main()
