"""Input producers and batching functions log how full their queue is, as TF1 does."""

import numpy as np

import jaxsession as tf

# The tags TensorFlow 2.21 (tf.compat.v1) gives the same calls, in order.
TF_TAGS = [
    "input_producer/fraction_of_8_full",
    "input_producer_1/fraction_of_4_full",
    "input_producer_2/input_producer/fraction_of_32_full",
    "batch/fraction_of_10_full",
    "shuffle_batch/fraction_over_5_of_15_full",
    "batch_join/fraction_of_7_full",
    "sj/fraction_over_3_of_6_full",
]


def _summary(sess, op):
    summary = tf.Summary()
    summary.ParseFromString(sess.run(op))
    (value,) = summary.value
    return value.tag, value.simple_value


def test_each_producer_and_batch_adds_its_fill_summary_under_tf1_tags():
    tf.train.string_input_producer(["a", "b", "c"], shuffle=False, capacity=8)
    tf.train.range_input_producer(10, capacity=4)
    image, label = tf.train.slice_input_producer([tf.zeros([6, 2]), tf.range(6)])
    tf.train.batch([image, label], batch_size=2, capacity=10)
    tf.train.shuffle_batch([image], batch_size=2, capacity=20, min_after_dequeue=5)
    tf.train.batch_join([[image], [image]], batch_size=2, capacity=7)
    tf.train.shuffle_batch_join(
        [[image]], batch_size=2, capacity=9, min_after_dequeue=3, name="sj"
    )
    # A bare input_producer names no summary, so it adds none (as in TF1).
    tf.train.input_producer(tf.zeros([3, 2]), capacity=5)
    summaries = tf.get_collection(tf.GraphKeys.SUMMARIES)
    assert [s.op.name for s in summaries] == TF_TAGS
    assert summaries[1].op.inputs[0].name == "input_producer_1/mul:0"
    with tf.Session() as sess:
        # Before the runners start every queue is empty: TF1's exact bytes.
        assert sess.run(summaries[0]) == (
            b"\n(\n!input_producer/fraction_of_8_full\x15\x00\x00\x00\x00"
        )
        assert sess.run(tf.summary.merge_all()) != b""


def test_the_fraction_counts_only_what_a_shuffling_queue_may_hand_out():
    rows = np.arange(16, dtype=np.float32).reshape(8, 2)
    tf.train.shuffle_batch(
        [rows], batch_size=2, capacity=20, min_after_dequeue=5, enqueue_many=True
    )
    tf.train.batch([rows], batch_size=2, capacity=10, enqueue_many=True)
    with tf.Session() as sess:
        for runner in tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS):
            sess.run(runner.enqueue_ops[0])
        got = [_summary(sess, s) for s in tf.get_collection(tf.GraphKeys.SUMMARIES)]
    # (8 - 5) * (1 / 15) and 8 * (1 / 10) in float32, as TensorFlow gives them.
    assert got == [
        ("shuffle_batch/fraction_over_5_of_15_full", 0.20000001788139343),
        ("batch/fraction_of_10_full", 0.800000011920929),
    ]
