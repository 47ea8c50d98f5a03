"""Histogram summaries counted on the device give TF1's buckets.

The bucket of a float32 is found from its bits (``_bucket_index``): it must
equal ``searchsorted`` over the float32 limits for every value. The summary
bytes are written by hand (``_histogram_bytes``): they must equal what
protobuf serializes for the same ``HistogramProto``.
"""

import functools
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from tensorboardX import summary as tbx_summary
from tensorboardX.proto.summary_pb2 import Summary

import jaxsession as tf
from jaxsession import errors
from jaxsession.library import summary_ops


def _histo(values, dtype=tf.float32):
    x = tf.placeholder(dtype, [None])
    h = tf.summary.histogram("h", x)
    with tf.Session() as sess:
        return Summary.FromString(sess.run(h, {x: values})).value[0].histo, h


def test_device_buckets_equal_the_host_computation_at_the_edges():
    rng = np.random.default_rng(0)
    limits = summary_ops._BUCKET_LIMITS[1:-1]
    # Not around 0: the neighbours of 0 are subnormal, which XLA on CPU
    # flushes to zero.
    near = limits[(np.abs(limits) < 1e30) & (limits != 0)].astype(np.float32)
    # Values on each side of the float32 roundings of the limits, and spread ones.
    values = np.concatenate(
        [
            near,
            np.nextafter(near, np.float32(np.inf)),
            np.nextafter(near, np.float32(-np.inf)),
            rng.standard_normal(1000).astype(np.float32)
            * 10.0 ** rng.integers(-9, 9, 1000),
            np.zeros(3, np.float32),
        ]
    )
    histo, h = _histo(values)
    assert h.op.inputs[0].op.type == "HistogramStats"
    (low, high, num, total, squares), want_limits, want_counts = (
        summary_ops._histogram_stats(values.astype(np.float64))
    )
    assert list(histo.bucket_limit) == want_limits.tolist()
    assert list(histo.bucket) == want_counts.tolist()
    assert (histo.min, histo.max, histo.num) == (low, high, num)
    # Squares are scaled on the device: even 1e20 ** 2 does not overflow.
    assert histo.sum_squares == pytest.approx(squares, rel=1e-5)
    del total  # float32 sums of +-1e20 pairs cancel differently: below


def test_device_sums_agree_with_double_sums_on_weights():
    values = np.random.default_rng(1).standard_normal(100_000).astype(np.float32)
    histo, _ = _histo(values)
    v64 = values.astype(np.float64)
    assert histo.sum == pytest.approx(v64.sum(), abs=1e-3 * np.abs(v64).sum() * 1e-3)
    assert histo.sum_squares == pytest.approx(v64 @ v64, rel=1e-5)


def test_empty_and_non_finite_values_on_the_device():
    histo, _ = _histo(np.zeros(0, np.float32))
    big = float(np.finfo(np.float64).max)
    assert (histo.num, histo.min, histo.max, histo.sum) == (0, big, -big, 0.0)
    for bad in ([1.0, np.inf], [np.nan, 1.0], [2.0, np.nan, 3.0], [-np.inf], [np.nan]):
        with pytest.raises(
            errors.InvalidArgumentError,
            match=re.escape("Nan in summary histogram for: h"),
        ):
            _histo(np.array(bad, np.float32))
    # Values whose float32 sum overflows are finite: no error.
    histo, _ = _histo(np.full(4, 3e38, np.float32))
    assert (histo.num, histo.max, histo.sum) == (4, pytest.approx(3e38), np.inf)


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_half_precision_values_are_counted_on_the_device(dtype):
    values = np.array([-3.0, -1e-3, 0.0, 0.5, 0.5, 100.0], np.float32)
    histo, h = _histo(values, dtype)
    assert h.op.inputs[0].op.type == "HistogramStats"
    # The reference counts the values as fed: rounded to the half format.
    (low, high, num, _, _), limits, counts = summary_ops._histogram_stats(
        values.astype(dtype.as_numpy_dtype).astype(np.float64)
    )
    assert (histo.min, histo.max, histo.num) == (low, high, num)
    assert list(histo.bucket_limit) == limits.tolist()
    assert list(histo.bucket) == counts.tolist()


def test_integer_values_stay_on_the_host_path():
    histo, h = _histo(np.array([1, 2, 2, 70000], np.int32), tf.int32)
    assert h.op.inputs[0].op.type == "Placeholder"
    assert (histo.num, histo.min, histo.max, histo.sum) == (4, 1.0, 70000.0, 70005.0)


ZEROS = [0.0, -0.0, 1e-45, -1e-45]  # -0 and the smallest subnormals


def _adversarial_float32():
    """Limits, their float32 neighbours, zeros, subnormals, extremes, inf, nan."""
    limits = summary_ops._LIMITS_F32
    tiny = np.finfo(np.float32).tiny
    huge = np.finfo(np.float32).max
    extremes = [tiny, -tiny, tiny / 2, -tiny / 2, 1e20, -1e20, huge, -huge]
    special = np.array(
        [*ZEROS, *extremes, np.inf, -np.inf, np.nan, -np.nan], np.float32
    )
    with np.errstate(over="ignore"):  # the outermost neighbours are +-inf
        up = np.nextafter(limits, np.float32(np.inf))
        down = np.nextafter(limits, np.float32(-np.inf))
    return np.concatenate([limits, up, down, special])


ADVERSARIAL = _adversarial_float32()
_SAMPLE = 64


@functools.cache
def _jitted_index():
    import jax
    import jax.numpy as jnp

    return jax.jit(
        lambda v: summary_ops._bucket_index(
            jnp, jax.lax.bitcast_convert_type(v, jnp.int32)
        )
    )


