"""tf.image as TF1 programs use it: preprocessing pipelines, codecs, errors.

Values of the device ops are checked against TensorFlow in
tests/goldens/cases_image.py; the codecs here against files TensorFlow wrote
(tests/fixtures/image/, made by its make_fixtures.py).
"""

import pathlib
import re
import sys

import numpy as np
import pytest

import jaxsession as tf

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "image"


def _fixture(name):
    return (FIXTURES / name).read_bytes(), np.load(FIXTURES / f"{name}.npy")


def test_preprocessing_pipeline_of_a_fed_png():
    data, pixels = _fixture("rgb.png")
    contents = tf.placeholder(tf.string, [])
    image = tf.image.decode_png(contents, channels=3)
    image = tf.image.convert_image_dtype(image, tf.float32)
    image = tf.image.resize_images(image, [8, 10])
    image = tf.image.random_flip_left_right(image, seed=1)
    image = tf.image.random_crop(image, [6, 6, 3], seed=2)
    image = tf.image.random_brightness(image, 0.1, seed=3)
    image = tf.image.per_image_standardization(image)
    batch = tf.expand_dims(image, 0)
    assert image.shape.as_list() == [6, 6, 3]
    with tf.Session() as sess:
        out = sess.run(batch, {contents: data})
    assert out.shape == (1, 6, 6, 3) and out.dtype == np.float32
    assert abs(out.mean()) < 1e-5 and abs(out.std() - 1.0) < 1e-3
    # The pixels really came from the file: the resized image spans its range.
    assert pixels.shape == (5, 7, 3)


def test_random_image_ops_follow_the_graph_seed():
    def draw():
        tf.reset_default_graph()
        tf.set_random_seed(7)
        x = tf.constant(np.arange(2 * 4 * 4 * 1, dtype=np.float32).reshape(2, 4, 4, 1))
        flips = tf.image.random_flip_up_down(x)
        crop = tf.image.random_crop(x, [2, 2, 2, 1])
        with tf.Session() as sess:
            return [sess.run([flips, crop]) for _ in range(4)]

    first, second = draw(), draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    crops = {first[i][1].tobytes() for i in range(4)}
    assert len(crops) > 1  # a new draw each run


@pytest.mark.parametrize("name", ["rgb.png", "gray.png", "rgba.png", "gray16.png"])
def test_png_written_by_tensorflow_decodes_to_its_pixels(name):
    data, pixels = _fixture(name)
    dtype = tf.uint16 if pixels.dtype == np.uint16 else tf.uint8
    png = tf.image.decode_png(tf.constant(data), dtype=dtype)
    image = tf.image.decode_image(data) if dtype == tf.uint8 else png
    assert png.shape.as_list() == [None, None, None]
    with tf.Session() as sess:
        got, again = sess.run([png, image])
    np.testing.assert_array_equal(got, pixels)
    np.testing.assert_array_equal(again, pixels if dtype == tf.uint8 else got)


@pytest.mark.parametrize("name", ["rgb.jpg", "gray.jpg"])
def test_jpeg_written_by_tensorflow_decodes_close_to_its_pixels(name):
    data, pixels = _fixture(name)
    image = tf.image.decode_jpeg(data)
    with tf.Session() as sess:
        got = sess.run(image)
    assert got.shape == pixels.shape and got.dtype == np.uint8
    # Pillow's and TF's libjpeg upsample chroma differently: a few levels.
    diff = np.abs(got.astype(int) - pixels.astype(int))
    assert diff.max() <= 6 and diff.mean() < 1.5


def test_channels_argument_converts_as_tensorflow_does():
    data, pixels = _fixture("rgb.png")
    gray = tf.image.decode_png(data, channels=1)
    rgba = tf.image.decode_png(data, channels=4)
    assert gray.shape.as_list() == [None, None, 1]
    with tf.Session() as sess:
        g, a = sess.run([gray, rgba])
    assert g.shape == (5, 7, 1)
    np.testing.assert_array_equal(a[..., :3], pixels)
    assert (a[..., 3] == 255).all()


def test_encode_png_round_trips_and_encode_jpeg_stays_close():
    pixels = np.load(FIXTURES / "rgb.jpg.npy")
    x = tf.placeholder(tf.uint8, [None, None, 3])
    png, jpeg = tf.image.encode_png(x), tf.image.encode_jpeg(x, quality=95)
    assert png.shape.as_list() == [] and png.dtype == tf.string
    with tf.Session() as sess:
        png_bytes, jpeg_bytes = sess.run([png, jpeg], {x: pixels})
        assert png_bytes.startswith(b"\x89PNG") and jpeg_bytes.startswith(b"\xff\xd8")
        back, approx = sess.run(
            [tf.image.decode_png(png_bytes), tf.image.decode_jpeg(jpeg_bytes)]
        )
    np.testing.assert_array_equal(back, pixels)
    assert np.abs(approx.astype(int) - pixels.astype(int)).mean() < 4


