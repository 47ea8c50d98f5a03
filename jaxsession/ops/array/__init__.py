"""Array ops on the graph IR, one family per module."""
