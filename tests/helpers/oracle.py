"""Differential helpers: run a graph through Session.run and compare to NumPy/JAX."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import jaxsession as tf


def run_graph(build: Callable[..., Any], *inputs: np.ndarray, init: bool = True) -> Any:
    """Builds ``build(*placeholders)`` in a new graph, feeds ``inputs``, returns the values."""
    graph = tf.Graph()
    with graph.as_default():
        placeholders = [
            tf.placeholder(tf.as_dtype(np.asarray(x).dtype), np.shape(x), name=f"in{i}")
            for i, x in enumerate(inputs)
        ]
        out = build(*placeholders)
        init_op = tf.global_variables_initializer() if init else None
    with tf.Session(graph=graph) as sess:
        if init_op is not None:
            sess.run(init_op)
        return sess.run(out, dict(zip(placeholders, inputs)))


def assert_run_matches(
    build: Callable[..., Any],
    reference: Callable[..., Any],
    *inputs: np.ndarray,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """Asserts the graph's values equal ``reference(*inputs)`` (NumPy or JAX)."""
    got = run_graph(build, *inputs)
    want = reference(*inputs)
    if isinstance(want, tuple | list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(
                np.asarray(g), np.asarray(w), rtol=rtol, atol=atol
            )
    else:
        np.testing.assert_allclose(
            np.asarray(got), np.asarray(want), rtol=rtol, atol=atol
        )
