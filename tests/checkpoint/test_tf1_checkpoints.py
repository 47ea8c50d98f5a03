"""TensorFlow's own V2 checkpoints, read without TensorFlow.

The fixtures were written by TensorFlow 2.21 (tests/fixtures/tf1_ckpt/
make_fixtures.py); what TF computed and printed from them is recorded in
golden.json and below.
"""

import json
import pathlib
import re
import shutil

import ml_dtypes
import numpy as np
import pytest

import jaxsession as tf
from jaxsession.checkpoint import tf1_bundle
from tests.fixtures.tf1_ckpt import program

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "tf1_ckpt"
GOLDEN = json.loads((FIXTURES / "golden.json").read_text())
MLP = str(FIXTURES / "mlp" / "model.ckpt-3")

# tf.train.list_variables(MLP) in TF 2.21.
MLP_VARIABLES = [
    ("beta1_power", []),
    ("beta2_power", []),
    ("global_step", []),
    ("mlp/dense/bias", [8]),
    ("mlp/dense/bias/Adam", [8]),
    ("mlp/dense/bias/Adam_1", [8]),
    ("mlp/dense/kernel", [4, 8]),
    ("mlp/dense/kernel/Adam", [4, 8]),
    ("mlp/dense/kernel/Adam_1", [4, 8]),
    ("mlp/dense_1/bias", [1]),
    ("mlp/dense_1/bias/Adam", [1]),
    ("mlp/dense_1/bias/Adam_1", [1]),
    ("mlp/dense_1/kernel", [8, 1]),
    ("mlp/dense_1/kernel/Adam", [8, 1]),
    ("mlp/dense_1/kernel/Adam_1", [8, 1]),
]


def build_mlp():
    """The TF1 program that wrote the fixture, built with jaxsession."""
    return program.build_mlp(tf)


def copy_fixture(tmp_path, name="mlp"):
    shutil.copytree(FIXTURES / name, tmp_path / name)
    return tmp_path / name


def test_training_continues_from_a_tf1_checkpoint_as_in_tf():
    loss, train_op = build_mlp()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, MLP)
        assert sess.run(tf.train.get_global_step()) == 3
        got_loss, _ = sess.run([loss, train_op])
        after = {v.op.name: sess.run(v) for v in tf.global_variables()}
    np.testing.assert_allclose(got_loss, GOLDEN["step4_loss"], rtol=1e-6)
    assert sorted(after) == sorted(GOLDEN["after_step4"])
    for name, value in after.items():
        np.testing.assert_allclose(
            value, GOLDEN["after_step4"][name], rtol=1e-5, atol=1e-7, err_msg=name
        )
    assert after["global_step"] == 4


def test_state_file_written_by_tf_finds_the_latest(tmp_path):
    directory = str(copy_fixture(tmp_path))
    assert tf.train.latest_checkpoint(directory) == directory + "/model.ckpt-3"
    state = tf.train.get_checkpoint_state(directory)
    assert state.all_model_checkpoint_paths == [
        directory + "/model.ckpt-2",
        directory + "/model.ckpt-3",
    ]
    assert tf.train.checkpoint_exists(directory + "/model.ckpt-2")
    assert not tf.train.checkpoint_exists(directory + "/model.ckpt-1")
    # TF divides the nanoseconds (file_io.stat().mtime_nsec / 1e9); st_mtime
    # can differ from that in the last bit.
    mtime = (tmp_path / "mlp" / "model.ckpt-3.index").stat().st_mtime_ns / 1e9
    assert tf.train.get_checkpoint_mtimes([directory + "/model.ckpt-3"]) == [mtime]
    assert tf.train.list_variables(directory) == tf.train.list_variables(MLP)
    np.testing.assert_array_equal(
        tf.train.load_variable(directory, "mlp/dense_1/bias:0"),
        tf.train.load_variable(MLP, "mlp/dense_1/bias"),
    )


