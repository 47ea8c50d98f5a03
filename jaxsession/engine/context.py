"""What engine code needs from a session, as Protocols (a leaf: no engine imports).

Host ops (``engine/host.py``) and iterators (``engine/infeed.py``) run
against a ``HostContext``; checkpointing and broadcasting read and write a
``VariableSource``. ``engine.state.VariableStore`` and ``Session`` are both
host contexts; ``Session`` is a variable source.
"""

from __future__ import annotations

from typing import Any, Protocol


class HostContext(Protocol):
    """What host ops need: the session's resources, mesh and initialized set."""

    resources: dict[Any, Any]

    @property
    def mesh(self) -> Any:
        """The session's mesh, or None on one device."""

    def is_initialized(self, variable: Any) -> bool:
        """Whether ``variable`` holds a value."""


class VariableSource(Protocol):
    """What checkpointing and broadcasting need from a session's variables."""

    def variable_values(self) -> dict[Any, Any]:
        """The initialized variables' device values, by Variable."""

    def set_variable_values(self, values: dict[Any, Any]) -> None:
        """Replaces some variables' values."""

    def variable_sharding(self, variable: Any) -> Any:
        """Where ``variable``'s value lives, or None without a mesh."""
