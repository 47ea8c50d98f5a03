"""Property tests of feeds and fetches against TF1's rules.

Feeds: a value of any dtype and shape fed to a placeholder gives what TF1
gives (the value in the placeholder's dtype) or TF1's error class (a shape
that does not fit: ValueError; a dtype that does not: TypeError). A float
fed to an integer tensor is truncated toward zero, as in TF1. Differs from
TF1, deliberately (engine/feeds.py): an integer out of the tensor's range is
refused (TypeError) where TF1 silently wraps.

Fetches: any nesting of lists, tuples, dicts (keys of mixed types) and
namedtuples comes back with the same structure and types, each tensor
replaced by its value.
"""

import collections

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import jaxsession as tf

EXAMPLES = 60
SLOW_EXAMPLES = 600
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

PLACEHOLDER_DTYPES = ["float32", "int32", "int64", "uint8", "bool"]
VALUE_DTYPES = ["float64", "float32", "int64", "int32", "uint8", "bool"]
PLACEHOLDER_SHAPES = [None, [], [2], [None], [None, 3], [2, None]]
INT32 = np.iinfo(np.int32)


@st.composite
def fed_values(draw):
    """A value as a user feeds it: a NumPy array, a Python scalar or a list."""
    dtype = draw(st.sampled_from(VALUE_DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    if dtype == "bool":
        elements = st.booleans()
    elif dtype.startswith("float"):
        elements = st.sampled_from(
            [0.0, 1.0, -2.0, 1.5, 1e300 if dtype == "float64" else 3e38]
        )
    else:
        info = np.iinfo(dtype)
        elements = st.sampled_from(
            sorted({0, 1, int(info.max), int(info.min), min(int(info.max), 2**40)})
        )
    array = np.array(
        draw(
            st.lists(
                elements, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
            )
        ),
        dtype=dtype,
    ).reshape(shape)
    form = draw(st.sampled_from(["array", "python"]))
    return array.tolist() if form == "python" else array


def _expected(placeholder_dtype, placeholder_shape, value):
    """What jaxsession must do: (value,) or the error class, per TF1's rules."""
    array = np.asarray(value)
    to = np.dtype(placeholder_dtype)
    device = np.dtype("int32") if to == np.int64 else to  # int64 runs in 32 bits
    if to.kind in "iu" and array.dtype.kind in "iu" and array.size:
        info = np.iinfo(device)
        if array.min() < info.min or array.max() > info.max:
            return TypeError  # TF1 refuses Python ints and wraps arrays; refused here
    if placeholder_shape is not None:
        fits = len(placeholder_shape) == array.ndim and all(
            want is None or want == got
            for want, got in zip(placeholder_shape, array.shape)
        )
        if not fits:
            return ValueError
    # A float beyond float32 is inf, and a float to an integer is truncated
    # (in the device's width), as in TF1.
    with np.errstate(over="ignore", invalid="ignore"):
        return (array.astype(device).astype(to),)  # fetched in the declared dtype


@pytest.fixture
def placeholders():
    return {
        (dtype, None if shape is None else tuple(shape)): tf.placeholder(dtype, shape)
        for dtype in PLACEHOLDER_DTYPES
        for shape in PLACEHOLDER_SHAPES
    }


def _check_feed(sess, placeholders, key, value):
    dtype, shape = key
    x = placeholders[key]
    expected = _expected(dtype, shape, value)
    if isinstance(expected, tuple):
        got = sess.run(x, {x: value})
        np.testing.assert_array_equal(got, expected[0])
        assert got.dtype == expected[0].dtype
        assert got.shape == expected[0].shape
    else:
        with pytest.raises(expected, match=repr(x.name)):
            sess.run(x, {x: value})


KEYS = st.tuples(
    st.sampled_from(PLACEHOLDER_DTYPES),
    st.sampled_from([None if s is None else tuple(s) for s in PLACEHOLDER_SHAPES]),
)


@PROPERTY
@given(key=KEYS, value=fed_values())
def test_a_feed_gives_tf1s_value_or_tf1s_error_class(placeholders, key, value):
    with tf.Session() as sess:
        _check_feed(sess, placeholders, key, value)


@pytest.mark.slow
@settings(PROPERTY, max_examples=SLOW_EXAMPLES)
@given(key=KEYS, value=fed_values())
def test_a_feed_gives_tf1s_value_or_tf1s_error_class_long(placeholders, key, value):
    with tf.Session() as sess:
        _check_feed(sess, placeholders, key, value)


Pair = collections.namedtuple("Pair", ["first", "second"])
DICT_KEYS = st.one_of(
    st.text("abc", min_size=1, max_size=2),
    st.integers(0, 3),
    st.tuples(st.integers(0, 2)),
)


def _structures(leaves):
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(DICT_KEYS, inner, max_size=3),
            st.tuples(inner, inner).map(lambda t: Pair(*t)),
        ),
        max_leaves=6,
    )


def _map(structure, fn):
    if isinstance(structure, Pair):
        return Pair(*(_map(s, fn) for s in structure))
    if isinstance(structure, dict):
        return {k: _map(v, fn) for k, v in structure.items()}
    if isinstance(structure, list | tuple):
        return type(structure)(_map(s, fn) for s in structure)
    return fn(structure)


def _assert_same(got, expected):
    assert type(got) is type(expected), (got, expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected)
        for k in expected:
            _assert_same(got[k], expected[k])
    elif isinstance(expected, list | tuple):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_same(g, e)
    else:
        np.testing.assert_array_equal(got, expected)


def _check_fetch(structure):
    values = [np.arange(i + 1, dtype=np.float32) * (i + 1) for i in range(6)]
    tensors = [tf.constant(v) + 0.0 for v in values]
    fetches = _map(structure, lambda i: tensors[i])
    with tf.Session() as sess:
        _assert_same(sess.run(fetches), _map(structure, lambda i: values[i]))


@PROPERTY
@given(structure=_structures(st.integers(0, 5)))
def test_a_nested_fetch_structure_round_trips(structure):
    _check_fetch(structure)


@pytest.mark.slow
@settings(PROPERTY, max_examples=SLOW_EXAMPLES)
@given(structure=_structures(st.integers(0, 5)))
def test_a_nested_fetch_structure_round_trips_long(structure):
    _check_fetch(structure)
