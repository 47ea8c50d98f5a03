"""A small training script timed from process start to first step by bench_compile_cache.

``python -m benchmarks.first_step MODE CACHE_DIR WORK_DIR [quick]`` builds the
MLP of ``mlp_model``, runs one training step fetching the loss, and prints
``first_step <time.time()>`` (and ``imported <time.time()>`` after the
imports) on stdout. MODE:

- ``session``: a ``tf.Session`` loop; the script turns JAX's persistent
  compilation cache on itself via ``jax.config`` (directory CACHE_DIR, no
  minimum compile time, so every program is stored).
- ``mts``: ``MonitoredTrainingSession(checkpoint_dir=WORK_DIR)``, the cache
  left to jaxsession (``JAXSESSION_COMPILATION_CACHE_DIR`` = CACHE_DIR, set by
  the caller); JAX's own thresholds apply.
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> None:
    mode, cache_dir, work_dir = argv[:3]
    quick = argv[3:] == ["quick"]
    import jax

    if mode == "session":
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

    import jaxsession as tf
    from benchmarks import mlp_model

    print(f"imported {time.time()!r}", flush=True)
    sizes = mlp_model.QUICK if quick else mlp_model.FULL
    x, y = mlp_model.batches(*mlp_model.make_data(sizes), sizes.batch)[0]
    m = mlp_model.build_graph(sizes)
    with m.graph.as_default():
        if mode == "session":
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                loss = sess.run([m.train_op, m.loss], {m.x: x, m.y: y})[1]
                _done(loss)
        else:
            with tf.train.MonitoredTrainingSession(checkpoint_dir=work_dir) as sess:
                _done(sess.run([m.train_op, m.loss], {m.x: x, m.y: y})[1])


def _done(loss: object) -> None:
    print(f"first_step {time.time()!r} loss {float(loss)!r}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
