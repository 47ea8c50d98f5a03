"""Child processes for the subprocess tests (run as ``python -m tests.checkpoint._children``).

``save_loop DIR``: saves a ~40 MB state at steps 1, 2, ... until killed,
printing ``COMMITTED n`` after each committed save.
``train DIR [STEPS]``: a small model trained with a plain Session loop; it
restores the latest checkpoint if there is one and prints ``START gs counter``.
Without STEPS it trains until SIGTERM, then saves and exits 0 (``SAVED n``);
with STEPS it trains that many steps and prints ``END gs counter``.
"""

import os
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

import jaxsession as tf
from jaxsession.checkpoint import PreemptionWatcher, Saver, latest_checkpoint

BIG_ELEMENTS = 10 * 1024 * 1024  # 40 MB of float32


def say(line: str) -> None:
    """Writes one line to stdout at once (the parent polls for it)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def big_base() -> np.ndarray:
    """Incompressible data, so a save takes a while."""
    return np.random.default_rng(0).standard_normal(BIG_ELEMENTS, dtype=np.float32)


def save_loop(directory: str) -> None:
    big = tf.get_variable(
        "big", shape=[BIG_ELEMENTS], initializer=tf.zeros_initializer()
    )
    gs = tf.train.get_or_create_global_step()
    saver = Saver(max_to_keep=3)
    sess = tf.Session()
    base = big_base()
    for step in range(1, 10_000):
        sess.set_variable_values({big: base + step, gs: step})
        saver.save(sess, f"{directory}/model", global_step=step)
        saver.wait_until_finished()
        say(f"COMMITTED {step}")


def train(directory: str, steps: int | None) -> None:
    w = tf.get_variable("w", shape=[10], initializer=tf.zeros_initializer())
    gs = tf.train.get_or_create_global_step()
    counter = tf.Variable(np.int64(0), trainable=False, name="counter")
    loss = tf.reduce_sum(tf.square(w - 1.0))
    step_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=gs)
    train_op = tf.group(step_op, counter.assign_add(1))
    saver = Saver()
    sess = tf.Session()
    latest = latest_checkpoint(directory)
    if latest:
        saver.restore(sess, latest)
    else:
        sess.run(tf.global_variables_initializer())
    start, count = sess.run([gs, counter])
    say(f"START {start} {count}")
    with PreemptionWatcher() as watcher:
        for _ in range(steps if steps is not None else 1_000_000):
            sess.run(train_op)
            step = int(sess.run(gs))
            if step == start + 3:
                say("READY")
            if steps is None and watcher.should_save_and_stop(step):
                saver.save(sess, f"{directory}/model", global_step=step)
                saver.close()
                say(f"SAVED {step}")
                return
            if steps is None:
                time.sleep(0.005)
    say("END {} {}".format(*sess.run([gs, counter])))


if __name__ == "__main__":
    mode, directory, *rest = sys.argv[1:]
    if mode == "save_loop":
        save_loop(directory)
    else:
        train(directory, int(rest[0]) if rest else None)
