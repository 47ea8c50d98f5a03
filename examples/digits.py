"""Train a small MLP on scikit-learn's bundled digits, written as TF1 code.

The data ships inside scikit-learn; nothing is downloaded. Only the import
differs from a TensorFlow 1 program: ``import jaxsession as tf``.
"""

import argparse

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
    return x, labels, training, loss, train_op, accuracy, global_step


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    x_train, x_test, y_train, y_test = load_data(args.seed)
    tf.set_random_seed(args.seed)
    x, labels, training, loss, train_op, accuracy, global_step = build_model(
        args.learning_rate
    )
    rng = np.random.default_rng(args.seed)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(1, args.epochs + 1):
            order = rng.permutation(len(x_train))
            losses = []
            for start in range(0, len(order), args.batch_size):
                idx = order[start : start + args.batch_size]
                _, batch_loss = sess.run(
                    [train_op, loss],
                    {x: x_train[idx], labels: y_train[idx], training: True},
                )
                losses.append(batch_loss)
            if epoch % 5 == 0 or epoch == 1:
                acc, step = sess.run(
                    [accuracy, global_step], {x: x_test, labels: y_test}
                )
                print(
                    f"epoch {epoch:3d}  step {step:5d}  "
                    f"train loss {np.mean(losses):.4f}  test accuracy {acc:.4f}"
                )
        final = sess.run(accuracy, {x: x_test, labels: y_test})
    print(f"final test accuracy {final:.4f}")


if __name__ == "__main__":
    main()
