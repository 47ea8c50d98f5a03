"""Train a linear model, save it, restore it into a new graph and keep training.

A TF1 program: only ``import jaxsession as tf`` differs. Prints one line per
step (``phase step loss``), the saved and restored weights, and the
checkpoint path, so a test can parse them.
"""

# Written as TF1 programs were (%-formatting, os.path), which lint rules would modernize.
# ruff: noqa: UP031, PTH103, PTH112, PTH118

import argparse
import os

import numpy as np

import jaxsession as tf


def make_data(seed=0, n=256):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 4).astype(np.float32)
    w_true = np.array([[1.5], [-2.0], [0.5], [3.0]], np.float32)
    y = x.dot(w_true) + 0.7 + 0.01 * rng.randn(n, 1).astype(np.float32)
    return x, y


def build():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(tf.zeros([4, 1]), name="w")
    b = tf.Variable(0.0, name="b")
    pred = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.square(pred - y), name="loss")
    global_step = tf.Variable(0, trainable=False, name="global_step")
    train_op = tf.train.GradientDescentOptimizer(0.05).minimize(
        loss, global_step=global_step
    )
    return x, y, w, b, loss, train_op, global_step


def train(sess, ops, data, steps, phase):
    x, y, _, _, loss, train_op, global_step = ops
    for _ in range(steps):
        _, loss_value, step = sess.run(
            [train_op, loss, global_step], feed_dict={x: data[0], y: data[1]}
        )
        print("%s %d %.6f" % (phase, step, loss_value))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--output_dir", default="/tmp/tf1_saver_restore")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if not os.path.isdir(args.output_dir):
        os.makedirs(args.output_dir)
    data = make_data()
    prefix = os.path.join(args.output_dir, "model.ckpt")

    with tf.Graph().as_default():
        ops = build()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            train(sess, ops, data, args.steps, "train")
            path = saver.save(sess, prefix, global_step=ops[6])
            w_saved, b_saved = sess.run([ops[2], ops[3]])
    print("saved_path %s" % path)
    print("saved_w %s" % " ".join("%.6f" % v for v in w_saved.ravel()))
    print("saved_b %.6f" % b_saved)

    with tf.Graph().as_default():
        ops = build()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, tf.train.latest_checkpoint(args.output_dir))
            w_restored, b_restored, step = sess.run([ops[2], ops[3], ops[6]])
            print("restored_step %d" % step)
            print("restored_w %s" % " ".join("%.6f" % v for v in w_restored.ravel()))
            print("restored_b %.6f" % b_restored)
            train(sess, ops, data, args.steps, "resume")
            path = saver.save(sess, prefix, global_step=ops[6])
    print("final_path %s" % path)


if __name__ == "__main__":
    main()