def test_list_and_load_use_tf1_names():
    assert [(n, s) for n, s in tf.train.list_variables(MLP)] == MLP_VARIABLES
    step = tf.train.load_variable(MLP, "global_step")
    assert step.dtype == np.int64 and step == 3
    np.testing.assert_allclose(
        tf.train.load_variable(MLP, "beta1_power"), 0.9**4, rtol=1e-6
    )
    with pytest.raises(tf.errors.NotFoundError, match="Key w not found in checkpoint"):
        tf.train.load_variable(MLP, "w")


def test_new_checkpoint_reader_answers_as_tf():
    reader = tf.train.NewCheckpointReader(MLP)
    assert reader.get_variable_to_shape_map() == dict(MLP_VARIABLES)
    dtypes = reader.get_variable_to_dtype_map()
    assert dtypes["global_step"] == tf.int64
    assert dtypes["mlp/dense/kernel/Adam"] == tf.float32
    assert reader.has_tensor("beta2_power")
    assert not reader.has_tensor("nope")
    step = reader.get_tensor("global_step")
    assert type(step) is np.int64 and step == 3  # a NumPy scalar, as in TF
    assert reader.get_tensor("mlp/dense/kernel").shape == (4, 8)
    assert reader.debug_string().startswith(
        b"beta1_power (DT_FLOAT) []\nbeta2_power (DT_FLOAT) []\n"
        b"global_step (DT_INT64) []\nmlp/dense/bias (DT_FLOAT) [8]\n"
    )
    with pytest.raises(
        tf.errors.NotFoundError, match="Key nope not found in checkpoint"
    ):
        reader.get_tensor("nope")
    with pytest.raises(
        tf.errors.NotFoundError,
        match="Unsuccessful TensorSliceReader constructor: Failed to find any "
        "matching files for /no/such/m",
    ):
        tf.train.NewCheckpointReader("/no/such/m")
    loaded = tf.train.load_checkpoint(str(FIXTURES / "mlp"))
    assert loaded.get_variable_to_shape_map() == dict(MLP_VARIABLES)
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.load_checkpoint(str(FIXTURES))


def test_every_dtype_and_strings_read_back():
    reader = tf.train.NewCheckpointReader(str(FIXTURES / "dtypes" / "model.ckpt"))
    grid = np.arange(6).reshape(2, 3) * 1.5 - 2
    for name, dtype in [
        ("f16", np.float16),
        ("f32", np.float32),
        ("f64", np.float64),
        ("i8", np.int8),
        ("i16", np.int16),
        ("i32", np.int32),
        ("i64", np.int64),
        ("u8", np.uint8),
        ("u16", np.uint16),
        ("c64", np.complex64),
        ("c128", np.complex128),
    ]:
        value = reader.get_tensor(f"dtypes/{name}")
        assert value.dtype == dtype, name
        np.testing.assert_array_equal(value, grid.astype(dtype), err_msg=name)
    np.testing.assert_array_equal(reader.get_tensor("dtypes/bool"), [True, False, True])
    assert reader.get_tensor("dtypes/scalar") == np.float32(3.25)
    bf16 = reader.get_tensor("dtypes/bf16")
    assert bf16.dtype == ml_dtypes.bfloat16 and float(bf16) == 3.5
    assert reader.get_tensor("dtypes/empty").shape == (0, 3)
    assert reader.get_tensor("dtypes/str").tolist() == [b"ab", b"", "c\u00e9".encode()]
    assert reader.get_variable_to_dtype_map()["dtypes/str"] == tf.string


def test_a_partitioned_variable_reads_whole_and_restores():
    path = str(FIXTURES / "partitioned" / "model.ckpt")
    assert tf.train.list_variables(path) == [("emb", [6, 2])]
    emb = tf.get_variable("emb", shape=[6, 2])
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(emb), GOLDEN["partitioned_emb"])


def test_init_from_a_tf1_checkpoint_directory():
    with tf.variable_scope("warm"):
        kernel = tf.get_variable("dense/kernel", shape=[4, 8])
        bias = tf.get_variable("dense/bias", shape=[8])
    tf.train.init_from_checkpoint(str(FIXTURES / "mlp"), {"mlp/dense/": "warm/dense/"})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(
            sess.run(kernel), tf.train.load_variable(MLP, "mlp/dense/kernel")
        )
        np.testing.assert_array_equal(
            sess.run(bias), tf.train.load_variable(MLP, "mlp/dense/bias")
        )


