"""Golden cases of recurrent cells, their drivers and the functional loops.

RNN cases build a cell from a spec (``["BasicLSTMCell", {kwargs}]``,
``["MultiRNNCell", [specs], {kwargs}]``, ``["DropoutWrapper", spec,
{kwargs}]``) under a root variable scope whose initializer is a fixed
pattern, so TF and jaxsession start from the same weights. Their outputs
are the driver's outputs and final state, the gradients of their sum with
respect to every trainable variable, and a string tensor listing the
variables' names and shapes (so names are compared although the drivers'
tensor names differ from TF's while-loop ops).
"""

import numpy as np

from tests.goldens.cases import I64, LIST, A, D, F, I, L, case_adder
from tests.goldens.harness import flatten

CASES = []
case = case_adder(CASES)


def _pattern(shape, dtype=None, partition_info=None, **_):
    """A fixed, varied initial value for a variable of ``shape``."""
    n = int(np.prod(shape)) if shape else 1
    base = np.sin(np.arange(n) * 0.731 + len(shape) + n * 0.013) * 0.6
    return base.reshape(shape).astype(np.float32 if dtype is None else dtype.name)


def _initializer(tf):
    def init(shape, dtype=None, partition_info=None, **_):
        return tf.constant(_pattern(list(shape), dtype), dtype=dtype)

    return init


def make_cell(tf, spec, ctx):
    """The cell a spec describes (see the module docstring)."""
    name, *rest = spec
    cls = getattr(tf.nn.rnn_cell, name)
    kw = {k: ctx.resolve(v, k) for k, v in rest[-1].items()}
    if name == "MultiRNNCell":
        return cls([make_cell(tf, s, ctx) for s in rest[0]], **kw)
    if name in ("DropoutWrapper", "ResidualWrapper"):
        return cls(make_cell(tf, rest[0], ctx), **kw)
    return cls(**kw)


def _var_listing(tf):
    names = sorted(f"{v.name}{v.shape.as_list()}" for v in tf.global_variables())
    return tf.constant(" ".join(names))


def _with_weights(tf, outs):
    """``outs``, the sum's gradients w.r.t. the trainable variables, the names."""
    floats = [t for t in outs if t.dtype.is_floating]
    total = tf.add_n([tf.reduce_sum(t) for t in floats])
    variables = sorted(tf.trainable_variables(), key=lambda v: v.name)
    grads = tf.gradients(total, variables) if variables else []
    return [*outs, *[g for g in grads if g is not None], _var_listing(tf)]


def build_rnn(tf, case, ctx):
    tf.get_variable_scope().set_initializer(_initializer(tf))
    args, kw = ctx.args()
    fn = getattr(tf.nn, case["fn"].split(".", 1)[1])
    if case["fn"].endswith("bidirectional_rnn") or case["fn"].endswith(
        "bidirectional_dynamic_rnn"
    ):
        cells = [make_cell(tf, case["cell"], ctx), make_cell(tf, case["cell_bw"], ctx)]
    else:
        cells = [make_cell(tf, case["cell"], ctx)]
    if case.get("initial_state"):
        kw["initial_state"] = cells[0].zero_state(case["initial_state"], tf.float32)
    x = args[0]
    if case["fn"].startswith("nn.static"):
        x = tf.unstack(x, axis=case.get("unstack_axis", 1))
    forward = flatten(fn(*cells, x, *args[1:], **kw))
    outs = _with_weights(tf, forward)
    return outs, [(outs, ctx.feed)], forward


def build_cell_call(tf, case, ctx):
    """A cell called directly twice: zero_state, reuse on the second call."""
    tf.get_variable_scope().set_initializer(_initializer(tf))
    (x,), _ = ctx.args()
    cell = make_cell(tf, case["cell"], ctx)
    state = cell.zero_state(2, tf.float32)
    out1, state = cell(x, state)
    out2, state = cell(x * 0.5, state)
    forward = flatten([out1, out2, state])
    outs = _with_weights(tf, forward)
    outs.append(tf.constant(f"{cell.state_size} {cell.output_size}"))
    return outs, [(outs, ctx.feed)], forward


