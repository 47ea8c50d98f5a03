"""``tf.contrib.tensorboard``: only its ``plugins.projector``."""

from jaxsession.contrib.tensorboard import plugins as plugins
