import collections
import re

import jax
import numpy as np
import pytest

import jaxsession as tf


@pytest.fixture
def graph():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable(np.array([[1.0], [2.0]], np.float32), name="w")
    y = tf.matmul(x, w, name="y")
    return x, w, y


def test_nested_fetch_structures_mirror_results(graph):
    x, w, y = graph
    Pair = collections.namedtuple("Pair", ["a", "b"])
    feeds = {x: [[1.0, 1.0]]}
    with tf.Session() as sess:
        sess.run(w.initializer)
        out = sess.run(
            {"y": y, "list": [w, (y, "y:0")], "pair": Pair(y, w.initializer)}, feeds
        )
    np.testing.assert_allclose(out["y"], [[3.0]])
    assert isinstance(out["list"], list) and isinstance(out["list"][1], tuple)
    np.testing.assert_allclose(out["list"][0], [[1.0], [2.0]])
    np.testing.assert_allclose(out["list"][1][1], [[3.0]])
    assert isinstance(out["pair"], Pair) and out["pair"].b is None


def test_scalar_fetch_is_numpy_scalar_and_dtypes_are_declared():
    a = tf.constant(2.0)
    i = tf.constant(np.int64(7))
    with tf.Session() as sess:
        va, vi = sess.run([a * 2.0, i])
    assert isinstance(va, np.float32) and va == 4.0
    assert isinstance(vi, np.int64) and vi == 7


def test_duplicate_fetches_are_computed_once():
    v = tf.Variable(0.0, name="v")
    inc = v.assign_add(1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run([inc, inc, {"again": inc}]) == [1.0, 1.0, {"again": 1.0}]
        assert sess.run(v) == 1.0


def test_fetch_by_name_and_operation(graph):
    x, w, y = graph
    with tf.Session() as sess:
        assert sess.run("w/Assign") is None
        np.testing.assert_allclose(sess.run("y:0", {"x:0": [[0.0, 1.0]]}), [[2.0]])


def test_bad_fetch_names_the_culprit():
    with tf.Session() as sess:
        with pytest.raises(
            TypeError,
            match=re.escape("Fetch argument 3 has invalid type <class 'int'>"),
        ):
            sess.run(3)
        with pytest.raises(
            TypeError, match=re.escape("Fetch argument None has invalid type")
        ):
            sess.run([None])
        with pytest.raises(
            ValueError,
            match=re.escape(
                "Fetch argument 'nope:0' cannot be interpreted as a Tensor."
            ),
        ):
            sess.run("nope:0")


def test_feed_shape_and_dtype_errors(graph):
    x, w, y = graph
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(
            ValueError,
            match=re.escape(
                "Cannot feed value of shape (3, 4) for Tensor 'x:0', which has shape (?, 2): dimension 1 must be 2, got 4."
            ),
        ):
            sess.run(y, {x: np.zeros((3, 4))})
        with pytest.raises(ValueError, match=re.escape("rank must be 2, got 1")):
            sess.run(y, {x: np.zeros(2)})
        with pytest.raises(TypeError, match=re.escape("Cannot feed value")):
            sess.run(y, {x: [["a", "b"]]})
        with pytest.raises(
            TypeError,
            match=re.escape("Cannot interpret feed_dict key as Tensor: 'q:0'"),
        ):
            sess.run(y, {"q:0": 1.0})


def test_unfed_placeholder_error_names_it(graph):
    x, w, y = graph
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape(
                "You must feed a value for placeholder tensor 'x' with dtype float32 and shape [?,2]"
            ),
        ):
            sess.run(y)


def test_feeding_any_tensor_replaces_it(graph):
    x, w, y = graph
    z = y * 2.0
    with tf.Session() as sess:
        # w is never initialized: feeding y cuts the graph above it.
        np.testing.assert_allclose(sess.run(z, {y: [[5.0]]}), [[10.0]])
        np.testing.assert_allclose(sess.run(w, {w: np.ones((2, 1))}), np.ones((2, 1)))


def test_feed_of_jax_array_stays_on_device(graph):
    x, w, y = graph
    with tf.Session() as sess:
        sess.run(w.initializer)
        out = sess.run(y, {x: jax.numpy.ones((1, 2))})
    np.testing.assert_allclose(out, [[3.0]])


