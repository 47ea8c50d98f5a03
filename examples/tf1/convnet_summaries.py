"""A small conv net on the 8x8 digits with summaries and one traced step.

A TF1 program: only ``import jaxsession as tf`` differs. Writes the graph,
scalar and histogram summaries and the run metadata of one traced step to
``--logdir``; prints ``step S loss L`` and ``test_accuracy A``.
"""

# Written as TF1 programs were (%-formatting), which lint rules would modernize.
# ruff: noqa: UP031

import argparse

import numpy as np
from sklearn.datasets import load_digits

import jaxsession as tf


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--logdir", default="/tmp/tf1_convnet_summaries")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    digits = load_digits()
    images_all = (digits.images / 16.0).astype(np.float32)[..., None]
    labels_all = digits.target.astype(np.int64)
    x_train, y_train = images_all[:1400], labels_all[:1400]
    x_test, y_test = images_all[1400:], labels_all[1400:]

    tf.set_random_seed(0)
    images = tf.placeholder(tf.float32, [None, 8, 8, 1], name="images")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    with tf.name_scope("model"):
        conv = tf.layers.conv2d(images, 16, 3, padding="same", activation=tf.nn.relu)
        pool = tf.layers.max_pooling2d(conv, 2, 2)
        flat = tf.reshape(pool, [-1, 4 * 4 * 16])
        logits = tf.layers.dense(flat, 10)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
    accuracy = tf.reduce_mean(
        tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32)
    )
    tf.summary.scalar("loss", loss)
    tf.summary.scalar("accuracy", accuracy)
    tf.summary.histogram("conv_activations", conv)
    merged = tf.summary.merge_all()

    rng = np.random.RandomState(0)
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(args.logdir, sess.graph)
        sess.run(tf.global_variables_initializer())
        for i in range(args.steps):
            idx = rng.randint(0, len(x_train), 64)
            feed = {images: x_train[idx], labels: y_train[idx]}
            if i == args.steps // 2:
                run_options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
                run_metadata = tf.RunMetadata()
                summary, _, loss_value, step = sess.run(
                    [merged, train_op, loss, global_step],
                    feed_dict=feed,
                    options=run_options,
                    run_metadata=run_metadata,
                )
                writer.add_run_metadata(run_metadata, "step%d" % step)
                print("traced step%d" % step)
            else:
                summary, _, loss_value, step = sess.run(
                    [merged, train_op, loss, global_step], feed_dict=feed
                )
            writer.add_summary(summary, step)
            if i % 10 == 0:
                print("step %d loss %.6f" % (step, loss_value))
        print(
            "test_accuracy %.4f" % sess.run(accuracy, {images: x_test, labels: y_test})
        )
        writer.close()


if __name__ == "__main__":
    main()
