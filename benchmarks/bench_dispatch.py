"""Dispatch cost of ``Session.run`` / ``make_callable`` against a raw ``jax.jit`` step.

Both sides do the same math on the same state with the state donated, so the
ratio measures what the session adds per step: Python bookkeeping around one
compiled call.

(a) tiny: one 10-element float32 variable, ``x <- 0.99 x + 1``.
(b) wide: 100 variables of shape (16,), all updated by one grouped train op.
(c) tiny with ``sess.run(train_op, steps_per_run=100)`` (100 steps in one
    compiled call) vs the raw per-step jit loop, in steps/s (issue 6: >= 10x);
    skipped with a message where ``Session.run`` takes no ``steps_per_run``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import jaxsession as tf
from benchmarks.common import INFO, BenchmarkMismatch, Row, compare, print_section, row

TINY_CALLS = 200
WIDE_CALLS = 30
N_WIDE = 100
STEPS_PER_RUN = 100
# compare() keyword arguments of a full run and of a smoke run (--quick).
FULL = {}
QUICK = {"repeats": 1, "warmup": 2, "min_repeats": 1}


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


def bench_tiny(calls: int = TINY_CALLS, **kw: int) -> list[Row]:
    with tf.Graph().as_default():
        x = tf.Variable(np.zeros(10, np.float32), name="x")
        train_op = _update(x)
        with tf.Session() as sess:
            sess.run(x.initializer)
            sides = _session_sides(sess, train_op)
            step = jax.jit(lambda x: 0.99 * x + 1.0, donate_argnums=0)
            sides["raw"] = _raw_side(step, [jnp.zeros(10, jnp.float32)])
            t = compare(sides, calls=calls, **kw)
    return [
        row("(a) tiny: sess.run(train_op)", t, "run", "raw", 2.0),
        row("(a) tiny: make_callable(train_op)()", t, "callable", "raw", 1.5),
    ]


def bench_wide(calls: int = WIDE_CALLS, n_wide: int = N_WIDE, **kw: int) -> list[Row]:
    with tf.Graph().as_default():
        vs = [
            tf.Variable(np.zeros(16, np.float32), name=f"v{i}") for i in range(n_wide)
        ]
        train_op = _group([_update(v) for v in vs])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sides = _session_sides(sess, train_op)
            step = jax.jit(lambda s: tuple(0.99 * v + 1.0 for v in s), donate_argnums=0)
            state = tuple(jnp.zeros(16, jnp.float32) for _ in range(n_wide))
            sides["raw"] = _raw_side(step, [state])
            step_d = jax.jit(
                lambda s: {k: 0.99 * v + 1.0 for k, v in s.items()}, donate_argnums=0
            )
            state_d = {f"v{i:03d}": jnp.zeros(16, jnp.float32) for i in range(n_wide)}
            sides["raw_dict"] = _raw_side(step_d, [state_d])
            t = compare(sides, calls=calls, **kw)
    return [
        row(f"(b) {n_wide} vars: sess.run(train_op)", t, "run", "raw", 1.0),
        row(f"(b) {n_wide} vars: make_callable(train_op)()", t, "callable", "raw", 1.0),
        row(f"(b) {n_wide} vars: raw dict state (info)", t, "raw_dict", "raw", INFO),
    ]


def bench_tiny_multistep(calls: int = 10, **kw: int) -> list[Row]:
    """(c): ``STEPS_PER_RUN`` steps per ``sess.run`` vs one raw jit call per step."""
    with tf.Graph().as_default():
        x = tf.Variable(np.zeros(10, np.float32), name="x")
        train_op = _update(x)
        with tf.Session() as sess:
            sess.run(x.initializer)
            try:
                sess.run(train_op, steps_per_run=STEPS_PER_RUN)
            except (TypeError, NotImplementedError) as e:
                print(f"(c) skipped: Session.run(steps_per_run=...): {e}\n")
                return []
            want = np.zeros(10, np.float32)
            for _ in range(STEPS_PER_RUN):
                want = np.float32(0.99) * want + np.float32(1.0)
            got = sess.run(x)
            if not np.allclose(got, want, rtol=1e-5):
                raise BenchmarkMismatch(
                    f"(c) x after one run of steps_per_run={STEPS_PER_RUN} is "
                    f"{got[0]!r}, {STEPS_PER_RUN} raw steps give {want[0]!r}"
                )

            def sync() -> None:
                jax.block_until_ready(list(sess.variable_values().values()))

            sides = {
                "multi": (lambda: sess.run(train_op, steps_per_run=STEPS_PER_RUN), sync)
            }
            step = jax.jit(lambda x: 0.99 * x + 1.0, donate_argnums=0)
            raw_call, raw_sync = _raw_side(step, [jnp.zeros(10, jnp.float32)])

            def raw_steps() -> None:
                for _ in range(STEPS_PER_RUN):
                    raw_call()

            sides["raw"] = (raw_steps, raw_sync)
            t = compare(sides, calls=calls, **kw)
    return [
        row(
            f"(c) tiny: sess.run(train_op, steps_per_run={STEPS_PER_RUN}), per step",
            t,
            "multi",
            "raw",
            10.0,
            speed=True,
            steps={"multi": STEPS_PER_RUN, "raw": STEPS_PER_RUN},
        ),
    ]


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmarks, prints the markdown table and returns its rows.

    Args:
        quick: Few calls and one repeat: a smoke run, not a figure.
    """
    kw = QUICK if quick else FULL
    small = {"calls": 3} if quick else {}
    wide = {"n_wide": 10} if quick else {}
    rows = bench_tiny(**small, **kw) + bench_wide(**small, **wide, **kw)
    rows += bench_tiny_multistep(**small, **kw)
    print_section(
        "Dispatch (µs per step; ratio = jaxsession / raw jax.jit with donation)", rows
    )
    return rows


if __name__ == "__main__":
    main()
