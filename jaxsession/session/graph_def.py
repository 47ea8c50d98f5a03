"""Re-export of ``jaxsession.graph.graph_def``, where the GraphDef converter lives."""

from jaxsession.graph.graph_def import (
    GraphDef as GraphDef,
    dtype_enum as dtype_enum,
    graph_to_graph_def as graph_to_graph_def,
    node_def as node_def,
    shape_proto as shape_proto,
    tensor_input_name as tensor_input_name,
    write_graph as write_graph,
)
