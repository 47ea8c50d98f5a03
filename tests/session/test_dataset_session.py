"""tf.data through Session.run: iterators, end of data, errors and prefetch threads."""

import re
import threading
import time
import traceback

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.engine import infeed
from jaxsession.session.monitored_session import ChiefSessionCreator, MonitoredSession
from jaxsession.session.scaffold import Scaffold


@pytest.fixture(autouse=True, params=["device", "host"])
def pipeline(request, monkeypatch):
    """Every test runs with in-memory data on the device and on the host pipeline."""
    if request.param == "host":
        monkeypatch.setattr(infeed, "DEVICE_SLICES_MAX_BYTES", -1)
    return request.param


class _NoSaver:
    def save(self, *args, **kwargs):
        raise AssertionError("this test saves no checkpoint")

    def restore(self, *args, **kwargs):
        raise AssertionError("this test restores no checkpoint")


def _drain(sess, fetch):
    out = []
    while True:
        try:
            out.append(sess.run(fetch))
        except tf.errors.OutOfRangeError:
            return out


def _new_threads(before):
    """How many live threads were started since ``before`` was taken.

    Counted by identity, not ``threading.active_count()``: a thread an earlier
    test left behind (an asynchronous checkpoint write, say) may end meanwhile.
    """
    return sum(t not in before for t in threading.enumerate())


def _wait_for_new_threads(before, count, timeout=30.0):
    """Waits until at most ``count`` threads started since ``before`` live; their number."""
    deadline = time.monotonic() + timeout
    while _new_threads(before) > count and time.monotonic() < deadline:
        time.sleep(0.01)
    return _new_threads(before)


def test_one_shot_batches_equal_numpy_then_out_of_range():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4, drop_remainder=True)
    xb, yb = ds.make_one_shot_iterator().get_next()
    assert xb.shape.as_list() == [4, 2] and yb.dtype == tf.int32
    with tf.Session() as sess:
        got = [sess.run([xb, yb]) for _ in range(2)]
        for i, (gx, gy) in enumerate(got):
            np.testing.assert_array_equal(gx, x[4 * i : 4 * i + 4])
            np.testing.assert_array_equal(gy, y[4 * i : 4 * i + 4])
            assert gx.dtype == np.float32 and gy.dtype == np.int32
        with pytest.raises(
            tf.errors.OutOfRangeError,
            match=re.escape("End of sequence (iterator 'IteratorGetNext')"),
        ):
            sess.run(xb)
        # The end is sticky: later runs raise again rather than restart.
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(xb)


def test_batch_keeps_the_remainder_unless_dropped():
    ds = tf.data.Dataset.range(7).batch(3)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        got = [v.tolist() for v in _drain(sess, nxt)]
    assert got == [[0, 1, 2], [3, 4, 5], [6]]


def _shuffled(seed):
    tf.reset_default_graph()
    nxt = tf.data.Dataset.range(30).shuffle(8, seed=seed).make_one_shot_iterator()
    with tf.Session() as sess:
        return [int(v) for v in _drain(sess, nxt.get_next())]


def test_shuffle_is_reproducible_with_a_seed():
    first = _shuffled(3)
    assert sorted(first) == list(range(30)) and first != list(range(30))
    assert _shuffled(3) == first
    assert _shuffled(4) != first


def test_pipeline_of_transformations_through_run():
    def gen():
        for i in range(100):
            yield np.full(2, i, np.float32)

    left = tf.data.Dataset.range(10).skip(2).take(5)
    right = tf.data.Dataset.from_generator(gen, tf.float32, tf.TensorShape([2]))
    ds = (
        tf.data.Dataset.zip((left, right))
        .map(lambda i, v: (i * 10, v + 0.5))
        .repeat(2)
        .prefetch(4)
    )
    assert ds.output_types == (tf.int64, tf.float32)
    i_t, v_t = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        got = _drain(sess, [i_t, v_t])
    assert [int(i) for i, _ in got] == [20, 30, 40, 50, 60] * 2
    expected_v = [[k + 0.5, k + 0.5] for k in range(5)] * 2
    assert [v.tolist() for _, v in got] == expected_v


