"""Goldens of debugging ops, the assert family, py_func, scatters, segment sums,
norms and diagonals, sparse tensors, CTC and the initializers namespace.

Pure data plus numpy, as ``cases.py``; builders for what a plain op call
cannot express (an assert used as a control dependency, sparse feeds).
"""

import numpy as np

from tests.goldens.cases import CALL, LIST, VAR, A, F, I, L, X, case_adder

CASES = []
case = case_adder(CASES)
NAN = float("nan")
INF = float("inf")

NAMESPACES = ["debugging", "initializers", "linalg", "sparse"]

UTILITIES = {
    # Graph-mode switches: no op, nothing to compare.
    "disable_eager_execution",
    "disable_resource_variables",
    "disable_tensor_equality",
    "disable_v2_behavior",
    "disable_v2_tensorshape",
    "enable_eager_execution",
    "enable_v2_behavior",
    "executing_eagerly",
    # Variable-initializer ops of tf.initializers (tested with the variables).
    "global_variables",
    "local_variables",
    "variables",
}

UNCOVERED = {
    "print": "prints to a stream and returns an op with no outputs; tested in tests/ops/test_debug.py against TF's text",
    "add_check_numerics_ops": "groups a check of every float tensor of the graph; tested in tests/ops/test_debug.py",
    "numpy_function": "the same function as py_func (py_func cases)",
}


# -- builders ---------------------------------------------------------------------


def _resolve(tf, path):
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def build_assert(tf, case, ctx):
    """The check as a control dependency of an identity of its first input."""
    args, kw = ctx.args()
    check = _resolve(tf, case["fn"])(*args, **kw)
    first = next(a for a in args if hasattr(a, "dtype"))
    with tf.control_dependencies([check]):
        out = tf.identity(first)
    return [out], [([out], ctx.feed)], []


def build_sparse_feed(tf, case, ctx):
    """A sparse placeholder fed with a SparseTensorValue, densified and fetched."""
    sp = tf.sparse_placeholder(tf.float32, shape=[None, 4], name="sp")
    dense = tf.sparse_tensor_to_dense(sp)
    prod = tf.sparse_tensor_dense_matmul(sp, tf.ones([4, 2]))
    value = tf.SparseTensorValue(
        np.array([[0, 1], [1, 3], [2, 0]], np.int64),
        np.array([1.5, -2.0, 3.0], np.float32),
        np.array([3, 4], np.int64),
    )
    outs = [dense, prod, sp.values, sp.indices]
    return outs, [(outs, {sp: value})], []


def build_ctc(tf, case, ctx):
    """CTC loss of constant sparse labels over fed logits."""
    (logits,), kw = ctx.args()
    labels = tf.SparseTensor(
        indices=[[0, 0], [0, 1], [1, 0]], values=[1, 2, 1], dense_shape=[2, 2]
    )
    loss = tf.nn.ctc_loss(labels, logits, [4, 3], **kw)
    return [loss], [([loss], ctx.feed)], [loss]


BUILDERS = {"assert": build_assert, "sparse_feed": build_sparse_feed, "ctc": build_ctc}


# -- debugging ------------------------------------------------------------------------

case("Print", "Print", F([None, 2]), L([]), kw={"message": "x"}, rec="svgn")
case("Print/data", "Print", F([3]), L(["text"]), kw={"summarize": 2}, rec="svgn")
case("check_numerics", "check_numerics", F([2, 3]), L("msg"), rec="svgn")
case(
    "check_numerics/nan",
    "check_numerics",
    X("float32", [3], value=[1.0, NAN, 2.0]),
    L("bad"),
    rec="sv",
)
case(
    "check_numerics/inf",
    "check_numerics",
    X("float64", [2], value=[INF, 1.0]),
    L("bad"),
    rec="sv",
)
case("check_numerics/int", "check_numerics", I([2]), L("ints"), rec="s")
case(
    "verify_tensor_all_finite",
    "verify_tensor_all_finite",
    X("float32", [2], value=[NAN, 1.0]),
    L("bad"),
    rec="sv",
)
case(
    "Assert/holds",
    "Assert",
    X("bool", [], value=True),
    L(["ok"]),
    kind="assert",
    rec="sv",
)
case(
    "Assert/fails",
    "Assert",
    X("bool", [], value=False),
    L(["failed"]),
    kind="assert",
    rec="sv",
)
for _name, _ok, _bad in [
    ("assert_equal", [1.0, 2.0], [1.0, 3.0]),
    ("assert_none_equal", [3.0, 4.0], [1.0, 4.0]),
    ("assert_less", [0.0, 1.0], [1.0, 2.0]),
    ("assert_less_equal", [1.0, 2.0], [1.0, 3.0]),
    ("assert_greater", [2.0, 3.0], [1.0, 2.0]),
    ("assert_greater_equal", [1.0, 2.0], [0.0, 2.0]),
]:
    _y = [1.0, 2.0]
    case(
        f"{_name}/holds",
        _name,
        X("float32", [2], value=_ok),
        X("float32", [2], value=_y),
        kind="assert",
        rec="sv",
    )
    case(
        f"{_name}/fails",
        _name,
        X("float32", [2], value=_bad if _name != "assert_greater" else [0.0, 2.0]),
        X("float32", [2], value=_y),
        kind="assert",
        rec="sv",
    )
    case(f"{_name}/static", _name, L([1, 2]), L([3, 1]), kind="assert", rec="s")
