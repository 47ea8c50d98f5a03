"""Failures of the system below reach the user as TF1's error classes.

A full disk is injected at the two layers a save writes through: Orbax's
TensorStore (its ``ValueError`` text is the one a real 200 KiB tmpfs gave)
and Python's file layer (``os.fsync`` of the manifest raising ENOSPC). The
device running out of memory is real: XLA's CPU client refuses 4 TiB.
"""

import errno
import os

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors
from jaxsession.checkpoint import _format

TENSORSTORE_FULL = (
    'RESOURCE_EXHAUSTED: Error writing "w/0.0" in OCDBT database at local file '
    '"/ckpt/m-1.partial.orbax-checkpoint-tmp/ocdbt.process_0/": Failed writing: '
    '"/ckpt/m-1.partial.orbax-checkpoint-tmp/ocdbt.process_0/d/24dc": Failed to '
    "write 129725 bytes to file 14: No space left on device [os_error_code='28']"
)


def _saving():
    tf.get_variable("w", initializer=np.ones((2, 3), np.float32))
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    return sess, tf.train.Saver()


def _tensorstore_full(directory, values, key=None):
    raise ValueError(TENSORSTORE_FULL)


def _fsync_full(fd):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize(
    ("layer", "attribute", "fake", "cause"),
    [
        ("tensorstore", "write_orbax", _tensorstore_full, ValueError),
        ("file", "os.fsync", _fsync_full, OSError),
    ],
)
def test_a_full_disk_is_resource_exhausted_with_its_cause(
    tmp_path, monkeypatch, layer, attribute, fake, cause
):
    sess, saver = _saving()
    target = _format.os if attribute == "os.fsync" else _format
    monkeypatch.setattr(target, attribute.split(".")[-1], fake)
    prefix = saver.save(sess, str(tmp_path / "m"), global_step=1)
    with pytest.raises(tf.errors.ResourceExhaustedError) as raised:
        saver.wait_until_finished()  # the save is asynchronous: the next call
    first = str(raised.value.__cause__).splitlines()[0]
    assert str(raised.value) == f"Saving checkpoint {prefix} failed: {first}"
    assert type(raised.value.__cause__) is cause
    assert raised.value.error_code == errors.RESOURCE_EXHAUSTED
    monkeypatch.undo()
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    # Space again: the next save works.
    saver.save(sess, str(tmp_path / "m"), global_step=2)
    saver.close()
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "m-2")


def test_a_state_file_name_too_long_is_invalid_argument_as_in_tf1(tmp_path):
    # TF1 (tensorflow 2.21, compat.v1): InvalidArgumentError from save().
    sess, saver = _saving()
    saver.save(sess, str(tmp_path / "m"), global_step=1, latest_filename="x" * 300)
    with pytest.raises(tf.errors.InvalidArgumentError, match="File name too long"):
        saver.close()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device"),
            errors.ResourceExhaustedError,
        ),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), errors.ResourceExhaustedError),
        (
            OSError(errno.ENAMETOOLONG, "File name too long"),
            errors.InvalidArgumentError,
        ),
        (OSError(errno.ENOENT, "No such file"), errors.NotFoundError),
        (OSError(errno.EACCES, "Permission denied"), errors.PermissionDeniedError),
        (ValueError("NOT_FOUND: no such key"), errors.NotFoundError),
        (RuntimeError("DATA_LOSS: bad crc"), errors.DataLossError),
    ],
)
def test_system_errors_map_to_tf1_classes(error, expected):
    out = errors.translated(error, "Doing it failed")
    assert type(out) is expected
    assert out.__cause__ is error
    assert str(out).startswith("Doing it failed: ")


def test_codes_and_classes_convert_both_ways_as_in_tf1():
    assert errors.exception_type_from_error_code(8) is errors.ResourceExhaustedError
    assert errors.error_code_from_exception_type(errors.DataLossError) == 15
    with pytest.raises(KeyError):
        errors.exception_type_from_error_code(99)


def test_errors_without_a_code_stay_as_they_are():
    for error in (OSError("no errno"), ValueError("bad value"), KeyboardInterrupt()):
        assert errors.translated(error, "x") is error
    already = errors.NotFoundError(None, None, "gone")
    assert errors.translated(already, "x") is already


def test_device_out_of_memory_is_resource_exhausted_naming_the_largest_tensors():
    x = tf.placeholder(tf.float32, [], name="x")
    huge = tf.add(tf.fill([2**20, 2**20], x, name="huge_fill"), 1.0, name="huge")
    small = tf.add(x, 1.0, name="small")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.ResourceExhaustedError) as raised:
            sess.run([huge, small], {x: 1.0})
        assert str(raised.value).startswith(
            "OOM when running the step: RESOURCE_EXHAUSTED: Out of memory allocating "
            "4398046511104 bytes. The largest tensors of the step: "
            "huge_fill:0 (1048576, 1048576) float32 (4.0 TiB), "
            "huge:0 (1048576, 1048576) float32 (4.0 TiB), "
        ), str(raised.value)
        assert isinstance(raised.value.__cause__, Exception)
        # A failed run changes nothing: the session still runs.
        assert sess.run(small, {x: 1.0}) == 2.0


def test_a_dimension_beyond_int32_builds_as_in_tf1():
    # TF1 infers int64 for a shape list holding an int beyond int32; the shape
    # went through int32 before: "dims must be non-negative", or a silent wrap.
    assert tf.ones([2**31 + 5]).shape.as_list() == [2**31 + 5]
    assert tf.fill([2**32 + 3], 1.0).shape.as_list() == [2**32 + 3]
    wide = tf.zeros([2**31 + 5, 0])
    with tf.Session() as sess:
        assert sess.run(wide).shape == (2**31 + 5, 0)
        assert sess.run(tf.fill([2**32 + 3, 0], 1.0)).shape == (2**32 + 3, 0)
