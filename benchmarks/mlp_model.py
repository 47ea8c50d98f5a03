"""The MLP of the training benchmarks, once as a jaxsession graph, once as raw JAX.

MLP 784-256-256-10 (ReLU), batch 128, Adam(1e-3), sparse softmax cross
entropy, a global step. The raw side starts from the values the graph's
initializers produced, so both sides train the same numbers on the same
batches; ``check_losses`` asserts it before anything is timed.

The raw step is optax.adam, whose epsilon sits in the bias-corrected
denominator where TF1's AdamOptimizer puts it on the uncorrected one; with
epsilon 1e-8 the losses still agree to ~1e-5 relative after tens of steps.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxsession as tf
from benchmarks.common import BenchmarkMismatch

LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class Sizes:
    """Model and data sizes: layer widths, batch size and batches in the data."""

    inputs: int = 784
    hidden: int = 256
    classes: int = 10
    batch: int = 128
    n_batches: int = 16


FULL = Sizes()
# The small model of issue 16, where the per-step overhead dominates.
SMALL = Sizes(inputs=32, hidden=32, batch=16, n_batches=16)
QUICK = Sizes(inputs=64, hidden=32, batch=16, n_batches=4)

Batch = tuple[np.ndarray, np.ndarray]


def make_data(sizes: Sizes, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_batches * batch`` random float32 inputs and int32 labels."""
    rng = np.random.default_rng(seed)
    n = sizes.batch * sizes.n_batches
    x = rng.standard_normal((n, sizes.inputs), dtype=np.float32)
    y = rng.integers(0, sizes.classes, n).astype(np.int32)
    return x, y


def batches(x: np.ndarray, y: np.ndarray, batch: int) -> list[Batch]:
    """The data cut into contiguous batches, in the order a repeat().batch() yields."""
    return [
        (
            np.ascontiguousarray(x[i : i + batch]),
            np.ascontiguousarray(y[i : i + batch]),
        )
        for i in range(0, len(x), batch)
    ]


@dataclass
class GraphModel:
    """The MLP as a jaxsession graph; ``x``/``y`` are None when fed by a Dataset."""

    graph: tf.Graph
    x: Any
    y: Any
    loss: Any
    train_op: Any
    global_step: Any
    params: list[Any]


def build_graph(
    sizes: Sizes,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    histogram: bool = False,
) -> GraphModel:
    """The MLP graph, fed by placeholders, or by a Dataset over ``data`` if given.

    With ``histogram``, every weight also has a histogram summary (collected
    by ``merge_all``, so a MonitoredTrainingSession writes them).
    """
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        if data is None:
            x = tf.placeholder(tf.float32, [None, sizes.inputs], name="x")
            y = tf.placeholder(tf.int32, [None], name="y")
            inputs, labels = x, y
        else:
            x = y = None
            ds = tf.data.Dataset.from_tensor_slices(data).repeat().batch(sizes.batch)
            inputs, labels = ds.make_one_shot_iterator().get_next()
        h = tf.layers.dense(inputs, sizes.hidden, activation=tf.nn.relu)
        h = tf.layers.dense(h, sizes.hidden, activation=tf.nn.relu)
        logits = tf.layers.dense(h, sizes.classes)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        gs = tf.train.get_or_create_global_step()
        train_op = tf.train.AdamOptimizer(LEARNING_RATE).minimize(loss, global_step=gs)
        params = list(tf.trainable_variables())
        if histogram:
            for p in params:
                tf.summary.histogram(p.op.name, p)
    return GraphModel(graph, x, y, loss, train_op, gs, params)