class _Loader:
    """A user's loader: any iterable of NumPy structures."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return ((np.full(2, i, np.float32), np.int32(i)) for i in range(self.n))


def test_any_python_iterable_is_a_source():
    ds = tf.data.Dataset.from_generator(
        _Loader(3), (tf.float32, tf.int32), (tf.TensorShape([2]), tf.TensorShape([]))
    )
    x, i = ds.repeat(2).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        got = _drain(sess, [x, i])
    assert [int(v) for _, v in got] == [0, 1, 2, 0, 1, 2]
    assert [v.tolist() for v, _ in got][:2] == [[0.0, 0.0], [1.0, 1.0]]


def test_iterator_feeds_a_graph_computation():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(6, dtype=np.float32)).batch(2)
    nxt = ds.make_one_shot_iterator().get_next()
    total = tf.reduce_sum(nxt * 2.0)
    with tf.Session() as sess:
        assert [float(v) for v in _drain(sess, total)] == [2.0, 10.0, 18.0]


def test_monitored_session_loop_ends_cleanly_at_end_of_data():
    nxt = tf.data.Dataset.range(5).make_one_shot_iterator().get_next()
    seen = []
    creator = ChiefSessionCreator(Scaffold(saver=_NoSaver()))
    with MonitoredSession(session_creator=creator) as sess:
        while not sess.should_stop():
            seen.append(int(sess.run(nxt)))
    assert seen == [0, 1, 2, 3, 4]
    assert sess.should_stop()


def test_initializable_iterator_with_fed_placeholder_restarts_epochs():
    limit = tf.placeholder(tf.int64, [None], name="limit")
    ds = tf.data.Dataset.from_tensor_slices(limit).map(lambda v: v * 2)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        with pytest.raises(
            tf.errors.FailedPreconditionError,
            match="GetNext\\(\\) failed because the iterator has not been initialized",
        ):
            sess.run(nxt)
        sess.run(it.initializer, feed_dict={limit: np.arange(3)})
        assert [int(v) for v in _drain(sess, nxt)] == [0, 2, 4]
        sess.run(it.initializer, feed_dict={limit: np.arange(10, 12)})
        assert [int(v) for v in _drain(sess, nxt)] == [20, 22]
        # Re-initializing mid-epoch starts over.
        sess.run(it.initializer, feed_dict={limit: np.arange(5)})
        assert int(sess.run(nxt)) == 0
        sess.run(it.initializer, feed_dict={limit: np.arange(5)})
        assert int(sess.run(nxt)) == 0


def test_initializer_needs_its_placeholder_fed():
    limit = tf.placeholder(tf.int64, [None], name="limit")
    it = tf.data.Dataset.from_tensor_slices(limit).make_initializable_iterator()
    with (
        tf.Session() as sess,
        pytest.raises(
            tf.errors.InvalidArgumentError,
            match="You must feed a value for placeholder tensor 'limit'",
        ),
    ):
        sess.run(it.initializer)


def test_reinitializable_iterator_switches_between_train_and_test():
    train = tf.data.Dataset.from_tensor_slices(
        np.arange(8, dtype=np.float32).reshape(4, 2)
    ).batch(2)
    test = tf.data.Dataset.from_tensor_slices(np.full((3, 2), -1.0, np.float32)).batch(
        3
    )
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_init, test_init = it.make_initializer(train), it.make_initializer(test)
    mean = tf.reduce_mean(nxt)
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(train_init)
            assert [float(v) for v in _drain(sess, mean)] == [1.5, 5.5]
            sess.run(test_init)
            assert [float(v) for v in _drain(sess, mean)] == [-1.0]
        with pytest.raises(ValueError, match="Iterator does not have an initializer"):
            _ = it.initializer


def test_make_initializer_rejects_a_dataset_of_other_types():
    floats = tf.data.Dataset.from_tensor_slices(np.zeros(3, np.float32))
    ints = tf.data.Dataset.range(3)
    it = tf.data.Iterator.from_structure(floats.output_types, floats.output_shapes)
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Expected output types tf.float32 but got dataset with output types "
            "tf.int64."
        ),
    ):
        it.make_initializer(ints)


def test_output_types_shapes_and_classes():
    ds = tf.data.Dataset.from_tensor_slices(
        {"x": np.zeros((6, 3), np.float32), "y": np.zeros(6, np.int32)}
    ).batch(2)
    assert ds.output_types == {"x": tf.float32, "y": tf.int32}
    assert {k: s.as_list() for k, s in ds.output_shapes.items()} == {
        "x": [None, 3],
        "y": [None],
    }
    assert ds.output_classes == {"x": tf.Tensor, "y": tf.Tensor}
    it = ds.make_one_shot_iterator()
    assert it.output_types == ds.output_types
    assert {k: s.as_list() for k, s in it.output_shapes.items()} == {
        "x": [None, 3],
        "y": [None],
    }
    assert it.output_classes == {"x": tf.Tensor, "y": tf.Tensor}
    assert tf.data.get_output_types(it) == it.output_types
    assert tf.data.get_output_shapes(ds) is ds.output_shapes
    assert tf.data.get_output_classes(ds) == ds.output_classes
    nxt = it.get_next()
    assert nxt["x"].shape.as_list() == [None, 3] and nxt["y"].dtype == tf.int32


def _user_map_fn(v):
    # int() makes this a NumPy-only function (a graph tensor has no value).
    if int(v) == 2:
        raise ZeroDivisionError(f"user map function failed on {v}")
    return v


def test_map_exception_reaches_the_caller_with_its_traceback():
    nxt = tf.data.Dataset.range(5).map(_user_map_fn).make_one_shot_iterator()
    nxt = nxt.get_next()
    with tf.Session() as sess:
        assert [int(sess.run(nxt)) for _ in range(2)] == [0, 1]
        with pytest.raises(
            ZeroDivisionError, match="user map function failed on 2"
        ) as e:
            sess.run(nxt)
        frames = [f.name for f in traceback.extract_tb(e.value.__traceback__)]
        assert "_user_map_fn" in frames
        # The failed element is not skipped silently: the error stays, with
        # the same traceback (not one that grows with every raise).
        with pytest.raises(ZeroDivisionError, match="failed on 2") as again:
            sess.run(nxt)
        frames = [f.name for f in traceback.extract_tb(again.value.__traceback__)]
        assert frames.count("_user_map_fn") == 1


def test_prefetch_is_bounded_and_threads_stop_at_close():
    before = set(threading.enumerate())
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield np.float32(i)
            i += 1

    ds = tf.data.Dataset.from_generator(endless, tf.float32, tf.TensorShape([]))
    nxt = ds.make_one_shot_iterator().get_next()
    sess = tf.Session()
    assert [float(sess.run(nxt)) for _ in range(3)] == [0.0, 1.0, 2.0]
    time.sleep(0.3)
    # Consumed 3; at most PREFETCH_DEPTH queued plus one held by the thread.
    assert len(produced) <= 3 + infeed.PREFETCH_DEPTH + 1
    assert _new_threads(before) == 1
    sess.close()
    assert _wait_for_new_threads(before, 0) == 0


def test_reinitializing_stops_the_previous_prefetch_thread():
    before = set(threading.enumerate())
    it = tf.data.Dataset.range(1000).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        for _ in range(5):
            sess.run(it.initializer)
            assert int(sess.run(nxt)) == 0
        assert _wait_for_new_threads(before, 1) == 1
    assert _wait_for_new_threads(before, 0) == 0


# -- batches cut by indexing, through the session's infeed -------------------------


def _data(n=23):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return x, {"y": np.arange(n, dtype=np.int32) * 3}


def _generated(data):
    x, d = data
    elements = [(x[i], {"y": d["y"][i]}) for i in range(len(x))]
    return tf.data.Dataset.from_generator(
        elements,
        (tf.float32, {"y": tf.int32}),
        (tf.TensorShape([2]), {"y": tf.TensorShape([])}),
    )


def _pipeline(ds, drop_remainder):
    return ds.repeat(2).shuffle(9, seed=4).skip(2).batch(5, drop_remainder)


def _fingerprint_graph(ds):
    # An order-sensitive digest of every element the runs consume.
    x, d = ds.make_one_shot_iterator().get_next()
    total = tf.Variable(0.0, dtype=tf.float32)
    count = tf.Variable(0, dtype=tf.int32)
    weights = tf.cast(tf.range(tf.shape(d["y"])[0]) + 1, tf.float32)
    digest = tf.reduce_sum(
        weights * (tf.reduce_sum(x, axis=1) + tf.cast(d["y"], tf.float32))
    )
    with tf.control_dependencies([total.assign(total * 0.5 + digest)]):
        step = count.assign_add(1)
    return x, step, total


@pytest.mark.parametrize("drop_remainder", [False, True])
def test_indexed_batches_through_run_equal_the_element_path(drop_remainder):
    runs = {}
    for name, source in (
        ("indexed", tf.data.Dataset.from_tensor_slices(_data())),
        ("elements", _generated(_data())),
    ):
        with tf.Graph().as_default():
            nxt = _pipeline(source, drop_remainder).make_one_shot_iterator().get_next()
            with tf.Session() as sess:
                runs[name] = _drain(sess, nxt)
    assert len(runs["indexed"]) == len(runs["elements"]) == (8 if drop_remainder else 9)
    for got, want in zip(runs["indexed"], runs["elements"]):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1]["y"], want[1]["y"])
        assert got[0].dtype == want[0].dtype and got[1]["y"].dtype == want[1]["y"].dtype


@pytest.mark.parametrize("drop_remainder", [False, True])
def test_k_step_runs_over_indexed_batches_equal_single_runs(drop_remainder):
    # 44 elements in batches of 5: 8 full ones, stacked 4 at a time, then
    # (unless dropped) a short batch alone in a third run of 1 step.
    def digests(source, steps):
        with tf.Graph().as_default():
            _, step, total = _fingerprint_graph(_pipeline(source, drop_remainder))
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                got = []
                while True:
                    try:
                        got.append(int(sess.run(step, steps_per_run=steps)))
                    except tf.errors.OutOfRangeError:
                        return got, float(sess.run(total))

    indexed_k = digests(tf.data.Dataset.from_tensor_slices(_data()), 4)
    elements_k = digests(_generated(_data()), 4)
    indexed_1 = digests(tf.data.Dataset.from_tensor_slices(_data()), 1)
    assert indexed_k[0] == ([4, 8] if drop_remainder else [4, 8, 9])
    assert indexed_k == elements_k
    assert indexed_k[1] == pytest.approx(indexed_1[1], rel=1e-6)
    assert indexed_1[0][-1] == indexed_k[0][-1]
