"""``tf.nn``: activations, losses, convolution and pooling."""

from jaxsession.graph.ops.nn_ops import *
