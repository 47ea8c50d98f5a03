"""In-memory datasets cut on the device: which pipelines go there, and what they give."""

import logging
import threading

import jax
import numpy as np
import pytest

import jaxsession as tf
from jaxsession.engine import infeed


def _drain(sess, fetch, **kwargs):
    out = []
    while True:
        try:
            out.append(sess.run(fetch, **kwargs))
        except tf.errors.OutOfRangeError:
            return out


def _feeder(sess, iterator):
    return sess._store.resources[("iterator", iterator)]


def _batches(make_dataset, host):
    """The drained batches of ``make_dataset()``, on the device or host pipeline."""
    with tf.Graph().as_default():
        it = make_dataset().make_initializable_iterator()
        nxt = it.get_next()
        with tf.Session() as sess:
            limit = -1 if host else infeed.DEVICE_SLICES_MAX_BYTES
            old, infeed.DEVICE_SLICES_MAX_BYTES = infeed.DEVICE_SLICES_MAX_BYTES, limit
            try:
                epochs = []
                for _ in range(2):
                    sess.run(it.initializer)
                    kind = type(_feeder(sess, it))
                    epochs.append(_drain(sess, nxt))
            finally:
                infeed.DEVICE_SLICES_MAX_BYTES = old
    return kind, epochs


def test_batches_are_cut_on_the_device_without_a_thread():
    x = np.arange(24, dtype=np.float32).reshape(12, 2)
    # Threads by identity: one an earlier test left behind may end meanwhile.
    before = set(threading.enumerate())
    it = tf.data.Dataset.from_tensor_slices(x).batch(5).make_one_shot_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        got = _drain(sess, nxt)
        feeder = _feeder(sess, it)
        assert isinstance(feeder, infeed.DeviceSlices)
        assert [t.name for t in threading.enumerate() if t not in before] == []
        # Only the batch comes back: the whole array stays on the device.
        assert isinstance(feeder._arrays[0], jax.Array)
    assert [g.tolist() for g in got] == [
        x[:5].tolist(),
        x[5:10].tolist(),
        x[10:].tolist(),
    ]
    assert all(g.dtype == np.float32 for g in got)


@pytest.mark.parametrize(
    "make",
    [
        lambda: tf.data.Dataset.range(40).shuffle(9, seed=5).batch(6),
        lambda: (
            tf.data.Dataset.from_tensor_slices(
                (np.arange(30, dtype=np.int32), np.arange(60.0).reshape(30, 2))
            )
            .shuffle(7, seed=1)
            .repeat(2)
            .skip(3)
            .take(50)
            .batch(4, drop_remainder=True)
        ),
    ],
    ids=["range_shuffle", "slices_shuffle_repeat_skip_take"],
)
def test_device_batches_equal_the_host_pipeline_epoch_by_epoch(make):
    device_kind, device = _batches(make, host=False)
    host_kind, host = _batches(make, host=True)
    assert device_kind is infeed.DeviceSlices and host_kind is infeed.Prefetcher
    assert len(device[0]) == len(host[0]) > 3
    # As in TF1, a seeded shuffle starts over when initialized again.
    assert str(device[0]) == str(device[1])
    for d_epoch, h_epoch in zip(device, host):
        for d, h in zip(d_epoch, h_epoch):
            for a, b in zip(jax.tree_util.tree_leaves(d), jax.tree_util.tree_leaves(h)):
                np.testing.assert_array_equal(a, b)
                assert a.dtype == b.dtype


def test_reinitializing_keeps_constant_arrays_on_the_device():
    x = np.arange(10, dtype=np.float32)
    it = tf.data.Dataset.from_tensor_slices(x).batch(4).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer)
        first = _feeder(sess, it)._arrays
        sess.run(it.initializer)
        assert _feeder(sess, it)._arrays is first
        assert sess.run(nxt).tolist() == [0.0, 1.0, 2.0, 3.0]


