"""The MLP and data every distributed test trains: one definition for all processes."""

import numpy as np

import jaxsession as tf

GLOBAL_BATCH = 8


def build(learning_rate=0.1):
    """A seeded two-layer MLP; returns (x, y, loss, train_op, global_step)."""
    tf.set_random_seed(7)
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    y = tf.placeholder(tf.int32, [None], name="y")
    hidden = tf.layers.dense(x, 16, activation=tf.nn.tanh, name="hidden")
    logits = tf.layers.dense(hidden, 3, name="logits")
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(learning_rate).minimize(
        loss, global_step=step
    )
    return x, y, loss, train_op, step


def global_batch(i):
    """Global batch ``i``: the same on every process."""
    rng = np.random.default_rng(1000 + i)
    xs = rng.normal(size=(GLOBAL_BATCH, 6)).astype(np.float32)
    ys = rng.integers(0, 3, size=(GLOBAL_BATCH,)).astype(np.int32)
    return xs, ys


def local_batch(i, process, count):
    """This process's contiguous part of global batch ``i``."""
    xs, ys = global_batch(i)
    n = GLOBAL_BATCH // count
    return xs[process * n : (process + 1) * n], ys[process * n : (process + 1) * n]


def variables(sess):
    """Trainable values by name, as lists (JSON-friendly)."""
    values = sess.run({v.op.name: v for v in tf.trainable_variables()})
    return {k: np.asarray(v).tolist() for k, v in values.items()}
