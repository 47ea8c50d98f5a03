"""``tf.losses``: loss functions and the LOSSES collection."""

from jaxsession.library.losses import *
