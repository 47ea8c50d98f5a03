"""Every TF1 name issue 2 claims exists where TF1 users look for it."""

import functools

import pytest

import jaxsession as tf

GRAPH = [
    "Graph",
    "Operation",
    "Tensor",
    "TensorShape",
    "Dimension",
    "DType",
    "get_default_graph",
    "reset_default_graph",
    "name_scope",
    "variable_scope",
    "AUTO_REUSE",
    "control_dependencies",
    "add_to_collection",
    "get_collection",
    "GraphKeys",
    "jax_op",
    "convert_to_tensor",
    "Graph.as_default",
    "Graph.as_text",
    "Graph.finalize",
    "Graph.get_tensor_by_name",
    "Graph.get_operation_by_name",
    "Graph.get_operations",
    "Graph.add_to_collection",
    "Graph.get_collection",
    "Graph.name_scope",
    "Graph.control_dependencies",
]
GRAPH_KEYS = [
    "GraphKeys.GLOBAL_VARIABLES",
    "GraphKeys.LOCAL_VARIABLES",
    "GraphKeys.TRAINABLE_VARIABLES",
    "GraphKeys.GLOBAL_STEP",
    "GraphKeys.SUMMARIES",
    "GraphKeys.UPDATE_OPS",
    "GraphKeys.LOSSES",
    "GraphKeys.REGULARIZATION_LOSSES",
    "GraphKeys.SAVERS",
    "GraphKeys.INIT_OP",
    "GraphKeys.LOCAL_INIT_OP",
    "GraphKeys.READY_OP",
    "GraphKeys.READY_FOR_LOCAL_INIT_OP",
    "GraphKeys.SUMMARY_OP",
]
CREATION = [
    "constant",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "fill",
    "range",
    "linspace",
    "eye",
    "placeholder",
    "placeholder_with_default",
    "identity",
    "stop_gradient",
    "no_op",
    "group",
    "tuple",
]
MATH = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "negative",
    "abs",
    "sign",
    "square",
    "sqrt",
    "rsqrt",
    "exp",
    "log",
    "log1p",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "maximum",
    "minimum",
    "matmul",
    "tensordot",
    "einsum",
    "add_n",
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_prod",
    "reduce_any",
    "reduce_all",
    "reduce_logsumexp",
    "argmax",
    "argmin",
    "cumsum",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "where",
    "clip_by_value",
    "clip_by_norm",
    "clip_by_global_norm",
    "cast",
    "round",
    "floor",
    "ceil",
    "count_nonzero",
]
TF_MATH = [
    "math.add",
    "math.subtract",
    "math.multiply",
    "math.divide",
    "math.truediv",
    "math.floordiv",
    "math.mod",
    "math.pow",
    "math.negative",
    "math.abs",
    "math.sign",
    "math.square",
    "math.sqrt",
    "math.rsqrt",
    "math.exp",
    "math.log",
    "math.log1p",
    "math.sin",
    "math.cos",
    "math.tanh",
    "math.sigmoid",
    "math.maximum",
    "math.minimum",
    "math.add_n",
    "math.reduce_sum",
    "math.reduce_mean",
    "math.reduce_max",
    "math.reduce_min",
    "math.reduce_prod",
    "math.reduce_any",
    "math.reduce_all",
    "math.reduce_logsumexp",
    "math.argmax",
    "math.argmin",
    "math.cumsum",
    "math.equal",
    "math.not_equal",
    "math.less",
    "math.less_equal",
    "math.greater",
    "math.greater_equal",
    "math.logical_and",
    "math.logical_or",
    "math.logical_not",
    "math.round",
    "math.floor",
    "math.ceil",
    "math.count_nonzero",
    "math.in_top_k",
    "math.l2_normalize",
    "math.softplus",
    "math.log_softmax",
]
TENSOR_OPERATORS = [
    "Tensor.__add__",
    "Tensor.__radd__",
    "Tensor.__sub__",
    "Tensor.__rsub__",
    "Tensor.__mul__",
    "Tensor.__rmul__",
    "Tensor.__truediv__",
    "Tensor.__rtruediv__",
    "Tensor.__floordiv__",
    "Tensor.__mod__",
    "Tensor.__pow__",
    "Tensor.__rpow__",
    "Tensor.__matmul__",
    "Tensor.__rmatmul__",
    "Tensor.__neg__",
    "Tensor.__lt__",
    "Tensor.__le__",
    "Tensor.__gt__",
    "Tensor.__ge__",
    "Tensor.__getitem__",
    "Tensor.__and__",
    "Tensor.__or__",
    "Tensor.__invert__",
    "Tensor.eval",
    "Tensor.get_shape",
    "Tensor.set_shape",
    "Operation.run",
]
ARRAY = [
    "reshape",
    "transpose",
    "expand_dims",
    "squeeze",
    "concat",
    "stack",
    "unstack",
    "split",
    "slice",
    "gather",
    "gather_nd",
    "one_hot",
    "tile",
    "pad",
    "reverse",
    "shape",
    "size",
    "rank",
    "boolean_mask",
    "sequence_mask",
]
NN = [
    "nn.relu",
    "nn.relu6",
    "nn.elu",
    "nn.selu",
    "nn.leaky_relu",
    "nn.softplus",
    "nn.softmax",
    "nn.log_softmax",
    "nn.dropout",
    "nn.bias_add",
    "nn.l2_loss",
    "nn.l2_normalize",
    "nn.conv2d",
    "nn.max_pool",
    "nn.avg_pool",
    "nn.moments",
    "nn.batch_normalization",
    "nn.sparse_softmax_cross_entropy_with_logits",
    "nn.softmax_cross_entropy_with_logits",
    "nn.softmax_cross_entropy_with_logits_v2",
    "nn.sigmoid_cross_entropy_with_logits",
    "nn.embedding_lookup",
    "nn.in_top_k",
    "nn.sigmoid",
    "nn.tanh",
    "nn.lrn",
    "nn.local_response_normalization",
    "nn.nce_loss",
    "nn.sampled_softmax_loss",
    "nn.log_uniform_candidate_sampler",
    "nn.uniform_candidate_sampler",
]
LOSSES = [
    "losses.mean_squared_error",
    "losses.absolute_difference",
    "losses.softmax_cross_entropy",
    "losses.sparse_softmax_cross_entropy",
    "losses.sigmoid_cross_entropy",
    "losses.add_loss",
    "losses.get_losses",
    "losses.get_regularization_loss",
    "losses.get_total_loss",
]
LAYERS = [
    "layers.dense",
    "layers.conv2d",
    "layers.max_pooling2d",
    "layers.average_pooling2d",
    "layers.flatten",
    "layers.dropout",
    "layers.batch_normalization",
]
RANDOM_AND_CONTROL = [
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "random_shuffle",
    "set_random_seed",
    "cond",
    "while_loop",
    "case",
]
VARIABLES = [
    "Variable",
    "get_variable",
    "zeros_initializer",
    "ones_initializer",
    "constant_initializer",
    "random_normal_initializer",
    "truncated_normal_initializer",
    "random_uniform_initializer",
    "glorot_uniform_initializer",
    "glorot_normal_initializer",
    "variance_scaling_initializer",
    "global_variables",
    "trainable_variables",
    "local_variables",
    "model_variables",
    "global_variables_initializer",
    "local_variables_initializer",
    "variables_initializer",
    "report_uninitialized_variables",
    "is_variable_initialized",
    "assign",
    "assign_add",
    "assign_sub",
    "Variable.assign",
    "Variable.assign_add",
    "Variable.assign_sub",
    "Variable.load",
    "Variable.eval",
    "Variable.initializer",
    "Variable.initial_value",
    "Variable.read_value",
    "Variable.value",
    "train.get_or_create_global_step",
    "train.get_global_step",
    "train.create_global_step",
    "train.assert_global_step",
]
TRAINING = [
    "gradients",
    "train.Optimizer",
    "train.GradientDescentOptimizer",
    "train.MomentumOptimizer",
    "train.AdamOptimizer",
    "train.AdagradOptimizer",
    "train.RMSPropOptimizer",
    "train.OptaxOptimizer",
    "train.Optimizer.minimize",
    "train.Optimizer.compute_gradients",
    "train.Optimizer.apply_gradients",
    "train.Optimizer.get_slot",
    "train.Optimizer.get_slot_names",
    "train.exponential_decay",
    "train.piecewise_constant",
    "train.polynomial_decay",
]
SESSION = [
    "Session",
    "InteractiveSession",
    "get_default_session",
    "Session.run",
    "Session.make_callable",
    "Session.close",
    "Session.as_default",
    "Session.__enter__",
    "Session.__exit__",
]
ERRORS = [
    "errors.OpError",
    "errors.CancelledError",
    "errors.InvalidArgumentError",
    "errors.DeadlineExceededError",
    "errors.NotFoundError",
    "errors.AlreadyExistsError",
    "errors.PermissionDeniedError",
    "errors.ResourceExhaustedError",
    "errors.FailedPreconditionError",
    "errors.AbortedError",
    "errors.OutOfRangeError",
    "errors.UnimplementedError",
    "errors.InternalError",
    "errors.UnavailableError",
    "errors.DataLossError",
    "errors.UnauthenticatedError",
]
RECURRENT = [
    "scan",
    "map_fn",
    "foldl",
    "foldr",
    "TensorArray",
    "TensorArray.write",
    "TensorArray.read",
    "TensorArray.stack",
    "TensorArray.unstack",
    "nn.dynamic_rnn",
    "nn.bidirectional_dynamic_rnn",
    "nn.static_rnn",
    "nn.static_bidirectional_rnn",
    "nn.rnn_cell.RNNCell",
    "nn.rnn_cell.BasicRNNCell",
    "nn.rnn_cell.BasicLSTMCell",
    "nn.rnn_cell.LSTMCell",
    "nn.rnn_cell.GRUCell",
    "nn.rnn_cell.MultiRNNCell",
    "nn.rnn_cell.DropoutWrapper",
    "nn.rnn_cell.ResidualWrapper",
    "nn.rnn_cell.LSTMStateTuple",
]