BODIES = {
    "mul_add": lambda tf: lambda a, x: a * 0.5 + tf.sin(x),
    "pair": lambda tf: lambda a, x: (a[0] + x[0] * x[1], a[1] * tf.cos(x[1])),
    "tanh_mat": lambda tf: lambda a, x: tf.tanh(a + tf.reduce_sum(x) * 0.1),
    "square": lambda tf: lambda x: x * x + 1.0,
    "split_sum": lambda tf: lambda x: [tf.reduce_sum(x), tf.cast(x[0] > 0, tf.int32)],
}


def build_loop(tf, case, ctx):
    args, kw = ctx.args()
    body = BODIES[case["body"]](tf)
    if case.get("pair"):
        args = [(args[0], args[1]), *args[2:]]
        if "initializer" in kw:
            kw["initializer"] = (kw["initializer"], kw.pop("init2"))
    out = flatten(getattr(tf, case["fn"])(body, *args, **kw))
    return out, [(out, ctx.feed)], out


BUILDERS = {"rnn": build_rnn, "cell_call": build_cell_call, "loop": build_loop}

X = F([2, 5, 3])
F32 = {"dtype": A("float32")}
TOL = [1e-4, 1e-5]
LSTM = ["BasicLSTMCell", {"num_units": 4}]
GRU = ["GRUCell", {"num_units": 4}]


def rnn(id, fn, cell, *args, kw=None, **extra):
    """A recurrent case: values, static shapes, input grads and var names."""
    case(
        id,
        fn,
        X,
        *args,
        kw=F32 if kw is None else kw,
        kind="rnn",
        cell=cell,
        tol=TOL,
        **extra,
    )


