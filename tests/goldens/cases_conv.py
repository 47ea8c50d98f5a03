"""Golden cases: convolution variants (tf.nn) and the conv/pool layers.

Values, static shapes and gradients of 1-D/3-D, transposed, depthwise,
separable and atrous convolutions; the tf.layers functions and classes built
on them, with their variable names.
"""

from tests.goldens.cases import A, F, L, case_adder

CASES = []
case = case_adder(CASES)
TOL = [1e-4, 1e-5]
CI = A("constant_initializer", 0.1)

# -- tf.nn ---------------------------------------------------------------------
case("conv/conv1d", "nn.conv1d", F([2, 7, 3]), F([3, 3, 4]), L(2), L("SAME"), tol=TOL)
case(
    "conv/conv1d_valid_dilated",
    "nn.conv1d",
    F([None, 9, 2]),
    F([2, 2, 3]),
    kw={"stride": 1, "padding": "VALID", "dilations": 2},
    rec="sv",  # TF CPU cannot differentiate a dilated conv1d
    tol=TOL,
)
case(
    "conv/conv1d_ncw",
    "nn.conv1d",
    F([2, 3, 6]),
    F([2, 3, 2]),
    kw={"stride": [1, 1, 2], "padding": "VALID", "data_format": "NCW"},
    rec="s",
)
case(
    "conv/conv3d",
    "nn.conv3d",
    F([2, 4, 5, 5, 2]),
    F([2, 3, 2, 2, 3]),
    kw={"strides": [1, 1, 2, 2, 1], "padding": "SAME"},
    tol=TOL,
)
case(
    "conv/conv3d_valid",
    "nn.conv3d",
    F([None, 4, 4, 4, 1]),
    F([2, 2, 2, 1, 2]),
    kw={"strides": [1, 1, 1, 1, 1], "padding": "VALID"},
    tol=TOL,
)
case(
    "conv/conv3d_depth_error",
    "nn.conv3d",
    F([1, 4, 4, 4, 3]),
    F([2, 2, 2, 2, 2]),
    kw={"strides": [1, 1, 1, 1, 1], "padding": "VALID"},
    rec="s",
)
case(
    "conv/conv2d_transpose_valid",
    "nn.conv2d_transpose",
    F([2, 3, 3, 2]),
    F([3, 3, 4, 2]),
    L([2, 7, 7, 4]),
    kw={"strides": [1, 2, 2, 1], "padding": "VALID"},
    tol=TOL,
)
case(
    "conv/conv2d_transpose_same_odd",
    "nn.conv2d_transpose",
    F([1, 3, 3, 2]),
    F([3, 3, 1, 2]),
    L([1, 5, 5, 1]),
    kw={"strides": [1, 2, 2, 1], "padding": "SAME"},
    tol=TOL,
)
case(
    "conv/conv2d_transpose_dynamic_batch",
    "nn.conv2d_transpose",
    F([None, 3, 3, 2], feed=[3, 3, 3, 2]),
    F([2, 2, 4, 2]),
    kw={"strides": 2},
    kind="transpose_dynamic",
    tol=TOL,
)
case(
    "conv/conv2d_transpose_skip_shape",
    "nn.conv2d_transpose",
    F([None, 2, 2, 3]),
    F([3, 3, 2, 3]),
    F([None, 4, 4, 2]),
    kw={"strides": [1, 2, 2, 1], "padding": "SAME"},
    kind="transpose_dynamic",
    tol=TOL,
)
case(
    "conv/conv2d_transpose_nchw",
    "nn.conv2d_transpose",
    F([1, 2, 3, 3]),
    F([2, 2, 4, 2]),
    L([1, 4, 6, 6]),
    kw={"strides": [1, 1, 2, 2], "padding": "SAME", "data_format": "NCHW"},
    rec="s",
)
case(
    "conv/conv2d_transpose_bad_size_error",
    "nn.conv2d_transpose",
    F([1, 3, 3, 2]),
    F([2, 2, 4, 2]),
    L([1, 6, 6]),
    kw={"strides": [1, 2, 2, 1]},
    rec="s",
)
case(
    "conv/conv2d_transpose_batch_error",
    "nn.conv2d_transpose",
    F([1, 3, 3, 2]),
    F([2, 2, 4, 2]),
    L([2, 6, 6, 4]),
    kw={"strides": [1, 2, 2, 1]},
    rec="s",
)
case(
    "conv/conv3d_transpose",
    "nn.conv3d_transpose",
    F([1, 2, 3, 3, 2]),
    F([2, 2, 2, 3, 2]),
    L([1, 4, 6, 6, 3]),
    kw={"strides": [1, 2, 2, 2, 1], "padding": "SAME"},
    tol=TOL,
)
case(
    "conv/depthwise_mult2_same_s2",
    "nn.depthwise_conv2d",
    F([2, 5, 5, 3]),
    F([3, 3, 3, 2]),
    kw={"strides": [1, 2, 2, 1], "padding": "SAME"},
    tol=TOL,
)
case(
    "conv/depthwise_rate",
    "nn.depthwise_conv2d",
    F([1, 6, 6, 2]),
    F([2, 2, 2, 2]),
    kw={"strides": [1, 1, 1, 1], "padding": "VALID", "rate": [2, 2]},
    tol=TOL,
)
case(
    "conv/depthwise_native",
    "nn.depthwise_conv2d_native",
    F([1, 4, 4, 2]),
    F([2, 2, 2, 3]),
    kw={"strides": [1, 1, 1, 1], "padding": "SAME"},
    tol=TOL,
)
case(
    "conv/depthwise_channels_error",
    "nn.depthwise_conv2d",
    F([1, 4, 4, 3]),
    F([2, 2, 2, 1]),
    kw={"strides": [1, 1, 1, 1], "padding": "SAME"},
    rec="s",
)
case(
    "conv/separable",
    "nn.separable_conv2d",
    F([2, 5, 5, 2]),
    F([3, 3, 2, 2]),
    F([1, 1, 4, 3]),
    kw={"strides": [1, 1, 1, 1], "padding": "SAME"},
    tol=TOL,
)
case(
    "conv/atrous",
    "nn.atrous_conv2d",
    F([2, 7, 7, 2]),
    F([3, 3, 2, 3]),
    L(2),
    L("SAME"),
    tol=TOL,
)
case(
    "conv/atrous_valid",
    "nn.atrous_conv2d",
    F([1, 7, 7, 1]),
    F([2, 2, 1, 2]),
    L(3),
    L("VALID"),
    tol=TOL,
)
case(
    "conv/xw_plus_b_named",
    "nn.xw_plus_b",
    F([2, 3]),
    F([3, 4]),
    F([4]),
    kw={"name": "logits"},
    rec="svgn",
)
case(
    "conv/bias_add_nchw",
    "nn.bias_add",
    F([2, 3, 2, 2]),
    F([3]),
    kw={"data_format": "NCHW"},
)

