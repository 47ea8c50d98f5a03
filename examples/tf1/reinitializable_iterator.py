"""Train and evaluate through one reinitializable tf.data iterator.

A TF1 program: only ``import jaxsession as tf`` differs. The train and test
datasets share one ``Iterator.from_structure``; each epoch runs until
``tf.errors.OutOfRangeError``. Prints ``epoch E steps S loss L test_accuracy A``.
"""

# Written as TF1 programs were (%-formatting, os.path), which lint rules would modernize.
# ruff: noqa: UP031

import argparse

import numpy as np
from sklearn.datasets import load_digits

import jaxsession as tf


def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    rng = np.random.RandomState(0)
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    split = 1400
    return (x[:split], y[:split]), (x[split:], y[split:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch_size", type=int, default=64)
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = load_data()
    print("train_size %d test_size %d" % (len(x_train), len(x_test)))

    tf.set_random_seed(0)
    train_ds = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(2000, seed=0)
        .batch(args.batch_size)
    )
    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(100)
    iterator = tf.data.Iterator.from_structure(
        train_ds.output_types, train_ds.output_shapes
    )
    images, labels = iterator.get_next()
    train_init = iterator.make_initializer(train_ds)
    test_init = iterator.make_initializer(test_ds)

    hidden = tf.layers.dense(images, 64, activation=tf.nn.relu)
    logits = tf.layers.dense(hidden, 10)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.int32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(args.epochs):
            sess.run(train_init)
            steps, total = 0, 0.0
            while True:
                try:
                    _, loss_value = sess.run([train_op, loss])
                except tf.errors.OutOfRangeError:
                    break
                steps += 1
                total += loss_value
            sess.run(test_init)
            right = 0
            while True:
                try:
                    right += sess.run(correct)
                except tf.errors.OutOfRangeError:
                    break
            accuracy = float(right) / len(x_test)
            print(
                "epoch %d steps %d loss %.6f test_accuracy %.4f"
                % (epoch, steps, total / steps, accuracy)
            )


if __name__ == "__main__":
    main()
