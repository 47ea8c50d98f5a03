"""losses (being filled in)."""

__all__: list[str] = []
