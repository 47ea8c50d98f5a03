"""``tf.train.write_graph``: a graph as a GraphDef file, on any storage."""

from __future__ import annotations

from typing import Any

from jaxsession.checkpoint import storage
from jaxsession.graph.graph_def import GraphDef, graph_to_graph_def

__all__ = ["write_graph"]


def write_graph(
    graph_or_graph_def: Any, logdir: str, name: str, as_text: bool = True
) -> str:
    """Writes a graph as a GraphDef file (``tf.train.write_graph``).

    Differs from TF1: a Graph is written with ``_output_shapes`` (TF1 adds
    them only for ``as_graph_def(add_shapes=True)``).

    Args:
        graph_or_graph_def: A Graph or a GraphDef proto.
        logdir: Directory to write to (created if missing), local or a
            ``gs://``/``s3://`` URL.
        name: File name, e.g. ``"graph.pbtxt"``.
        as_text: Text format (True) or binary proto.

    Returns:
        The path written.
    """
    from google.protobuf import text_format

    proto = graph_or_graph_def
    if not isinstance(proto, GraphDef):
        proto = graph_to_graph_def(graph_or_graph_def)
    path = storage.join(logdir, name)
    storage.makedirs(storage.fspath(logdir))
    if as_text:
        storage.write_atomic(path, text_format.MessageToString(proto))
    else:
        storage.write_atomic(path, proto.SerializeToString())
    return path
