"""``tf.layers``: TF1's functional layers."""

from jaxsession.graph.layers import *
