"""``tf.losses``: loss functions and the LOSSES collection."""

from jaxsession.graph.losses import *