for _name, _ok, _bad in [
    ("assert_positive", [1.0, 2.0], [0.0, 1.0]),
    ("assert_negative", [-1.0, -2.0], [-1.0, 0.0]),
    ("assert_non_negative", [0.0, 2.0], [-1.0, 1.0]),
    ("assert_non_positive", [0.0, -2.0], [1.0, -1.0]),
]:
    case(f"{_name}/holds", _name, X("float32", [2], value=_ok), kind="assert", rec="sv")
    case(
        f"{_name}/fails", _name, X("float32", [2], value=_bad), kind="assert", rec="sv"
    )
    case(f"{_name}/static", _name, L(_bad), kind="assert", rec="s")
case(
    "assert_near",
    "assert_near",
    X("float32", [2], value=[1.0, 2.0]),
    X("float32", [2], value=[1.0, 2.5]),
    kind="assert",
    rec="sv",
)
case("assert_rank/static", "assert_rank", F([2, 3]), L(1), kind="assert", rec="s")
case(
    "assert_rank/dynamic",
    "assert_rank",
    X("float32", None, feed=[2]),
    L(2),
    kind="assert",
    rec="sv",
)
case(
    "assert_rank_at_least",
    "assert_rank_at_least",
    X("float32", None, feed=[2, 2]),
    L(3),
    kind="assert",
    rec="sv",
)
case(
    "assert_rank_at_least/static",
    "assert_rank_at_least",
    F([2]),
    L(2),
    kind="assert",
    rec="s",
)
case("assert_type", "assert_type", F([2]), A("int32"), kind="assert", rec="s")
case("assert_type/ok", "assert_type", F([2]), A("float32"), kind="assert", rec="sv")
case("assert_integer", "assert_integer", F([2]), kind="assert", rec="s")
case("assert_integer/ok", "assert_integer", I([2]), kind="assert", rec="sv")
case("assert_scalar", "assert_scalar", F([]), rec="sv")
case("assert_scalar/bad", "assert_scalar", F([2]), rec="s")
for _name in ["is_finite", "is_inf", "is_nan"]:
    case(
        f"debugging.{_name}",
        f"debugging.{_name}",
        X("float32", [3], value=[1.0, NAN, INF]),
        rec="sv",
    )
case(
    "debugging.assert_all_finite",
    "debugging.assert_all_finite",
    F([2]),
    L("m"),
    rec="sv",
)
case(
    "nn.zero_fraction",
    "nn.zero_fraction",
    X("float32", [5], value=[0, 1, 0, 2, 0]),
    rec="svn",
)

# -- py_func: a NumPy function over fed and computed values -------------------------

case(
    "py_func",
    "py_func",
    L(np.square),
    LIST(F([3])),
    A("float32"),
    rec="sv",
)

# -- scatters and segment sums --------------------------------------------------------

for _name in ["update", "add", "sub", "mul", "div", "max", "min"]:
    case(
        f"scatter_{_name}",
        f"scatter_{_name}",
        VAR([1.0, 2.0, 3.0, 4.0]),
        L([2, 0]),
        X("float32", [2], value=[5.0, -2.0]),
        rec="svn",
    )
