"""``tf.nn``: activations, losses, convolution, pooling and candidate sampling."""

from jaxsession.graph.candidate_sampling import *
from jaxsession.graph.ops.math_ops import sigmoid as sigmoid, tanh as tanh
from jaxsession.graph.ops.nn_ops import *
