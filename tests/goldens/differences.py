"""Where jaxsession differs from TensorFlow: on purpose, by bug, or untested.

``DIFFERENCES``: case id -> ``"aspects: why"``, the aspects (``shape``,
``dtype``, ``value``, ``grad``, ``names``, ``error``) that differ on purpose.
Only those aspects are skipped; the others are still compared, and an entry
whose aspects agree again fails the test (remove it).

``KNOWN_BUGS``: case id -> what jaxsession gets wrong. Those cases are strict
xfails: fixing the bug makes the test fail until the entry is removed. A case
may be in both tables (its documented aspects skipped, the rest xfailed).

``UNCOVERED``: public op-like name -> why no golden case exercises it.
"""

_FUSED = "names: one fused op here where TF builds a subgraph; the name scope agrees, the op inside it does not"
_STATIC = "XLA needs static shapes: a shape computed at run time is refused with InvalidArgumentError when the graph is lowered"
_DATA_DEP = "an output whose size depends on values is not expressible with XLA's static shapes; UnimplementedError"

_X64 = "64-bit dtypes are computed in 32 bits on the device unless jax_enable_x64 is on (README); values beyond 2**31 wrap"

_CLIP_FUSED = "names: clip_by_global_norm's clipped list is one fused op here, its outputs .../clip_by_global_norm:i where TF names them .../clip_by_global_norm/_i:0; the norm's name agrees (global_norm/global_norm:0)"

_NO_CHECK = "XLA programs do not raise on bad values at run time; the result is XLA's"

DIFFERENCES = {
    # Fused ops: TF's outputs are the last op of a composite subgraph.
    "matrix_transpose/f32": _FUSED,
    "math.reduce_variance/all": _FUSED,
    "math.reduce_std/all": _FUSED,
    "eye": _FUSED,
    "nn.softmax_cross_entropy_with_logits": _FUSED,
    "nn.softmax_cross_entropy_with_logits_v2": _FUSED,
    "nn.sparse_softmax_cross_entropy_with_logits": _FUSED,
    "nn.batch_normalization": _FUSED,
    "nn.embedding_lookup": _FUSED,
    "cond": "names: tf.cond is one Cond op here (XLA conditional); TF's output is cond/Merge",
    "layers.dropout/training_placeholder": "names: tf.cond is one Cond op here; TF's output is dropout/cond/Merge",
    "layers.batch_normalization/inference": _FUSED,
    "layers.batch_normalization/training": _FUSED,
    "layers.batch_normalization/update_ops": "value,names: fused batchnorm op; UPDATE_OPS holds Operations (fetching gives None) where TF's are the AssignMovingAvg tensors; the moving averages themselves agree",
    "train.piecewise_constant": _FUSED,
    "train.cosine_decay": _FUSED,
    "train.cosine_decay/alpha": _FUSED,
    "train.natural_exp_decay": "names: TF1's name NaturalExpDecay; TF 2.x's compat.v1 builds it as ExponentialDecay",
    "while_loop": "grad,names: one XLA while op (output while:0, TF while/Exit); reverse-mode gradients of a loop with a value-dependent trip count are not supported by JAX",
    "boolean_mask/none": "value,names: " + _DATA_DEP + "; one fused op",
    "boolean_mask": "value,grad: " + _DATA_DEP,
    "where/cond_only": "error: " + _DATA_DEP + ", raised at build",
    # Shapes fed at run time.
    "reshape/tensor_shape": "value,grad: " + _STATIC,
    "fill/dims_tensor": "value: " + _STATIC,
    "ones/tensor_shape": "value: " + _STATIC,
    "range/tensor": "value: " + _STATIC,
    # Lenient where TF's op definitions restrict dtypes.
    "shape_n/dtype_error": "error: lenient: shape_n accepts tensors of mixed dtypes (TF's ShapeN op def has one T)",
    "truncatemod/f32": "grad,error: lenient: a gradient is defined for truncatemod (TF registers none and raises LookupError)",
    "div_no_nan/i32": "error: follows TF1's float-only DivNoNan (TF 2.x added integer types)",
    # Extensions.
    "losses.l2_regularizer": "error: extension: TF1 had these in tf.contrib.layers, absent from TF 2's compat.v1",
    "losses.l1_regularizer": "error: extension: TF1 had these in tf.contrib.layers, absent from TF 2's compat.v1",
    "gather/out_of_range": "grad,error: XLA clamps out-of-range gather indices; there is no run-time bounds check (TF's CPU kernel raises InvalidArgumentError)",
    "gradients/unconnected": "names: the gradient is one Gradients op here (gradients:0), TF builds gradients/mul_grad/...; zeros for unconnected_gradients='zero' are named zeros, TF zeros_like",
    # 64 bits.
    "add/i64_big_literal": "value: " + _X64,
    "add/i64_big_values": "value: " + _X64,
    "reduce_sum/i64_big_values": "value: " + _X64,
    "cast/i64_big_to_f64": "value: " + _X64,
    "constant/big_int": "value: " + _X64,
    # No run-time checks inside XLA programs.
    "floordiv/i32_by_zero": "error: "
    + _NO_CHECK
    + " (TF: InvalidArgumentError, integer division by zero)",
    "truncatemod/i32_by_zero": "error: "
    + _NO_CHECK
    + " (TF: InternalError, integer division by zero)",
    "pow/i32_negative_exponent": "error: "
    + _NO_CHECK
    + " (TF: InvalidArgumentError, negative integer power)",
    "transpose/perm_error": "error: stricter: an invalid perm raises ValueError at build; TF builds it (static shape [2, 2]) and fails at run",
    "nn.sparse_softmax_cross_entropy_with_logits/label_out_of_range": "grad,error: "
    + _NO_CHECK
    + " (TF: InvalidArgumentError, label out of range)",
    "reduce_sum/axis_tensor": "error: a reduction axis must be known when the graph is built (TypeError); TF accepts a fed axis",
    "dynamic_shapes/from_tf_shape": "shape: sharper: reshape to [tf.shape(x)[0], -1] and to reversed tf.shape(x) keep the static dims jaxsession can prove ([None, 3], [3, None]); TF infers [None, None]",
    "train.AdamOptimizer/clip_apply": _CLIP_FUSED,
    "train.MomentumOptimizer/clip_apply": _CLIP_FUSED,
    # Numerics.
    "cumprod/zero": "grad: TF's Cumprod gradient divides by x and is wrong at zeros (0 instead of 11 here); jaxsession's is exact",
    "nn.softmax_cross_entropy_with_logits_v2/unnormalised": "grad: for labels that do not sum to 1, TF's fused kernel returns softmax - labels; jaxsession differentiates the formula (sum(labels) * softmax - labels)",
}


KNOWN_BUGS = {
    # TF1 API missing from jaxsession.
}

UNCOVERED = {
    "train.Optimizer": "abstract base class; its subclasses have cases",
    "train.OptaxOptimizer": "jaxsession extension wrapping optax; no TF counterpart",
}
