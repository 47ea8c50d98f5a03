"""Devices, the Mesh, and global arrays for data-parallel runs.

Rule: a Session runs data parallel over a Mesh of every global device with
one ``'data'`` axis when this is a multi-process job
(``jax.process_count() > 1``), or when data parallelism was asked for
(``set_data_parallel(True)`` or ``JAXSESSION_DATA_PARALLEL=1``) and there
is more than one device. Otherwise nothing here is used, and a run is the
plain one-device call.

In a data-parallel run, variables are replicated on every device; a feed
whose placeholder has an unknown leading dimension is this process's part
of the batch, and the parts of all processes form one global batch sharded
along ``'data'``; other feeds are replicated (every process must feed the
same value). A fetched value is returned whole where it is replicated, and
as this process's part where it is sharded along the batch.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"

_settings: dict[str, bool | None] = {"data_parallel": None}


def set_data_parallel(enabled: bool | None) -> None:
    """Asks Sessions created from now on to run data parallel (None: the default rule).

    Multi-process jobs always run data parallel; this switch matters for
    one process with several devices.
    """
    _settings["data_parallel"] = enabled


def _asked() -> bool:
    if _settings["data_parallel"] is not None:
        return bool(_settings["data_parallel"])
    return os.environ.get("JAXSESSION_DATA_PARALLEL", "") not in ("", "0")


@functools.cache
def _mesh_of(devices: tuple[Any, ...]) -> Mesh:
    return Mesh(np.array(devices, dtype=object), (DATA_AXIS,))


def default_mesh() -> Mesh:
    """A Mesh of every global device (process-major) with one ``'data'`` axis."""
    # Order by process, then local position: ids are not contiguous across
    # processes, so never index devices by id.
    devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    return _mesh_of(tuple(devices))


def active_mesh() -> Mesh | None:
    """The mesh a new Session runs on, or None for plain one-device runs."""
    if jax.process_count() > 1:
        return default_mesh()
    if _asked() and jax.device_count() > 1:
        return default_mesh()
    return None


def replicated(mesh: Mesh) -> NamedSharding:
    """The sharding of a value held whole on every device of ``mesh``."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """The sharding of a global batch: leading dimension split along ``'data'``."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def place_replicated(mesh: Mesh, value: Any) -> jax.Array:
    """``value`` (the same on every process) as a replicated global array.

    Host-side only (no collective), so one process may call it alone.
    """
    sharding = replicated(mesh)
    if isinstance(value, jax.Array) and value.sharding == sharding:
        return value
    if isinstance(value, jax.Array) and not value.is_fully_addressable:
        value = value.addressable_data(0)
    host = np.asarray(value)
    return jax.make_array_from_process_local_data(sharding, host, host.shape)


def local_batch_devices(mesh: Mesh) -> int:
    """How many of ``mesh``'s devices belong to this process."""
    return sum(d.process_index == jax.process_index() for d in mesh.devices.flat)


def global_batch(mesh: Mesh, local: Any, name: str) -> jax.Array:
    """This process's batch ``local`` as its part of the global batch.

    Raises:
        ValueError: the local batch does not split evenly over this
            process's devices (naming the tensor ``name``).
    """
    local = np.asarray(local)
    n = local_batch_devices(mesh)
    if local.ndim == 0 or local.shape[0] % n:
        raise ValueError(
            f"cannot feed a batch of shape {local.shape} for '{name}' in a "
            f"data-parallel run: its leading dimension must be a multiple of "
            f"this process's {n} devices"
        )
    global_shape = (local.shape[0] * jax.process_count(), *local.shape[1:])
    return jax.make_array_from_process_local_data(
        batch_sharding(mesh), local, global_shape
    )


def feed_value(mesh: Mesh, value: Any, is_batch: bool, name: str) -> jax.Array:
    """A feed as a global array: a batch part or a replicated value."""
    if is_batch:
        return global_batch(mesh, value, name)
    return place_replicated(mesh, value)


def is_batch_feed(tensor: Any) -> bool:
    """Whether a fed tensor is a batch: its static leading dimension is unknown."""
    dims = getattr(tensor.shape, "dims", None)
    if not dims:
        return False
    first = dims[0]
    return getattr(first, "value", first) is None


def to_host(value: Any) -> Any:
    """A fetched global array on the host: whole if replicated, else this process's part.

    Values that are not ``jax.Array``s pass through.
    """
    if not isinstance(value, jax.Array) or value.is_fully_addressable:
        return value
    if value.is_fully_replicated:
        return np.asarray(value.addressable_data(0))
    shards = {}
    for shard in value.addressable_shards:
        index = shard.index
        if any(s != slice(None) for s in index[1:]):
            return _gathered(value)
        shards.setdefault(index[0].start or 0, shard.data)
    return np.concatenate([np.asarray(shards[k]) for k in sorted(shards)], axis=0)


def _gathered(value: jax.Array) -> np.ndarray:
    # A value sharded other than along the batch: every process fetches the
    # same values in the same order (one program), so the gather matches up.
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(value, tiled=True))
