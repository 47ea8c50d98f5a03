"""A TF 1.x input program: TFRecord files read through queues and queue runners.

A TF1 program: only ``import jaxsession as tf`` differs. It writes its own
generated data as TFRecord shards of ``tf.train.Example``s, then:

1. trains a logistic regression with ``MonitoredTrainingSession`` on
   ``string_input_producer(num_epochs=3) -> TFRecordReader ->
   parse_single_example -> tf.train.batch`` until the input ends, printing
   ``step S loss L`` and ``examples_seen N``;
2. counts what ``shuffle_batch`` gives over two epochs with a
   ``Coordinator`` and ``start_queue_runners`` in a plain Session
   (``shuffled_examples N labels_per_class A B``);
3. reads the shards again with ``tf.data.TFRecordDataset``
   (``dataset_examples N label_sum S``).
"""

# Written as TF1 programs were (%-formatting, os.path), which lint rules would modernize.
# ruff: noqa: UP031, PTH118

import argparse
import os
import tempfile

import numpy as np

import jaxsession as tf

FEATURES = {
    "x": tf.FixedLenFeature([4], tf.float32),
    "label": tf.FixedLenFeature([], tf.int64),
    "id": tf.FixedLenFeature([], tf.string),
}


def make_example(x, label, index):
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=x)),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                "id": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[b"ex-%d" % index])
                ),
            }
        )
    )


def write_shards(data_dir, shards=3, per_shard=16, seed=0):
    rng = np.random.RandomState(seed)
    true_w = np.array([1.5, -2.0, 0.5, 1.0], np.float32)
    files = []
    for shard in range(shards):
        path = os.path.join(data_dir, "train-%05d-of-%05d.tfrecord" % (shard, shards))
        with tf.python_io.TFRecordWriter(path) as writer:
            for i in range(per_shard):
                x = rng.randn(4).astype(np.float32)
                label = int(x.dot(true_w) > 0)
                writer.write(
                    make_example(x, label, shard * per_shard + i).SerializeToString()
                )
        files.append(path)
    return files


def read_example(filename_queue):
    reader = tf.TFRecordReader()
    _, serialized = reader.read(filename_queue)
    features = tf.parse_single_example(serialized, features=FEATURES)
    return features["x"], tf.cast(features["label"], tf.int32)


def train(files, batch_size):
    with tf.Graph().as_default():
        filename_queue = tf.train.string_input_producer(
            files, num_epochs=3, shuffle=False
        )
        x, label = read_example(filename_queue)
        xs, labels = tf.train.batch([x, label], batch_size=batch_size)
        w = tf.get_variable("w", [4, 1], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
        logits = tf.matmul(xs, w)[:, 0] + b
        loss = tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.cast(labels, tf.float32), logits=logits
            )
        )
        global_step = tf.train.get_or_create_global_step()
        train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step)
        seen = 0
        with tf.train.MonitoredTrainingSession() as sess:
            while not sess.should_stop():
                _, step, loss_value, got = sess.run(
                    [train_op, global_step, loss, labels]
                )
                seen += len(got)
                print("step %d loss %.6f" % (step, loss_value))
        print("examples_seen %d" % seen)


def count_shuffled(files):
    with tf.Graph().as_default():
        filename_queue = tf.train.string_input_producer(files, num_epochs=2, seed=1)
        x, label = read_example(filename_queue)
        _, labels = tf.train.shuffle_batch(
            [x, label],
            batch_size=10,
            capacity=40,
            min_after_dequeue=10,
            num_threads=2,
            seed=2,
            allow_smaller_final_batch=True,
        )
        counts = np.zeros(2, np.int64)
        with tf.Session() as sess:
            sess.run(
                [tf.global_variables_initializer(), tf.local_variables_initializer()]
            )
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess=sess, coord=coord)
            try:
                while not coord.should_stop():
                    counts += np.bincount(sess.run(labels), minlength=2)
            except tf.errors.OutOfRangeError:
                pass
            finally:
                coord.request_stop()
            coord.join(threads)
        print(
            "shuffled_examples %d labels_per_class %d %d"
            % (counts.sum(), counts[0], counts[1])
        )


def read_dataset(files):
    with tf.Graph().as_default():
        dataset = tf.data.TFRecordDataset(files)
        dataset = dataset.map(lambda r: tf.parse_single_example(r, FEATURES)["label"])
        label = dataset.batch(7).make_one_shot_iterator().get_next()
        total, count = 0, 0
        with tf.Session() as sess:
            while True:
                try:
                    got = sess.run(label)
                except tf.errors.OutOfRangeError:
                    break
                total += int(got.sum())
                count += len(got)
        print("dataset_examples %d label_sum %d" % (count, total))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--batch_size", type=int, default=8)
    args = parser.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="tfrecord_queues_")
    files = write_shards(data_dir)
    print("wrote %d files" % len(files))
    train(files, args.batch_size)
    count_shuffled(files)
    read_dataset(files)


if __name__ == "__main__":
    main()