for _name in ["update", "add", "sub"]:
    case(
        f"scatter_nd_{_name}",
        f"scatter_nd_{_name}",
        VAR([[1.0, 2.0], [3.0, 4.0]]),
        L([[1, 0], [0, 1]]),
        X("float32", [2], value=[5.0, -2.0]),
        rec="svn",
    )
    case(
        f"tensor_scatter_nd_{_name}",
        f"tensor_scatter_nd_{_name}",
        F([2, 2]),
        L([[1, 0], [0, 1]]),
        F([2]),
    )
case("scatter_nd/duplicates", "scatter_nd", L([[1], [1], [3]]), F([3, 2]), L([4, 2]))
case(
    "scatter_nd/dynamic_shape",
    "scatter_nd",
    L([[0, 1]]),
    F([1]),
    CALL("shape", F([2, 3])),
    rec="s",
)
for _name in ["sum", "max", "min", "prod", "mean", "sqrt_n"]:
    case(
        f"unsorted_segment_{_name}/empty_segment",
        f"unsorted_segment_{_name}",
        F([5, 2]),
        X("int32", [5], value=[0, 2, 0, 2, 1]),
        L(4),
    )
case(
    "unsorted_segment_sum/2d_ids",
    "unsorted_segment_sum",
    F([2, 3, 2]),
    X("int32", [2, 3], value=[[0, 1, 0], [1, 1, 2]]),
    L(3),
)
case(
    "unsorted_segment_max/int",
    "unsorted_segment_max",
    I([4]),
    X("int32", [4], value=[0, 0, 2, 2]),
    L(3),
    rec="sv",
)
case(
    "math.unsorted_segment_sum",
    "math.unsorted_segment_sum",
    F([3]),
    L([0, 1, 0]),
    L(2),
)

# -- norms, diagonals, linear algebra ------------------------------------------------

case("norm", "norm", F([2, 3]), rec="svgn")
case("norm/axis", "norm", F([2, 3]), kw={"axis": 1, "keepdims": True})
case("norm/ord1", "norm", F([4]), kw={"ord": 1})
case("norm/inf", "norm", F([2, 3]), kw={"ord": L(np.inf), "axis": -1})
case("norm/p3", "norm", F([3]), kw={"ord": 3})
case("norm/matrix_fro", "norm", F([2, 3, 2]), kw={"ord": "fro", "axis": [1, 2]})
case("norm/matrix_1", "norm", F([3, 2]), kw={"ord": 1, "axis": [0, 1]})
case("norm/matrix_inf", "norm", F([3, 2]), kw={"ord": L(np.inf), "axis": [0, 1]})
case("norm/bad_ord", "norm", F([3, 2]), kw={"ord": 2, "axis": [0, 1]}, rec="s")
case("norm/bad_ord_vector", "norm", F([3]), kw={"ord": -1}, rec="s")
case("linalg.norm", "linalg.norm", F([None, 3]), kw={"axis": 1})
case("matrix_diag/batch", "matrix_diag", F([2, 3]), rec="svgn")
case("matrix_diag_part", "matrix_diag_part", F([2, 3, 3]), rec="svgn")
case("matrix_diag_part/rect", "matrix_diag_part", F([2, 4]))
case("matrix_set_diag", "matrix_set_diag", F([2, 3, 3]), F([2, 3]))
case("matrix_set_diag/rect", "matrix_set_diag", F([3, 2]), F([2]))
case("matrix_band_part", "matrix_band_part", F([4, 4]), L(1), L(0), rec="svgn")
case("matrix_band_part/upper", "matrix_band_part", F([3, 4]), L(0), L(-1))
case("diag", "diag", F([3]))
case("diag/2d", "diag", F([2, 2]), rec="sv")
case("diag_part", "diag_part", F([3, 3]))
case("trace", "trace", F([2, 3, 3]))
_SPD = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]
case(
    "matrix_inverse",
    "matrix_inverse",
    X("float32", [3, 3], value=_SPD),
    tol=[1e-4, 1e-5],
)
case(
    "matrix_determinant",
    "matrix_determinant",
    X("float32", [3, 3], value=_SPD),
    tol=[1e-4, 1e-5],
)
case(
    "cholesky", "cholesky", X("float32", [3, 3], value=_SPD), rec="sv", tol=[1e-4, 1e-5]
)
case(
    "matrix_solve",
    "matrix_solve",
    X("float32", [3, 3], value=_SPD),
    F([3, 2]),
    tol=[1e-4, 1e-5],
)
for _name, _args in [
    ("linalg.diag", [F([3])]),
    ("linalg.diag_part", [F([3, 3])]),
    ("linalg.set_diag", [F([2, 2]), F([2])]),
    ("linalg.band_part", [F([3, 3]), L(0), L(1)]),
    ("linalg.trace", [F([2, 2])]),
    ("linalg.inv", [X("float32", [3, 3], value=_SPD)]),
    ("linalg.det", [X("float32", [3, 3], value=_SPD)]),
    ("linalg.cholesky", [X("float32", [3, 3], value=_SPD)]),
    ("linalg.solve", [X("float32", [3, 3], value=_SPD), F([3, 1])]),
    ("linalg.matmul", [F([2, 3]), F([3, 2])]),
    ("linalg.transpose", [F([2, 3])]),
    ("linalg.einsum", [L("ij,jk->ik"), F([2, 3]), F([3, 2])]),
]:
    case(_name, _name, *_args, rec="sv", tol=[1e-4, 1e-5])
