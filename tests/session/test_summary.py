"""Summary ops (graph/summary.py) and the FileWriter / writer cache."""

import io
import logging
import re
import struct
import time
import wave
import zlib

import numpy as np
import pytest
from tensorboardX.proto.event_pb2 import Event, SessionLog
from tensorboardX.proto.summary_pb2 import Summary

import jaxsession as tf
from jaxsession import errors, summary as tf_summary
from jaxsession.graph.rules import HOST_POST_OPS
from jaxsession.session.summary_writer import FileWriterCache, SummaryWriterCache
from tests.helpers.events import event_files, read_events, read_records


def parse(serialized):
    return Summary.FromString(serialized)


def decode_png(data):
    """Pixels of a PNG written with filter type 0 (what encode_png writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks.setdefault(kind, b"")
        chunks[kind] += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    assert depth == 8
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8)
    rows = raw.reshape(height, 1 + width * channels)
    assert not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, channels)


# -- ops: names, tags, collections ---------------------------------------------------


def test_summary_ops_are_host_post_ops():
    for op_type in (
        "ScalarSummary",
        "HistogramSummary",
        "ImageSummary",
        "AudioSummaryV2",
        "TensorSummaryV2",
        "MergeSummary",
    ):
        assert op_type in HOST_POST_OPS


def test_tags_follow_name_scopes_families_and_uniquification():
    x = tf.constant(3.0)
    with tf.name_scope("train"):
        a = tf_summary.scalar("loss", x)
        b = tf_summary.scalar("loss", x)
    c = tf_summary.scalar("acc", x, family="eval")
    d = tf_summary.scalar("bad name!", x)
    assert [a.op.name, b.op.name, c.op.name, d.op.name] == [
        "train/loss",
        "train/loss_1",
        "eval/acc",
        "bad_name_",
    ]
    assert a.dtype is tf.string and a.shape.as_tuple() == ()
    with tf.Session() as sess:
        out = sess.run([a, b, c, d])
    tags = [parse(s).value[0].tag for s in out]
    assert tags == ["train/loss", "train/loss_1", "eval/eval/acc", "bad_name_"]


def test_collections_default_to_summaries():
    x = tf.constant(1.0)
    a = tf_summary.scalar("a", x)
    b = tf_summary.histogram("b", x, collections=["mine"])
    c = tf_summary.scalar("c", x, collections=[])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a]
    assert tf.get_collection("mine") == [b]
    assert c not in tf.get_collection(tf.GraphKeys.SUMMARIES)
    merged = tf_summary.merge([a, b], collections=["merged"])
    assert tf.get_collection("merged") == [merged]


def test_scalar_values_and_dtypes():
    f = tf.constant(2.5)
    i = tf.constant(7, dtype=tf.int64)
    v = tf.Variable(4.0)
    ops = [
        tf_summary.scalar("f", f),
        tf_summary.scalar("i", i),
        tf_summary.scalar("v", v.value() * 2),
    ]
    with tf.Session() as sess:
        sess.run(v.initializer)
        out = sess.run(ops)
    assert [parse(s).value[0].simple_value for s in out] == [2.5, 7.0, 8.0]


def test_scalar_shape_and_type_errors():
    with pytest.raises(
        ValueError,
        match=re.escape("tags and values not the same shape: [] != [2] (tag 'pair')"),
    ):
        tf_summary.scalar("pair", tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="has DataType string not in list of allowed"):
        tf_summary.scalar("s", tf.constant("text"))
    x = tf.placeholder(tf.float32, shape=None)
    summary = tf_summary.scalar("late", x)
    with tf.Session() as sess:
        assert parse(sess.run(summary, {x: 1.5})).value[0].simple_value == 1.5
        with pytest.raises(
            errors.InvalidArgumentError,
            match=re.escape(
                "tags and values not the same shape: [] != [3] (tag 'late')"
            ),
        ):
            sess.run(summary, {x: [1.0, 2.0, 3.0]})


# -- histogram ------------------------------------------------------------------------


def reference_histogram(values):
    """TF's default buckets, written out independently of the implementation."""
    edges = [1e-12]
    while edges[-1] * 1.1 < 1e20:
        edges.append(edges[-1] * 1.1)
    limits = [-x for x in reversed([*edges, np.finfo(np.float64).max])]
    limits += [0.0, *edges, np.finfo(np.float64).max]
    counts = [0] * len(limits)
    for v in values:
        counts[next(i for i, lim in enumerate(limits) if v < lim)] += 1
    out_limits, out_counts, i = [], [], 0
    while i < len(counts):
        if counts[i] > 0:
            out_limits.append(limits[i])
            out_counts.append(counts[i])
            i += 1
            continue
        while i < len(counts) and counts[i] == 0:
            i += 1
        out_limits.append(limits[i - 1])
        out_counts.append(0)
    return out_limits, out_counts


