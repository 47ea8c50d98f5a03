"""Devices, the Mesh, and global arrays for data- and model-parallel runs.

Rule: a Session runs on a Mesh of every global device when this is a
multi-process job (``jax.process_count() > 1``), or when it was asked for
(``set_data_parallel(True)``, ``JAXSESSION_DATA_PARALLEL=1`` or
``set_mesh_shape(...)``) and there is more than one device. Otherwise
nothing here is used, and a run is the plain one-device call.

The mesh has one ``'data'`` axis by default; ``set_mesh_shape`` adds others
(``{'data': -1, 'model': 2}``). Variables are replicated on every device
unless they carry a sharding (``tf.get_variable(..., sharding=P('model'))``):
then they live as global arrays split over the named axes, and a run keeps
them so. A feed whose placeholder has an unknown leading dimension is this
process's part of the batch, and the parts of all processes form one global
batch sharded along ``'data'``; other feeds are replicated (every process
must feed the same value). A fetched value is returned whole where it is
replicated or sharded over axes other than the batch (a sharded variable is
gathered to the host), and as this process's part where it is sharded along
the batch.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"

_settings: dict[str, Any] = {"data_parallel": None, "mesh_shape": None}


def set_data_parallel(enabled: bool | None) -> None:
    """Asks Sessions created from now on to run data parallel (None: the default rule).

    Multi-process jobs always run data parallel; this switch matters for
    one process with several devices.
    """
    _settings["data_parallel"] = enabled


def set_mesh_shape(shape: Mapping[str, int] | None) -> None:
    """Sets the axes of the Mesh that Sessions created from now on run on.

    For example ``{'data': -1, 'model': 2}``: devices in groups of 2 along
    ``'model'`` (neighbouring devices of one process), the rest along
    ``'data'``. Variables name these axes in their ``sharding``. Setting a
    shape also asks one process with several devices to use the mesh.

    Args:
        shape: Axis name -> size, in mesh order; one size may be -1 (the
            devices left). It must have a ``'data'`` axis (the batch axis).
            None restores the default: one ``'data'`` axis over every device.

    Raises:
        ValueError: no ``'data'`` axis, a size below 1 other than one -1.
    """
    if shape is not None:
        shape = dict(shape)
        if DATA_AXIS not in shape:
            raise ValueError(
                f"mesh shape {shape} has no '{DATA_AXIS}' axis: the batch is split "
                f"along '{DATA_AXIS}' (give it size 1 for pure model parallelism)"
            )
        sizes = list(shape.values())
        if sizes.count(-1) > 1 or any(n < 1 and n != -1 for n in sizes):
            raise ValueError(
                f"mesh shape {shape}: sizes must be positive, with at most one -1"
            )
    _settings["mesh_shape"] = shape


def _asked() -> bool:
    if _settings["data_parallel"] is not None:
        return bool(_settings["data_parallel"])
    if _settings["mesh_shape"] is not None:
        return True
    return os.environ.get("JAXSESSION_DATA_PARALLEL", "") not in ("", "0")


@functools.cache
def _mesh_of(devices: tuple[Any, ...], axes: tuple[tuple[str, int], ...]) -> Mesh:
    names = tuple(name for name, _ in axes)
    sizes = tuple(size for _, size in axes)
    return Mesh(np.array(devices, dtype=object).reshape(sizes), names)


def _axis_sizes(count: int) -> tuple[tuple[str, int], ...]:
    shape = _settings["mesh_shape"] or {DATA_AXIS: -1}
    known = math.prod(n for n in shape.values() if n != -1)
    if count % known or (-1 not in shape.values() and known != count):
        raise ValueError(
            f"mesh shape {shape} does not fit the {count} devices of this job"
        )
    return tuple((k, count // known if n == -1 else n) for k, n in shape.items())


def default_mesh() -> Mesh:
    """A Mesh of every global device (process-major) with the axes of ``set_mesh_shape``.

    Raises:
        ValueError: the mesh shape does not fit the number of devices.
    """
    # Order by process, then local position: ids are not contiguous across
    # processes, so never index devices by id. The last axis varies fastest,
    # so a small 'model' axis stays inside one process.
    devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    return _mesh_of(tuple(devices), _axis_sizes(len(devices)))


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


def as_partition_spec(spec: Any) -> PartitionSpec:
    """``spec`` (a PartitionSpec, or a tuple/list of its entries) as a PartitionSpec.

    Raises:
        TypeError: ``spec`` is none of these, naming it.
    """
    if isinstance(spec, PartitionSpec):
        return spec
    if isinstance(spec, tuple | list):
        return PartitionSpec(*spec)
    raise TypeError(
        f"a variable's sharding must be a jax.sharding.PartitionSpec, got {spec!r}"
    )


def variable_sharding(mesh: Mesh, var: Any) -> NamedSharding:
    """Where ``var`` lives on ``mesh``: its ``sharding`` spec, else replicated.

    Args:
        mesh: The session's mesh.
        var: A Variable (its ``sharding`` is a PartitionSpec or None).

    Returns:
        The variable's ``NamedSharding`` on ``mesh``.

    Raises:
        ValueError: the spec names an axis the mesh lacks, or splits a
            dimension that the axes' size does not divide; naming the
            variable, the spec and the mesh's axes.
    """
    spec = getattr(var, "sharding", None)
    if spec is None:
        return replicated(mesh)
    spec = as_partition_spec(spec)
    shape = var.shape.as_tuple()
    axes = dict(mesh.shape)
    problem = None
    if len(spec) > len(shape):
        problem = f"it has {len(spec)} entries for a value of rank {len(shape)}"
    for dim, entry in enumerate(spec):
        names = entry if isinstance(entry, tuple) else (entry,)
        names = tuple(n for n in names if n is not None)
        unknown = [n for n in names if n not in axes]
        if problem is None and unknown:
            problem = f"the mesh has no axis {unknown[0]!r}"
        elif problem is None and names:
            size = math.prod(axes[n] for n in names)
            if shape[dim] is not None and shape[dim] % size:
                problem = (
                    f"dimension {dim} of size {shape[dim]} does not split into "
                    f"{size} parts along {'x'.join(names)}"
                )
    if problem is not None:
        raise ValueError(
            f"cannot shard variable '{var.op.name}' of shape {shape} with {spec} on "
            f"the mesh with axes {axes}: {problem}"
        )
    return NamedSharding(mesh, spec)


def place(sharding: NamedSharding, value: Any) -> jax.Array:
    """``value`` (the whole value, the same on every process) as a global array.

    Host-side only (no collective): each process puts its own devices'
    parts, so one process may call it alone.

    Args:
        sharding: Where the value goes.
        value: A host value, or a ``jax.Array`` (kept if already so placed).

    Returns:
        The global array.

    Raises:
        ValueError: ``value`` is a global array sharded across processes,
            which only a collective could re-place.
    """
    if isinstance(value, jax.Array) and value.sharding == sharding:
        return value
    if isinstance(value, jax.Array) and not value.is_fully_addressable:
        if not value.is_fully_replicated:
            raise ValueError(
                f"cannot re-place a value sharded as {value.sharding} as {sharding} "
                "without a collective"
            )
        value = value.addressable_data(0)
    host = np.asarray(value)
    if sharding.is_fully_replicated:
        return jax.make_array_from_process_local_data(sharding, host, host.shape)
    return jax.make_array_from_callback(host.shape, sharding, lambda i: host[i])


def place_replicated(mesh: Mesh, value: Any) -> jax.Array:
    """``value`` (the same on every process) as a replicated global array.

    Host-side only (no collective), so one process may call it alone.
    """
    return place(replicated(mesh), value)


def _local_batch_parts(mesh: Mesh) -> tuple[int, int]:
    """(parts of the batch this process holds, parts in all): positions on 'data'."""
    axis = mesh.axis_names.index(DATA_AXIS)
    pid = jax.process_index()
    mine = set()
    for index, device in np.ndenumerate(mesh.devices):
        if device.process_index == pid:
            mine.add(index[axis])
    return len(mine), mesh.devices.shape[axis]


def local_batch_devices(mesh: Mesh) -> int:
    """How many parts of the batch (positions along ``'data'``) this process holds."""
    return _local_batch_parts(mesh)[0]


def platform(mesh: Mesh) -> str:
    """The platform of ``mesh``'s devices (``'cpu'``, ``'gpu'``, ``'tpu'``)."""
    return mesh.devices.flat[0].platform


