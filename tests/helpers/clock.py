"""A settable clock for hooks and timers that take ``clock=``."""


class FakeClock:
    """Returns ``now``, which a test advances by hand."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now