case("linalg.eye", "linalg.eye", L(3), rec="sv")

# -- sparse tensors ---------------------------------------------------------------------

_SP = A("SparseTensor", L([[0, 0], [1, 2]]), F([2]), L([2, 3]))
case("sparse_tensor_to_dense", "sparse_tensor_to_dense", _SP)
case("sparse_tensor_to_dense/default", "sparse_tensor_to_dense", _SP, L(-1.0))
case("sparse.to_dense", "sparse.to_dense", _SP)
case(
    "sparse_to_dense",
    "sparse_to_dense",
    L([[0, 1], [2, 0]]),
    L([3, 2]),
    F([2]),
)
case("sparse_to_dense/scalar", "sparse_to_dense", L([1, 3]), L([5]), L(7.0), rec="sv")
case(
    "sparse_tensor_dense_matmul",
    "sparse_tensor_dense_matmul",
    _SP,
    F([3, 2]),
)
case(
    "sparse_tensor_dense_matmul/adjoint_a",
    "sparse_tensor_dense_matmul",
    _SP,
    F([2, 2]),
    kw={"adjoint_a": True},
)
case("sparse.matmul", "sparse.matmul", _SP, F([3, 1]))
case("sparse.sparse_dense_matmul", "sparse.sparse_dense_matmul", _SP, F([3, 1]))
case("sparse.feed", "sparse.placeholder", kind="sparse_feed", rec="sv")
case("nn.ctc_loss", "nn.ctc_loss", F([4, 2, 4]), kind="ctc", tol=[1e-4, 1e-5])
case(
    "nn.ctc_loss/batch_major",
    "nn.ctc_loss",
    F([2, 4, 4]),
    kw={"time_major": False},
    kind="ctc",
    tol=[1e-4, 1e-5],
)

# -- initializers ---------------------------------------------------------------------

for _name in [
    "zeros",
    "ones",
    "constant",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "glorot_uniform",
    "glorot_normal",
    "variance_scaling",
    "orthogonal",
]:
    case(
        f"initializers.{_name}/class",
        f"initializers.{_name}",
        kind="initializer",
        shape=[3, 2],
        dtype="float32",
        rec="sn" if _name not in ("zeros", "ones", "constant") else "svn",
    )
for _name in ["he_normal", "he_uniform", "lecun_normal", "lecun_uniform"]:
    case(
        f"initializers.{_name}",
        f"initializers.{_name}",
        kind="initializer",
        shape=[4, 3],
        dtype="float32",
        rec="sn",
    )
case(
    "initializers.identity/gain",
    "initializers.identity",
    kind="initializer",
    kw={"gain": 2.0},
    shape=[2, 3],
    dtype="float32",
    rec="svn",
)
case(
    "initializers.identity/3d",
    "initializers.identity",
    kind="initializer",
    shape=[2, 2, 2],
    dtype="float32",
    rec="s",
)
case(
    "orthogonal_initializer/1d",
    "orthogonal_initializer",
    kind="initializer",
    shape=[3],
    dtype="float32",
    rec="s",
)
case(
    "orthogonal_initializer/wide",
    "orthogonal_initializer",
    kind="initializer",
    shape=[2, 5],
    dtype="float32",
    rec="sn",
)

DIFFERENCES = {
    "train.SyncReplicasOptimizer": "shape,dtype: TF's train op is an int64 tensor from its token queue; the pass-through returns the wrapped optimizer's Operation",
    "sparse.feed": "shape: sharper: densifying a sparse placeholder declared [None, 4] keeps [?, 4]; TF infers [?, ?]",
}

