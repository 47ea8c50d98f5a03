import re

import jax
import numpy as np
import pytest

import jaxsession as tf


def _values(ds):
    return [
        tuple(np.asarray(x).tolist() for x in e)
        if isinstance(e, tuple)
        else np.asarray(e).tolist()
        for e in ds
    ]


def test_from_tensor_slices_batch_repeat_take_skip():
    x = np.arange(10, dtype=np.float32)
    y = np.arange(10, dtype=np.int32) * 2
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    assert ds.output_types == (tf.float32, tf.int32)
    assert [s.as_list() for s in ds.output_shapes] == [[], []]
    batched = ds.batch(4)
    assert [s.as_list() for s in batched.output_shapes] == [[None], [None]]
    assert [s.as_list() for s in ds.batch(4, drop_remainder=True).output_shapes] == [
        [4],
        [4],
    ]
    got = _values(batched)
    assert got == [
        ([0, 1, 2, 3], [0, 2, 4, 6]),
        ([4, 5, 6, 7], [8, 10, 12, 14]),
        ([8, 9], [16, 18]),
    ]
    assert len(_values(ds.batch(4, drop_remainder=True))) == 2
    assert [e[0] for e in _values(ds.repeat(2))] == list(range(10)) * 2
    assert [e[0] for e in _values(ds.skip(3).take(2))] == [3, 4]
    assert _values(tf.data.Dataset.range(2, 8, 3)) == [2, 5]


def test_map_numpy_function_and_dict_elements():
    ds = tf.data.Dataset.from_tensor_slices({"a": np.arange(4, dtype=np.float32)})
    mapped = ds.map(lambda e: {"a": e["a"] * 2.0, "b": np.int32(1)})
    assert mapped.output_types == {"a": tf.float32, "b": tf.int32}
    assert [(e["a"].item(), int(e["b"])) for e in mapped] == [
        (0.0, 1),
        (2.0, 1),
        (4.0, 1),
        (6.0, 1),
    ]


def test_map_tf1_style_graph_function_runs_on_host():
    ds = tf.data.Dataset.from_tensor_slices(
        np.arange(6, dtype=np.float32).reshape(3, 2)
    )
    mapped = ds.map(
        lambda v: tf.matmul(tf.reshape(v, [1, 2]), tf.constant([[1.0], [10.0]]))
    )
    assert mapped.output_shapes.as_list() == [1, 1]
    assert [float(e.ravel()[0]) for e in mapped] == [10.0, 32.0, 54.0]


def test_shuffle_is_reproducible_with_seed_and_a_permutation():
    ds = tf.data.Dataset.range(20).shuffle(5, seed=7)
    first = _values(ds)
    assert sorted(first) == list(range(20)) and first != list(range(20))
    again = _values(tf.data.Dataset.range(20).shuffle(5, seed=7))
    assert again == first


def _two_initializations(ds):
    """The batches of two passes of ``ds``'s iterator, initialized twice in one session."""
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        passes = []
        for _ in range(2):
            sess.run(it.initializer)
            passes.append(sess.run(nxt).tolist())
    return passes


@pytest.mark.parametrize("source", ["range", "slices", "generator"])
def test_a_seeded_shuffle_starts_over_when_its_iterator_is_initialized_again(source):
    # TF1 (tensorflow.compat.v1 2.21, graph mode): shuffle(6, seed=3).repeat(2)
    # gives [0 1 2 3 4 5 0 4 1 5 3 2] after each initialization: the same
    # sequence again, whose two epochs differ. Without a seed each differs.
    # (Our permutations are NumPy's, not TF's Philox: only the rule matches.)
    make = {
        "range": lambda: tf.data.Dataset.range(6),
        "slices": lambda: tf.data.Dataset.from_tensor_slices(np.arange(6)),
        "generator": lambda: tf.data.Dataset.from_generator(
            lambda: iter(range(6)), tf.int64, tf.TensorShape([])
        ),
    }[source]
    first, second = _two_initializations(make().shuffle(6, seed=3).repeat(2).batch(12))
    assert first == second
    assert sorted(first[:6]) == sorted(first[6:]) == list(range(6))
    assert first[:6] != first[6:]
    tf.set_random_seed(11)
    first, second = _two_initializations(make().shuffle(6).batch(6))
    assert first == second
    tf.reset_default_graph()
    unseeded = make().repeat(3).shuffle(18).batch(18)
    first, second = _two_initializations(unseeded)
    assert sorted(first) == sorted(second) == sorted(list(range(6)) * 3)
    assert first != second


def test_from_generator_checks_elements():
    def gen():
        yield np.ones(2, np.float32)
        yield np.ones(3, np.float32)

    ds = tf.data.Dataset.from_generator(gen, tf.float32, tf.TensorShape([2]))
    it = iter(ds)
    np.testing.assert_array_equal(next(it), [1.0, 1.0])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "generator yielded an element of shape (3,) where an element of shape (2,) was expected."
        ),
    ):
        next(it)


def test_zip_filter_concatenate_enumerate_unbatch():
    a = tf.data.Dataset.range(3)
    b = tf.data.Dataset.from_tensor_slices(np.array([10, 20, 30], np.int32))
    assert _values(tf.data.Dataset.zip((a, b))) == [(0, 10), (1, 20), (2, 30)]
    assert _values(a.filter(lambda v: v % 2 == 0)) == [0, 2]
    assert _values(a.concatenate(a)) == [0, 1, 2, 0, 1, 2]
    assert _values(b.enumerate()) == [(0, 10), (1, 20), (2, 30)]
    assert _values(b.batch(2).unbatch()) == [10, 20, 30]


