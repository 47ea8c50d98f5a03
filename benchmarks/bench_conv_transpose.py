"""The gradient of a strided ``conv2d_transpose`` on XLA:CPU (a DCGAN generator layer).

``tf.nn.conv2d_transpose`` is the adjoint of the forward convolution. Its
gradients written as JAX's derivative of that adjoint (the previous path)
are convolutions XLA:CPU runs far slower than the forward convolution and
its filter gradient, which jaxsession now uses (``ops/conv_variants.py``).
Sides, timed alternately in one process: jaxsession's ``Session.run`` of
both gradients, and the previous formulation in raw JAX (the baseline).
Layer: ``[batch, 7, 7, 64]`` -> ``[batch, 14, 14, 512]``, 4x4 filter, stride
2, SAME. Before timing, the two sides' gradients must agree.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import jaxsession as tf
from benchmarks.common import INFO, BenchmarkMismatch, Row, compare, print_section, row

DIMS = ("NHWC", "HWIO", "NHWC")


def _previous_gradients(shape: tuple[int, ...]):
    """Raw JAX: the adjoint as a vjp, differentiated by JAX (the old lowering)."""

    def adjoint(x, w):
        forward = lambda y: lax.conv_general_dilated(  # noqa: E731
            y, w, (2, 2), "SAME", dimension_numbers=DIMS
        )
        return jax.vjp(forward, jnp.zeros(shape, x.dtype))[1](x)[0]

    return jax.jit(jax.grad(lambda x, w: jnp.sum(jnp.square(adjoint(x, w))), (0, 1)))


def bench(batch: int, calls: int, repeats: int, warmup: int, **kw) -> list[Row]:
    """Runs the comparison; returns the table rows."""
    rng = np.random.default_rng(0)
    xv = rng.normal(size=(batch, 7, 7, 64)).astype(np.float32)
    wv = (rng.normal(size=(4, 4, 512, 64)) * 0.05).astype(np.float32)
    shape = (batch, 14, 14, 512)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, xv.shape)
        w = tf.Variable(wv)
        y = tf.nn.conv2d_transpose(x, w, list(shape), [1, 2, 2, 1], "SAME")
        grads = tf.gradients(tf.reduce_sum(tf.square(y)), [x, w])
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        ours = sess.run(grads, {x: xv})
    previous = _previous_gradients(shape)
    xd, wd = jnp.asarray(xv), jnp.asarray(wv)
    theirs = previous(xd, wd)
    for name, a, b in zip(("x", "filter"), ours, theirs):
        b = np.asarray(b)
        if not np.allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max()):
            raise BenchmarkMismatch(f"conv2d_transpose: the gradient in {name} differs")
    last = [theirs]

    def call_previous() -> None:
        last[0] = previous(xd, wd)

    sides = {
        # Session.run returns NumPy values: nothing left to wait for.
        "ours": (lambda: sess.run(grads, {x: xv}), lambda: None),
        "previous": (call_previous, lambda: jax.block_until_ready(last[0])),
    }
    t = compare(sides, calls=calls, repeats=repeats, warmup=warmup, **kw)
    sess.close()
    name = f"conv2d_transpose gradients, batch {batch}, 7x7x64 -> 14x14x512"
    return [row(name, t, "ours", "previous", INFO, speed=True)]


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: Tiny sizes, few steps and repeats: a smoke run, not a figure.
    """
    if quick:
        rows = bench(2, calls=1, repeats=1, warmup=1, min_repeats=1)
    else:
        rows = bench(32, calls=2, repeats=5, warmup=1, min_repeats=5)
    print_section(
        "Transposed convolution gradients (µs per call; ratio = jaxsession calls/s "
        "/ the previous formulation's, raw JAX)",
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