def test_bad_contents_raise_invalid_argument_naming_the_op():
    contents = tf.placeholder(tf.string, [])
    image = tf.image.decode_jpeg(contents, name="photo")
    png, _ = _fixture("gray.png")
    with tf.Session() as sess:
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="photo: cannot decode"
        ):
            sess.run(image, {contents: b"not an image"})
        with pytest.raises(tf.errors.InvalidArgumentError, match="expected JPEG"):
            sess.run(image, {contents: png})


def test_codecs_without_pillow_name_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'jaxsession[image]'")):
        tf.image.decode_png(b"")


def test_image_rank_and_box_errors_name_the_tensor():
    flat = tf.placeholder(tf.float32, [4, 4], name="flat")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "'image' must have either 3 or 4 dimensions: "
            "<tf.Tensor 'flat:0' shape=(4, 4) dtype=float32> has 2."
        ),
    ):
        tf.image.flip_left_right(flat)
    with pytest.raises(ValueError, match="'images' must have either 3 or 4"):
        tf.image.resize_images(flat, [2, 2])
    img = tf.placeholder(tf.float32, [None, 5, 8, 3], name="img")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "height must be >= target + offset: <tf.Tensor 'img:0' "
            "shape=(?, 5, 8, 3) dtype=float32> has height 5, the box needs 5 + 1."
        ),
    ):
        tf.image.crop_to_bounding_box(img, 1, 0, 5, 3)
    with pytest.raises(ValueError, match="must have 3 \\(RGB\\) channels"):
        tf.image.adjust_saturation(tf.zeros([2, 2, 4]), 2.0)


def test_images_from_a_dataset_iterator_decode_on_the_host():
    names = ["rgb.png", "rgba.png"]
    blobs = np.array([(FIXTURES / n).read_bytes() for n in names], dtype=object)
    iterator = tf.data.Dataset.from_tensor_slices(blobs).make_one_shot_iterator()
    image = tf.image.decode_png(iterator.get_next(), channels=3)
    small = tf.image.resize_images(
        image, [2, 3], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR
    )
    with tf.Session() as sess:
        first, second = sess.run(small), sess.run(small)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(small)
    for got, name in zip((first, second), names):
        pixels = np.load(FIXTURES / f"{name}.npy")[..., :3]
        h, w = pixels.shape[:2]
        # TF1's nearest neighbour: source index floor(i * in / out).
        rows, cols = np.arange(2) * h // 2, np.arange(3) * w // 3
        np.testing.assert_array_equal(got, pixels[rows][:, cols])


def test_a_dataset_map_decodes_and_preprocesses_as_tf1_pipelines_do():
    # The TF1 pattern: files -> Dataset.map(decode, convert, resize) -> batch.
    names = ["rgb.png", "rgba.png"]
    blobs = np.array([(FIXTURES / n).read_bytes() for n in names], dtype=object)

    def preprocess(blob):
        image = tf.image.decode_png(blob, channels=3)
        image = tf.image.convert_image_dtype(image, tf.float32)
        return tf.image.resize_images(
            image, [2, 3], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR
        )

    batch = (
        tf.data.Dataset.from_tensor_slices(blobs)
        .map(preprocess)
        .batch(2)
        .make_one_shot_iterator()
        .get_next()
    )
    with tf.Session() as sess:
        got = sess.run(batch)
    assert got.shape == (2, 2, 3, 3) and got.dtype == np.float32
    for image, name in zip(got, names):
        pixels = np.load(FIXTURES / f"{name}.npy")[..., :3]
        h, w = pixels.shape[:2]
        rows, cols = np.arange(2) * h // 2, np.arange(3) * w // 3
        np.testing.assert_allclose(image, pixels[rows][:, cols] / 255.0, rtol=1e-6)


def test_a_dataset_map_encodes_pngs_that_decode_back():
    pixels = np.load(FIXTURES / "rgb.png.npy")[None].repeat(2, axis=0)
    encoded = (
        tf.data.Dataset.from_tensor_slices(pixels)
        .map(tf.image.encode_png)
        .make_one_shot_iterator()
        .get_next()
    )
    decoded = tf.image.decode_png(encoded, channels=3)
    with tf.Session() as sess:
        for _ in range(2):
            np.testing.assert_array_equal(sess.run(decoded), pixels[0])
