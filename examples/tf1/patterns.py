"""The TF1 patterns public programs use most, in one small training program.

A TF1 program: only ``import jaxsession as tf`` differs. A classifier on
generated data with: a shape-less ``keep_prob`` placeholder feeding dropout
and a matmul; integer labels given to ``tf.losses``; a train tower and an
eval tower sharing unnamed layers through ``reuse=True``; a decaying
learning rate next to the program's own ``learning_rate`` summary; the
global step fetched with the train op; ``tf.get_variable`` with an int32
Tensor initializer; and a recurrent state fed back as a namedtuple. Prints
``key value`` lines that a test compares with TensorFlow's.
"""

# Written as TF1 programs were (%-formatting), which lint rules would modernize.
# ruff: noqa: UP031

import argparse
import collections

import numpy as np

import jaxsession as tf

State = collections.namedtuple("State", ["c", "h"])


def make_data(n=512, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 16).astype(np.float32)
    labels = (x[:, :4].sum(axis=1) > 0).astype(np.int32) + 2 * (x[:, 4] > 0)
    return x, labels.astype(np.int32)


def tower(x, keep_prob, reuse):
    with tf.variable_scope("model", reuse=reuse):
        hidden = tf.layers.dense(x, 32, activation=tf.nn.relu)
        hidden = tf.nn.dropout(hidden, keep_prob)
        w = tf.get_variable("w_out", [32, 4])
        return tf.matmul(hidden, w), hidden


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    tf.set_random_seed(0)

    x = tf.placeholder(tf.float32, [None, 16], name="x")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    keep_prob = tf.placeholder(tf.float32)  # no shape, as the tutorials wrote it
    logits, hidden = tower(x, keep_prob, reuse=False)
    eval_logits, _ = tower(x, 1.0, reuse=True)
    print("hidden_shape %s" % hidden.shape)
    print("logits_shape %s" % logits.shape)
    print("variables %s" % " ".join(v.op.name for v in tf.global_variables()))

    onehot = tf.one_hot(labels, 4, dtype=tf.int32)  # int labels into tf.losses
    loss = tf.losses.softmax_cross_entropy(onehot, logits)
    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.5, global_step, 10, 0.9)
    lr_summary = tf.summary.scalar("learning_rate", lr)
    print("lr_summary %s" % lr_summary.op.name)
    train_op = tf.train.GradientDescentOptimizer(lr).minimize(
        loss, global_step=global_step
    )
    accuracy = tf.reduce_mean(
        tf.cast(
            tf.equal(tf.argmax(eval_logits, 1, output_type=tf.int32), labels),
            tf.float32,
        )
    )
    counts = tf.get_variable("counts", initializer=tf.constant([0, 0], tf.int32))
    print("counts_dtype %s" % counts.dtype.base_dtype.name)

    # A recurrent state fed back from the fetched state, as RNN samplers do.
    state_in = State(
        tf.placeholder(tf.float32, [1, 4], name="c"),
        tf.placeholder(tf.float32, [1, 4], name="h"),
    )
    state_out = State(state_in.c + 1.0, state_in.h * 2.0)

    data, targets = make_data()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(args.steps):
            _, step, loss_value = sess.run(
                [train_op, global_step, loss],
                {x: data, labels: targets, keep_prob: 0.9},
            )
            print("step %d loss %.4f" % (step, loss_value))
        print("accuracy %.2f" % sess.run(accuracy, {x: data, labels: targets}))
        state = State(np.zeros([1, 4], np.float32), np.ones([1, 4], np.float32))
        for _ in range(3):
            state = sess.run(state_out, {state_in: state})
        print("state %s %s" % (state.c[0, 0], state.h[0, 0]))


if __name__ == "__main__":
    main()