def local_block(mesh: Mesh) -> Mesh | None:
    """This process's devices of ``mesh`` as a Mesh with the same axes.

    Returns:
        ``mesh`` itself in a one-process job; None when this process's
        devices do not form one block of the mesh (then a value placed on
        them cannot be laid out as its part of a global array).
    """
    pid = jax.process_index()
    mine = np.array([d.process_index == pid for d in mesh.devices.flat])
    mine = mine.reshape(mesh.devices.shape)
    if mine.all():
        return mesh
    box = tuple(slice(w.min(), w.max() + 1) for w in np.nonzero(mine))
    block = mesh.devices[box]
    if block.size != mine.sum():
        return None
    return _mesh_of(tuple(block.flat), tuple(zip(mesh.axis_names, block.shape)))


def from_local_block(
    mesh: Mesh, local: jax.Array, spec: PartitionSpec, shape: tuple[int, ...]
) -> jax.Array:
    """``local``, laid out on ``local_block(mesh)``, as this process's part of a global array.

    No data moves: each device's shard of ``local`` becomes its shard of
    the global array of ``shape``, sharded as ``spec`` on ``mesh``.
    """
    sharding = NamedSharding(mesh, spec)
    if local.sharding == sharding:
        return local
    shards = [shard.data for shard in local.addressable_shards]
    return jax.make_array_from_single_device_arrays(shape, sharding, shards)


