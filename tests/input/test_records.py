"""TFRecord files, Example protos and parsing, written as a TF1 user writes them.

The fixtures were written by TensorFlow (``fixtures/make_fixtures.py``): files
read here must give TF's parsed values, and files written here must equal
TF's byte for byte (so TensorFlow reads them).
"""

import base64
import json
import pathlib
import re

import numpy as np
import pytest

import jaxsession as tf

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
PARSED = json.loads((FIXTURES / "parsed.json").read_text())


def example(i):
    """The fixture script's i-th example, built with jaxsession's protos."""
    raw = np.arange(i, i + 12, dtype=np.uint8).tobytes()
    feature = {
        "image_raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[raw])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i])),
        "weights": tf.train.Feature(
            float_list=tf.train.FloatList(value=[i * 0.5, 1.5])
        ),
        "tags": tf.train.Feature(int64_list=tf.train.Int64List(value=list(range(i)))),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


FEATURES = {
    "image_raw": tf.FixedLenFeature([], tf.string),
    "label": tf.FixedLenFeature([], tf.int64),
    "weights": tf.io.FixedLenFeature([2], tf.float32),
    "tags": tf.VarLenFeature(tf.int64),
    "missing": tf.FixedLenFeature([], tf.int64, default_value=-1),
}


@pytest.mark.parametrize(
    ("suffix", "options"),
    [
        ("", None),
        (
            ".gz",
            tf.python_io.TFRecordOptions(tf.python_io.TFRecordCompressionType.GZIP),
        ),
        (".zz", tf.io.TFRecordOptions("ZLIB")),
    ],
)
def test_files_written_here_equal_tensorflows(tmp_path, suffix, options):
    path = str(tmp_path / f"out.tfrecord{suffix}")
    with tf.python_io.TFRecordWriter(path, options) as writer:
        for i in range(5):
            writer.write(example(i).SerializeToString(deterministic=True))
    written = pathlib.Path(path).read_bytes()
    if not suffix:
        assert written == (FIXTURES / "examples.tfrecord").read_bytes()
    theirs = list(
        tf.io.tf_record_iterator(str(FIXTURES / f"examples.tfrecord{suffix}"), options)
    )
    assert list(tf.python_io.tf_record_iterator(path, options)) == theirs
    assert [tf.train.Example.FromString(r) for r in theirs] == [
        example(i) for i in range(5)
    ]


def test_parse_example_gives_tensorflows_values():
    records = list(tf.python_io.tf_record_iterator(str(FIXTURES / "examples.tfrecord")))
    serialized = tf.placeholder(tf.string, [None])
    parsed = tf.parse_example(serialized, FEATURES)
    image = tf.decode_raw(parsed.pop("image_raw"), tf.uint8)
    assert parsed["weights"].shape.as_list() == [None, 2]
    assert parsed["tags"].shape.as_list() == [None, None]
    assert image.shape.as_list() == [None, None]
    with tf.Session() as sess:
        values = sess.run({**parsed, "image": image}, {serialized: records})
    for key, want in PARSED.items():
        np.testing.assert_array_equal(values[key], np.asarray(want), err_msg=key)
    assert values["label"].dtype == np.int64
    assert values["weights"].dtype == np.float32


def test_parse_single_example_feeds_a_model():
    serialized = tf.placeholder(tf.string, [])
    features = tf.parse_single_example(serialized, FEATURES)
    assert features["label"].shape.as_list() == []
    assert features["tags"].shape.as_list() == [None]
    image = tf.cast(
        tf.reshape(tf.decode_raw(features["image_raw"], tf.uint8), [3, 4]), tf.float32
    )
    total = tf.reduce_sum(image) * features["weights"][0]
    with tf.Session() as sess:
        got = sess.run(
            [total, features["tags"], features["missing"]],
            {serialized: example(3).SerializeToString()},
        )
    assert got[0] == pytest.approx(np.arange(3, 15).sum() * 1.5)
    np.testing.assert_array_equal(got[1], [0, 1, 2])
    assert got[2] == -1


def test_missing_feature_names_the_key():
    features = tf.parse_single_example(
        example(1).SerializeToString(), {"height": tf.FixedLenFeature([], tf.int64)}
    )
    with tf.Session() as sess:
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape(
                "Feature: height (data type: int64) is required but could not be found."
            ),
        ):
            sess.run(features)


def test_wrong_type_and_size_name_the_key():
    wrong_type = tf.parse_single_example(
        example(1).SerializeToString(), {"label": tf.FixedLenFeature([], tf.float32)}
    )
    wrong_size = tf.parse_single_example(
        example(1).SerializeToString(), {"weights": tf.FixedLenFeature([3], tf.float32)}
    )
    with tf.Session() as sess:
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape(
                "Key: label.  Data types don't match. Data type: int64 but expected type: float"
            ),
        ):
            sess.run(wrong_type)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape(
                "Key: weights, Index: 0.  Number of values != expected.  "
                "values size: 2 but output shape: [3]"
            ),
        ):
            sess.run(wrong_size)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match="Could not parse example input, value: b'garbage'",
        ):
            sess.run(tf.parse_single_example(b"garbage", FEATURES))


