"""Streaming tf.metrics over batches, reset by local_variables_initializer.

A TF1 program: only ``import jaxsession as tf`` differs. Prints
``pass P accuracy A mean M precision Pr recall R`` after each pass over the
batches; the second pass starts from reset metric variables.
"""

# Written as TF1 programs were (%-formatting, os.path), which lint rules would modernize.
# ruff: noqa: UP031, RUF005

import numpy as np

import jaxsession as tf


def make_data(seed=0, n=200):
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, 2, size=n).astype(np.int64)
    predictions = np.where(rng.rand(n) < 0.8, labels, 1 - labels).astype(np.int64)
    values = rng.randn(n).astype(np.float32)
    return labels, predictions, values


def main():
    labels_np, predictions_np, values_np = make_data()
    labels = tf.placeholder(tf.int64, [None], name="labels")
    predictions = tf.placeholder(tf.int64, [None], name="predictions")
    values = tf.placeholder(tf.float32, [None], name="values")
    accuracy, accuracy_update = tf.metrics.accuracy(labels, predictions)
    mean, mean_update = tf.metrics.mean(values)
    precision, precision_update = tf.metrics.precision(labels, predictions)
    recall, recall_update = tf.metrics.recall(labels, predictions)
    updates = tf.group(accuracy_update, mean_update, precision_update, recall_update)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for pass_index, batch_size in enumerate([32, 50]):
            sess.run(tf.local_variables_initializer())
            for start in range(0, len(labels_np), batch_size):
                end = start + batch_size
                sess.run(
                    updates,
                    feed_dict={
                        labels: labels_np[start:end],
                        predictions: predictions_np[start:end],
                        values: values_np[start:end],
                    },
                )
            print(
                "pass %d accuracy %.6f mean %.6f precision %.6f recall %.6f"
                % ((pass_index,) + tuple(sess.run([accuracy, mean, precision, recall])))
            )


if __name__ == "__main__":
    main()
