"""nn_ops (being filled in)."""

__all__: list[str] = []