def global_batch_at(mesh: Mesh, local: Any, name: str, axis: int = 0) -> jax.Array:
    """This process's batch ``local`` as its part of the global batch.

    The batch is dimension ``axis`` of ``local``, split along ``'data'``:
    multi-step feeds and prefetched blocks of K batches carry the steps
    first, so their batch is dimension 1.

    Args:
        mesh: The session's mesh.
        local: This process's part of the batch.
        name: The fed tensor's name, for the error message.
        axis: The batch dimension.

    Returns:
        The global array, sharded along ``'data'`` on dimension ``axis``.

    Raises:
        ValueError: that dimension does not split evenly over this
            process's positions along ``'data'`` (naming the tensor ``name``).
    """
    local = np.asarray(local)
    n = local_batch_devices(mesh)
    if local.ndim <= axis or local.shape[axis] % n:
        which = "leading dimension" if axis == 0 else f"dimension {axis} (the batch)"
        raise ValueError(
            f"cannot feed a batch of shape {local.shape} for '{name}' in a "
            f"data-parallel run: its {which} must be a multiple of {n}, this "
            f"process's parts of the batch along '{DATA_AXIS}'"
        )
    sharding = NamedSharding(mesh, batch_spec(axis))
    shape = global_batch_shape(mesh, local.shape, axis)
    return jax.make_array_from_process_local_data(sharding, local, shape)


def batch_spec(axis: int = 0) -> PartitionSpec:
    """The PartitionSpec of a batch split along ``'data'`` on dimension ``axis``."""
    return PartitionSpec(*[None] * axis, DATA_AXIS)


def global_batch_shape(
    mesh: Mesh, local: tuple[int, ...], axis: int = 0
) -> tuple[int, ...]:
    """The global shape of a batch whose part in this process has shape ``local``."""
    n, total = _local_batch_parts(mesh)
    shape = list(local)
    shape[axis] = shape[axis] * total // n
    return tuple(shape)


def feed_value(
    mesh: Mesh, value: Any, is_batch: bool, name: str, axis: int = 0
) -> jax.Array:
    """A fed value as a global array: a part of the batch, or replicated.

    Args:
        mesh: The session's mesh.
        value: The fed value (this process's part, if a batch).
        is_batch: Whether the tensor is a batch (``is_batch_feed``).
        name: The fed tensor's name, for error messages.
        axis: The batch dimension (1 when the steps of a K-step run come first).

    Returns:
        The global array.

    Raises:
        ValueError: a batch does not split over this process's parts of it.
    """
    if is_batch:
        return global_batch_at(mesh, value, name, axis)
    return place_replicated(mesh, value)