def raw_loss(params: Sequence[jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    """Mean sparse softmax cross entropy of the MLP (params: kernel, bias, ...)."""
    h = x
    for k, b in zip(params[:-2:2], params[1:-2:2]):
        h = jax.nn.relu(h @ k + b)
    logits = h @ params[-2] + params[-1]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


_OPT = optax.adam(LEARNING_RATE)


@functools.cache
def _jitted_step(loss_fn: Callable[..., jax.Array]) -> Callable[..., Any]:
    # One jitted function per loss, so trainers of the same model share its
    # compilations. The loss is a by-product of the gradient; returning it
    # costs one scalar output, so the timed loop and the loss check share it.
    def step(state: Any, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array]:
        p, opt_state, gs = state
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, opt_state = _OPT.update(grads, opt_state, p)
        return (optax.apply_updates(p, updates), opt_state, gs + 1), loss

    return jax.jit(step, donate_argnums=0)


class RawTrainer:
    """The hand-written baseline: one ``jax.jit`` Adam step, the state donated.

    Args:
        params: Initial parameter values (kernel, bias, ... as NumPy arrays).
        loss_fn: ``loss_fn(params, x, y)``; default ``raw_loss``.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        loss_fn: Callable[..., jax.Array] = raw_loss,
    ):
        p = tuple(jnp.asarray(v) for v in params)
        self.state = (p, _OPT.init(p), jnp.zeros((), jnp.int32))
        self._step = _jitted_step(loss_fn)

    def step(self, x: Any, y: Any) -> jax.Array:
        """One training step; returns the loss before the update."""
        self.state, loss = self._step(self.state, x, y)
        return loss

    def sync(self) -> None:
        """Blocks until every queued step is done."""
        jax.block_until_ready(self.state)

    def side(self, data: list[Batch]) -> tuple[Callable[[], None], Callable[[], None]]:
        """A (call, sync) pair for ``common.compare`` cycling over ``data``."""
        it = itertools.cycle(data)

        def call() -> None:
            x, y = next(it)
            self.state, _ = self._step(self.state, x, y)

        return call, self.sync

    def histogram_side(
        self, data: list[Batch], every: int = 100
    ) -> tuple[Callable[[], None], Callable[[], None]]:
        """``side``, with TF1's histogram of every parameter made every ``every`` steps.

        The anchor of a summary step's cost: the same device computation as
        ``tf.summary.histogram`` (``summary_ops._device_histogram``), in the
        step's call; its counts come to the host at the next such step, as
        a deferred summary's would, and nothing else is done with them.
        """
        it, count = itertools.cycle(data), itertools.count()
        made: list[Any] = []
        summary_step = _histogram_step(self._step_fn_of())

        def call() -> None:
            x, y = next(it)
            if next(count) % every:
                self.state, _ = self._step(self.state, x, y)
                return
            for counts in made:
                np.asarray(counts)
            self.state, _, counts = summary_step(self.state, x, y)
            made[:] = counts

        return call, self.sync

    def scan_side(
        self, data: list[Batch], steps: int
    ) -> tuple[Callable[[], None], Callable[[], None]]:
        """(call, sync) of ``steps`` steps per call in a ``lax.scan``, data on device.

        The ceiling of a multi-step run: the batches are stacked and put on
        the device once, outside the timing; each call trains on the next
        ``steps`` of them.
        """
        chunks = [
            tuple(
                jnp.asarray(np.stack(c))
                for c in zip(*[data[(i + j) % len(data)] for j in range(steps)])
            )
            for i in range(0, len(data), steps)
        ]
        it = itertools.cycle(chunks)
        run = _scanned_step(self._step_fn_of(), steps)

        def call() -> None:
            self.state = run(self.state, *next(it))

        return call, self.sync

    def _step_fn_of(self) -> Callable[..., Any]:
        return self._step.__wrapped__


@functools.cache
def _histogram_step(step: Callable[..., Any]) -> Callable[..., Any]:
    from jaxsession.library.summary_ops import _device_histogram

    def run(state: Any, x: jax.Array, y: jax.Array) -> Any:
        state, loss = step(state, x, y)
        return state, loss, [_device_histogram(p) for p in state[0]]

    return jax.jit(run, donate_argnums=0)


@functools.cache
def _scanned_step(step: Callable[..., Any], steps: int) -> Callable[..., Any]:
    def run(state: Any, xs: jax.Array, ys: jax.Array) -> Any:
        def body(s: Any, xy: tuple) -> tuple:
            return step(s, *xy)[0], None

        return jax.lax.scan(body, state, (xs, ys), length=steps)[0]

    return jax.jit(run, donate_argnums=0)


def check_losses(
    name: str,
    ours: Callable[[int], Any],
    raw: RawTrainer,
    data: list[Batch],
    steps: int,
    rtol: float = 1e-3,
) -> None:
    """Trains both sides ``steps`` steps and compares the losses step by step.

    Args:
        name: The contender, for the error message.
        ours: ``ours(i)`` runs step ``i`` of the jaxsession side, returns its loss.
        raw: The baseline, at the same initial state.
        data: The batches; step ``i`` uses ``data[i % len(data)]``.
        steps: How many steps to compare.
        rtol: Relative tolerance on each loss.

    Raises:
        BenchmarkMismatch: A loss differs by more than ``rtol``.
    """
    a = np.array([float(ours(i)) for i in range(steps)])
    b = np.array([float(raw.step(*data[i % len(data)])) for i in range(steps)])
    bad = ~np.isclose(a, b, rtol=rtol, atol=1e-6) | ~np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad))
        raise BenchmarkMismatch(
            f"{name}: loss at step {i} is {float(a[i])!r}, raw JAX gives {float(b[i])!r} "
            f"(rtol {rtol}); losses {a.tolist()} vs {b.tolist()}"
        )