rnn("rnn_basic_rnn", "nn.dynamic_rnn", ["BasicRNNCell", {"num_units": 4}])
rnn("rnn_basic_lstm", "nn.dynamic_rnn", LSTM)
rnn(
    "rnn_basic_lstm_forget0_relu",
    "nn.dynamic_rnn",
    ["BasicLSTMCell", {"num_units": 3, "forget_bias": 0.0, "activation": A("nn.relu")}],
)
rnn(
    "rnn_basic_lstm_concat_state",
    "nn.dynamic_rnn",
    ["BasicLSTMCell", {"num_units": 4, "state_is_tuple": False}],
)
rnn("rnn_lstm", "nn.dynamic_rnn", ["LSTMCell", {"num_units": 4}])
rnn(
    "rnn_lstm_proj_peep_clip",
    "nn.dynamic_rnn",
    [
        "LSTMCell",
        {
            "num_units": 4,
            "num_proj": 2,
            "use_peepholes": True,
            "cell_clip": 0.5,
            "proj_clip": 0.3,
        },
    ],
)
rnn("rnn_gru", "nn.dynamic_rnn", GRU)
rnn("rnn_multi", "nn.dynamic_rnn", ["MultiRNNCell", [LSTM, GRU], {}])
rnn(
    "rnn_multi_concat_state",
    "nn.dynamic_rnn",
    ["MultiRNNCell", [GRU, GRU], {"state_is_tuple": False}],
)
rnn(
    "rnn_dropout_keep1",
    "nn.dynamic_rnn",
    ["MultiRNNCell", [["DropoutWrapper", LSTM, {"output_keep_prob": 1.0}], LSTM], {}],
)
rnn(
    "rnn_residual",
    "nn.dynamic_rnn",
    ["ResidualWrapper", ["BasicRNNCell", {"num_units": 3}], {}],
)
rnn(
    "rnn_seq_len",
    "nn.dynamic_rnn",
    LSTM,
    kw={"dtype": A("float32"), "sequence_length": L([5, 2])},
)
rnn(
    "rnn_seq_len_gru_multi",
    "nn.dynamic_rnn",
    ["MultiRNNCell", [GRU, LSTM], {}],
    kw={"dtype": A("float32"), "sequence_length": L([3, 0])},
)
rnn(
    "rnn_time_major",
    "nn.dynamic_rnn",
    GRU,
    kw={
        "dtype": A("float32"),
        "time_major": True,
        "sequence_length": L([1, 4, 5, 2, 3]),
    },
)
rnn("rnn_initial_state", "nn.dynamic_rnn", LSTM, kw={}, initial_state=2)
case(
    "rnn_float64_lstm",
    "nn.dynamic_rnn",
    D([2, 4, 3]),
    kw={"dtype": A("float64"), "sequence_length": L([4, 1])},
    kind="rnn",
    cell=["LSTMCell", {"num_units": 3, "use_peepholes": True}],
    tol=TOL,
)
rnn("rnn_scope", "nn.dynamic_rnn", GRU, kw={"dtype": A("float32"), "scope": "enc"})
rnn("rnn_bidi", "nn.bidirectional_dynamic_rnn", LSTM, cell_bw=GRU)
rnn(
    "rnn_bidi_seq_len",
    "nn.bidirectional_dynamic_rnn",
    LSTM,
    cell_bw=LSTM,
    kw={"dtype": A("float32"), "sequence_length": L([4, 2])},
)
rnn("rnn_static", "nn.static_rnn", LSTM)
rnn(
    "rnn_static_seq_len",
    "nn.static_rnn",
    GRU,
    kw={"dtype": A("float32"), "sequence_length": L([2, 5])},
)
rnn(
    "rnn_static_bidi",
    "nn.static_bidirectional_rnn",
    LSTM,
    cell_bw=GRU,
    kw={"dtype": A("float32"), "sequence_length": L([5, 3])},
)
case("rnn_error_rank2", "nn.dynamic_rnn", F([2, 3]), kw=F32, kind="rnn", cell=LSTM)
case("rnn_error_no_dtype", "nn.dynamic_rnn", X, kind="rnn", cell=LSTM)
case(
    "rnn_error_unknown_depth",
    "nn.dynamic_rnn",
    F([2, 5, None]),
    kw=F32,
    kind="rnn",
    cell=GRU,
)
case(
    "rnn_error_state_size",
    "nn.dynamic_rnn",
    X,
    kw={"initial_state": F([2, 5])},
    kind="rnn",
    cell=GRU,
)
case(
    "cell_call_lstm",
    "nn.rnn_cell.BasicLSTMCell",
    F([2, 3]),
    kind="cell_call",
    cell=LSTM,
    tol=TOL,
)
case(
    "cell_call_multi",
    "nn.rnn_cell.MultiRNNCell",
    F([2, 3]),
    kind="cell_call",
    cell=["MultiRNNCell", [GRU, ["LSTMCell", {"num_units": 3, "num_proj": 2}]], {}],
    tol=TOL,
)

E = F([4, 3])
case("scan_mul_add", "scan", E, kind="loop", body="mul_add")
case(
    "scan_init_reverse",
    "scan",
    E,
    kw={"initializer": F([3]), "reverse": True},
    kind="loop",
    body="mul_add",
)
case(
    "scan_nested",
    "scan",
    E,
    F([4, 3]),
    kw={"initializer": F([3]), "init2": F([3])},
    kind="loop",
    body="pair",
    pair=True,
)
case(
    "scan_tanh",
    "scan",
    F([5, 2]),
    kw={"initializer": F([2])},
    kind="loop",
    body="tanh_mat",
)
case(
    "foldl_mul_add", "foldl", E, kw={"initializer": F([3])}, kind="loop", body="mul_add"
)
case("foldl_no_init", "foldl", E, kind="loop", body="mul_add")
case("foldr_mul_add", "foldr", E, kind="loop", body="mul_add")
case(
    "foldr_nested",
    "foldr",
    E,
    F([4, 3]),
    kw={"initializer": F([3]), "init2": F([3])},
    kind="loop",
    body="pair",
    pair=True,
)
case("map_fn_square", "map_fn", F([4, 2, 3]), kind="loop", body="square")
case(
    "map_fn_dtype",
    "map_fn",
    E,
    kw={"dtype": LIST(A("float32"), A("int32"))},
    kind="loop",
    body="split_sum",
)


