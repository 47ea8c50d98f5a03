"""``tf.math``: elementwise math, reductions, products and clipping."""

from jaxsession.graph.ops.math_ops import *  # noqa: F403
