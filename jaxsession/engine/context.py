"""What engine code needs from a session, as Protocols (a leaf: no engine imports).

Host ops (``engine/host.py``) and iterators (``engine/infeed.py``) run
against a ``HostContext``; ``engine.state.VariableStore`` and ``Session`` are
both host contexts. (What checkpointing needs of a session is
``checkpoint/session_like.py``.)
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