def test_a_variable_missing_from_the_checkpoint_is_named():
    tf.get_variable("w", shape=[2])
    with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError) as info:
        tf.train.Saver().restore(sess, MLP)
    assert re.search(
        r"^Key w not found in checkpoint .*model\.ckpt-3$", str(info.value)
    )


def test_a_bad_crc_fails_naming_file_and_tensor(tmp_path):
    directory = copy_fixture(tmp_path)
    data = directory / "model.ckpt-3.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[-3] ^= 0xFF  # inside the last tensor stored
    data.write_bytes(bytes(raw))
    loss, train_op = build_mlp()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(tf.global_variables())
        with pytest.raises(tf.errors.DataLossError) as info:
            tf.train.Saver().restore(sess, str(directory / "model.ckpt-3"))
        after = sess.run(tf.global_variables())
    assert re.search(
        r"tensor mlp/dense_1/kernel/Adam_1 in .*model\.ckpt-3\.data-00000-of-00001 "
        r"fails its CRC32C checksum",
        str(info.value),
    )
    for a, b in zip(before, after):  # a failed restore changes nothing
        np.testing.assert_array_equal(a, b)


def test_truncated_or_missing_data_is_data_loss(tmp_path):
    directory = copy_fixture(tmp_path)
    prefix = str(directory / "model.ckpt-3")
    data = directory / "model.ckpt-3.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:590])
    assert not tf.train.checkpoint_exists(prefix)
    with pytest.raises(
        tf.errors.DataLossError,
        match=r"model\.ckpt-3\.data-00000-of-00001 has 590 bytes, its tensors need 604",
    ):
        tf.train.list_variables(prefix)
    reader = tf.train.NewCheckpointReader(prefix)  # reads what is there
    assert reader.get_tensor("global_step") == 3
    with pytest.raises(
        tf.errors.DataLossError,
        match=r"tensor mlp/dense_1/kernel/Adam_1 needs bytes 572\.\.604 of "
        r".*model\.ckpt-3\.data-00000-of-00001, which has 590",
    ):
        reader.get_tensor("mlp/dense_1/kernel/Adam_1")
    data.unlink()
    with pytest.raises(
        tf.errors.DataLossError, match=r"ckpt-3\.data-00000-of-00001 is missing"
    ):
        tf.train.Saver([tf.get_variable("global_step", [], tf.int64)]).restore(
            tf.Session(), prefix
        )


def test_a_corrupt_index_is_data_loss(tmp_path):
    directory = copy_fixture(tmp_path)
    index = directory / "model.ckpt-3.index"
    raw = bytearray(index.read_bytes())
    raw[20] ^= 0x01
    index.write_bytes(bytes(raw))
    with pytest.raises(
        tf.errors.DataLossError,
        match=r"model\.ckpt-3\.index: block at 0 fails its checksum",
    ):
        tf.train.NewCheckpointReader(str(directory / "model.ckpt-3"))


def test_snappy_blocks_decompress():
    # Length 11, a 4-byte literal "abcd", a 1-byte-offset copy of 7 bytes at 4 back.
    block = bytes([11, 3 << 2]) + b"abcd" + bytes([((7 - 4) << 2) | 1, 4])
    assert tf1_bundle._snappy(block) == b"abcdabcdabc"
    with pytest.raises(ValueError, match="expected 12"):
        tf1_bundle._snappy(bytes([12]) + block[1:])


@pytest.mark.parametrize(
    "value, encoded",
    # TF's OrderedCode::WriteSignedNumIncreasing.
    [(0, b"\x80"), (-1, b"\x7f"), (63, b"\xbf"), (64, b"\xc0\x40"), (-65, b"\x3f\xbf")],
)
def test_slice_keys_encode_as_tf(value, encoded):
    assert tf1_bundle._signed_num_increasing(value) == encoded
