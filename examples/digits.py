"""Train a small MLP on scikit-learn's bundled digits, written as TF1 code.

Training runs in ``tf.train.MonitoredTrainingSession``: checkpoints and
TensorBoard event files go to ``--logdir`` (default ``runs/digits``; view them
with ``tensorboard --logdir runs/digits``). Each run trains ``--steps`` more
steps (``StopAtStepHook(num_steps=...)``), so running the script again with the
same ``--logdir`` restores the latest checkpoint and continues from its global
step instead of starting over; delete the directory to start afresh.

The data ships inside scikit-learn; nothing is downloaded. Only the import
differs from a TensorFlow 1 program: ``import jaxsession as tf``. Hooks log
through the ``jaxsession`` logger, which ``main`` prints to stdout at INFO.
"""

import argparse
import logging
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import jaxsession as tf


def load_data(seed):
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def build_model(learning_rate):
    x = tf.placeholder(tf.float32, [None, 64], name="images")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    training = tf.placeholder_with_default(False, [], name="training")
    hidden = tf.layers.dense(x, 128, activation=tf.nn.relu, name="hidden")
    hidden = tf.layers.dropout(hidden, rate=0.1, training=training)
    logits = tf.layers.dense(hidden, 10, name="logits")
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(learning_rate).minimize(
        loss, global_step=global_step
    )
    correct = tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    tf.summary.scalar("loss", loss)
    tf.summary.scalar("batch_accuracy", accuracy)
    return x, labels, training, loss, train_op, accuracy, global_step


class ResumeReportHook(tf.train.SessionRunHook):
    """Prints whether the session started afresh or from a checkpoint."""

    def __init__(self, logdir):
        self._logdir = logdir

    def begin(self):
        self._global_step = tf.train.get_global_step()

    def after_create_session(self, session, coord):
        step = session.run(self._global_step)
        checkpoint = tf.train.latest_checkpoint(self._logdir)
        if step > 0:
            print(f"resumed from {checkpoint} at global step {step}", flush=True)
        else:
            print(f"no checkpoint in {self._logdir}: starting at step 0", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", default="runs/digits")
    parser.add_argument(
        "--steps", type=int, default=600, help="training steps for this run"
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    log = logging.getLogger("jaxsession")
    log.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("INFO: %(message)s"))
    log.addHandler(handler)
    # Orbax's absl logging configures the root logger mid-run; without this
    # every line would print twice.
    log.propagate = False

    x_train, x_test, y_train, y_test = load_data(args.seed)
    tf.set_random_seed(args.seed)
    x, labels, training, loss, train_op, accuracy, global_step = build_model(
        args.learning_rate
    )
    final_accuracy = tf.train.FinalOpsHook(accuracy, {x: x_test, labels: y_test})
    hooks = [
        ResumeReportHook(args.logdir),
        tf.train.StopAtStepHook(num_steps=args.steps),
        tf.train.LoggingTensorHook(
            {"step": global_step, "loss": loss, "batch accuracy": accuracy},
            every_n_iter=args.log_every,
        ),
        final_accuracy,
    ]
    rng = np.random.default_rng(args.seed)
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=args.logdir,
        hooks=hooks,
        save_checkpoint_steps=max(args.steps // 2, 1),
        save_summaries_steps=max(args.log_every // 4, 1),
        log_step_count_steps=args.log_every,
    ) as sess:
        while not sess.should_stop():
            # One pass over the shuffled training set per epoch.
            order = rng.permutation(len(x_train))
            for start in range(0, len(order), args.batch_size):
                if sess.should_stop():
                    break
                idx = order[start : start + args.batch_size]
                sess.run(
                    train_op, {x: x_train[idx], labels: y_train[idx], training: True}
                )
    last = tf.train.latest_checkpoint(args.logdir)
    print(f"final test accuracy {final_accuracy.final_ops_values:.4f}")
    print(f"latest checkpoint {last}")


if __name__ == "__main__":
    main()