def test_histogram_matches_tf_default_buckets():
    values = np.array([0.5, 0.5, 3.0, -2.0, 0.0, 1e-3], np.float32)
    h = tf_summary.histogram("h", tf.constant(values))
    with tf.Session() as sess:
        proto = parse(sess.run(h)).value[0]
    assert proto.tag == "h"
    histo = proto.histo
    v64 = values.astype(np.float64)
    assert (histo.min, histo.max, histo.num) == (-2.0, 3.0, 6)
    assert histo.sum == pytest.approx(v64.sum())
    assert histo.sum_squares == pytest.approx(float(v64 @ v64))
    limits, counts = reference_histogram(v64)
    np.testing.assert_allclose(list(histo.bucket_limit), limits, rtol=1e-12)
    assert list(histo.bucket) == counts


def test_histogram_rejects_non_finite_values():
    x = tf.placeholder(tf.float32, shape=[2])
    with tf.name_scope("layer"):
        h = tf_summary.histogram("w", x)
    with tf.Session() as sess:
        with pytest.raises(
            errors.InvalidArgumentError,
            match=re.escape("Nan in summary histogram for: layer/w"),
        ):
            sess.run(h, {x: [1.0, np.nan]})


# -- image, audio, text, tensor ----------------------------------------------------------


def test_image_uint8_tags_and_pixels():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(3, 4, 5, 3), dtype=np.uint8)
    two = tf_summary.image("img", tf.constant(batch), max_outputs=2)
    one = tf_summary.image("one", tf.constant(batch[:, :, :, :1]), max_outputs=1)
    with tf.Session() as sess:
        out_two, out_one = (parse(s) for s in sess.run([two, one]))
    assert [v.tag for v in out_two.value] == ["img/image/0", "img/image/1"]
    for value, expected in zip(out_two.value, batch):
        img = value.image
        assert (img.height, img.width, img.colorspace) == (4, 5, 3)
        np.testing.assert_array_equal(decode_png(img.encoded_image_string), expected)
    assert [v.tag for v in out_one.value] == ["one/image"]
    np.testing.assert_array_equal(
        decode_png(out_one.value[0].image.encoded_image_string), batch[0, :, :, :1]
    )


def test_image_float_scaling_as_tf1():
    positive = np.array([[[[0.0], [0.5]], [[1.0], [2.0]]]], np.float32)
    signed = np.array([[[[-1.0], [0.0]], [[0.5], [np.inf]]]], np.float32)
    ops = [
        tf_summary.image("p", tf.constant(positive)),
        tf_summary.image("s", tf.constant(np.repeat(signed, 3, axis=-1))),
    ]
    with tf.Session() as sess:
        p, s = (parse(x).value[0].image.encoded_image_string for x in sess.run(ops))
    # Non-negative: scale so the maximum is 255 (truncating to uint8).
    np.testing.assert_array_equal(decode_png(p)[..., 0], [[0, 63], [127, 255]])
    # Signed: 0 -> 128, largest magnitude -> +-127; non-finite pixels are red.
    np.testing.assert_array_equal(
        decode_png(s), [[[1, 1, 1], [128, 128, 128]], [[191, 191, 191], [255, 0, 0]]]
    )


def _refuses_two_channels(sess, img, x):
    with pytest.raises(
        errors.InvalidArgumentError,
        match=re.escape("Tensor must be 4-D with last dim 1, 3, or 4, not [1,2,2,2]"),
    ):
        sess.run(img, {x: np.zeros((1, 2, 2, 2), np.float32)})


def test_image_shape_errors():
    with pytest.raises(
        ValueError,
        match=re.escape("Tensor must be 4-D with last dim 1, 3, or 4, not [2,3]"),
    ):
        tf_summary.image("bad", tf.zeros([2, 3]))
    with pytest.raises(
        TypeError, match="has DataType int32 not in list of allowed values"
    ):
        tf_summary.image("ints", tf.zeros([1, 2, 2, 1], dtype=tf.int32))
    x = tf.placeholder(tf.float32, shape=None)
    img = tf_summary.image("late", x)
    with tf.Session() as sess:
        _refuses_two_channels(sess, img, x)