def test_from_tensor_slices_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="must all match"):
        tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))


# -- batches cut by indexing vs the element-by-element path --------------------


def _structures():
    n = 23
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int32) * 2
    names = np.array([f"e{i}".encode() for i in range(n)], dtype=object)
    return {
        "array": x,
        "tuple": (x, y),
        "nested_dict": {"a": y, "b": (x, names)},
    }


def _element_path(structure):
    """The same elements from a generator: batched element by element."""
    leaves, treedef = jax.tree_util.tree_flatten(structure)
    elements = [
        treedef.unflatten([leaf[i] for leaf in leaves]) for i in range(len(leaves[0]))
    ]
    types = treedef.unflatten(
        [
            tf.string if leaf.dtype == object else tf.as_dtype(leaf.dtype)
            for leaf in leaves
        ]
    )
    shapes = treedef.unflatten([tf.TensorShape(leaf.shape[1:]) for leaf in leaves])
    return tf.data.Dataset.from_generator(elements, types, shapes)


_PIPELINES = {
    "batch_not_dividing": lambda d: d.batch(5),
    "batch_larger_than_data": lambda d: d.batch(40),
    "drop_remainder": lambda d: d.batch(5, drop_remainder=True),
    "repeat_n_spans_epochs": lambda d: d.repeat(3).batch(7),
    "repeat_n_drop_remainder": lambda d: d.repeat(2).batch(7, drop_remainder=True),
    "repeat_forever": lambda d: d.repeat().batch(7).take(15),
    "shuffle_seed": lambda d: d.shuffle(6, seed=3).batch(4),
    "shuffle_reshuffles_each_epoch": lambda d: d.shuffle(6, seed=3).repeat(3).batch(4),
    "shuffle_same_each_epoch": lambda d: (
        d.shuffle(6, seed=3, reshuffle_each_iteration=False).repeat(2).batch(4)
    ),
    "repeat_then_shuffle": lambda d: d.repeat(3).shuffle(50, seed=1).batch(9),
    "shuffle_buffer_beyond_data": lambda d: d.shuffle(100, seed=1).batch(9),
    "shuffle_buffer_of_one": lambda d: d.shuffle(1, seed=1).batch(9),
    "skip_take_before_batch": lambda d: d.skip(3).take(11).batch(4),
    "take_repeat_drop_remainder": lambda d: d.take(5).repeat(3).batch(4, True),
    "skip_all": lambda d: d.skip(-1).batch(4),
    "skip_past_the_end": lambda d: d.skip(30).batch(4),
    "take_none_forever": lambda d: d.take(0).repeat().batch(4),
    "mixed": lambda d: d.repeat().skip(20).take(30).shuffle(7, seed=2).batch(6),
    "prefetch_after_batch": lambda d: d.repeat(2).batch(8).prefetch(2),
}


def _leaves(ds):
    return [jax.tree_util.tree_leaves(e) for e in ds]


@pytest.mark.parametrize("structure", ["array", "tuple", "nested_dict"])
@pytest.mark.parametrize("pipeline", sorted(_PIPELINES))
def test_indexed_batches_equal_element_by_element_batches(structure, pipeline):
    data = _structures()[structure]
    build = _PIPELINES[pipeline]
    fast = build(tf.data.Dataset.from_tensor_slices(data))
    slow = build(_element_path(data))
    assert fast.output_types == slow.output_types
    got, want = _leaves(fast), _leaves(slow)
    assert len(got) == len(want)
    for got_leaves, want_leaves in zip(got, want):
        for g, w in zip(got_leaves, want_leaves, strict=True):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)


def test_indexed_batches_keep_the_shuffle_order_of_earlier_versions():
    # Pinned from the element-by-element implementation: the same seed gives
    # the same batches whichever path cuts them.
    ds = tf.data.Dataset.from_tensor_slices(np.arange(10, dtype=np.int64))
    got = [b.tolist() for b in ds.shuffle(4, seed=5).batch(3)]
    want = [b.tolist() for b in tf.data.Dataset.range(10).shuffle(4, seed=5).batch(3)]
    assert got == want
    flat = [v for b in got for v in b]
    assert sorted(flat) == list(range(10)) and flat != list(range(10))


def test_only_sliceable_pipelines_are_batched_by_indexing():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(8, dtype=np.float32))
    sliced = ds.repeat().shuffle(4, seed=1).skip(1).take(5).batch(2).prefetch(1)
    assert sliced._batches is not None
    assert ds.map(lambda v: v * 2.0).batch(2)._batches is None
    assert ds.filter(lambda v: v > 1.0).batch(2)._batches is None
    mapped_after = ds.batch(3).map(lambda v: v * 2.0)
    assert [b.tolist() for b in mapped_after] == [[0, 2, 4], [6, 8, 10], [12, 14]]


def test_indexed_batches_of_a_placeholder_source_check_lengths():
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
    producer = ds._producer({x: np.zeros(3, np.float32), y: np.zeros(4, np.float32)})
    with pytest.raises(
        ValueError, match="from_tensor_slices components have different lengths"
    ):
        next(producer)
