import collections
import gc
import logging
import re
import weakref

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.engine import executable as executable_lib


def _executables(graph):
    """The graph's compiled runs, in the order they were first needed."""
    return list(executable_lib.executables(graph).values())


@pytest.fixture
def graph():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.multiply(x, 2.0, name="y")
    return x, y


def test_same_signature_never_traces_again(graph):
    x, y = graph
    g = tf.get_default_graph()
    with tf.Session() as sess:
        for i in range(3):
            out = sess.run(y, {x: np.full((1, 2), i, np.float32)})
            np.testing.assert_allclose(out, np.full((1, 2), 2.0 * i))
        fn = sess.make_callable(y, feed_list=[x])
        for _ in range(3):
            fn(np.ones((1, 2), np.float32))
        [exe] = _executables(g)
        assert exe.trace_count == 1

        np.testing.assert_allclose(
            sess.run(y, {x: np.ones((3, 2))}), np.full((3, 2), 2)
        )
        old, new = _executables(g)
        assert (old.trace_count, new.trace_count) == (1, 1)

        z = tf.add(y, 1.0, name="z")  # growing the graph keeps compiled runs
        sess.run(y, {x: np.ones((1, 2))})
        assert sess.run(z, {x: np.ones((1, 2))}).tolist() == [[3.0, 3.0]]
        assert [e.trace_count for e in _executables(g)] == [1, 1, 1]


def test_a_new_session_reuses_the_graphs_executables(graph):
    x, y = graph
    for _ in range(2):
        with tf.Session() as sess:
            sess.run(y, {x: np.ones((2, 2))})
    [exe] = _executables(tf.get_default_graph())
    assert exe.trace_count == 1


def test_a_dropped_graph_frees_its_executables():
    # The caches belong to the graph: a module-level weak-keyed dict would
    # keep every graph alive through its executables' plans.
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros(3, np.float32), name="v")
        step = v.assign_add(np.ones(3, np.float32)).op
        with tf.Session() as sess:
            sess.run(v.initializer)
            sess.run(step)
    assert len(_executables(g)) == 2
    dead = weakref.ref(g)
    del g, v, step, sess
    gc.collect()
    assert dead() is None


def test_debug_env_logs_each_cache_miss_with_its_signature(graph, monkeypatch, caplog):
    x, y = graph
    monkeypatch.setenv("JAXSESSION_DEBUG", "1")
    caplog.set_level(logging.INFO, logger="jaxsession")
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(y, {x: np.ones((1, 2))})
        sess.run([y], {x: np.ones((4, 2))})
    logged = [r.getMessage() for r in caplog.records if r.name == "jaxsession"]
    misses = [m for m in logged if "cache miss" in m]
    assert misses == [
        "jaxsession cache miss: RunSignature(fetches=[y:0], targets=[], "
        "feeds=[x:0=float32[1, 2]], steps=1)",
        "jaxsession cache miss: RunSignature(fetches=[y:0], targets=[], "
        "feeds=[x:0=float32[4, 2]], steps=1)",
    ]


def test_written_buffers_are_donated_and_read_only_ones_are_not():
    from jaxsession.engine.packing import PACK_MAX_ELEMENTS

    big = PACK_MAX_ELEMENTS + 1  # loose: one buffer per variable
    v = tf.Variable(np.zeros(big, np.float32), name="v")
    w = tf.Variable(np.ones(big, np.float32), name="w")
    small = tf.Variable(np.zeros(3, np.float32), name="small")
    step = tf.group(
        v.assign_add(tf.convert_to_tensor(w)).op, small.assign_add(np.ones(3)).op
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.variable_values()
        [pack] = [b for k, b in sess._store.buffers.items() if k.kind == "pack"]
        loose = {k.index: b for k, b in sess._store.buffers.items()}
        sess.run(step)
        assert loose[id(v)].is_deleted() and not loose[id(w)].is_deleted()
        assert pack.is_deleted()
        # variable_values() hands out arrays of their own: donation spares them.
        assert not before[small].is_deleted() and before[v] is loose[id(v)]
        after = sess.variable_values()
        np.testing.assert_allclose(np.asarray(after[v]), np.ones(big))
        np.testing.assert_allclose(np.asarray(after[w]), np.ones(big))
        np.testing.assert_allclose(np.asarray(after[small]), np.ones(3))
        np.testing.assert_allclose(np.asarray(before[small]), np.zeros(3))
        fn = sess.make_callable(step)
        fn()
        assert after[v].is_deleted() and not after[w].is_deleted()
        np.testing.assert_allclose(sess.run(v), np.full(big, 2.0))
        np.testing.assert_allclose(sess.run(small), np.full(3, 2.0))


def test_failed_runs_leave_every_variable_unchanged(graph):
    x, y = graph
    v = tf.Variable(np.zeros((1, 2), np.float32), name="v")
    late = tf.Variable(5.0, name="late")
    step = v.assign_add(y)
    with tf.Session() as sess:
        sess.run(v.initializer)
        start = sess.variable_values()[v]
        with pytest.raises(ValueError, match=re.escape("Cannot feed value of shape")):
            sess.run(step, {x: np.ones((1, 3))})
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match="You must feed a value for placeholder",
        ):
            sess.run(step)
        with pytest.raises(
            tf.errors.FailedPreconditionError,
            match=re.escape("Attempting to use uninitialized value late"),
        ):
            sess.run(
                [step, tf.add(tf.convert_to_tensor(late), 1.0)], {x: np.ones((1, 2))}
            )
        fn = sess.make_callable(step, feed_list=[x])
        with pytest.raises(ValueError, match=re.escape("dimension 1 must be 2, got 4")):
            fn(np.ones((1, 4)))
        assert not start.is_deleted()
        assert sess.variable_values()[v] is start
        assert not sess.is_initialized(late)
        np.testing.assert_allclose(sess.run(v), [[0.0, 0.0]])


