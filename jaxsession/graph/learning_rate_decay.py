"""learning_rate_decay (being filled in)."""

__all__: list[str] = []
