"""Convolution variants and the tf.layers classes, written as TF1 programs.

Values of every variant are checked against TensorFlow in
tests/goldens/cases_conv.py; here: training with layer objects, the
autoencoder shape flow of conv2d_transpose, variable sharing and errors.
"""

import re

import numpy as np
import pytest

import jaxsession as tf

RNG = np.random.default_rng(1)


def _images(n):
    """Bright-left vs bright-right 8x8 images, labels 0/1."""
    x = RNG.uniform(0.0, 0.2, (n, 8, 8, 1)).astype(np.float32)
    y = RNG.integers(0, 2, n)
    for i, label in enumerate(y):
        cols = slice(4, 8) if label else slice(0, 4)
        x[i, :, cols, 0] += 0.8
    return x, y.astype(np.int32)


def test_small_cnn_of_layer_objects_trains():
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    labels = tf.placeholder(tf.int32, [None])
    training = tf.placeholder_with_default(False, [])
    conv = tf.layers.Conv2D(4, 3, padding="same", activation=tf.nn.relu)
    pool = tf.layers.MaxPooling2D(2, 2)
    bn = tf.layers.BatchNormalization()
    drop = tf.layers.Dropout(0.25)
    dense = tf.layers.Dense(2)
    h = pool(conv(x))
    h = drop(tf.layers.Flatten()(bn(h, training=training)), training=training)
    logits = dense(h)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
    assert conv.kernel.name == "conv2d/kernel:0"
    assert [v.name for v in dense.trainable_variables] == [
        "dense/kernel:0",
        "dense/bias:0",
    ]
    assert [v.name for v in bn.non_trainable_variables] == [
        "batch_normalization/moving_mean:0",
        "batch_normalization/moving_variance:0",
    ]
    assert len(bn.updates) == 2
    assert logits.shape.as_list() == [None, 2]
    xs, ys = _images(64)
    feed = {x: xs, labels: ys, training: True}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # One signature: the loss and logits fetched are those before the step.
        losses = [sess.run([train, loss, logits], feed)[1:] for _ in range(40)]
    first, (last, out) = losses[0][0], losses[-1]
    assert last < 0.5 * first
    assert (out.argmax(1) == ys).mean() > 0.9


def test_layer_object_called_twice_shares_its_variables():
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [None, 3])
    layer = tf.layers.Dense(2, kernel_initializer=tf.constant_initializer(0.5))
    with pytest.raises(AttributeError, match="exist once it is called"):
        layer.kernel  # noqa: B018
    ya, yb = layer(a), layer.apply(b)
    other = tf.layers.Dense(2)
    other(a)
    assert [v.name for v in tf.global_variables()] == [
        "dense/kernel:0",
        "dense/bias:0",
        "dense_1/kernel:0",
        "dense_1/bias:0",
    ]
    assert (layer.name, other.name) == ("dense_1", "dense_2")  # Keras numbering
    assert (ya.name, yb.name) == ("dense/BiasAdd:0", "dense/BiasAdd_1:0")
    assert layer.units == 2 and layer.built
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        va, vb = sess.run([ya, yb], {a: np.ones((1, 3)), b: 2 * np.ones((1, 3))})
    np.testing.assert_allclose(va, [[1.5, 1.5]])
    np.testing.assert_allclose(vb, [[3.0, 3.0]])


