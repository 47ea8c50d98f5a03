"""MLP training steps/s: a ``Session.run`` loop and ``make_callable`` vs raw JAX.

MLP 784-256-256-10, batch 128, Adam, data fed from NumPy each step
(``sess.run(train_op, feed_dict={x: xb, y: yb})``) against a hand-written
``jax.jit`` Adam step (optax) with the state donated, same initial values and
batches (``benchmarks/mlp_model.py``). Before timing, both sides train
``CHECK_STEPS`` steps and their losses must agree. Target: >= 0.95x raw steps/s.
"""

from __future__ import annotations

import itertools

import jax

import jaxsession as tf
from benchmarks import mlp_model
from benchmarks.common import Row, compare, print_section, row

CHECK_STEPS = 20


def bench(
    sizes: mlp_model.Sizes,
    calls: int,
    repeats: int,
    warmup: int,
    min_repeats: int | None = None,
) -> list[Row]:
    """Runs the comparison; returns the table rows."""
    data = mlp_model.batches(*mlp_model.make_data(sizes), sizes.batch)
    m = mlp_model.build_graph(sizes)
    with m.graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        raw = mlp_model.RawTrainer(sess.run(m.params))

        def ours(i: int) -> object:
            x, y = data[i % len(data)]
            return sess.run([m.train_op, m.loss], {m.x: x, m.y: y})[1]

        mlp_model.check_losses("Session.run", ours, raw, data, CHECK_STEPS)

        def sync() -> None:
            jax.block_until_ready(list(sess.variable_values().values()))

        run_it, call_it = itertools.cycle(data), itertools.cycle(data)
        fast = sess.make_callable(m.train_op, [m.x, m.y])

        def run() -> None:
            x, y = next(run_it)
            sess.run(m.train_op, feed_dict={m.x: x, m.y: y})

        def callable_() -> None:
            fast(*next(call_it))

        sides = {
            "run": (run, sync),
            "callable": (callable_, sync),
            "raw": raw.side(data),
        }
        kw = {} if min_repeats is None else {"min_repeats": min_repeats}
        t = compare(sides, calls=calls, repeats=repeats, warmup=warmup, **kw)
    return [
        row("MLP feed_dict: sess.run(train_op)", t, "run", "raw", 0.95, speed=True),
        row(
            "MLP feed_dict: make_callable(train_op)",
            t,
            "callable",
            "raw",
            0.95,
            speed=True,
        ),
    ]


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: Tiny sizes, few steps and repeats: a smoke run, not a figure.
    """
    if quick:
        rows = bench(mlp_model.QUICK, calls=3, repeats=1, warmup=2, min_repeats=1)
    else:
        rows = bench(mlp_model.FULL, calls=30, repeats=11, warmup=10)
    print_section(
        "MLP training (µs per step; ratio = jaxsession steps/s / raw JAX "
        "steps/s, feed_dict from NumPy each step)",
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
