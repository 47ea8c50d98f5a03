"""Op families built on the graph IR, one family per module."""
