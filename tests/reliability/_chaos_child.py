"""The training process the chaos test kills: ``python -m tests.reliability._chaos_child DIR LAST``.

A MonitoredTrainingSession (checkpoints every ``SAVE_EVERY`` steps in
``DIR/ckpt``, SIGTERM handled by its PreemptionStopHook) trains a small
model to step LAST on batches chosen by the global step, so a resumed run
computes what an uninterrupted one does. Prints ``START s`` (the step it
resumed from), appends each completed step to ``DIR/done.log`` and, at the
end, saves the variables to ``DIR/final.npz`` and prints ``END s``.
"""

# The parent polls this process's stdout; paths are strings as in TF1 code.
# ruff: noqa: T201, PTH118

import os
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAXSESSION_COMPILATION_CACHE_DIR", "off")

import numpy as np

import jaxsession as tf

SAVE_EVERY = 4


def build():
    """The model: (x, y, train_op, global_step)."""
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    out = tf.layers.dense(tf.layers.dense(x, 8, tf.nn.tanh, name="h"), 1, name="out")
    loss = tf.reduce_mean(tf.square(out - y))
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=step)
    return x, y, train_op, step


def batch(step):
    """The batch of global step ``step``."""
    rng = np.random.default_rng(step)
    xs = rng.normal(size=(8, 4)).astype(np.float32)
    return xs, xs.sum(axis=1, keepdims=True).astype(np.float32)


def variables(sess):
    """Every trainable variable's value by name."""
    return sess.run({v.op.name: v for v in tf.trainable_variables()})


def main(directory, last):
    x, y, train_op, step = build()
    done = os.open(
        os.path.join(directory, "done.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND
    )
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=os.path.join(directory, "ckpt"),
        hooks=[tf.train.StopAtStepHook(last_step=last)],
        save_checkpoint_secs=None,
        save_checkpoint_steps=SAVE_EVERY,
        save_summaries_steps=None,
        log_step_count_steps=None,
    ) as sess:
        raw = sess._tf_sess()
        print(f"START {int(raw.run(step))}", flush=True)
        while not sess.should_stop():
            current = int(raw.run(step))
            sess.run(train_op, dict(zip((x, y), batch(current))))
            os.write(done, f"{current + 1}\n".encode())
            time.sleep(0.02)  # signals land mid-run as often as between runs
        final = int(raw.run(step))
        values = variables(raw)
    if final == last:
        np.savez(os.path.join(directory, "final.npz"), **values)
        print(f"END {final}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