# -- metrics ------------------------------------------------------------------------------

_BIN = {"labels": I([6], lo=0, hi=2), "predictions": I([6], lo=0, hi=2)}
_REG = {"labels": F([None, 2]), "predictions": F([None, 2])}
for _name in ["true_positives", "false_positives", "true_negatives", "false_negatives"]:
    case(f"metrics.{_name}", f"metrics.{_name}", kw=_BIN, kind="metric", rec="svn")
case(
    "metrics.true_positives/weights",
    "metrics.true_positives",
    kw={**_BIN, "weights": F([6], lo=0.0, hi=1.0)},
    kind="metric",
)
for _name in ["mean_absolute_error", "root_mean_squared_error"]:
    case(f"metrics.{_name}", f"metrics.{_name}", kw=_REG, kind="metric", rec="svn")
_CLS = {
    "labels": I([8], lo=0, hi=3),
    "predictions": I([8], lo=0, hi=3),
    "num_classes": 4,
}
case("metrics.mean_iou", "metrics.mean_iou", kw=_CLS, kind="metric", rec="sv")
case(
    "metrics.mean_iou/weights",
    "metrics.mean_iou",
    kw={**_CLS, "weights": F([8], lo=0.0, hi=1.0)},
    kind="metric",
)
case(
    "metrics.mean_per_class_accuracy",
    "metrics.mean_per_class_accuracy",
    kw=_CLS,
    kind="metric",
    rec="svn",
)
_THR = {
    "labels": I([6], lo=0, hi=2),
    "predictions": F([6], lo=0.0, hi=1.0),
    "thresholds": [0.25, 0.5, 0.75],
}
for _name in [
    "precision_at_thresholds",
    "recall_at_thresholds",
    "true_positives_at_thresholds",
    "false_positives_at_thresholds",
    "true_negatives_at_thresholds",
    "false_negatives_at_thresholds",
]:
    case(f"metrics.{_name}", f"metrics.{_name}", kw=_THR, kind="metric", rec="svn")

# -- optimizers ---------------------------------------------------------------------------

for _id, _kw in {
    "train.FtrlOptimizer": {"learning_rate": 0.1},
    "train.FtrlOptimizer/l1_l2": {
        "learning_rate": 0.2,
        "l1_regularization_strength": 0.05,
        "l2_regularization_strength": 0.1,
        "initial_accumulator_value": 0.5,
    },
    "train.FtrlOptimizer/power": {
        "learning_rate": 0.1,
        "learning_rate_power": -0.7,
        "l2_shrinkage_regularization_strength": 0.1,
        "name": "F",
    },
}.items():
    case(_id, _id.split("/")[0], kw=_kw, kind="optimizer", rec="svn", tol=[1e-5, 1e-6])
case(
    "train.FtrlOptimizer/bad_power",
    "train.FtrlOptimizer",
    kw={"learning_rate": 0.1, "learning_rate_power": 0.5},
    kind="optimizer",
    rec="s",
)
_SYNC = {"opt": A("train.GradientDescentOptimizer", 0.1), "replicas_to_aggregate": 1}
# TF's token queues would block a plain run: static records only.
case(
    "train.SyncReplicasOptimizer",
    "train.SyncReplicasOptimizer",
    kw=_SYNC,
    kind="optimizer",
    global_step=True,
    rec="s",
)
case(
    "train.SyncReplicasOptimizer/no_global_step",
    "train.SyncReplicasOptimizer",
    kw=_SYNC,
    kind="optimizer",
    rec="s",
)

_AT_K = {
    "labels": X("int64", [4], value=[0, 1, 2, 4]),
    "predictions": F([4, 5]),
    "k": 2,
}
for _name in ["recall_at_k", "precision_at_k"]:
    case(f"metrics.{_name}", f"metrics.{_name}", kw=_AT_K, kind="metric", rec="svn")
    case(
        f"metrics.{_name}/class_id",
        f"metrics.{_name}",
        kw={**_AT_K, "class_id": 1},
        kind="metric",
        rec="svn",
    )
    case(
        f"metrics.{_name}/label_sets",
        f"metrics.{_name}",
        kw={
            "labels": X("int64", [3, 2], value=[[0, 3], [1, 2], [4, 0]]),
            "predictions": F([3, 5]),
            "k": 3,
            "weights": F([3], lo=0.0, hi=1.0),
        },
        kind="metric",
    )