ALL_NAMES = [
    *GRAPH,
    *GRAPH_KEYS,
    *CREATION,
    *MATH,
    *TF_MATH,
    *TENSOR_OPERATORS,
    *ARRAY,
    *NN,
    *LOSSES,
    *LAYERS,
    *RANDOM_AND_CONTROL,
    *VARIABLES,
    *TRAINING,
    *SESSION,
    *ERRORS,
    *RECURRENT,
]


def _lookup(dotted: str) -> object:
    return functools.reduce(getattr, dotted.split("."), tf)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_name_exists(name):
    assert _lookup(name) is not None


def test_names_are_unique():
    assert len(ALL_NAMES) == len(set(ALL_NAMES))


@pytest.mark.parametrize("name", GRAPH_KEYS)
def test_graph_keys_are_tf1_strings(name):
    tf1 = {
        "GraphKeys.GLOBAL_VARIABLES": "variables",
        "GraphKeys.GLOBAL_STEP": "global_step",
    }
    value = _lookup(name)
    assert isinstance(value, str)
    if name in tf1:
        assert value == tf1[name]


_ERROR_CODES = {
    "CancelledError": "CANCELLED",
    "InvalidArgumentError": "INVALID_ARGUMENT",
    "DeadlineExceededError": "DEADLINE_EXCEEDED",
    "NotFoundError": "NOT_FOUND",
    "AlreadyExistsError": "ALREADY_EXISTS",
    "PermissionDeniedError": "PERMISSION_DENIED",
    "ResourceExhaustedError": "RESOURCE_EXHAUSTED",
    "FailedPreconditionError": "FAILED_PRECONDITION",
    "AbortedError": "ABORTED",
    "OutOfRangeError": "OUT_OF_RANGE",
    "UnimplementedError": "UNIMPLEMENTED",
    "InternalError": "INTERNAL",
    "UnavailableError": "UNAVAILABLE",
    "DataLossError": "DATA_LOSS",
    "UnauthenticatedError": "UNAUTHENTICATED",
}