def feed_sharding(mesh: Mesh, tensor: Any, axis: int = 0) -> NamedSharding:
    """Where ``tensor``'s value goes: a batch split on ``axis``, else replicated."""
    if is_batch_feed(tensor):
        return NamedSharding(mesh, batch_spec(axis))
    return replicated(mesh)


def is_batch_shape(shape: Any) -> bool:
    """Whether a static shape is a batch's: its leading dimension is unknown."""
    dims = getattr(shape, "dims", None)
    if not dims:
        return False
    first = dims[0]
    return getattr(first, "value", first) is None


def is_batch_feed(tensor: Any) -> bool:
    """Whether a fed tensor is a batch: its static leading dimension is unknown."""
    return is_batch_shape(tensor.shape)


def to_host(value: Any) -> Any:
    """A fetched global array on the host: whole, or this process's part of a batch.

    A value with a dimension split along ``'data'`` (a batch: the leading
    one, or the second in the per-step values of a K-step run) comes back as
    this process's part of that dimension (with all of the others, if this
    process holds them); any other sharding (a model-parallel variable) is
    gathered whole, which is a collective: every process fetches it. Values
    that are not ``jax.Array``s, or that this process holds entirely, pass
    through.
    """
    if not isinstance(value, jax.Array) or value.is_fully_addressable:
        return value
    if value.is_fully_replicated:
        return np.asarray(value.addressable_data(0))
    dim = batch_dimension(value)
    local = None if dim is None else local_part(value, dim)
    return _gathered(value) if local is None else local


def batch_dimension(value: jax.Array) -> int | None:
    """The dimension of ``value`` split along ``'data'``, or None.

    The first such dimension of the sharding's spec; a sharding without a
    spec counts as the leading dimension.
    """
    spec = getattr(value.sharding, "spec", None)
    if spec is None:
        return 0
    for dim, entry in enumerate(spec):
        if DATA_AXIS in (entry if isinstance(entry, tuple) else (entry,)):
            return dim
    return None


def local_part(value: jax.Array, dim: int = 0) -> np.ndarray | None:
    """This process's part of ``value`` along ``dim`` (its batch), as one array.

    Args:
        value: A global array.
        dim: The dimension split along ``'data'``.

    Returns:
        The slices of ``dim`` this process holds, in order, with every other
        dimension whole; None if this process lacks some of those (then only
        a gather makes them whole).
    """
    n = value.shape[dim]
    bounds = {}
    for shard in value.addressable_shards:
        rows = shard.index[dim]
        bounds[rows.start or 0] = n if rows.stop is None else rows.stop
    offsets, total = {}, 0
    for start in sorted(bounds):
        offsets[start] = total
        total += bounds[start] - start
    shape = list(value.shape)
    shape[dim] = total
    out = np.empty(shape, value.dtype)
    seen, covered = set(), 0
    for shard in value.addressable_shards:
        key = tuple((i.start, i.stop) for i in shard.index)
        if key in seen:
            continue
        seen.add(key)
        start = shard.index[dim].start or 0
        index = list(shard.index)
        index[dim] = slice(offsets[start], offsets[start] + bounds[start] - start)
        data = np.asarray(shard.data)
        out[tuple(index)] = data
        covered += data.size
    return out if covered == out.size else None


def _gathered(value: jax.Array) -> np.ndarray:
    # A value sharded other than along the batch: every process fetches the
    # same values in the same order (one program), so the gather matches up.
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(value, tiled=True))


def on_mesh(mesh: Mesh, value: Any) -> bool:
    """Whether ``value`` is already a global array placed on ``mesh`` (a prefetched feed)."""
    return (
        isinstance(value, jax.Array) and getattr(value.sharding, "mesh", None) == mesh
    )
