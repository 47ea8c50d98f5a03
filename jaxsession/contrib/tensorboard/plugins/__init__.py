"""``tf.contrib.tensorboard.plugins``: the embedding projector's config."""

from jaxsession.contrib.tensorboard.plugins import projector as projector
