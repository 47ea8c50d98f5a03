"""What checkpoint code needs from a session, as a Protocol (checkpoint/ never imports session/)."""

from __future__ import annotations

from typing import Any, Protocol

from jaxsession.graph import core


class SessionLike(core.SessionLike, Protocol):
    """The part of a ``Session`` a Saver saves from and restores into.

    ``run`` comes from the graph's ``SessionLike`` (what ``Tensor.eval``
    needs); this adds the variable state.

    ``variable_sharding`` is optional: a session without it restores every
    variable whole.
    """

    @property
    def graph(self) -> Any:
        """The graph whose variables the session holds."""
        ...

    def is_initialized(self, variable: Any) -> bool:
        """Whether ``variable`` has a value in this session."""
        ...

    def variable_values(self) -> dict[Any, Any]:
        """Each initialized variable's current value (device arrays)."""
        ...

    def set_variable_values(self, values: dict[Any, Any]) -> None:
        """Sets variables to ``values`` (placed like the session's own)."""
        ...

    def variable_sharding(self, variable: Any) -> Any:
        """How ``variable`` is laid out over devices, or None."""
        ...
