import re

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
