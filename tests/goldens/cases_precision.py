"""tf.tpu and tf.mixed_precision: training behaviour, not single ops.

What TF 2.21 computes for them (variables, loss scales per step, skipped
steps, dtypes) is recorded in tests/library/test_mixed_precision.py.
"""

CASES = []

NAMESPACES = ["tpu", "mixed_precision"]

_TRAINING = (
    "stateful training behaviour; TF's numbers in tests/library/test_mixed_precision.py"
)

UNCOVERED = {
    "tpu.bfloat16_scope": "a variable scope; " + _TRAINING,
    "mixed_precision.enable_mixed_precision_graph_rewrite": _TRAINING,
    "mixed_precision.disable_mixed_precision_graph_rewrite": "changes nothing here",
    "mixed_precision.MixedPrecisionLossScaleOptimizer": _TRAINING,
}