def test_corrupt_and_truncated_records_name_file_and_offset(tmp_path):
    data = (FIXTURES / "examples.tfrecord").read_bytes()
    first = (
        len(
            next(
                iter(
                    tf.python_io.tf_record_iterator(str(FIXTURES / "examples.tfrecord"))
                )
            )
        )
        + 16
    )
    corrupt = bytearray(data)
    corrupt[first + 20] ^= 0xFF  # inside the second record's data
    (tmp_path / "corrupt.tfrecord").write_bytes(bytes(corrupt))
    (tmp_path / "short.tfrecord").write_bytes(data[: first + 20])
    for name, what in (("corrupt", "corrupted"), ("short", "truncated")):
        path = str(tmp_path / f"{name}.tfrecord")
        it = tf.python_io.tf_record_iterator(path)
        assert next(it) == data[12 : first - 4]
        with pytest.raises(
            tf.errors.DataLossError,
            match=re.escape(f"{what} record at {first} in file {path!r}"),
        ):
            next(it)
    with pytest.raises(tf.errors.NotFoundError, match=re.escape("nowhere.tfrecord")):
        list(tf.python_io.tf_record_iterator(str(tmp_path / "nowhere.tfrecord")))


def test_tfrecord_dataset_maps_parse_single_example_over_files():
    files = [
        str(FIXTURES / "examples.tfrecord"),
        str(FIXTURES / "examples.tfrecord.gz"),
    ]

    def parse(record):
        f = tf.parse_single_example(record, FEATURES)
        image = tf.cast(tf.decode_raw(f["image_raw"], tf.uint8), tf.float32)
        return tf.reshape(image, [12]) / 255.0, f["label"]

    dataset = tf.data.TFRecordDataset(files[:1]).concatenate(
        tf.data.TFRecordDataset(files[1:], compression_type="GZIP")
    )
    images, labels = dataset.map(parse).batch(4).make_one_shot_iterator().get_next()
    assert images.shape.as_list() == [None, 12]
    got = []
    with tf.Session() as sess:
        while True:
            try:
                got.append(sess.run([images, labels]))
            except tf.errors.OutOfRangeError:
                break
    assert [len(b[1]) for b in got] == [4, 4, 2]
    np.testing.assert_array_equal(
        np.concatenate([b[1] for b in got]), [0, 1, 2, 3, 4] * 2
    )
    np.testing.assert_allclose(got[0][0][1], np.arange(1, 13) / 255.0, rtol=1e-6)


def test_dataset_filenames_fed_to_the_initializer(tmp_path):
    bad = bytearray((FIXTURES / "examples.tfrecord").read_bytes())
    bad[30] ^= 1
    (tmp_path / "bad.tfrecord").write_bytes(bytes(bad))
    filenames = tf.placeholder(tf.string, [None])
    iterator = tf.data.TFRecordDataset(filenames).make_initializable_iterator()
    record = iterator.get_next()
    with tf.Session() as sess:
        sess.run(
            iterator.initializer, {filenames: [str(FIXTURES / "examples.tfrecord")] * 2}
        )
        assert sum(1 for _ in iter(lambda: _next(sess, record), None)) == 10
        sess.run(iterator.initializer, {filenames: [str(tmp_path / "bad.tfrecord")]})
        with pytest.raises(
            tf.errors.DataLossError,
            match=re.escape(
                f"corrupted record at 0 in file {str(tmp_path / 'bad.tfrecord')!r}"
            ),
        ):
            sess.run(record)


def _next(sess, tensor):
    try:
        return sess.run(tensor)
    except tf.errors.OutOfRangeError:
        return None


def test_text_line_dataset_reads_lines_of_several_files(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x,1\ny,2\r\n")
    (tmp_path / "b.txt").write_bytes(b"z,3")
    files = tf.data.Dataset.from_tensor_slices(
        np.array([str(tmp_path / "a.txt"), str(tmp_path / "b.txt")])
    )
    line = tf.data.TextLineDataset(files).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        lines = [sess.run(line) for _ in range(3)]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(line)
    assert lines == [b"x,1", b"y,2", b"z,3"]


def test_read_file_and_base64(tmp_path):
    (tmp_path / "blob").write_bytes(b"\x00\xfa\xfbdata\x00")
    contents = tf.read_file(str(tmp_path / "blob"))
    encoded = tf.encode_base64(contents)
    padded = tf.io.encode_base64(contents, pad=True)
    with tf.Session() as sess:
        got = sess.run(
            [
                contents,
                encoded,
                padded,
                tf.decode_base64(encoded),
                tf.decode_base64(padded),
            ]
        )
        with pytest.raises(tf.errors.NotFoundError, match="nothing-here"):
            sess.run(tf.read_file(str(tmp_path / "nothing-here")))
    assert got[0] == b"\x00\xfa\xfbdata\x00"
    assert got[1] == base64.urlsafe_b64encode(got[0]).rstrip(b"=")
    assert got[2] == base64.urlsafe_b64encode(got[0])
    assert got[3] == got[4] == got[0]


def test_decode_raw_shapes_and_errors():
    strings = tf.placeholder(tf.string, [2])
    as_int16 = tf.decode_raw(strings, tf.int16, little_endian=False)
    assert as_int16.shape.as_list() == [2, None]
    with tf.Session() as sess:
        got = sess.run(as_int16, {strings: [b"\x00\x01\x00\x02", b"\x01\x00\x00\x00"]})
        np.testing.assert_array_equal(got, [[1, 2], [256, 0]])
        with pytest.raises(tf.errors.InvalidArgumentError, match="not a multiple of 2"):
            sess.run(as_int16, {strings: [b"\x00", b"\x00"]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="same size"):
            sess.run(as_int16, {strings: [b"\x00\x01", b"\x00\x01\x00\x02"]})