# -- tf.layers functions ---------------------------------------------------------
case(
    "conv/layers.conv1d",
    "layers.conv1d",
    F([None, 6, 2]),
    L(3),
    L(2),
    kw={"kernel_initializer": CI, "padding": "same"},
    rec="svgn",
    tol=TOL,
)
case(
    "conv/layers.conv3d",
    "layers.conv3d",
    F([None, 3, 4, 4, 1]),
    L(2),
    L(2),
    kw={"kernel_initializer": CI, "strides": (1, 2, 2)},
    rec="svgn",
    tol=TOL,
)
case(
    "conv/layers.conv2d_transpose_valid",
    "layers.conv2d_transpose",
    F([None, 3, 3, 2]),
    L(3),
    L(3),
    kw={"strides": 2, "kernel_initializer": CI, "activation": A("nn.relu")},
    rec="svgn",
    tol=TOL,
)
case(
    "conv/layers.conv2d_transpose_same_twice",
    "layers.conv2d_transpose",
    F([2, 3, 3, 2]),
    L(1),
    L([2, 3]),
    kw={"strides": (2, 1), "padding": "same", "kernel_initializer": CI},
    repeat=2,
    rec="svgn",
    tol=TOL,
)
case(
    "conv/layers.separable_conv2d",
    "layers.separable_conv2d",
    F([None, 5, 5, 2]),
    L(3),
    L(3),
    kw={
        "depth_multiplier": 2,
        "depthwise_initializer": CI,
        "pointwise_initializer": A("constant_initializer", 0.2),
    },
    rec="svgn",
    tol=TOL,
)