def test_fed_arrays_go_to_the_device_at_each_initialization():
    data = tf.placeholder(tf.float32, [None])
    it = tf.data.Dataset.from_tensor_slices(data).batch(2).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {data: np.array([1.0, 2.0, 3.0], np.float32)})
        assert [v.tolist() for v in _drain(sess, nxt)] == [[1.0, 2.0], [3.0]]
        sess.run(it.initializer, {data: np.array([7.0, 8.0], np.float32)})
        assert isinstance(_feeder(sess, it), infeed.DeviceSlices)
        assert [v.tolist() for v in _drain(sess, nxt)] == [[7.0, 8.0]]


def test_strings_and_generators_stay_on_the_host_pipeline():
    words = np.array([b"a", b"b", b"c"], dtype=object)
    it = tf.data.Dataset.from_tensor_slices(words).batch(2).make_one_shot_iterator()
    gen = tf.data.Dataset.from_generator(
        lambda: iter([1, 2]), tf.int64, tf.TensorShape([])
    )
    it2 = gen.batch(2).make_one_shot_iterator()
    with tf.Session() as sess:
        assert sess.run(it.get_next()).tolist() == [b"a", b"b"]
        assert sess.run(it2.get_next()).tolist() == [1, 2]
        assert isinstance(_feeder(sess, it), infeed.Prefetcher)
        assert isinstance(_feeder(sess, it2), infeed.Prefetcher)