def test_failed_run_changes_no_variable(graph):
    x, w, y = graph
    other = tf.Variable(1.0, name="other")
    step = w.assign_add(np.ones((2, 1), np.float32))
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(ValueError):
            sess.run([step, y], {x: np.zeros((1, 3))})
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run([step, other * 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run([step, y])
        np.testing.assert_allclose(sess.run(w), [[1.0], [2.0]])


def test_closed_session_raises_and_context_manager_closes(graph):
    x, w, y = graph
    sess = tf.Session()
    sess.close()
    with pytest.raises(
        RuntimeError, match=re.escape("Attempted to use a closed Session.")
    ):
        sess.run(w.initializer)
    with tf.Session() as s2:
        assert tf.get_default_session() is s2
    assert s2.closed and tf.get_default_session() is None


def test_eval_and_run_with_default_session(graph):
    x, w, y = graph
    with pytest.raises(ValueError, match="No default session is registered"):
        y.eval({x: [[1.0, 1.0]]})
    sess = tf.Session()
    with sess.as_default():
        w.initializer.run()
        np.testing.assert_allclose(y.eval({x: [[1.0, 1.0]]}), [[3.0]])
        np.testing.assert_allclose(w.eval(), [[1.0], [2.0]])
    sess.close()


def test_interactive_session_installs_itself():
    c = tf.constant(4.0)
    sess = tf.InteractiveSession()
    try:
        assert c.eval() == 4.0
    finally:
        sess.close()
    assert tf.get_default_session() is None


def test_make_callable_matches_run(graph):
    x, w, y = graph
    with tf.Session() as sess:
        sess.run(w.initializer)
        fn = sess.make_callable([y, w.initializer], feed_list=[x])
        out, none = fn(np.array([[1.0, 0.0]], np.float32))
        np.testing.assert_allclose(out, [[1.0]])
        assert none is None
        np.testing.assert_allclose(fn([[0.0, 1.0], [1.0, 1.0]])[0], [[2.0], [3.0]])
        with pytest.raises(TypeError, match="expected 1 feed values, got 0"):
            fn()


def test_graph_grows_after_session_started():
    a = tf.Variable(1.0, name="a")
    with tf.Session() as sess:
        sess.run(a.initializer)
        b = tf.Variable(2.0, name="b")
        total = a + b
        with pytest.raises(
            tf.errors.FailedPreconditionError, match="uninitialized value b"
        ):
            sess.run(total)
        sess.run(b.initializer)
        assert sess.run(total) == 3.0


# -- the global step as the host knows it ---------------------------------------------


def _step_counts(sess):
    """(fetches served from the host mirror, device reads) of the global step."""
    return sess._store.step_mirror_hits, sess._store.step_device_reads


def test_global_step_fetch_is_served_from_the_host_without_a_device_read():
    from jaxsession.session._global_step import get_or_create_global_step_read

    # A global step made by hand, as TF1 scripts do: its initial value is a
    # constant, so initializing it tells the host its value.
    gs = tf.Variable(
        0,
        dtype=tf.int64,
        trainable=False,
        name="global_step",
        collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.GLOBAL_STEP],
    )
    w = tf.Variable(np.ones(2, np.float32), name="w")
    loss = tf.reduce_sum(tf.square(tf.convert_to_tensor(w)))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)
    read = get_or_create_global_step_read()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        seen = [sess.run([train, read])[1] for _ in range(5)]
        assert seen == [0, 1, 2, 3, 4] and type(seen[0]) is np.int64
        assert _step_counts(sess) == (5, 0)
        assert sess.run(read) == 5 and _step_counts(sess) == (6, 0)
        gs.load(40, sess)  # a fed assign: the host keeps the fed value
        assert sess.run([train, read])[1] == 40
        sess.set_variable_values({gs: np.int64(7)})  # restore
        assert sess.run([train, read])[1] == 7
        assert _step_counts(sess) == (8, 0)
        # A write the host cannot follow drops the mirror: the next fetch
        # reads the device once, then the mirror serves again.
        sess.run(tf.assign(gs, tf.convert_to_tensor(gs) * 2))
        assert sess.run([train, read])[1] == 16
        assert _step_counts(sess) == (8, 1)
        assert sess.run([train, read])[1] == 17
        sess.set_variable_values({gs: jax.numpy.asarray(3, jax.numpy.int32)})
        assert sess.run(read) == 3 and _step_counts(sess) == (9, 2)
        np.testing.assert_allclose(sess.run(gs), 3)


