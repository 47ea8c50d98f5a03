"""``tf.contrib.tensorboard.plugins.projector``: the embedding projector's config."""

from jaxsession.session.projector import (
    EmbeddingInfo as EmbeddingInfo,
    ProjectorConfig as ProjectorConfig,
    SpriteMetadata as SpriteMetadata,
    visualize_embeddings as visualize_embeddings,
)
