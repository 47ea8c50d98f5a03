"""Input from TFRecord files: TF1 queues and tf.data against a plain Python reader.

Each call gives one batch of 32 parsed Examples (16 floats and a label) from
the same TFRecord file, endlessly repeated:

- queues: ``string_input_producer -> TFRecordReader -> parse_single_example
  -> shuffle_batch`` (two runner threads), one ``sess.run`` of the batch;
- tf.data: ``TFRecordDataset(path).repeat().map(parse_single_example)
  .batch(32)``, one ``sess.run`` of ``get_next()``;
- raw: the baseline, a Python loop over the file's records that parses them
  with the Example proto and stacks them with NumPy, no graph.

The rows are informational (no target): what the TF1 pipelines cost per
batch over the least a host reader does.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np

import jaxsession as tf
from benchmarks.common import INFO, Row, compare, print_section, row

BATCH = 32
RECORDS = 512
CALLS = 20
FULL = {}
QUICK = {"repeats": 1, "warmup": 2, "min_repeats": 1}
FEATURES = {
    "x": tf.FixedLenFeature([16], tf.float32),
    "y": tf.FixedLenFeature([], tf.int64),
}


def _write(path: str, records: int) -> None:
    rng = np.random.default_rng(0)
    with tf.python_io.TFRecordWriter(path) as writer:
        for i in range(records):
            feature = {
                "x": tf.train.Feature(
                    float_list=tf.train.FloatList(value=rng.random(16))
                ),
                "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 10])),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())


def _raw_side(path: str):
    records = itertools.cycle(list(tf.python_io.tf_record_iterator(path)))

    def call() -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for _ in range(BATCH):
            feature = tf.train.Example.FromString(next(records)).features.feature
            xs.append(feature["x"].float_list.value)
            ys.append(feature["y"].int64_list.value[0])
        return np.asarray(xs, np.float32), np.asarray(ys, np.int64)

    return call, lambda: None


def _queue_graph(path: str):
    filename_queue = tf.train.string_input_producer([path])
    _, serialized = tf.TFRecordReader().read(filename_queue)
    parsed = tf.parse_single_example(serialized, FEATURES)
    return tf.train.shuffle_batch(
        [parsed["x"], parsed["y"]],
        BATCH,
        capacity=256,
        min_after_dequeue=64,
        num_threads=2,
    )


def _dataset_graph(path: str):
    dataset = tf.data.TFRecordDataset(path).repeat()
    dataset = dataset.map(lambda r: tf.parse_single_example(r, FEATURES)).batch(BATCH)
    return dataset.make_one_shot_iterator().get_next()


def bench_input(records: int = RECORDS, calls: int = CALLS, **kw: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "data.tfrecord")
        _write(path, records)
        queue_graph, dataset_graph = tf.Graph(), tf.Graph()
        with queue_graph.as_default():
            queue_batch = _queue_graph(path)
        with dataset_graph.as_default():
            dataset_batch = _dataset_graph(path)
        queue_sess = tf.Session(graph=queue_graph)
        dataset_sess = tf.Session(graph=dataset_graph)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(queue_sess, coord)
        try:
            sides = {
                "queues": (lambda: queue_sess.run(queue_batch), lambda: None),
                "dataset": (lambda: dataset_sess.run(dataset_batch), lambda: None),
                "raw": _raw_side(path),
            }
            t = compare(sides, calls=calls, **kw)
        finally:
            coord.request_stop()
            queue_sess.close()
            dataset_sess.close()
            coord.join(threads, stop_grace_period_secs=10)
    return [
        row(
            f"queues: shuffle_batch of {BATCH} parsed Examples",
            t,
            "queues",
            "raw",
            INFO,
        ),
        row(
            f"tf.data: TFRecordDataset.map(parse).batch({BATCH})",
            t,
            "dataset",
            "raw",
            INFO,
        ),
    ]


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the markdown table and returns its rows.

    Args:
        quick: Few calls and one repeat: a smoke run, not a figure.
    """
    kw = QUICK if quick else FULL
    small = {"calls": 2, "records": 64} if quick else {}
    rows = bench_input(**small, **kw)
    print_section(
        "TFRecord input (µs per batch; ratio = pipeline / plain Python reader)",
        rows,
        ours="pipeline µs",
        raw="Python reader µs",
    )
    return rows


if __name__ == "__main__":
    main()