def test_k_step_runs_cut_k_batches_on_the_device_and_end_on_the_data():
    step = tf.train.get_or_create_global_step()
    it = tf.data.Dataset.range(23).batch(4).make_one_shot_iterator()
    nxt = it.get_next()
    total = tf.Variable(0, dtype=tf.int64)
    with tf.control_dependencies([total.assign_add(tf.reduce_sum(nxt))]):
        train = step.assign_add(1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        made = [r.steps for r in _drain(sess, train, steps_per_run=4, every_step=[])]
        assert isinstance(_feeder(sess, it), infeed.DeviceSlices)
        # 5 full batches and a short one: 4, then 1, then the short one alone.
        assert made == [4, 1, 1]
        assert int(sess.run(total)) == sum(range(23))
        assert int(sess.run(step)) == 6


def test_k_step_runs_gather_their_batches_inside_the_compiled_call(monkeypatch):
    # Full K batches reach the K-step call as (array, [K, batch] indices):
    # no separate gather. Only the data's tail, fewer than K, is cut apart.
    cuts = []
    real_cut = infeed._cut
    monkeypatch.setattr(
        infeed, "_cut", lambda a, i, lead: cuts.append(lead) or real_cut(a, i, lead)
    )
    step = tf.train.get_or_create_global_step()
    x = np.arange(44, dtype=np.float32).reshape(22, 2)
    it = tf.data.Dataset.from_tensor_slices(x).batch(2).make_one_shot_iterator()
    total = tf.Variable(0.0)
    last = tf.Variable(np.zeros((2, 2), np.float32))
    nxt = it.get_next()
    with tf.control_dependencies(
        [total.assign_add(tf.reduce_sum(nxt)), last.assign(nxt)]
    ):
        train = step.assign_add(1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        made = [r.steps for r in _drain(sess, train, steps_per_run=5, every_step=[])]
        assert made == [5, 5, 1]  # 11 batches: 5 + 5, then the last alone
        assert cuts == [(1, 2)]  # only the tail was gathered apart
        assert float(sess.run(total)) == float(x.sum())
        np.testing.assert_array_equal(sess.run(last), x[20:])
        assert int(sess.run(step)) == 11
        (runner,) = [
            r
            for p in sess._prepared.values()
            for r in p.runners.values()
            if r.steps == 5
        ]
        assert list(runner.cut_swaps) == [(0,)]


def _summing_steps(dataset):
    """A one-shot iterator over ``dataset`` and a step adding each batch to a total."""
    it = dataset.make_one_shot_iterator()
    step = tf.train.get_or_create_global_step()
    total = tf.Variable(0.0)
    with tf.control_dependencies([total.assign_add(tf.reduce_sum(it.get_next()))]):
        train = step.assign_add(1)
    return it, train, total, step


@pytest.mark.parametrize(
    ("repeat", "made"),
    [(2, [2, 1, 2, 1]), (1, [2, 1])],
    ids=["batch-repeat", "batch-host-sliced"],
)
def test_k_step_runs_on_the_host_stop_at_a_short_batch(repeat, made, monkeypatch):
    # batch(4).repeat(2): each epoch ends with a short batch, inside the data;
    # batch(4) alone, kept on the host: a short one among the last K. A K-step
    # run stacks only batches of one shape: it ends at a short one.
    monkeypatch.setattr(infeed, "DEVICE_SLICES_MAX_BYTES", -1)
    x = np.arange(10, dtype=np.float32)
    it, train, total, step = _summing_steps(
        tf.data.Dataset.from_tensor_slices(x).batch(4).repeat(repeat)
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = [r.steps for r in _drain(sess, train, steps_per_run=3, every_step=[])]
        assert isinstance(_feeder(sess, it), infeed.Prefetcher)
        assert got == made  # [4, 4] then [2] rows, per epoch
        assert float(sess.run(total)) == repeat * float(x.sum())
        assert int(sess.run(step)) == 3 * repeat


def test_k_step_runs_line_up_with_host_blocks_again_after_a_short_batch(monkeypatch):
    # After a short batch the producer starts its next block where the run
    # ended, so later K-step runs take whole blocks (no re-stacking).
    monkeypatch.setattr(infeed, "DEVICE_SLICES_MAX_BYTES", -1)
    x = np.arange(18, dtype=np.float32)
    it, train, total, _ = _summing_steps(
        tf.data.Dataset.from_tensor_slices(x).batch(4).repeat(3)
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        made, left = [], []
        while True:
            try:
                made.append(sess.run(train, steps_per_run=3, every_step=[]).steps)
            except tf.errors.OutOfRangeError:
                break
            left.append(len(_feeder(sess, it)._pending))
        # Batches per epoch: 4, 4, 4, 4, 2.
        assert made == [3, 1, 1, 3, 1, 1, 3, 1, 1]
        assert left == [0] * len(made)
        assert float(sess.run(total)) == 3 * float(x.sum())


def _runner_of(sess, fetch):
    (runner,) = sess._prepare(fetch).runners.values()
    return runner


def test_one_step_runs_cut_the_batch_inside_the_compiled_call():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    nxt = (
        tf.data.Dataset.from_tensor_slices(x)
        .shuffle(20, seed=2)
        .batch(6)
        .make_one_shot_iterator()
        .get_next()
    )
    total = tf.Variable(0.0)
    # A random op too: the key is donated after the cut feeds.
    noise = tf.random_uniform([]) * 0.0
    train = total.assign_add(tf.reduce_sum(nxt) + noise).op
    with tf.Session() as sess:
        sess.run(total.initializer)
        runs = len(_drain(sess, train))
        assert runs == 4
        (calls,) = [entry[1] for entry in _runner_of(sess, train).fused.values()]
        assert calls == 4
        assert float(sess.run(total)) == float(x.sum())


def test_a_summary_run_cuts_the_batch_inside_the_compiled_call_too():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    nxt = tf.data.Dataset.from_tensor_slices(x).batch(5).make_one_shot_iterator()
    batch = nxt.get_next()
    total = tf.Variable(0.0)
    train = total.assign_add(tf.reduce_sum(batch)).op
    merged = tf.summary.merge(
        [tf.summary.scalar("total", total), tf.summary.histogram("w", total * 2.0)]
    )
    fetches = [train, merged]
    with tf.Session() as sess:
        sess.run(total.initializer)
        summaries = [sess.run(fetches)[1] for _ in range(4)]
        (calls,) = [entry[1] for entry in _runner_of(sess, fetches).fused.values()]
        assert calls == 4
        seen = []
        for raw in summaries:
            values = {v.tag: v for v in tf.Summary.FromString(raw).value}
            seen.append((values["total"].simple_value, values["w"].histo.max))
    # Each summary reads the variable before the run's write, as TF1's does.
    sums = np.cumsum(x.reshape(4, 10).sum(axis=1))
    assert seen == [(0.0, 0.0)] + [(float(s), 2.0 * float(s)) for s in sums[:-1]]


def test_a_summary_of_the_batch_itself_takes_the_batch_to_the_host():
    # float64: no device histogram, so the summary's host op reads the batch.
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    batch = (
        tf.data.Dataset.from_tensor_slices(x).batch(3).make_one_shot_iterator()
    ).get_next()
    summary = tf.summary.histogram("batch", batch)
    with tf.Session() as sess:
        got = [tf.Summary.FromString(sess.run(summary)).value[0] for _ in range(2)]
        assert _runner_of(sess, summary).fused is None
    assert [(v.histo.min, v.histo.max, v.histo.num) for v in got] == [
        (0.0, 5.0, 6.0),
        (6.0, 11.0, 6.0),
    ]


def test_a_ragged_last_batch_cut_in_the_call_is_noted(caplog):
    nxt = tf.data.Dataset.range(10).batch(4).make_one_shot_iterator().get_next()
    total = tf.Variable(0, dtype=tf.int64)
    train = total.assign_add(tf.reduce_sum(nxt)).op
    with tf.Session() as sess, caplog.at_level(logging.INFO, "jaxsession.compile"):
        sess.run(total.initializer)
        assert len(_drain(sess, train)) == 3
        assert int(sess.run(total)) == 45
    again = [r.getMessage() for r in caplog.records if "again" in r.getMessage()]
    assert again == [
        "compiling a run again for new input shapes: IteratorGetNext:0=[2]"
    ]


def test_shapes_given_as_dim_lists_follow_the_types_structure():
    # As TF1: the shapes are mapped up to the types, so [] is a scalar's shape.
    gen = tf.data.Dataset.from_generator(lambda: iter([1, 2]), tf.int64, [])
    assert gen.output_shapes == tf.TensorShape([])
    pair = tf.data.Dataset.from_generator(
        lambda: iter([]), (tf.int64, tf.float32), ([], [None, 2])
    )
    assert pair.output_shapes == (tf.TensorShape([]), tf.TensorShape([None, 2]))
    it = tf.data.Iterator.from_structure(tf.int64, [4])
    assert it.output_shapes.as_list() == [4]
    with tf.Session() as sess:
        assert sess.run(gen.batch(2).make_one_shot_iterator().get_next()).tolist() == [
            1,
            2,
        ]


def _pairs_of_batches():
    x = np.arange(12, dtype=np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((x, x * 10)).batch(4)
    return dataset.make_one_shot_iterator().get_next()


def test_a_fed_iterator_output_overrides_the_batch_as_in_tf1():
    bx, by = _pairs_of_batches()
    out = tf.reduce_sum(bx) + tf.reduce_sum(by)
    summary = tf.summary.scalar("y", tf.reduce_sum(by))
    ones = np.ones(4, np.float32)
    with tf.Session() as sess:
        # The iterator still moves on for bx; by is the fed value.
        assert float(sess.run(out, feed_dict={by: ones})) == 10.0
        got, raw = sess.run([out, summary], feed_dict={by: 2 * ones})
        assert float(got) == 30.0
        assert tf.Summary.FromString(raw).value[0].simple_value == 8.0
        got, batch = sess.run([out, bx], feed_dict={by: ones})
        assert float(got) == 42.0
        assert batch.tolist() == [8.0, 9.0, 10.0, 11.0]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(out, feed_dict={by: ones})


def test_a_fed_iterator_output_overrides_each_batch_of_a_k_step_run():
    bx, by = _pairs_of_batches()
    total = tf.Variable(0.0)
    train = total.assign_add(tf.reduce_sum(bx) + tf.reduce_sum(by))
    fed = np.stack([np.ones(4, np.float32), np.full(4, 2, np.float32)])
    with tf.Session() as sess:
        sess.run(total.initializer)
        got = sess.run(train, steps_per_run=2, every_step=[train], feed_dict={by: fed})
        assert got.every_step[0].tolist() == [10.0, 40.0]
