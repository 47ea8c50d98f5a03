import pickle
import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors


def test_tensor_shape_and_dimension_behave_as_tf1():
    s = tf.TensorShape([None, 3])
    assert s.ndims == 2 and s.as_list() == [None, 3]
    assert s[1].value == 3 and s[0].value is None
    assert str(s) == "(?, 3)" and repr(s) == "TensorShape([None, 3])"
    assert s.is_compatible_with([5, 3]) and not s.is_compatible_with([5, 4])
    assert s.merge_with([5, None]).as_list() == [5, 3]
    assert not s.is_fully_defined() and tf.TensorShape([2, 3]).num_elements() == 6
    unknown = tf.TensorShape(None)
    assert unknown.ndims is None and unknown.is_compatible_with([1, 2, 3])
    with pytest.raises(
        ValueError,
        match=re.escape("as_list() is not defined on an unknown TensorShape."),
    ):
        unknown.as_list()
    with pytest.raises(
        ValueError, match=re.escape("Shapes (?, 3) and (2, 4) are not compatible")
    ):
        s.merge_with([2, 4])
    assert (tf.Dimension(4) + 1).value == 5 and (tf.Dimension(None) * 2).value is None
    assert int(tf.Dimension(7)) == 7 and (tf.Dimension(None) == 3) is None


def test_placeholder_shape_api_and_set_shape():
    x = tf.placeholder(tf.float32, [None, 4])
    assert x.get_shape()[1].value == 4 and x.shape.as_list() == [None, 4]
    x.set_shape([8, None])
    assert x.shape.as_list() == [8, 4]
    with pytest.raises(
        ValueError, match=re.escape("is not compatible with supplied shape (8, 5)")
    ):
        x.set_shape([8, 5])


def test_dtypes_convert_and_compare():
    assert tf.as_dtype("float32") is tf.float32 and tf.as_dtype(np.int64) is tf.int64
    assert tf.float32 == np.float32 and tf.float32 != tf.int32
    assert tf.as_dtype(bool) is tf.bool and tf.bool.name == "bool"
    assert tf.int64.is_integer and tf.float16.is_floating and not tf.int32.is_floating
    assert tf.float32.as_numpy_dtype is np.float32 and tf.int8.max == 127
    assert pickle.loads(pickle.dumps(tf.float64)) is tf.float64
    with pytest.raises(TypeError, match="cannot convert 'nope' to a dtype"):
        tf.as_dtype("nope")


def test_constant_dtype_inference_and_errors():
    assert tf.constant(1.5).dtype == tf.float32
    assert tf.constant(3).dtype == tf.int32
    assert tf.constant(np.arange(3)).dtype == tf.int64
    assert tf.constant(True).dtype == tf.bool
    with pytest.raises(
        TypeError, match=re.escape("Expected int32, got 1.5 of type 'float' instead.")
    ):
        tf.constant(1.5, dtype=tf.int32)
    assert tf.constant(2, dtype=tf.float32).dtype == tf.float32
    assert tf.constant(0.0, shape=[2, 2]).shape.as_list() == [2, 2]


def test_error_classes_carry_codes_and_pickle():
    names = [
        "CancelledError",
        "UnknownError",
        "InvalidArgumentError",
        "DeadlineExceededError",
        "NotFoundError",
        "AlreadyExistsError",
        "PermissionDeniedError",
        "ResourceExhaustedError",
        "FailedPreconditionError",
        "AbortedError",
        "OutOfRangeError",
        "UnimplementedError",
        "InternalError",
        "UnavailableError",
        "DataLossError",
        "UnauthenticatedError",
    ]
    for code, name in enumerate(names, start=1):
        cls = getattr(tf.errors, name)
        err = cls(None, None, f"boom {name}")
        assert isinstance(err, tf.errors.OpError) and err.error_code == code
        assert str(err) == f"boom {name}" and err.message == f"boom {name}"
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is cls and str(again) == str(err)
    assert errors.format_list(list("abcdefg")) == "a, b, c, d, e, and 2 more"