def test_images_are_cut_and_scaled_on_the_device_as_the_host_would():
    from jaxsession.library import summary_ops

    rng = np.random.default_rng(3)
    batch = rng.normal(size=(6, 5, 4, 3)).astype(np.float32) * 10.0
    batch[1] = np.abs(batch[1])  # non-negative: the largest becomes 255
    batch[2, 0, 0, 1] = np.nan  # a red pixel
    batch[2, 1, 1, 0] = -np.inf
    batch[3] = 1e-7  # below the scaling threshold: all 0
    batch[4] = np.nan  # nothing finite
    x = tf.placeholder(tf.float32, [None, 5, 4, 3], name="x")
    img = tf_summary.image("dev", x, max_outputs=5)
    cut = img.op.inputs[0]
    # Only the kept images, as bytes, leave the run.
    assert cut.op.type == "ImageToUint8" and cut.dtype == tf.uint8
    assert cut.shape.as_list() == [None, 5, 4, 3]
    with tf.Session() as sess:
        out, pixels = sess.run([img, cut], {x: batch})
    assert pixels.shape == (5, 5, 4, 3)
    for got, image in zip(pixels, batch):
        np.testing.assert_array_equal(got, summary_ops._to_uint8(image))
    values = parse(out).value
    assert [v.tag for v in values] == [f"dev/image/{i}" for i in range(5)]
    for value, image in zip(values, batch):
        np.testing.assert_array_equal(
            decode_png(value.image.encoded_image_string), summary_ops._to_uint8(image)
        )
    # A static batch smaller than max_outputs keeps its size.
    small = tf_summary.image("small", tf.constant(batch[:2]), max_outputs=3)
    assert small.op.inputs[0].shape.as_list() == [2, 5, 4, 3]


def test_an_image_of_unknown_channels_is_refused_at_run_time_naming_them():
    x = tf.placeholder(tf.float32, [None, None, None, None])
    img = tf_summary.image("late", x)
    with tf.Session() as sess:
        _refuses_two_channels(sess, img, x)
        got = parse(sess.run(img, {x: np.ones((4, 2, 2, 1), np.float32)}))
    assert [v.tag for v in got.value] == [f"late/image/{i}" for i in range(3)]
    assert decode_png(got.value[0].image.encoded_image_string).tolist() == [
        [[255], [255]],
        [[255], [255]],
    ]