def test_global_step_read_after_its_write_in_the_run_comes_from_the_device():
    gs = tf.train.get_or_create_global_step()
    inc = gs.assign_add(2)
    with tf.control_dependencies([inc.op]):
        after = tf.identity(tf.convert_to_tensor(gs), name="after")
    with tf.Session() as sess:
        sess.run(gs.initializer)
        assert sess.run([inc, after]) == [2, 2]
        assert sess.run(gs) == 2
        with pytest.raises(
            tf.errors.FailedPreconditionError, match="uninitialized value global_step"
        ):
            with tf.Session() as fresh:
                fresh.run(gs)


def test_hooks_in_a_monitored_session_read_no_global_step_from_the_device(tmp_path):
    gs = tf.train.get_or_create_global_step()
    w = tf.Variable(np.ones(2, np.float32), name="w")
    loss = tf.reduce_sum(tf.square(tf.convert_to_tensor(w)))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)

    class Capture(tf.train.SessionRunHook):
        def after_create_session(self, session, coord):
            # Runs after the chief's hooks read the step once at creation.
            self.session = session
            self.at_start = _step_counts(session)

    capture = Capture()
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path),
        save_checkpoint_steps=4,
        save_summaries_steps=None,
        log_step_count_steps=3,
        hooks=[tf.train.StopAtStepHook(last_step=10), capture],
    ) as sess:
        runs = 0
        while not sess.should_stop():
            sess.run(train)
            runs += 1
    assert runs == 10
    hits, device_reads = _step_counts(capture.session)
    # The zeros initializer's value is known on the host: no device read at all.
    assert device_reads == capture.at_start[1] == 0
    # They read it from the host's mirror (fewer times than runs: quiet runs).
    assert hits > capture.at_start[0]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("-10")


# -- the fast path of repeated runs ----------------------------------------------------


def test_repeated_runs_take_the_fast_path_and_keep_the_step_mirror():
    gs = tf.Variable(
        0,
        dtype=tf.int64,
        trainable=False,
        name="global_step",
        collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.GLOBAL_STEP],
    )
    w = tf.Variable(np.ones(2, np.float32), name="w")
    loss = tf.reduce_sum(tf.square(tf.convert_to_tensor(w)))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        fn = sess.make_callable(train)
        for _ in range(4):
            assert sess.run(train) is None
            assert fn() is None
        # After the first full run, both go straight to the compiled call.
        assert sess._prepare(train).direct is not None
        # Each step multiplies w by 1 - 0.1 * 2; the step mirror followed the
        # eight fast runs, so reading the step needs no device read.
        np.testing.assert_allclose(sess.run(w), np.full(2, 0.8**8), rtol=1e-6)
        assert sess.run(gs) == 8
        assert _step_counts(sess)[1] == 0
        with pytest.raises(TypeError, match="expected 0 feed values, got 1"):
            fn(1.0)
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session"):
        sess.run(train)
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session"):
        fn()


def test_fast_runs_with_random_ops_draw_new_values_each_run():
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    draw = v.assign(tf.random_uniform([3])).op
    both = [v.assign_add(tf.ones([3])).op, v]

    def values():
        with tf.Session() as sess:
            sess.run(v.initializer)
            out = []
            for _ in range(3):
                sess.run(draw)
                out.append(sess.run(v))
            # A fetch structure with a value goes through the fast path too;
            # the fetched Variable is its value at the end of the run.
            before = out[-1]
            for i in range(3):
                none, got = sess.run(both)
                assert none is None
                np.testing.assert_allclose(got, before + i + 1, rtol=1e-6)
            assert sess._prepare(draw).direct is not None
            assert sess._prepare(both).direct is not None
            return out

    first = values()
    # Each run draws fresh values; a new session repeats the same sequence.
    assert not np.allclose(first[0], first[1]) and not np.allclose(first[1], first[2])
    np.testing.assert_array_equal(np.stack(first), np.stack(values()))


def test_fast_runs_on_one_buffer_match_the_step_by_step_values():
    x = tf.Variable(np.zeros(10, np.float32), name="x")
    step = x.assign(0.99 * tf.convert_to_tensor(x) + 1.0).op
    want = np.zeros(10, np.float32)
    with tf.Session() as sess:
        sess.run(x.initializer)
        fn = sess.make_callable(step)
        for i in range(6):
            assert (sess.run(step) if i % 2 else fn()) is None
            want = np.float32(0.99) * want + np.float32(1.0)
            np.testing.assert_allclose(sess.run(x), want, rtol=1e-6)
        # One pack in and out, nothing fetched: the one-buffer fast path.
        assert sess._prepare(step).direct.__name__ == "one_buffer"
