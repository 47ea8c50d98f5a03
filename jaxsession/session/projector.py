"""TensorBoard's embedding projector config (``tf.contrib.tensorboard.plugins.projector``).

``ProjectorConfig`` and its parts are the messages of TensorBoard's
``projector_config.proto`` (same names, numbers and types), built here in a
private descriptor pool: TensorBoard is an optional extra.
``visualize_embeddings`` writes the config as text next to the event files,
where TensorBoard's projector reads it.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    text_format,
)

from jaxsession.checkpoint import storage

PROJECTOR_FILENAME = "projector_config.pbtxt"

_PROTO = """
name: "tensorboard/plugins/projector/projector_config.proto"
package: "tensorboard.projector"
syntax: "proto3"
message_type {
  name: "SpriteMetadata"
  field { name: "image_path" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "single_image_dim" number: 2 label: LABEL_REPEATED type: TYPE_UINT32 }
}
message_type {
  name: "EmbeddingInfo"
  field { name: "tensor_name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "metadata_path" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "bookmarks_path" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "tensor_shape" number: 4 label: LABEL_REPEATED type: TYPE_UINT32 }
  field {
    name: "sprite" number: 5 label: LABEL_OPTIONAL type: TYPE_MESSAGE
    type_name: ".tensorboard.projector.SpriteMetadata"
  }
  field { name: "tensor_path" number: 6 label: LABEL_OPTIONAL type: TYPE_STRING }
}
message_type {
  name: "ProjectorConfig"
  field { name: "model_checkpoint_path" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  field {
    name: "embeddings" number: 2 label: LABEL_REPEATED type: TYPE_MESSAGE
    type_name: ".tensorboard.projector.EmbeddingInfo"
  }
  field { name: "model_checkpoint_dir" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING }
}
"""

# A pool of its own: TensorBoard's, if imported, holds the same names.
_CLASSES = message_factory.GetMessages(
    [text_format.Parse(_PROTO, descriptor_pb2.FileDescriptorProto())],
    pool=descriptor_pool.DescriptorPool(),
)
SpriteMetadata = _CLASSES["tensorboard.projector.SpriteMetadata"]
EmbeddingInfo = _CLASSES["tensorboard.projector.EmbeddingInfo"]
ProjectorConfig = _CLASSES["tensorboard.projector.ProjectorConfig"]


def visualize_embeddings(summary_writer: Any, config: Any) -> None:
    """Writes ``config`` as ``projector_config.pbtxt`` in the writer's log directory.

    Args:
        summary_writer: A ``tf.summary.FileWriter`` (its ``get_logdir()``),
            or a log directory path (TensorBoard's own version takes one).
        config: A ``ProjectorConfig``.

    Raises:
        ValueError: the writer has no log directory.
    """
    get_logdir = getattr(summary_writer, "get_logdir", None)
    logdir = get_logdir() if get_logdir is not None else summary_writer
    if logdir is None:
        raise ValueError("Summary writer must have a logdir")
    logdir = storage.fspath(logdir)
    storage.makedirs(logdir)
    path = storage.join(logdir, PROJECTOR_FILENAME)
    storage.write_atomic(path, text_format.MessageToString(config))