def build_tensor_array(tf, case, ctx):
    """A TensorArray read and written in a while_loop, then the other methods."""
    (x,), _ = ctx.args()
    n = case["n"]
    inp = tf.TensorArray(tf.float32, size=n).unstack(x)
    # Each array is read several times in one run: TF1 needs clear_after_read.
    out = tf.TensorArray(tf.float32, size=n, element_shape=[3], clear_after_read=False)

    def body(i, acc, ta):
        acc = acc * 0.5 + tf.sin(inp.read(i))
        return i + 1, acc, ta.write(i, acc * acc)

    _, acc, out = tf.while_loop(
        lambda i, a, t: i < n, body, (0, tf.zeros([3]), out), maximum_iterations=n
    )
    written = tf.TensorArray(tf.float32, size=3, clear_after_read=False)
    written = written.write(2, x[0]).write(0, x[1])
    written = written.write(1, x[2] * 3.0)
    scattered = tf.TensorArray(tf.float32, size=4).scatter([3, 0, 2, 1], x[:4] * 2.0)
    outs = [
        acc,
        out.stack(),
        out.gather([2, 0]),
        out.concat(),
        out.size(),
        written.stack(),
        written.read(2),
        scattered.stack(),
    ]
    return outs, [(outs, ctx.feed)], outs


BUILDERS["tensor_array"] = build_tensor_array
case("tensor_array_while", "TensorArray", F([4, 3]), kind="tensor_array", n=4)
case("tensor_array_while_long", "TensorArray", F([7, 3]), kind="tensor_array", n=7)

# -- tf.reverse_sequence (the backward pass of bidirectional RNNs by hand) ----
case(
    "reverse_sequence",
    "reverse_sequence",
    F([2, 4, 3]),
    L([4, 2]),
    kw={"seq_axis": 1},
    rec="svgn",
)
case(
    "reverse_sequence/fed",
    "reverse_sequence",
    F([2, None, 3], feed=[2, 5, 3]),
    I([None], lo=0, hi=6, feed=[2]),
    kw={"seq_axis": 1, "batch_axis": 0},
)
case(
    "reverse_sequence/time_major_int64",
    "reverse_sequence",
    D([5, 3]),
    I64([3], lo=0, hi=6),
    kw={"seq_dim": 0, "batch_dim": 1},
)
case(
    "reverse_sequence/too_long",
    "reverse_sequence",
    F([2, 4]),
    I([2], value=[1, 5]),
    kw={"seq_axis": 1},
    rec="sv",
)
case(
    "reverse_sequence/negative",
    "reverse_sequence",
    F([2, 4]),
    I([2], value=[-1, 2]),
    kw={"seq_axis": 1},
    rec="sv",
)
case(
    "reverse_sequence/batch_mismatch",
    "reverse_sequence",
    F([2, 4]),
    L([1, 2, 3]),
    kw={"seq_axis": 1},
)
case(
    "reverse_sequence/lengths_rank",
    "reverse_sequence",
    F([2, 4]),
    L([[1, 2]]),
    kw={"seq_axis": 1},
)
case(
    "reverse_sequence/axis",
    "reverse_sequence",
    F([2, 4]),
    L([1, 2]),
    kw={"seq_axis": 2},
)
case(
    "reverse_sequence/float_lengths",
    "reverse_sequence",
    F([2, 4]),
    L([1.0, 2.0]),
    kw={"seq_axis": 1},
)
