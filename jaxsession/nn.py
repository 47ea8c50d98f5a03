"""``tf.nn``: activations, losses, convolution and pooling."""

from jaxsession.graph.ops.math_ops import sigmoid as sigmoid, tanh as tanh
from jaxsession.graph.ops.nn_ops import *
