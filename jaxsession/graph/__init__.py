"""The symbolic side: graphs, operations, tensors, variables, gradients."""