@pytest.mark.parametrize("name", ERRORS[1:])
def test_errors_subclass_op_error_with_tf1_code(name):
    cls = _lookup(name)
    err = cls(None, None, "boom")
    assert isinstance(err, tf.errors.OpError)
    assert (err.message, str(err)) == ("boom", "boom")
    code = getattr(tf.errors, _ERROR_CODES[name.split(".")[1]])
    assert err.error_code == code


@pytest.mark.parametrize("name", [*MATH, *CREATION[:1], *ARRAY, *NN, *LOSSES, *LAYERS])
def test_functions_are_callable(name):
    assert callable(_lookup(name))


@pytest.mark.parametrize(
    ("alias", "original"),
    [
        ("nn.sigmoid", "sigmoid"),
        ("nn.tanh", "tanh"),
        ("math.in_top_k", "nn.in_top_k"),
        ("math.l2_normalize", "nn.l2_normalize"),
        ("math.softplus", "nn.softplus"),
        ("math.log_softmax", "nn.log_softmax"),
        ("math.reduce_sum", "reduce_sum"),
        ("math.add", "add"),
        ("train.SummaryWriterCache", "summary.FileWriterCache"),
        ("nn.local_response_normalization", "nn.lrn"),
        ("random.normal", "random_normal"),
        ("random.uniform", "random_uniform"),
        ("random.truncated_normal", "truncated_normal"),
        ("random.shuffle", "random_shuffle"),
        ("random.gamma", "random_gamma"),
        ("random.multinomial", "multinomial"),
        ("random.set_random_seed", "set_random_seed"),
        ("random.log_uniform_candidate_sampler", "nn.log_uniform_candidate_sampler"),
        ("random.uniform_candidate_sampler", "nn.uniform_candidate_sampler"),
    ],
)
def test_tf1_aliases_are_the_same_function(alias, original):
    # Same object, so the value tests of the original cover the alias.
    assert _lookup(alias) is _lookup(original)


def test_random_categorical_draws_what_multinomial_draws():
    # Same op seed, same key: tf.random.categorical is multinomial with
    # TF's later argument order (dtype before seed).
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(7)
        logits = tf.constant([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]])
        drawn = tf.random.categorical(logits, 50, dtype=tf.int32, seed=3)
        reference = tf.multinomial(logits, 50, seed=3, output_dtype=tf.int32)
        assert drawn.dtype == tf.int32
        with tf.Session() as sess:
            a, b = sess.run([drawn, reference])
    assert a.shape == (2, 50)
    assert (a == b).all()
