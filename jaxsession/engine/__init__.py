"""Graph to compiled XLA calls: plan, lower, compile, cache."""
