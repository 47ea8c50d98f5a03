"""Dispatch cost of ``Session.run`` / ``make_callable`` against a raw ``jax.jit`` step.

Both sides do the same math on the same state with the state donated, so the
ratio measures what the session adds per step: Python bookkeeping around one
compiled call.

(a) tiny: one 10-element float32 variable, ``x <- 0.99 x + 1``.
(b) wide: 100 variables of shape (16,), all updated by one grouped train op.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import jaxsession as tf
from benchmarks.common import Row, compare, markdown_table, row

TINY_CALLS = 200
WIDE_CALLS = 30
N_WIDE = 100


def _update(v: tf.Variable) -> tf.Operation:
    return v.assign(0.99 * tf.convert_to_tensor(v) + 1.0).op


def _group(ops: list[tf.Operation]) -> tf.Operation:
    group = getattr(tf, "group", None)
    if group is not None:
        return group(*ops)
    from jaxsession.graph.variables import group_ops

    return group_ops(ops, "group_deps")


def _session_sides(sess: tf.Session, train_op: tf.Operation) -> dict:
    def sync() -> None:
        jax.block_until_ready(list(sess.variable_values().values()))

    fast = sess.make_callable(train_op)
    return {
        "run": (lambda: sess.run(train_op), sync),
        "callable": (fast, sync),
    }


def _raw_side(step, state: list) -> tuple:
    def call() -> None:
        state[0] = step(state[0])

    return call, lambda: jax.block_until_ready(state[0])


def bench_tiny() -> list[Row]:
    with tf.Graph().as_default():
        x = tf.Variable(np.zeros(10, np.float32), name="x")
        train_op = _update(x)
        with tf.Session() as sess:
            sess.run(x.initializer)
            sides = _session_sides(sess, train_op)
            step = jax.jit(lambda x: 0.99 * x + 1.0, donate_argnums=0)
            sides["raw"] = _raw_side(step, [jnp.zeros(10, jnp.float32)])
            t = compare(sides, calls=TINY_CALLS)
    return [
        row("(a) tiny: sess.run(train_op)", t, "run", "raw", 2.0),
        row("(a) tiny: make_callable(train_op)()", t, "callable", "raw", 1.5),
    ]


def bench_wide() -> list[Row]:
    with tf.Graph().as_default():
        vs = [
            tf.Variable(np.zeros(16, np.float32), name=f"v{i}") for i in range(N_WIDE)
        ]
        train_op = _group([_update(v) for v in vs])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sides = _session_sides(sess, train_op)
            step = jax.jit(lambda s: tuple(0.99 * v + 1.0 for v in s), donate_argnums=0)
            state = tuple(jnp.zeros(16, jnp.float32) for _ in range(N_WIDE))
            sides["raw"] = _raw_side(step, [state])
            step_d = jax.jit(
                lambda s: {k: 0.99 * v + 1.0 for k, v in s.items()}, donate_argnums=0
            )
            state_d = {f"v{i:03d}": jnp.zeros(16, jnp.float32) for i in range(N_WIDE)}
            sides["raw_dict"] = _raw_side(step_d, [state_d])
            t = compare(sides, calls=WIDE_CALLS)
    return [
        row("(b) 100 vars: sess.run(train_op)", t, "run", "raw", 1.0),
        row("(b) 100 vars: make_callable(train_op)()", t, "callable", "raw", 1.0),
        row("(b) 100 vars: raw dict state (info)", t, "raw_dict", "raw", 1.0),
    ]


def main() -> list[Row]:
    """Runs both benchmarks, prints the markdown table and returns its rows."""
    rows = bench_tiny() + bench_wide()
    print("## Dispatch (µs per step; ratio = jaxsession / raw jax.jit with donation)")
    print()
    print(markdown_table(rows))
    print()
    return rows


if __name__ == "__main__":
    main()