def test_audio_wav_and_tags():
    clips = np.array([[0.0, 0.5, -1.0, 2.0], [0.25, 0.0, 0.0, 0.0]], np.float32)
    a = tf_summary.audio("snd", tf.constant(clips), sample_rate=8000, max_outputs=3)
    one = tf_summary.audio("one", tf.constant(clips), sample_rate=8000, max_outputs=1)
    with tf.Session() as sess:
        a_out, one_out = (parse(s) for s in sess.run([a, one]))
    assert [v.tag for v in a_out.value] == ["snd/audio/0", "snd/audio/1"]
    assert [v.tag for v in one_out.value] == ["one/audio"]
    audio = a_out.value[0].audio
    assert (audio.sample_rate, audio.num_channels, audio.length_frames) == (8000, 1, 4)
    assert audio.content_type == "audio/wav"
    with wave.open(io.BytesIO(audio.encoded_audio_string)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (
            8000,
            1,
            2,
        )
        samples = np.frombuffer(wav.readframes(4), "<i2")
    np.testing.assert_array_equal(samples, [0, 16384, -32768, 32767])
    with pytest.raises(
        ValueError, match=re.escape("Tensor must be 3-D or 2-D, got: [4]")
    ):
        tf_summary.audio("bad", tf.zeros([4]), 8000)


def test_text_and_tensor_summary():
    with pytest.raises(
        ValueError,
        match=re.escape("Expected tensor Const:0 to have dtype string, got float32"),
    ):
        tf_summary.text("bad", tf.constant(1.0))
    notes = tf.placeholder(tf.string, shape=[2])
    text = tf_summary.text("notes", notes)
    values = tf.constant([[1, 2], [3, 4]], dtype=tf.int64)
    tensor = tf_summary.tensor_summary("t", values, summary_description="ints")
    with tf.Session() as sess:
        t_out, v_out = sess.run(
            [text, tensor], {notes: np.array([b"a", b"bc"], object)}
        )
    t_val, v_val = parse(t_out).value[0], parse(v_out).value[0]
    assert t_val.tag == "notes"
    assert t_val.metadata.plugin_data.plugin_name == "text"
    assert list(t_val.tensor.string_val) == [b"a", b"bc"]
    assert [d.size for d in t_val.tensor.tensor_shape.dim] == [2]
    assert v_val.tag == "t" and v_val.metadata.summary_description == "ints"
    got = np.frombuffer(v_val.tensor.tensor_content, "<i8").reshape(2, 2)
    np.testing.assert_array_equal(got, [[1, 2], [3, 4]])


# -- merge --------------------------------------------------------------------------------


def test_merge_all_combines_values_in_order():
    assert tf_summary.merge_all() is None
    x = tf.constant(2.0)
    a = tf_summary.scalar("a", x)
    tf_summary.histogram("h", tf.constant([1.0]))
    with tf.name_scope("sub"):
        tf_summary.scalar("b", x * 3)
    merged = tf_summary.merge_all()
    only_sub = tf_summary.merge_all(scope="sub", name="subs")
    assert merged.op.name == "Merge/MergeSummary"
    assert only_sub.op.name == "subs/subs"
    with tf.Session() as sess:
        m, s, single = (parse(v) for v in sess.run([merged, only_sub, a]))
    assert [v.tag for v in m.value] == ["a", "h", "sub/b"]
    assert [v.simple_value for v in s.value] == [6.0]
    assert m.value[0] == single.value[0]


def test_merge_rejects_duplicate_tags():
    s = tf_summary.scalar("dup", tf.constant(1.0))
    merged = tf_summary.merge([s, s])
    with tf.Session() as sess:
        with pytest.raises(
            errors.InvalidArgumentError,
            match=re.escape("Duplicate tag dup found in summary inputs"),
        ):
            sess.run(merged)


# TF 2.21 compat.v1: tf.summary.merge([p, q]) of two fed strings (hex of the
# merged bytes, or the error's kind and its message here).
_MERGE_GOLDENS = {
    "bad_utf8": ((b"\n\x05\n\x03\xff\xfe\xfd", b""), "Could not parse"),
    "truncated": ((b"\n\x09\n\x03abc", b""), "Could not parse"),
    "garbage": ((b"\xff\xff", b""), "Could not parse"),
    "two_empty_tags": (
        (b"\n\x05\x15\x00\x00\x80?", b"\n\x05\x15\x00\x00\x00@"),
        "0a05150000803f0a051500000040",
    ),
    "dup_fed": (
        (b"\n\x08\n\x01x\x15\x00\x00\x80?", b"\n\x08\n\x01x\x15\x00\x00\x00@"),
        "Duplicate tag x found in summary inputs",
    ),
    # Written again in protobuf's field order, as TF1 does.
    "noncanonical": ((b"\n\x08\x15\x00\x00\x80?\n\x01x", b""), "0a080a0178150000803f"),
}


@pytest.mark.parametrize("case", sorted(_MERGE_GOLDENS))
def test_merge_of_fed_summaries_is_tf1s(case):
    (first, second), want = _MERGE_GOLDENS[case]
    p, q = tf.placeholder(tf.string, []), tf.placeholder(tf.string, [])
    merged = tf_summary.merge([p, q])
    with tf.Session() as sess:
        if " " in want:
            with pytest.raises(errors.InvalidArgumentError, match=re.escape(want)):
                sess.run(merged, {p: first, q: second})
        else:
            assert sess.run(merged, {p: first, q: second}).hex() == want


def test_merge_of_merged_summaries_is_tf1s():
    a = tf_summary.scalar("a", tf.constant(1.0))
    ab = tf_summary.merge([a, tf_summary.scalar("b", tf.constant(2.0))])
    nested = tf_summary.merge([ab, tf_summary.scalar("c", tf.constant(3.0))])
    with tf.Session() as sess:
        # TF 2.21 compat.v1's bytes.
        assert sess.run(nested).hex() == (
            "0a080a0161150000803f0a080a016215000000400a080a01631500004040"
        )
        with pytest.raises(
            errors.InvalidArgumentError,
            match=re.escape("Duplicate tag a found in summary inputs"),
        ):
            sess.run(tf_summary.merge([ab, a]))


# -- FileWriter ---------------------------------------------------------------------------


def test_file_writer_writes_summaries_and_session_logs(tmp_path):
    writer = tf_summary.FileWriter(str(tmp_path), filename_suffix=".v1")
    assert writer.get_logdir() == str(tmp_path)
    serialized = Summary(value=[Summary.Value(tag="loss", simple_value=1.5)])
    writer.add_summary(serialized.SerializeToString(), global_step=3)
    writer.add_summary(Summary(value=[Summary.Value(tag="acc", simple_value=0.5)]), 4)
    writer.add_session_log(SessionLog(status=SessionLog.START), 5)
    writer.add_run_metadata(None, "step_5", 5)
    with pytest.raises(
        ValueError, match="The provided tag was already used for this event type"
    ):
        writer.add_run_metadata(None, "step_5")
    writer.flush()
    (path,) = event_files(tmp_path)
    assert re.fullmatch(r"events\.out\.tfevents\.\d{10}\..+\.v1", path.name)
    events = read_events(tmp_path)
    assert events[0].file_version == "brain.Event:2"
    body = [(e.step, e.WhichOneof("what")) for e in events[1:]]
    assert body == [
        (3, "summary"),
        (4, "summary"),
        (5, "session_log"),
        (5, "tagged_run_metadata"),
    ]
    assert events[1].summary.value[0].simple_value == 1.5
    assert events[3].session_log.status == SessionLog.START
    assert events[4].tagged_run_metadata.tag == "step_5"
    writer.close()


def test_file_writer_keeps_metadata_only_on_first_value_of_a_tag(tmp_path):
    text = tf_summary.tensor_summary("t", tf.constant([1.0]), summary_description="d")
    with tf.Session() as sess:
        value = sess.run(text)
    with tf_summary.FileWriter(str(tmp_path)) as writer:
        writer.add_summary(value, 1)
        writer.add_summary(value, 2)
    first, second = (e.summary.value[0] for e in read_events(tmp_path)[1:])
    assert first.metadata.summary_description == "d"
    assert not second.HasField("metadata")


def test_file_writer_close_reopen_and_closed_warning(tmp_path, caplog):
    writer = tf_summary.FileWriter(str(tmp_path))
    writer.add_session_log(SessionLog(status=SessionLog.START), 1)
    writer.close()
    writer.close()
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        writer.add_session_log(SessionLog(status=SessionLog.STOP), 2)
    assert "Attempting to use a closed FileWriter" in caplog.text
    writer.reopen()
    writer.add_session_log(SessionLog(status=SessionLog.STOP), 3)
    writer.close()
    files = event_files(tmp_path)
    assert len(files) == 2
    steps = [[Event.FromString(r).step for r in read_records(f)] for f in files]
    assert sorted(steps) == [[0, 1], [0, 3]]


def test_file_writer_thread_flushes_every_flush_secs(tmp_path):
    writer = tf_summary.FileWriter(str(tmp_path), flush_secs=0.05)
    writer.add_session_log(SessionLog(status=SessionLog.START), 7)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and len(read_events(tmp_path)) < 2:
        time.sleep(0.02)
    assert [e.step for e in read_events(tmp_path)] == [0, 7]
    writer.close()


def test_writer_cache_shares_one_writer_per_directory(tmp_path):
    assert SummaryWriterCache is FileWriterCache
    a = FileWriterCache.get(str(tmp_path / "a"))
    assert FileWriterCache.get(str(tmp_path / "a")) is a
    b = FileWriterCache.get(str(tmp_path / "b"))
    assert b is not a
    a.add_session_log(SessionLog(status=SessionLog.START), 1)
    FileWriterCache.clear()
    assert a.event_file_path is None  # closed, so its events are on disk
    events = read_events(tmp_path / "a")
    # file_version first, the START last (the writer may add the graph between).
    assert events[0].file_version == "brain.Event:2"
    assert (events[-1].step, events[-1].session_log.status) == (1, SessionLog.START)
    assert FileWriterCache.get(str(tmp_path / "a")) is not a


def test_summary_iterator_reads_back_events_and_rejects_corruption(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path))
    for step in range(3):
        writer.add_summary(
            tf.summary.Summary(
                value=[tf.summary.Summary.Value(tag="loss", simple_value=step / 2)]
            ),
            step,
        )
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    events = list(tf.train.summary_iterator(str(path)))
    assert events[0].file_version == "brain.Event:2"
    scalars = [(e.step, v.tag, v.simple_value) for e in events for v in e.summary.value]
    assert scalars == [(0, "loss", 0.0), (1, "loss", 0.5), (2, "loss", 1.0)]
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data[:-1]))
    with pytest.raises(tf.errors.DataLossError, match="Truncated record at byte"):
        list(tf.train.summary_iterator(str(path)))
    path.write_bytes(bytes(data))
    with pytest.raises(tf.errors.DataLossError, match="Corrupted record at byte"):
        list(tf.train.summary_iterator(str(path)))
