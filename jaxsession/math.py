"""``tf.math``: elementwise math, reductions, products and clipping."""

from jaxsession.ops.math import *  # noqa: F403
from jaxsession.ops.nn import (
    in_top_k as in_top_k,
    log_softmax as log_softmax,
    softplus as softplus,
)
from jaxsession.ops.normalization import l2_normalize as l2_normalize
from jaxsession.ops.reduction import *  # noqa: F403
from jaxsession.ops.scatter import (
    unsorted_segment_max as unsorted_segment_max,
    unsorted_segment_mean as unsorted_segment_mean,
    unsorted_segment_min as unsorted_segment_min,
    unsorted_segment_prod as unsorted_segment_prod,
    unsorted_segment_sqrt_n as unsorted_segment_sqrt_n,
    unsorted_segment_sum as unsorted_segment_sum,
)