def test_runs_without_random_ops_do_not_advance_the_random_stream():
    tf.set_random_seed(3)
    r = tf.random_uniform([4], seed=1)
    c = tf.constant(1.0)
    with tf.Session() as sess:
        first, _, second = sess.run(r), sess.run(c), sess.run(r)
    with tf.Session() as sess:
        expected = [sess.run(r), sess.run(r)]
    np.testing.assert_array_equal(first, expected[0])
    np.testing.assert_array_equal(second, expected[1])
    assert not np.array_equal(first, second)


def test_cached_fetch_structures_keep_their_container_types(graph):
    x, y = graph
    Pair = collections.namedtuple("Pair", ["a", "b"])
    feeds = {x: np.ones((1, 2))}
    with tf.Session() as sess:
        for _ in range(2):
            as_list = sess.run([y, "y:0"], feeds)
            as_tuple = sess.run((y, "y:0"), feeds)
            as_pair = sess.run(Pair(y, "y:0"), feeds)
            as_dict = sess.run({"a": y, "b": [y]}, feeds)
        assert type(as_list) is list and type(as_tuple) is tuple
        assert type(as_pair) is Pair and as_pair.b.tolist() == [[2.0, 2.0]]
        assert type(as_dict["b"]) is list and as_dict["a"].tolist() == [[2.0, 2.0]]


def test_repeated_runs_see_every_other_change_of_state():
    v = tf.Variable(0.0, name="v")
    w = tf.Variable(1.0, name="w")
    step = v.assign_add(tf.convert_to_tensor(w)).op
    double = v.assign(tf.convert_to_tensor(v) * 2.0).op
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        sess.run(step)
        assert float(sess.variable_values()[v]) == 2.0
        sess.run(double)
        sess.run(step)
        assert sess.run(v) == 5.0
        sess.set_variable_values({w: np.float32(10.0)})
        sess.run(step)
        sess.make_callable(step)()
        assert sess.run([v, w]) == [25.0, 10.0]
        sess.set_variable_values({v: np.float32(-1.0)})
        sess.run(step)
        assert sess.run(v) == 9.0


def test_executable_call_takes_flat_state_and_donates_the_written_buffers():
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    w = tf.Variable(np.ones(3, np.float32), name="w")
    x = tf.placeholder(tf.float32, [3], name="x")
    step = v.assign_add(tf.convert_to_tensor(w) * x)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(step, {x: np.full(3, 2.0, np.float32)})
        np.testing.assert_allclose(out, np.full(3, 2.0))
        [exe] = [e for e in _executables(tf.get_default_graph()) if e.plan.feeds]
        # v and w share one pack: one buffer in (donated), one out.
        assert (exe.state.packs_rw, exe.state.packs_ro) == ((0,), ())
        [pack] = [b for k, b in sess._store.buffers.items() if k.kind == "pack"]
        feeds = (np.full(3, 1.0, np.float32),)
        text = exe.as_text((pack,), (), feeds)
        # Flat arguments: the pack (donated, aliased to the written pack, the
        # call's second result) and the fed value (not donated).
        assert "%arg0: tensor<6xf32> {tf.aliasing_output = 1 : i32}" in text
        assert "%arg1: tensor<3xf32>)" in text
        fetched, written, rng = exe((pack,), (), feeds)
        assert rng is None and pack.is_deleted()
        np.testing.assert_allclose(np.asarray(fetched[0]), np.full(3, 3.0))
        np.testing.assert_allclose(np.asarray(written[0]), [3, 3, 3, 1, 1, 1])
