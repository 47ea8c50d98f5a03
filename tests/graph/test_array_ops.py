"""Array ops (creation, reshape, concat, slicing, gather, shapes) against NumPy."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.graph.rules import constant_value
from tests.helpers.oracle import assert_run_matches, run_graph

RNG = np.random.default_rng(0)


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def _assert_all_close(got, want):
    assert set(got) == set(want)
    for key in want:
        g, w = np.asarray(got[key]), np.asarray(want[key])
        assert g.shape == w.shape, (key, g.shape, w.shape)
        assert g.dtype == w.dtype, (key, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6, err_msg=key)


# -- creation -------------------------------------------------------------------


def test_creation_ops_match_numpy():
    x_val = RNG.normal(size=(2, 3)).astype(np.float32)

    def build(x):
        return {
            "const": tf.constant([[1, 2], [3, 4]], dtype=tf.float32),
            "const_shape": tf.constant(7, shape=[2, 2]),
            "zeros": tf.zeros([2, 3]),
            "zeros_int": tf.zeros((2,), dtype=tf.int32),
            "ones": tf.ones(np.array([3, 1])),
            "ones_tensor_shape": tf.ones(tf.shape(x), dtype=tf.int32),
            "zeros_like": tf.zeros_like(x),
            "ones_like": tf.ones_like(x, dtype=tf.int32),
            "fill": tf.fill([2, 2], 5.0),
            "range": tf.range(5),
            "range_start": tf.range(2, 11, 3),
            "range_neg": tf.range(5, 0, -2),
            "range_float": tf.range(1.0, 2.0, 0.25),
            "range_dtype": tf.range(4, dtype=tf.float32),
            "linspace": tf.linspace(0.0, 1.0, 5),
            "lin_space": tf.lin_space(-1.0, 1.0, 3),
            "eye": tf.eye(3),
            "eye_rect": tf.eye(2, 3, dtype=tf.int32),
            "eye_batch": tf.eye(2, batch_shape=[3]),
            "identity": tf.identity(x),
            "stop_gradient": tf.stop_gradient(x),
            "with_default": tf.placeholder_with_default(
                tf.constant([1.0, 2.0]), [None]
            ),
        }

    want = {
        "const": np.array([[1, 2], [3, 4]], np.float32),
        "const_shape": np.full((2, 2), 7, np.int32),
        "zeros": np.zeros((2, 3), np.float32),
        "zeros_int": np.zeros(2, np.int32),
        "ones": np.ones((3, 1), np.float32),
        "ones_tensor_shape": np.ones((2, 3), np.int32),
        "zeros_like": np.zeros_like(x_val),
        "ones_like": np.ones((2, 3), np.int32),
        "fill": np.full((2, 2), 5.0, np.float32),
        "range": np.arange(5, dtype=np.int32),
        "range_start": np.arange(2, 11, 3, dtype=np.int32),
        "range_neg": np.arange(5, 0, -2, dtype=np.int32),
        "range_float": np.arange(1.0, 2.0, 0.25, dtype=np.float32),
        "range_dtype": np.arange(4, dtype=np.float32),
        "linspace": np.linspace(0, 1, 5, dtype=np.float32),
        "lin_space": np.linspace(-1, 1, 3, dtype=np.float32),
        "eye": np.eye(3, dtype=np.float32),
        "eye_rect": np.eye(2, 3, dtype=np.int32),
        "eye_batch": np.broadcast_to(np.eye(2, dtype=np.float32), (3, 2, 2)),
        "identity": x_val,
        "stop_gradient": x_val,
        "with_default": np.array([1.0, 2.0], np.float32),
    }
    _assert_all_close(run_graph(build, x_val), want)


def test_range_dtypes_follow_tf1_rules():
    assert tf.range(3).dtype == tf.int32
    assert tf.range(1.0, 3).dtype == tf.float32
    assert tf.range(tf.constant(3, tf.int64)).dtype == tf.int64
    assert tf.range(tf.constant(0, tf.int64), 3.0).dtype == tf.float32
    assert tf.range(3, dtype=tf.float64).dtype == tf.float64
    assert tf.range(0.0, 1.0, 0.5).shape.as_list() == [2]
    with pytest.raises(ValueError, match=re.escape("Requires delta != 0")):
        tf.range(0, 5, 0)
    with (
        tf.Graph().as_default(),
        pytest.raises(
            ValueError,
            match=re.escape(
                "Requires start <= limit when delta > 0: 5/1 for 'range' (op: 'Range') "
                "with input shapes: [], [], []."
            ),
        ),
    ):
        tf.range(5, 1)


def test_range_and_zeros_with_shape_known_at_trace_time():
    x = tf.placeholder(tf.float32, [None])
    r = tf.range(tf.shape(x)[0])
    z = tf.zeros([tf.shape(x)[0], 2])
    assert r.shape.as_list() == [None]
    assert z.shape.as_list() == [None, 2]
    got = _run([r, z], {x: np.ones(4, np.float32)})
    np.testing.assert_array_equal(got[0], np.arange(4))
    np.testing.assert_array_equal(got[1], np.zeros((4, 2)))


# -- reshape, transpose, dims ---------------------------------------------------


def test_reshape_transpose_and_dims_match_numpy():
    x_val = RNG.normal(size=(2, 3, 4)).astype(np.float32)

    def build(x):
        return {
            "reshape": tf.reshape(x, [6, 4]),
            "reshape_neg": tf.reshape(x, (-1, 2)),
            "reshape_np": tf.reshape(x, np.array([4, -1])),
            "reshape_tensor": tf.reshape(x, tf.constant([3, 8])),
            "reshape_shape_of": tf.reshape(x, tf.shape(tf.zeros([4, 6]))),
            "transpose": tf.transpose(x),
            "transpose_perm": tf.transpose(x, [1, 0, 2]),
            "matrix_transpose": tf.matrix_transpose(x),
            "expand": tf.expand_dims(x, 1),
            "expand_neg": tf.expand_dims(x, -1),
            "expand_dim": tf.expand_dims(x, dim=0),
            "squeeze": tf.squeeze(tf.reshape(x, [1, 2, 1, 12])),
            "squeeze_axis": tf.squeeze(tf.reshape(x, [1, 2, 1, 12]), axis=[2]),
            "squeeze_dims": tf.squeeze(tf.reshape(x, [1, 24]), squeeze_dims=0),
            "reverse": tf.reverse(x, [0, -1]),
            "reverse_v2": tf.reverse_v2(x, axis=[1]),
            "tile": tf.tile(x, [1, 2, 1]),
            "broadcast_to": tf.broadcast_to(x[:, :1], [5, 2, 3, 4]),
        }

    want = {
        "reshape": x_val.reshape(6, 4),
        "reshape_neg": x_val.reshape(-1, 2),
        "reshape_np": x_val.reshape(4, -1),
        "reshape_tensor": x_val.reshape(3, 8),
        "reshape_shape_of": x_val.reshape(4, 6),
        "transpose": x_val.T,
        "transpose_perm": x_val.transpose(1, 0, 2),
        "matrix_transpose": np.swapaxes(x_val, -1, -2),
        "expand": x_val[:, None],
        "expand_neg": x_val[..., None],
        "expand_dim": x_val[None],
        "squeeze": x_val.reshape(2, 12),
        "squeeze_axis": x_val.reshape(1, 2, 12),
        "squeeze_dims": x_val.reshape(24),
        "reverse": x_val[::-1, :, ::-1],
        "reverse_v2": x_val[:, ::-1],
        "tile": np.tile(x_val, (1, 2, 1)),
        "broadcast_to": np.broadcast_to(x_val[:, :1], (5, 2, 3, 4)),
    }
    _assert_all_close(run_graph(build, x_val), want)


def test_shape_driven_reshape_under_a_fed_batch_dim():
    x = tf.placeholder(tf.float32, [None, 4, 5])
    flat = tf.reshape(x, [tf.shape(x)[0], -1])
    back = tf.reshape(flat, tf.shape(x))
    pairs = tf.reshape(x, tf.stack([tf.shape(x)[0] * 2, 10]))
    assert flat.shape.as_list() == [None, 20]
    assert back.shape.as_list() == [None, 4, 5]
    assert pairs.shape.as_list() == [None, 10]
    with tf.Session() as sess:
        for batch in (2, 5):
            x_val = RNG.normal(size=(batch, 4, 5)).astype(np.float32)
            got = sess.run([flat, back, pairs], {x: x_val})
            np.testing.assert_array_equal(got[0], x_val.reshape(batch, 20))
            np.testing.assert_array_equal(got[1], x_val)
            np.testing.assert_array_equal(got[2], x_val.reshape(batch * 2, 10))


def test_static_shapes_with_unknown_dims():
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.float32, [None, 3])
    z = tf.placeholder(tf.float32, [None, 5])
    u = tf.placeholder(tf.float32)
    cases = {
        "reshape_neg": (tf.reshape(x, [-1, 2]), [None, 2]),
        "reshape_full": (tf.reshape(x, [2, 2, -1]), [2, 2, None]),
        "concat_1": (tf.concat([y, z], 1), [None, 8]),
        "concat_0": (tf.concat([y, tf.zeros([2, 3])], 0), [None, 3]),
        "concat_merge": (tf.concat([y, tf.zeros([2, 5])], 1), [2, 8]),
        "stack": (tf.stack([y, y], axis=1), [None, 2, 3]),
        "stack_merge": (tf.stack([y, tf.zeros([2, 3])]), [2, 2, 3]),
        "transpose": (tf.transpose(x), [4, None]),
        "expand": (tf.expand_dims(x, 0), [1, None, 4]),
        "tile": (tf.tile(x, [2, 3]), [None, 12]),
        "pad": (tf.pad(x, [[1, 1], [2, 0]]), [None, 6]),
        "slice": (tf.slice(x, [0, 1], [-1, 2]), [None, 2]),
        "slice_sized": (tf.slice(x, [1, 0], [3, -1]), [3, 4]),
        "split": (tf.split(x, 2, axis=1)[0], [None, 2]),
        "split_rows": (tf.split(x, [1, -1])[1], [None, 4]),
        "gather": (tf.gather(x, [0, 2], axis=1), [None, 2]),
        "one_hot": (tf.one_hot(tf.placeholder(tf.int32, [None]), 3), [None, 3]),
        "getitem": (x[1:, ::2], [None, 2]),
        "getitem_int": (x[0], [4]),
        "getitem_full": (x[:, tf.newaxis], [None, 1, 4]),
        "squeeze_all": (tf.squeeze(x), None),
        "squeeze_axis": (tf.squeeze(tf.expand_dims(x, 1), [1]), [None, 4]),
        "shape": (tf.shape(u), [None]),
        "broadcast": (
            tf.broadcast_to(tf.placeholder(tf.float32, [None, 1]), [3, 4]),
            [3, 4],
        ),
        "zeros_like": (tf.zeros_like(x), [None, 4]),
        "sequence_mask": (
            tf.sequence_mask(tf.placeholder(tf.int32, [None])),
            [None, None],
        ),
    }
    for key, (tensor, want) in cases.items():
        got = None if tensor.shape.ndims is None else tensor.shape.as_list()
        assert got == want, key


# -- concat, stack, split -------------------------------------------------------


def test_concat_stack_split_match_numpy():
    a_val = RNG.normal(size=(2, 3)).astype(np.float32)
    b_val = RNG.normal(size=(2, 3)).astype(np.float32)
    c_val = np.arange(10, dtype=np.float32)

    def build(a, b, c):
        return {
            "concat0": tf.concat([a, b], 0),
            "concat_neg": tf.concat([a, b, a], -1),
            "concat_one": tf.concat([a], 1),
            "stack": tf.stack([a, b]),
            "stack_axis": tf.stack([a, b], axis=-1),
            "stack_python": tf.stack([1.0, c[0]]),
            "packed": tf.convert_to_tensor([[c[0], 2.0]]),
            "unstack": tf.unstack(a, axis=1),
            "unstack_num": tf.unstack(b, num=2),
            "split": tf.split(c, 5),
            "split_sizes": tf.split(c, [2, 3, 5]),
            "split_rest": tf.split(c, [4, -1]),
            "split_axis": tf.split(a, 3, axis=1),
        }

    want = {
        "concat0": np.concatenate([a_val, b_val], 0),
        "concat_neg": np.concatenate([a_val, b_val, a_val], -1),
        "concat_one": a_val,
        "stack": np.stack([a_val, b_val]),
        "stack_axis": np.stack([a_val, b_val], axis=-1),
        "stack_python": np.array([1.0, 0.0], np.float32),
        "packed": np.array([[0.0, 2.0]], np.float32),
        "unstack": list(np.moveaxis(a_val, 1, 0)),
        "unstack_num": list(b_val),
        "split": np.split(c_val, 5),
        "split_sizes": np.split(c_val, [2, 5]),
        "split_rest": np.split(c_val, [4]),
        "split_axis": np.split(a_val, 3, axis=1),
    }
    got = run_graph(build, a_val, b_val, c_val)
    for key in (
        "unstack",
        "unstack_num",
        "split",
        "split_sizes",
        "split_rest",
        "split_axis",
    ):
        assert len(got[key]) == len(want[key]), key
        for g, w in zip(got[key], want[key]):
            np.testing.assert_array_equal(g, w, err_msg=key)
        del got[key], want[key]
    _assert_all_close(got, want)


# -- slicing, gather, pad, one_hot, masks ---------------------------------------


def test_slice_gather_pad_one_hot_match_numpy():
    x_val = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    idx = np.array([[0, 2], [1, 1], [2, 0]], np.int32)

    def build(x):
        labels = tf.constant([0, 2, -1, 1])
        return {
            "slice": tf.slice(x, [1, 0, 2], [2, -1, 2]),
            "slice_tensor": tf.slice(x, tf.constant([0, 1, 0]), [-1, 2, -1]),
            "gather": tf.gather(x, [2, 0]),
            "gather_axis": tf.gather(x, [[1, 3]], axis=1),
            "gather_batch": tf.gather(x, idx, axis=1, batch_dims=1),
            "gather_nd": tf.gather_nd(x, [[0, 1], [2, 3]]),
            "gather_nd_full": tf.gather_nd(x, [[0, 1, 2]]),
            "gather_nd_batch": tf.gather_nd(x, idx[:, :1], batch_dims=1),
            "one_hot": tf.one_hot(labels, 3),
            "one_hot_axis": tf.one_hot(labels, 3, axis=0),
            "one_hot_values": tf.one_hot(labels, 3, on_value=5, off_value=-1),
            "one_hot_dtype": tf.one_hot(labels, 3, dtype=tf.int32),
            "pad": tf.pad(x, [[1, 0], [0, 2], [0, 0]]),
            "pad_value": tf.pad(x, [[0, 0], [1, 1], [0, 0]], constant_values=3.0),
            "pad_reflect": tf.pad(x, [[1, 1], [2, 0], [0, 0]], mode="REFLECT"),
            "pad_symmetric": tf.pad(x, [[0, 0], [2, 2], [1, 0]], mode="symmetric"),
            "where_v2": tf.where_v2(
                tf.constant([True, False, True, False])[:3, None, None], x, 7.0
            ),
            "where_v2_coords": tf.where_v2(tf.constant([[True, False], [False, True]])),
            "meshgrid": tf.meshgrid(tf.range(3), tf.range(2)),
            "meshgrid_ij": tf.meshgrid(tf.range(3), tf.range(2), indexing="ij"),
        }

    eye = np.eye(3, dtype=np.float32)
    labels = [0, 2, -1, 1]
    oh = np.stack([eye[i] if i >= 0 else np.zeros(3, np.float32) for i in labels])
    want = {
        "slice": x_val[1:3, :, 2:4],
        "slice_tensor": x_val[:, 1:3, :],
        "gather": x_val[[2, 0]],
        "gather_axis": x_val[:, [[1, 3]]],
        "gather_batch": np.stack([x_val[b][idx[b]] for b in range(3)]),
        "gather_nd": np.stack([x_val[0, 1], x_val[2, 3]]),
        "gather_nd_full": np.array([x_val[0, 1, 2]]),
        "gather_nd_batch": np.stack([x_val[b][idx[b, 0]] for b in range(3)]),
        "one_hot": oh,
        "one_hot_axis": oh.T,
        "one_hot_values": np.where(oh > 0, 5, -1).astype(np.int32),
        "one_hot_dtype": oh.astype(np.int32),
        "pad": np.pad(x_val, [[1, 0], [0, 2], [0, 0]]),
        "pad_value": np.pad(x_val, [[0, 0], [1, 1], [0, 0]], constant_values=3.0),
        "pad_reflect": np.pad(x_val, [[1, 1], [2, 0], [0, 0]], mode="reflect"),
        "pad_symmetric": np.pad(x_val, [[0, 0], [2, 2], [1, 0]], mode="symmetric"),
        "where_v2": np.where(np.array([True, False, True])[:, None, None], x_val, 7.0),
        "where_v2_coords": np.array([[0, 0], [1, 1]], np.int64),
        "meshgrid": list(np.meshgrid(np.arange(3), np.arange(2))),
        "meshgrid_ij": list(np.meshgrid(np.arange(3), np.arange(2), indexing="ij")),
    }
    got = run_graph(build, x_val)
    for key in ("meshgrid", "meshgrid_ij"):
        for g, w in zip(got.pop(key), want.pop(key)):
            np.testing.assert_array_equal(g, w.astype(np.int32), err_msg=key)
    _assert_all_close(got, want)


def test_boolean_and_sequence_masks_known_at_build_or_trace_time():
    x = tf.placeholder(tf.float32, [None, 3])
    x_val = RNG.normal(size=(4, 3)).astype(np.float32)
    mask = np.array([True, False, True, True])
    lengths = np.array([1, 3, 0])
    # A mask computed from tf.shape: unknown while building, NumPy when traced.
    traced_mask = tf.sequence_mask([2], maxlen=tf.shape(x)[0])[0]
    fetches = {
        "const_mask": tf.boolean_mask(x, mask),
        "mask_axis": tf.boolean_mask(x, [True, False, True], axis=1),
        "mask_2d": tf.boolean_mask(
            tf.reshape(x, [2, 2, 3]), [[True, False], [True, True]]
        ),
        "traced_mask": tf.boolean_mask(x, traced_mask),
        "seq": tf.sequence_mask(lengths),
        "seq_maxlen": tf.sequence_mask(lengths, maxlen=4, dtype=tf.float32),
        "seq_fed": tf.sequence_mask(tf.placeholder_with_default(lengths, [3]), 2),
    }
    assert fetches["const_mask"].shape.as_list() == [3, 3]
    assert fetches["traced_mask"].shape.as_list() == [None, 3]
    assert fetches["seq"].shape.as_list() == [3, 3]
    got = _run(fetches, {x: x_val})
    want = {
        "const_mask": x_val[mask],
        "mask_axis": x_val[:, [0, 2]],
        "mask_2d": x_val.reshape(2, 2, 3)[np.array([[True, False], [True, True]])],
        "traced_mask": x_val[:2],
        "seq": np.arange(3) < lengths[:, None],
        "seq_maxlen": (np.arange(4) < lengths[:, None]).astype(np.float32),
        "seq_fed": np.arange(2) < lengths[:, None],
    }
    _assert_all_close(got, want)


def test_data_dependent_sizes_on_device_values_raise_unimplemented():
    x = tf.placeholder(tf.float32, [None])
    m = tf.placeholder(tf.bool, [None])
    lens = tf.placeholder(tf.int32, [2])
    masked = tf.boolean_mask(x, m)
    assert masked.shape.as_list() == [None]
    feed = {x: np.ones(3, np.float32), m: np.array([True, False, True]), lens: [1, 2]}
    with tf.Session() as sess:
        with pytest.raises(tf.errors.UnimplementedError) as info:
            sess.run(masked, feed)
        assert str(info.value).startswith(
            "boolean_mask: the output size depends on the values of the mask"
        )
        assert "tf.where(mask, x, tf.zeros_like(x))" in str(info.value)
        with pytest.raises(
            tf.errors.UnimplementedError,
            match=re.escape(
                "SequenceMask: the output size depends on the values of lengths"
            ),
        ):
            sess.run(tf.sequence_mask(lens), feed)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"Reshape.*the shape argument must be known when the graph is traced",
        ):
            sess.run(tf.reshape(x, tf.stack([lens[0], -1])), feed)


# -- shapes ---------------------------------------------------------------------


def test_shape_size_rank_are_static_and_known_when_possible():
    x = tf.placeholder(tf.float32, [None, 3])
    v = tf.Variable(tf.zeros([2, 5]))
    known = tf.shape(v)
    assert known.shape.as_list() == [2]
    np.testing.assert_array_equal(constant_value(known), [2, 5])
    np.testing.assert_array_equal(constant_value(tf.size(v)), 10)
    np.testing.assert_array_equal(constant_value(tf.rank(x)), 2)
    assert constant_value(tf.shape(x)) is None
    assert tf.shape(x, out_type=tf.int64).dtype == tf.int64
    fetches = {
        "shape": tf.shape(x),
        "shape64": tf.shape(x, out_type=tf.int64),
        "size": tf.size(x),
        "rank": tf.rank(x),
        "shape_n": tf.shape_n([x, v]),
        "dim_arith": tf.shape(x)[0] * 2 + 1,
    }
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(fetches, {x: np.zeros((4, 3), np.float32)})
    assert got["shape"].dtype == np.int32 and got["shape64"].dtype == np.int64
    np.testing.assert_array_equal(got["shape"], [4, 3])
    np.testing.assert_array_equal(got["shape64"], [4, 3])
    assert got["size"] == 12 and got["rank"] == 2 and got["dim_arith"] == 9
    np.testing.assert_array_equal(got["shape_n"][0], [4, 3])
    np.testing.assert_array_equal(got["shape_n"][1], [2, 5])


# -- __getitem__ ----------------------------------------------------------------


def test_getitem_forms_match_numpy():
    x_val = RNG.normal(size=(4, 5, 6)).astype(np.float32)
    keys = [
        1,
        -1,
        (1, 2),
        (-2, -1, 0),
        np.int64(2),
        slice(1, 3),
        slice(None, None, 2),
        slice(None, None, -1),
        slice(-1, 0, -2),
        (slice(None), 2),
        (Ellipsis, 1),
        (0, Ellipsis, slice(None, 3)),
        (None, 1),
        (slice(None), tf.newaxis, slice(1, None), None),
        (Ellipsis, None),
        (slice(10, None),),
        (slice(-100, 100),),
    ]

    def build(x):
        out = {f"k{i}": x[key] for i, key in enumerate(keys)}
        i = tf.constant(2)
        j = tf.placeholder_with_default(np.int32(-1), [])
        out["tensor_index"] = x[i, j]
        out["tensor_bounds"] = x[:, i:]
        out["shape_bound"] = x[: tf.shape(x)[0] - 1]
        out["strided_slice"] = tf.strided_slice(x, [0, 1, 0], [4, 5, 6], [2, 1, 3])
        out["strided_masks"] = tf.strided_slice(
            x,
            [1, 0, 2],
            [0, 0, 0],
            [1, 1, -1],
            begin_mask=2,
            end_mask=6,
            shrink_axis_mask=1,
        )
        return out

    want = {f"k{i}": x_val[key] for i, key in enumerate(keys)}
    want["tensor_index"] = x_val[2, -1]
    want["tensor_bounds"] = x_val[:, 2:]
    want["shape_bound"] = x_val[:3]
    want["strided_slice"] = x_val[0:4:2, 1:5, 0:6:3]
    want["strided_masks"] = x_val[1, :, 2::-1]
    got = run_graph(build, x_val)
    _assert_all_close(got, want)


def test_getitem_on_variables_and_fed_tensor_indices():
    v = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4))
    i = tf.placeholder(tf.int32, [])
    x = tf.placeholder(tf.float32, [None, 4])
    fetches = [v[1], v[:, -1], v[i], x[i, 1:3], x[-1]]
    assert fetches[2].shape.as_list() == [4]
    assert fetches[3].shape.as_list() == [2]
    assert fetches[0].op.type == "StridedSlice"
    x_val = RNG.normal(size=(5, 4)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(fetches, {i: 2, x: x_val})
    v_val = np.arange(12, dtype=np.float32).reshape(3, 4)
    for g, w in zip(got, [v_val[1], v_val[:, -1], v_val[2], x_val[2, 1:3], x_val[-1]]):
        np.testing.assert_array_equal(g, w)
    assert [t for t in tf.constant([1, 2, 3])][2].shape.as_list() == []


def test_getitem_errors():
    x = tf.placeholder(tf.float32, [3, 4])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "slice index 3 of dimension 0 out of bounds for 'strided_slice' "
            "(op: 'StridedSlice') with input shapes: [3,4]."
        ),
    ):
        x[3]
    with pytest.raises(
        ValueError, match=re.escape("slice index -5 of dimension 1 out of bounds")
    ):
        x[0, -5]
    with pytest.raises(
        ValueError, match=re.escape("slice index 9 of dimension 1 out of bounds")
    ):
        x[..., tf.constant(9)]
    with pytest.raises(
        ValueError,
        match=re.escape("Index out of range using input dim 2; input has only 2 dims"),
    ):
        x[0, 1, 2]
    with pytest.raises(
        ValueError, match=re.escape("Multiple ellipses in slice spec not allowed")
    ):
        x[..., ...]
    with pytest.raises(
        TypeError, match=re.escape("Only integers, slices (`:`), ellipsis")
    ):
        x[1.5]
    with pytest.raises(
        TypeError, match=re.escape("Only integers, slices (`:`), ellipsis")
    ):
        x[tf.constant([0, 1])]
    with pytest.raises(ValueError, match=re.escape("slice step cannot be zero")):
        x[::0]


# -- build-time errors ----------------------------------------------------------


def test_shape_errors_name_the_op_and_shapes():
    a = tf.placeholder(tf.float32, [2, 3])
    b = tf.placeholder(tf.float32, [4, 5])
    cases = [
        (
            lambda: tf.reshape(a, [4, 2]),
            "Cannot reshape a tensor with 6 elements to shape [4, 2] (8 elements) for "
            "'Reshape' (op: 'Reshape') with input shapes: [2,3], [2].",
        ),
        (
            lambda: tf.reshape(a, [4, -1]),
            "Cannot reshape a tensor with 6 elements to shape [4, -1]",
        ),
        (
            lambda: tf.reshape(a, [-1, -1]),
            "Cannot infer multiple unknown dimensions in shape [-1, -1]",
        ),
        (
            lambda: tf.concat([a, b], 1),
            "Dimension 0 in both shapes must be equal, but are 2 and 4. Shapes are [2,3] "
            "and [4,5] for 'concat' (op: 'ConcatV2') with input shapes: [2,3], [4,5].",
        ),
        (
            lambda: tf.concat([a, tf.zeros([3])], 0),
            "Shapes must be equal rank, but are 2 and 1 for 'concat' (op: 'ConcatV2')",
        ),
        (
            lambda: tf.concat([a, a], 2),
            "ConcatOp : Expected concatenating dimensions in the range [-2, 2), but got 2 "
            "for 'concat' (op: 'ConcatV2') with input shapes: [2,3], [2,3].",
        ),
        (
            lambda: tf.stack([a, b]),
            "Dimension 0 in both shapes must be equal, but are 2 and 4. Shapes are [2,3] "
            "and [4,5] for 'stack' (op: 'Pack')",
        ),
        (
            lambda: tf.stack([a, a], axis=3),
            "Argument 'axis' = 3 not in range [-3, 3) for 'stack' (op: 'Pack')",
        ),
        (
            lambda: tf.expand_dims(a, 3),
            "Tried to expand dim index 3 for tensor with 2 dimensions for 'ExpandDims'",
        ),
        (
            lambda: tf.squeeze(a, [1]),
            "Can not squeeze dim[1], expected a dimension of 1, got 3 for 'Squeeze'",
        ),
        (
            lambda: tf.transpose(a, [0, 0]),
            "perm [0, 0] is not a permutation of the 2 dims for 'transpose'",
        ),
        (
            lambda: tf.gather(a, [0], axis=2),
            "axis 2 is out of range for a tensor of rank 2: expected an axis in [-2, 2) "
            "for 'GatherV2' (op: 'GatherV2') with input shapes: [2,3], [1].",
        ),
        (
            lambda: tf.split(a, 2, axis=1),
            "Dimension size must be evenly divisible by 2 but is 3 for 'split' (op: 'Split')",
        ),
        (
            lambda: tf.split(a, [1, 1], axis=1),
            "Determined shape must either match input shape along split_dim exactly",
        ),
        (
            lambda: tf.tile(a, [2]),
            "Expected multiples argument to be a vector of length 2 but got length 1 for "
            "'Tile' (op: 'Tile')",
        ),
        (
            lambda: tf.slice(a, [1, 0], [2, -1]),
            "Expected size[0] in [0, 1], but got 2 for 'Slice' (op: 'Slice')",
        ),
        (
            lambda: tf.pad(a, [[3, 0], [0, 0]], mode="REFLECT"),
            "paddings must be less than the dimension size: 3, 0 not less than 2",
        ),
        (
            lambda: tf.broadcast_to(a, [4, 3]),
            "Incompatible shapes: (2, 3) cannot broadcast to [4, 3] for 'BroadcastTo'",
        ),
        (
            lambda: tf.boolean_mask(a, [True, False, True]),
            "Shapes (2,) and (3,) are incompatible for 'boolean_mask' (op: 'BooleanMask')",
        ),
        (
            lambda: tf.unstack(tf.placeholder(tf.float32, [None, 2])),
            "Cannot infer num from shape (?, 2)",
        ),
        (
            lambda: tf.expand_dims(a, axis=0, dim=0),
            "Exactly one of 'axis' and 'dim' must be given",
        ),
        (
            lambda: tf.pad(a, [[0, 0], [0, 0]], mode="WRAP"),
            "Unknown padding mode: WRAP",
        ),
    ]
    for build, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            build()


def test_value_arguments_must_be_constant_where_tf1_needs_static_values():
    x = tf.placeholder(tf.float32, [2, 3])
    n = tf.placeholder(tf.int32, [])
    with pytest.raises(
        TypeError, match=re.escape("the axis argument must be a constant")
    ):
        tf.concat([x, x], n)
    with pytest.raises(
        TypeError, match=re.escape("the perm argument must be a constant")
    ):
        tf.transpose(x, tf.stack([n, 0]))


def test_op_types_and_names_follow_tf1():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    ops = {
        "Reshape": tf.reshape(x, [3, 2]),
        "ConcatV2": tf.concat([x, x], 0),
        "Pack": tf.stack([x, x]),
        "Transpose": tf.transpose(x),
        "GatherV2": tf.gather(x, [0]),
        "Tile": tf.tile(x, [1, 2]),
        "Shape": tf.shape(x),
        "StridedSlice": x[0],
        "StopGradient": tf.stop_gradient(x),
    }
    for op_type, tensor in ops.items():
        assert tensor.op.type == op_type
    assert ops["Reshape"].op.name == "Reshape"
    assert ops["Reshape"].op.inputs[1].op.name == "Reshape/shape"
    assert ops["StridedSlice"].op.name == "strided_slice"
    assert ops["StridedSlice"].op.get_attr("spec") == (("int", 0),)
    assert tf.reshape(x, [6]).op.name == "Reshape_1"


def test_chained_array_ops_match_numpy():
    def build(x):
        return tf.reshape(tf.transpose(x), [-1])[1:] * tf.stop_gradient(x[0, 0])

    x_val = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    assert_run_matches(build, lambda x: x.T.reshape(-1)[1:] * x[0, 0], x_val)


# -- TF1 static shapes, dtypes, errors and names (TF 2.21 oracle) --------------


def test_transpose_of_unknown_rank_takes_its_rank_from_perm():
    x = tf.placeholder(tf.float32)
    y = tf.transpose(x, perm=[1, 0])
    assert y.shape.as_list() == [None, None]
    assert tf.transpose(x).shape.ndims is None
    assert tf.transpose(tf.placeholder(tf.float32), perm=[2, 0, 1]).shape.ndims == 3
    got = _run(y, {x: np.arange(6, dtype=np.float32).reshape(2, 3)})
    np.testing.assert_array_equal(got, np.arange(6).reshape(2, 3).T)


def test_concat_and_stack_of_mixed_dtypes_raise_type_error():
    x = tf.placeholder(tf.float32, [None, 3])
    i = tf.placeholder(tf.int32, [None, 3])
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Tensors in list passed to 'values' of 'ConcatV2' Op have types "
            "[float32, int32] that don't all match."
        ),
    ):
        tf.concat([x, i], 0)
    with pytest.raises(TypeError, match="'Pack' Op have types \\[float32, int32\\]"):
        tf.stack([x, i])


def test_one_hot_honours_dtype_with_int64_indices():
    idx = tf.placeholder(tf.int64, [2])
    hot = tf.one_hot(idx, 3, dtype=tf.int32)
    assert hot.dtype == tf.int32 and hot.shape.as_list() == [2, 3]
    assert tf.one_hot(idx, 3, dtype=tf.float64).dtype == tf.float64
    got = _run(hot, {idx: np.array([2, 0], np.int64)})
    np.testing.assert_array_equal(got, [[0, 0, 1], [1, 0, 0]])


def test_constant_infers_int64_for_ints_beyond_int32():
    assert tf.constant(2**40).dtype == tf.int64
    assert tf.constant(-(2**40)).dtype == tf.int64
    assert tf.constant([1, 2**31]).dtype == tf.int64
    assert tf.constant(5).dtype == tf.int32
    assert constant_value(tf.constant(2**40)) == 2**40


def test_zeros_like_and_ones_like_default_names():
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.zeros_like(x).name == "zeros_like:0"
    assert tf.ones_like(x).name == "ones_like:0"
    assert tf.zeros_like(x, dtype=tf.int32).name == "zeros_like_1:0"
    assert tf.ones_like(x).op.type == "OnesLike"


def test_shape_of_other_tensor_keeps_its_known_dims():
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.zeros(tf.shape(x)).shape.as_list() == [None, 3]
    assert tf.fill(tf.shape(x), 1.0).shape.as_list() == [None, 3]


def test_reverse_sequence_with_too_long_lengths_fails_the_run_and_changes_nothing():
    # TF1: "seq_lens(0) > input.dims(1)", an InvalidArgumentError at run time.
    w = tf.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], name="w")
    lengths = tf.placeholder(tf.int32, [None], name="lengths")
    backward = tf.reverse_sequence(w, lengths, seq_axis=1, batch_axis=0)
    loss = tf.reduce_sum(backward * [0.0, 1.0, 2.0])
    train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape("seq_lens(0) > input.dims(1)"),
        ):
            sess.run([train, loss], {lengths: [4, 1]})
        np.testing.assert_array_equal(sess.run(w), [[1, 2, 3], [4, 5, 6]])
        sess.run(train, {lengths: [3, 2]})
        # Gradient [0, 1, 2] flows back reversed over each row's first steps.
        np.testing.assert_array_equal(sess.run(w), [[-1, 1, 3], [3, 5, 4]])
