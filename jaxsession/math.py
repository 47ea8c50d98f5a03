"""``tf.math``: elementwise math, reductions, products and clipping."""

from jaxsession.graph.ops.math_ops import *  # noqa: F403
from jaxsession.graph.ops.nn_ops import (
    in_top_k as in_top_k,
    l2_normalize as l2_normalize,
    log_softmax as log_softmax,
    softplus as softplus,
)