# -- tf.layers classes -----------------------------------------------------------
case(
    "conv/layers.Conv2D",
    "layers.Conv2D",
    F([None, 5, 5, 2]),
    kw={"filters": 3, "kernel_size": 3, "kernel_initializer": CI},
    kind="factory",
    rec="svgn",
    tol=TOL,
)
case(
    "conv/layers.Conv1D",
    "layers.Conv1D",
    F([None, 5, 2]),
    kw={"filters": 2, "kernel_size": 2, "kernel_initializer": CI},
    kind="factory",
    rec="svgn",
    tol=TOL,
)
case(
    "conv/layers.Conv2DTranspose",
    "layers.Conv2DTranspose",
    F([None, 2, 2, 3]),
    kw={
        "filters": 2,
        "kernel_size": 3,
        "strides": 2,
        "padding": "same",
        "kernel_initializer": CI,
    },
    kind="factory",
    rec="svgn",
    tol=TOL,
)
case(
    "conv/layers.MaxPooling2D",
    "layers.MaxPooling2D",
    F([None, 4, 4, 2]),
    kw={"pool_size": 2, "strides": 2},
    kind="factory",
    rec="svgn",
)
case(
    "conv/layers.AveragePooling2D",
    "layers.AveragePooling2D",
    F([None, 5, 5, 1]),
    kw={"pool_size": 3, "strides": 2, "padding": "same"},
    kind="factory",
    rec="svgn",
)
case(
    "conv/layers.Flatten",
    "layers.Flatten",
    F([None, 2, 3, 2]),
    kind="factory",
    rec="svgn",
)
case(
    "conv/layers.Dropout",
    "layers.Dropout",
    F([2, 3]),
    kw={"rate": 0.5},
    kind="factory",
    rec="svgn",
)
case(
    "conv/layers.BatchNormalization",
    "layers.BatchNormalization",
    F([4, 3]),
    kind="factory",
    rec="svg",
    tol=TOL,
)
case(
    "conv/layers.Dense_shared",
    "layers.Dense",
    F([None, 3]),
    kw={"units": 2, "kernel_initializer": CI, "activation": A("nn.tanh")},
    kind="layer_object",
    rec="svgn",
)
case(
    "conv/layers.Conv2D_shared",
    "layers.Conv2D",
    F([None, 4, 4, 1]),
    kw={"filters": 2, "kernel_size": 2, "kernel_initializer": CI, "name": "c"},
    kind="layer_object",
    rec="svgn",
    tol=TOL,
)


def build_layer_object(tf, case, ctx):
    """One layer object called twice (shared variables), then a second object."""
    kw = {k: ctx.resolve(v, k) for k, v in case["kw"].items()}
    (x,) = [ctx.resolve(a, str(i)) for i, a in enumerate(case["args"])]
    layer = getattr(tf.layers, case["fn"].split(".")[1])(**kw)
    first = layer(x)
    second = layer.apply(x * 2.0)
    kw.pop("name", None)
    other = type(layer)(**kw)(x)
    extra = {
        "kernel": layer.kernel.name,
        "bias": layer.bias.name,
        "trainable": [v.name for v in layer.trainable_variables],
        "variables": [v.name for v in layer.variables],
        "layer_name": layer.name,
    }
    outs = [first, second, other]
    return outs, [(outs, ctx.feed)], outs, extra


def build_transpose_dynamic(tf, case, ctx):
    """output_shape from tf.shape: of a skip tensor, or stacked with the batch."""
    args, kw = ctx.args()
    if len(args) == 3:
        x, w, skip = args
        out = tf.nn.conv2d_transpose(x, w, tf.shape(skip), **kw)
        out = out + skip
    else:
        x, w = args
        shape = tf.stack([tf.shape(x)[0], 6, 6, 4])
        out = tf.nn.conv2d_transpose(x, w, shape, **kw)
    return [out], [([out], ctx.feed)], [out]


BUILDERS = {
    "layer_object": build_layer_object,
    "transpose_dynamic": build_transpose_dynamic,
}