def _device_index(values):
    return np.asarray(_jitted_index()(values))


def _searchsorted(values):
    return np.searchsorted(summary_ops._LIMITS_F32, values, side="right")


def test_bucket_index_of_limits_and_their_neighbours():
    # The bits travel to the device and back unchanged: subnormals too.
    want = _searchsorted(ADVERSARIAL)
    np.testing.assert_array_equal(_device_index(ADVERSARIAL), want)
    bits = ADVERSARIAL.view(np.int32)
    np.testing.assert_array_equal(summary_ops._bucket_index(np, bits), want)
    # -0 is at 0's limit, the negative subnormals below it, on the device too.
    zero = len(summary_ops._LIMITS_F32) // 2
    zeros = np.array(ZEROS, np.float32)
    assert _device_index(zeros).tolist() == [zero + 1, zero + 1, zero + 1, zero]


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        _SAMPLE,
        elements=st.one_of(
            st.floats(width=32, allow_nan=True),
            st.sampled_from(ADVERSARIAL.tolist()),
        ),
    )
)
def test_bucket_index_equals_searchsorted(values):
    want = _searchsorted(values)
    np.testing.assert_array_equal(_device_index(values), want)
    np.testing.assert_array_equal(
        summary_ops._bucket_index(np, values.view(np.int32)), want
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(-(2**31), 2**31 - 1))
def test_bucket_index_of_any_bit_pattern(start):
    bits = np.arange(start, start + 1024, dtype=np.int64)
    bits = bits.astype(np.uint32).view(np.int32)  # wraps around the int32 range
    np.testing.assert_array_equal(
        summary_ops._bucket_index(np, bits), _searchsorted(bits.view(np.float32))
    )


_DOUBLES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 5e-324]),
    st.floats(allow_nan=False),
)
_COUNTS = st.one_of(st.sampled_from([0, 1, 2**31, 2**53]), st.integers(0, 2**40))


@settings(max_examples=100, deadline=None)
@given(
    tag=st.one_of(
        st.sampled_from(["", "h", "layer/dense/kernel_1", "é" * 70, "t" * 300]),
        st.text(st.characters(categories=["L", "N"]), max_size=140),
    ),
    scalars=st.tuples(*[_DOUBLES] * 5),
    sparse=st.dictionaries(st.integers(0, 1548), _COUNTS, max_size=40),
)
def test_histogram_bytes_equal_protobuf(tag, scalars, sparse):
    counts = np.zeros(len(summary_ops._BUCKET_LIMITS), np.int64)
    counts[list(sparse)] = list(sparse.values())
    limits, kept = summary_ops._collapse_empty(summary_ops._BUCKET_LIMITS, counts)
    want = tbx_summary.histogram_raw(tag, *scalars, limits.tolist(), kept.tolist())
    got = summary_ops._histogram_bytes(tag, scalars, limits, kept)
    assert got == want.SerializeToString()
    if not sparse:
        assert kept.tolist() == [0.0]  # one bucket: the last limit, empty


def test_summary_run_writes_protobufs_bytes():
    # Sums exact in float32, and in the device's squares scaled by the max (8).
    values = np.array([-4.0, -0.0, 0.0, 0.25, 8.0, 8.0], np.float32)
    x = tf.placeholder(tf.float32, [None])
    device = tf.summary.histogram("device", x)
    host = tf.summary.histogram("host", tf.cast(x, tf.int32))
    with tf.Session() as sess:
        got = sess.run([device, host], {x: values})
    for name, v, serialized in zip(
        ["device", "host"], [values, values.astype(np.int32)], got
    ):
        (low, high, num, total, squares), limits, counts = summary_ops._histogram_stats(
            v
        )
        want = tbx_summary.histogram_raw(
            name, low, high, num, total, squares, limits.tolist(), counts.tolist()
        )
        assert serialized == want.SerializeToString()


def test_a_runs_histograms_together_equal_each_alone():
    x = tf.placeholder(tf.float32, [None])
    summaries = [
        tf.summary.histogram("a", x),
        tf.summary.histogram("b", x * 1e6),
        tf.summary.histogram("empty", x[:0]),
        tf.summary.histogram("ints", tf.cast(x, tf.int32)),
        tf.summary.scalar("s", x[0]),
        tf.summary.histogram("c", -x),
    ]
    values = np.array([-3.0, 0.0, 0.0, 0.5, 2.0, 70.0], np.float32)
    with tf.Session() as sess:
        together = sess.run(summaries, {x: values})
        alone = [sess.run(s, {x: values}) for s in summaries]
        merged = sess.run(tf.summary.merge(summaries), {x: values})
    assert together == alone
    assert merged == b"".join(alone)
    histo = Summary.FromString(together[1]).value[0].histo
    assert (histo.min, histo.max, histo.num) == (-3e6, 7e7, 6)
    assert Summary.FromString(together[2]).value[0].histo.num == 0


def test_the_first_histogram_with_a_nan_is_named_when_several_have_one():
    x = tf.placeholder(tf.float32, [None])
    fine = tf.summary.histogram("fine", x)
    first = tf.summary.histogram("first_bad", x / 0.0)
    second = tf.summary.histogram("second_bad", x * np.nan)
    with tf.Session() as sess:
        for fetches in ([fine, first, second], [second, first, fine]):
            with pytest.raises(
                errors.InvalidArgumentError,
                match=re.escape("Nan in summary histogram for: first_bad"),
            ):
                sess.run(fetches, {x: np.zeros(3, np.float32)})
        # The fine one alone still runs.
        histo = Summary.FromString(sess.run(fine, {x: np.ones(3, np.float32)}))
        assert histo.value[0].histo.num == 3
