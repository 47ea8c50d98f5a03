"""MonitoredTrainingSession with custom hooks, moving averages and weight decay.

A TF1 program: only ``import jaxsession as tf`` differs. Prints
``hook step S loss L`` from a custom SessionRunHook, ``begin``/``end`` lines,
and the EMA-averaged weights' evaluation at the end.
"""

# Written as TF1 programs were (%-formatting), which lint rules would modernize.
# ruff: noqa: UP031, RUF015

import argparse

import numpy as np
from sklearn.datasets import load_digits

import jaxsession as tf


class LossLoggerHook(tf.train.SessionRunHook):
    """Asks for the loss and global step every run; prints every ``every`` steps."""

    def __init__(self, loss, every, weight=None, average=None):
        self._loss = loss
        self._every = every
        self._weight = weight
        self._average = average

    def begin(self):
        self._global_step = tf.train.get_global_step()
        print("hook begin")

    def before_run(self, run_context):
        return tf.train.SessionRunArgs([self._global_step, self._loss])

    def after_run(self, run_context, run_values):
        step, loss = run_values.results
        if step % self._every == 0:
            print("hook step %d loss %.6f" % (step, loss))

    def end(self, session):
        print("hook end step %d" % session.run(self._global_step))
        if self._weight is not None:
            weight, average = session.run([self._weight, self._average])
            print("ema_gap %.6f" % np.abs(weight - average).max())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint_dir", default="/tmp/tf1_monitored_hooks")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    digits = load_digits()
    x_all = (digits.data / 16.0).astype(np.float32)
    y_all = digits.target.astype(np.int32)

    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 64])
    y = tf.placeholder(tf.int32, [None])
    decay = lambda w: 1e-3 * tf.nn.l2_loss(w)  # noqa: E731
    hidden = tf.layers.dense(x, 32, tf.nn.relu, kernel_regularizer=decay, name="h")
    logits = tf.layers.dense(hidden, 10, kernel_regularizer=decay, name="out")
    data_loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    loss = data_loss + tf.losses.get_regularization_loss()
    tf.summary.scalar("loss", loss)
    global_step = tf.train.get_or_create_global_step()
    optimizer = tf.train.AdamOptimizer(0.01)
    minimize = optimizer.minimize(loss, global_step=global_step)
    ema = tf.train.ExponentialMovingAverage(0.9, num_updates=global_step)
    with tf.control_dependencies([minimize]):
        train_op = ema.apply(tf.trainable_variables())
    kernel = [v for v in tf.trainable_variables() if v.op.name == "h/kernel"][0]
    averaged_kernel = ema.average(kernel)
    print("average_name %s" % ema.average_name(kernel))

    rng = np.random.RandomState(0)
    hooks = [
        LossLoggerHook(loss, 10, kernel, averaged_kernel),
        tf.train.StopAtStepHook(last_step=args.steps),
    ]
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=args.checkpoint_dir,
        hooks=hooks,
        save_summaries_steps=10,
        save_checkpoint_steps=30,
        log_step_count_steps=None,
    ) as sess:
        while not sess.should_stop():
            idx = rng.randint(0, len(x_all), 64)
            sess.run(train_op, feed_dict={x: x_all[idx], y: y_all[idx]})
    print("latest %s" % tf.train.latest_checkpoint(args.checkpoint_dir))


if __name__ == "__main__":
    main()