def test_conv2d_transpose_autoencoder_shape_flow_and_training():
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    h1 = tf.layers.conv2d(x, 4, 3, strides=2, padding="same", activation=tf.nn.relu)
    h2 = tf.layers.conv2d(h1, 8, 3, strides=2, padding="same", activation=tf.nn.relu)
    d1 = tf.layers.conv2d_transpose(h2, 4, 3, strides=2, padding="same")
    # The skip connection: output_shape from the encoder's tensor.
    w = tf.get_variable("w_out", [3, 3, 1, 4])
    d2 = tf.nn.conv2d_transpose(
        tf.nn.relu(d1 + h1), w, tf.shape(x), [1, 2, 2, 1], padding="SAME"
    )
    assert [t.shape.as_list() for t in (h1, h2, d1, d2)] == [
        [None, 4, 4, 4],
        [None, 2, 2, 8],
        [None, 4, 4, 4],
        [None, 8, 8, 1],
    ]
    assert d1.name == "conv2d_transpose/BiasAdd:0"
    loss = tf.reduce_mean(tf.square(d2 - x))
    train = tf.train.AdamOptimizer(0.01).minimize(loss)
    xs = _images(16)[0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        steps = [sess.run([train, loss, d2], {x: xs})[1:] for _ in range(60)]
    (first, _), (last, out) = steps[0], steps[-1]
    assert out.shape == (16, 8, 8, 1)
    assert last < 0.5 * first


def test_conv2d_transpose_is_the_gradient_of_conv2d():
    y = RNG.standard_normal((2, 5, 5, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)
    g = RNG.standard_normal((2, 3, 3, 4)).astype(np.float32)
    yt = tf.constant(y)
    conv = tf.nn.conv2d(yt, w, [1, 2, 2, 1], "SAME")
    (grad,) = tf.gradients(conv, yt, grad_ys=tf.constant(g))
    transposed = tf.nn.conv2d_transpose(g, w, [2, 5, 5, 3], [1, 2, 2, 1])
    with tf.Session() as sess:
        a, b = sess.run([grad, transposed])
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_bad_output_shape_names_tensor_and_sizes():
    x = tf.placeholder(tf.float32, [None, 3, 3, 2], name="code")
    w = tf.zeros([2, 2, 4, 2])
    msg = (
        "conv2d_transpose: output_shape [None, 7, 7, 4] does not fit value "
        "<tf.Tensor 'code:0' shape=(?, 3, 3, 2) dtype=float32>: a SAME-padded "
        "convolution of it with strides [2, 2] gives spatial dim 0 of size 4, "
        "but value has 3"
    )
    shape = tf.stack([tf.shape(x)[0], 7, 7, 4])
    with pytest.raises(ValueError, match=re.escape(msg)):
        tf.nn.conv2d_transpose(x, w, shape, [1, 2, 2, 1])
    with pytest.raises(ValueError, match=r"output_shape's channels \(3\) must equal"):
        tf.nn.conv2d_transpose(x, w, [1, 6, 6, 3], [1, 2, 2, 1])
    with pytest.raises(ValueError, match="requires output_shape to contain 4 values"):
        tf.nn.conv2d_transpose(x, w, [6, 6, 4], [1, 2, 2, 1])


def test_depthwise_channel_multiplier_layout():
    x = np.arange(2 * 3 * 3 * 2, dtype=np.float32).reshape(2, 3, 3, 2)
    w = np.zeros((1, 1, 2, 3), np.float32)
    w[0, 0, 0] = [1.0, 2.0, 3.0]
    w[0, 0, 1] = [10.0, 20.0, 30.0]
    out = tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID")
    assert out.shape.as_list() == [2, 3, 3, 6]
    with tf.Session() as sess:
        got = sess.run(out)
    want = np.concatenate([x[..., :1] * w[0, 0, 0], x[..., 1:] * w[0, 0, 1]], -1)
    np.testing.assert_allclose(got, want)


def test_conv_layers_reject_unknown_channels_and_bad_kernel_size():
    with pytest.raises(ValueError, match="channel dimension of the inputs"):
        tf.layers.Conv1D(2, 3)(tf.placeholder(tf.float32, [None, 5, None]))
    with pytest.raises(ValueError, match="must be a tuple of 3 integers"):
        tf.layers.conv3d(tf.zeros([1, 4, 4, 4, 1]), 2, (2, 2))
    with pytest.raises(ValueError, match="Shape must be rank 3"):
        tf.nn.conv1d(tf.zeros([1, 4, 4, 1]), tf.zeros([2, 1, 1]), 1, "SAME")
