"""XLA flags the engine chooses for the process, before JAX first compiles.

XLA reads ``XLA_FLAGS`` once, when JAX starts its backend (the first
device query or compile), so these are set when ``jaxsession`` is
imported. A flag the user already put in ``XLA_FLAGS`` is left as it is:
that is how to choose otherwise.
They are set on every platform (GPU and TPU compilers ignore ``xla_cpu_*``
flags) and child processes inherit them with the environment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

logger = logging.getLogger("jaxsession")

# XLA:CPU orders a computation with one of two schedulers. The default
# (breadth-first, "concurrency optimized") spreads a step of many small ops
# (the slices of packed state, one optimizer update per variable) over its
# thread pool, and the hand-offs cost more than the ops: a 32-32-32-10 MLP
# step took 70 µs, and 35 µs with the depth-first, memory-ordered one
# (benchmarks/RESULTS.md, "Session 5"). Large steps differ by a few percent.
CPU_SCHEDULER = "xla_cpu_enable_concurrency_optimized_scheduler"


def choose_cpu_scheduler(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Asks XLA:CPU for its depth-first scheduler unless ``XLA_FLAGS`` names one.

    Args:
        environ: The environment to update (the process's by default).

    Returns:
        Whether the flag was added.
    """
    flags = environ.get("XLA_FLAGS", "")
    named = f"--{CPU_SCHEDULER}"
    if any(f == named or f.startswith(f"{named}=") for f in flags.split()):
        return False
    environ["XLA_FLAGS"] = f"{flags} --{CPU_SCHEDULER}=false".strip()
    return True


def backend_started() -> bool:
    """Whether JAX has started its backends (and read ``XLA_FLAGS``)."""
    try:
        from jax._src import xla_bridge

        return xla_bridge.backends_are_initialized()
    except (ImportError, AttributeError):  # private API moved: assume started
        return True


def set_flags() -> None:
    """Sets the engine's flags; says so when JAX read ``XLA_FLAGS`` already."""
    if choose_cpu_scheduler() and backend_started():
        logger.info(
            "JAX started before jaxsession was imported: XLA:CPU keeps its "
            "default scheduler in this process (import jaxsession first, or "
            "set --%s=false in XLA_FLAGS)",
            CPU_SCHEDULER,
        )
