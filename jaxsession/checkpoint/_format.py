"""The on-disk format: an Orbax checkpoint directory plus a manifest.

A checkpoint with prefix ``P`` is the directory ``P``, holding an Orbax
``StandardCheckpointHandler`` checkpoint whose tree is a *flat* dict keyed by
variable op name (``"dense/kernel"``, ``"dense/kernel/Adam"``). Flat keys,
because TF1 names nest: ``w`` and its slot ``w/Adam`` cannot both be leaves of
a nested dict. Values are NumPy arrays in each variable's declared dtype, so a
plain Orbax reader sees ``int64`` for the global step even when JAX runs
without x64.

Beside Orbax's files sits ``_JAXSESSION_MANIFEST.json``: the format tag, every
variable's shape and dtype, every file's size and CRC32, and a CRC32 of the
manifest itself (``checksum``, over its other fields as canonical JSON), so
that an edited file list is detected instead of turning verification off.
Manifests written before the checksum existed have none and still load. The directory is
written as ``P.partial`` and renamed to ``P`` only when everything (manifest
included) is on disk, so ``P`` existing means the checkpoint is complete; sizes
catch truncation cheaply, checksums catch corruption on restore.

Nothing here unpickles: the manifest is JSON, and Orbax reads JSON metadata
and TensorStore (OCDBT/zarr) array data.
"""

# TF1 checkpoint paths are strings returned and compared verbatim, and may be
# bucket URLs: every file operation goes through ``storage``.
# ruff: noqa: PTH120

from __future__ import annotations

import json
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.checkpoint import storage

logger = logging.getLogger("jaxsession")

MANIFEST = "_JAXSESSION_MANIFEST.json"
FORMAT = "jaxsession.checkpoint/1"
PARTIAL_SUFFIX = ".partial"
# After PARTIAL_SUFFIX: a committed checkpoint moved aside by a re-save, and
# one being deleted (checkpoint/hygiene.py removes what a kill left of either).
ASIDE = "-old"
DELETING = "-deleted"
_CRC_CHUNK = 16 << 20
# The top-level names a checkpoint directory holds (Orbax's and the manifest).
_ENTRY = re.compile(
    r"_[A-Z][A-Z_]*(\.json)?|_sharding|commit_success\.txt|manifest\.ocdbt"
    r"|ocdbt\.process_\d+|d|array_metadatas|descriptor"
)


@dataclass(frozen=True)
class VarSpec:
    """A stored variable's shape and dtype."""

    shape: tuple[int, ...]
    dtype: np.dtype


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest of a checkpoint."""

    variables: dict[str, VarSpec]
    files: dict[str, tuple[int, int]]  # relative path -> (size, crc32)


def _data_loss(path: str, what: str) -> errors.DataLossError:
    return errors.DataLossError(
        None, None, f"Checkpoint {path} is truncated or corrupted: {what}"
    )


# -- writing --------------------------------------------------------------------


def _this_process_only() -> Any:
    """Orbax options that make one process read or write alone.

    Values reach here as host arrays (replicated variables), so one process
    has all of them: in a multi-process job the chief saves and restores by
    itself while the others wait on the coordination service, and Orbax's
    own barriers must not wait for them (session/chief_sync.py).
    """
    import orbax.checkpoint as ocp

    pid = jax.process_index()
    return ocp.options.MultiprocessingOptions(
        primary_host=pid, active_processes={pid}, barrier_sync_key_prefix=f"p{pid}"
    )


def _all_processes(key: str) -> Any:
    """Orbax options for a write every process takes part in, named ``key``.

    Naming the processes makes Orbax meet at coordination-service barriers
    (with ``active_processes=None`` it would run a device collective, which
    could pair up with a training step's collectives from another thread);
    ``key`` keeps each save's barrier names unique.
    """
    import orbax.checkpoint as ocp

    return ocp.options.MultiprocessingOptions(
        primary_host=0,
        active_processes=set(range(jax.process_count())),
        barrier_sync_key_prefix=key,
    )


def write_orbax(
    directory: str, values: Mapping[str, Any], key: str | None = None
) -> None:
    """Writes ``values`` as an Orbax standard checkpoint in ``directory``.

    With ``key`` (a name unique to this save, the same on every process) the
    write is collective: every process calls it, each writes its shards of
    the ``jax.Array`` values, process 0 the NumPy ones and the metadata.
    Without, this process writes alone.
    """
    import orbax.checkpoint as ocp

    if key is not None and directory.startswith("s3://"):
        raise errors.UnimplementedError(
            None,
            None,
            f"Checkpoint {directory}: a multi-process save to s3:// is not "
            "supported (Orbax cannot write s3:// itself); use gs:// or a shared "
            "file system",
        )
    options = _this_process_only() if key is None else _all_processes(key)
    handler = ocp.StandardCheckpointHandler(multiprocessing_options=options)
    with (
        ocp.Checkpointer(handler, multiprocessing_options=options) as checkpointer,
        storage.orbax_write_dir(directory) as target,
    ):
        checkpointer.save(target, args=ocp.args.StandardSave(dict(values)))


def write(path: str, values: Mapping[str, np.ndarray]) -> None:
    """Writes a complete checkpoint at ``path``, atomically (temp dir + rename).

    Raises:
        OSError (or whatever the Orbax writer raises): the write failed; no
            directory is left at ``path`` by this call.
    """
    partial = path + PARTIAL_SUFFIX
    remove_partials(path)
    try:
        write_orbax(partial, values)
        _write_manifest(partial, values)
        _replace(partial, path)
    except BaseException:
        remove_partials(path)
        raise


def write_collective(
    path: str,
    values: Mapping[str, Any],
    specs: Mapping[str, VarSpec],
    key: str,
    timeout_secs: float,
    after_commit: Callable[[], None] | None = None,
) -> None:
    """Writes a checkpoint at ``path`` together with every other process.

    Every process calls it with the same ``path`` and ``key``; ``values``
    holds host arrays for replicated variables and global ``jax.Array``s for
    sharded ones. Orbax writes ``path.partial`` collectively; then process 0
    alone adds the manifest (``specs``: global shapes and dtypes) and renames
    it to ``path``, runs ``after_commit`` (the state file), and then tells
    the others how it went through the coordination service (never a device
    collective, which could hang), so that every process returns only once
    ``path`` is committed, and every process raises the same error when
    ``after_commit`` failed.

    Raises:
        OSError (or what Orbax raises): this process's part failed.
        errors.DataLossError: process 0 failed to commit (on the others).
        errors.UnknownError: ``path`` was committed but ``after_commit``
            failed (on every process).
        errors.DeadlineExceededError: no word from process 0 in time.
    """
    partial = path + PARTIAL_SUFFIX
    chief = jax.process_index() == 0
    if chief:
        remove_partials(path)
    status = _OK
    try:
        write_orbax(partial, values, key)
        if chief:
            _write_manifest(partial, specs)
            _replace(partial, path)
            status = _COMMITTED
            if after_commit is not None:
                after_commit()
            status = _OK
    except BaseException as e:
        if status == _COMMITTED:
            status = f"{_COMMITTED}{type(e).__name__}: {e}"
            raise _after_commit_failed(path, status) from e
        status = f"{_FAILED}{type(e).__name__}: {e}"
        if chief:
            remove_partials(path)
        raise
    finally:
        if chief:
            _announce(path, key, status)
    if not chief:
        _await_commit(path, key, timeout_secs)


# What process 0 tells the others: _OK, or a prefix and the error it met.
_OK = "ok"
_FAILED = "failed: "
_COMMITTED = "committed, after_commit failed: "


def _after_commit_failed(path: str, status: str) -> errors.UnknownError:
    return errors.UnknownError(
        None,
        None,
        f"Checkpoint {path} was written, but updating the checkpoint state file "
        f"failed ({status.removeprefix(_COMMITTED)}): it is neither the latest "
        "checkpoint nor kept in the Saver's list",
    )


def _announce(path: str, key: str, status: str) -> None:
    # Called from a `finally`: raising here would replace the error the
    # save met. Without the coordination service the others fail anyway,
    # on their own deadline.
    client = _coordination()
    if client is None:  # this process left the job (a peer was lost)
        return
    try:
        client.key_value_set(f"{key}/committed", status)
    except Exception as e:
        logger.error(
            "Could not tell the other processes how writing checkpoint %s ended "
            "(%s): %s: %s",
            path,
            status,
            type(e).__name__,
            e,
        )


def _coordination() -> Any:
    from jax._src import distributed

    return distributed.global_state.client


def _await_commit(path: str, key: str, timeout_secs: float) -> None:
    try:
        status = _coordination().blocking_key_value_get(
            f"{key}/committed", max(1, int(timeout_secs * 1000))
        )
    except Exception as e:  # the client raises a bare runtime error
        raise errors.DeadlineExceededError(
            None,
            None,
            f"waited {timeout_secs:g} secs for process 0 to commit checkpoint {path} "
            f"and gave up ({type(e).__name__}: {str(e).splitlines()[0]})",
        ) from None
    if status.startswith(_COMMITTED):
        raise _after_commit_failed(path, status)
    if status != _OK:
        raise _data_loss(
            path, f"process 0 failed to commit it ({status.removeprefix(_FAILED)})"
        )


def remove_partials(path: str) -> None:
    """Deletes what an interrupted write of ``path`` left behind."""
    for leftover in storage.glob(glob_escape(path + PARTIAL_SUFFIX) + "*"):
        storage.rmtree(leftover, ignore_errors=True)


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _write_manifest(directory: str, values: Mapping[str, Any]) -> None:
    """Writes the manifest; ``values`` are arrays or VarSpecs (shape and dtype)."""
    paths = sorted(
        storage.join(top, name)
        for top, _, names in storage.walk(directory)
        for name in names
    )
    files = {
        os.path.relpath(f, directory): [storage.stat(f).length, _crc32(f)]
        for f in paths
    }
    variables = {
        name: {"shape": list(np.shape(v)), "dtype": np.dtype(v.dtype).name}
        if not isinstance(v, VarSpec)
        else {"shape": list(v.shape), "dtype": np.dtype(v.dtype).name}
        for name, v in values.items()
    }
    body = {"format": FORMAT, "variables": variables, "files": files}
    text = json.dumps({**body, "checksum": _manifest_checksum(body)})
    storage.write_atomic(storage.join(directory, MANIFEST), text)


def _manifest_checksum(body: Mapping[str, Any]) -> int:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return zlib.crc32(canonical.encode())


def _replace(partial: str, path: str) -> None:
    # Re-saving an existing prefix: move the old one aside first, because a
    # rename cannot replace a non-empty directory. A crash between the two
    # renames leaves the old checkpoint whole beside its name, and
    # ``recover`` puts it back before anything reads or writes that prefix.
    recover(path)
    old = None
    if storage.exists(path):
        old = _aside(path)
        storage.rmtree(old, ignore_errors=True)
        storage.rename(path, old)
    # In a bucket the rename copies; the manifest, copied last, commits it.
    storage.rename(partial, path, last=MANIFEST)
    storage.fsync_dir(os.path.dirname(path) or ".")
    if old is not None:
        storage.rmtree(old, ignore_errors=True)


def _crc32(file: str) -> int:
    crc = 0
    with storage.open_file(file, "rb") as f:
        while chunk := f.read(_CRC_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def _aside(path: str) -> str:
    return f"{path}{PARTIAL_SUFFIX}{ASIDE}"


def delete(path: str) -> None:
    """Deletes the checkpoint at ``path``: renamed first, so a kill leaves no half of it at ``path``.

    Raises:
        OSError: the rename failed (nothing was deleted).
    """
    if storage.is_remote(path):
        # A bucket has no atomic rename: dropping the manifest first makes the
        # rest an incomplete checkpoint, which the hygiene pass removes.
        storage.remove(storage.join(path, MANIFEST))
        storage.rmtree(path, ignore_errors=True)
        return
    doomed = f"{path}{PARTIAL_SUFFIX}{DELETING}"
    storage.rmtree(doomed, ignore_errors=True)
    storage.rename(path, doomed)
    storage.rmtree(doomed, ignore_errors=True)


def recover(path: str) -> bool:
    """Puts back a committed checkpoint that a crashed re-save moved aside.

    Returns:
        Whether one was put back at ``path``.
    """
    old = _aside(path)
    if storage.exists(path) or not storage.isdir(old) or not is_complete(old):
        return False
    storage.rename(old, path, last=MANIFEST)
    storage.fsync_dir(os.path.dirname(path) or ".")
    logger.warning(
        "Restored checkpoint %s, moved aside by a re-save that did not finish",
        path,
    )
    return True


# -- reading --------------------------------------------------------------------


def read_manifest(path: str) -> Manifest | None:
    """The manifest of the checkpoint at ``path``; None if there is none.

    A checkpoint that a crashed re-save moved aside is put back first. A
    manifest without a checksum (older checkpoints) is taken as it is.

    Raises:
        errors.DataLossError: the manifest exists but cannot be parsed, or
            fails its checksum (naming the manifest file).
    """
    if not path.endswith(PARTIAL_SUFFIX + ASIDE):
        recover(path)
    file = storage.join(path, MANIFEST)
    if not storage.isfile(file):
        return None
    try:
        raw = json.loads(storage.read_text(file))
        checksum = raw.pop("checksum", None)
        if checksum is not None and checksum != _manifest_checksum(raw):
            raise _data_loss(
                path,
                f"its manifest {file} fails its checksum (edited or damaged: "
                "its list of files cannot be trusted)",
            )
        if raw.get("format") != FORMAT:
            raise ValueError(f"unknown format {raw.get('format')!r}")
        variables = {
            name: VarSpec(tuple(int(d) for d in s["shape"]), _dtype(s["dtype"]))
            for name, s in raw["variables"].items()
        }
        files = {
            rel: (int(size), int(crc)) for rel, (size, crc) in raw["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise _data_loss(path, f"unreadable manifest {MANIFEST} ({e})") from None
    return Manifest(variables, files)


def _dtype(name: str) -> np.dtype:
    # jnp.dtype knows bfloat16 and the other ml_dtypes names; np.dtype may not.
    return np.dtype(jax.numpy.dtype(name))


def verify(path: str, manifest: Manifest, checksums: bool = False) -> None:
    """Checks that every file has its recorded size (and CRC32 if asked).

    Raises:
        errors.DataLossError: naming the checkpoint and the bad files.
    """
    bad = list(_bad_files(path, manifest.files, checksums))
    if bad:
        raise _data_loss(path, errors.format_list(bad))


def _bad_files(
    root: str, files: Mapping[str, tuple[int, int]], checksums: bool
) -> Iterable[str]:
    for rel, (size, crc) in files.items():
        file = storage.join(root, rel)
        try:
            found = storage.stat(file).length
        except OSError:
            yield f"{rel} is missing"
            continue
        if found != size:
            yield f"{rel} has {found} bytes, expected {size}"
        elif checksums and _crc32(file) != crc:
            yield f"{rel} fails its checksum"


def holds_only_checkpoint_files(path: str) -> bool:
    """Whether every entry of directory ``path`` is a name checkpoints use.

    What a killed save or deletion leaves at a checkpoint's path holds only
    such names; a directory with anything else (a Supervisor's logdir named
    like a save prefix) is not a checkpoint's remains.
    """
    try:
        return all(_ENTRY.fullmatch(name) for name in storage.listdir(path))
    except OSError:
        return False


def is_complete(path: str) -> bool:
    """Whether ``path`` holds a committed checkpoint whose files have their sizes."""
    try:
        manifest = read_manifest(path)
        if manifest is None:
            return False
        verify(path, manifest)
    except errors.DataLossError:
        return False
    return True


def read(
    path: str, specs: Mapping[str, VarSpec], shardings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Reads the named arrays (only those) as NumPy arrays in their stored dtype.

    A name in ``shardings`` (a sharding split over several devices) is read
    as a global ``jax.Array`` with that sharding instead: this process reads
    only the parts its devices hold. Either way this process reads alone
    (no barrier), so a process may restore while the others do not.

    Raises:
        errors.DataLossError: Orbax/TensorStore could not read the data.
    """
    import orbax.checkpoint as ocp

    shardings = shardings or {}
    # ShapeDtypeStruct targets with restore_type=np.ndarray: an np.int64 leaf
    # cannot be a restore target (DISTRIBUTED_NOTES), a struct can.
    item = {
        n: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=shardings.get(n))
        for n, s in specs.items()
    }
    restore_args = {
        n: ocp.ArrayRestoreArgs(
            sharding=shardings[n], global_shape=s.shape, dtype=s.dtype
        )
        if n in shardings
        else ocp.RestoreArgs(restore_type=np.ndarray)
        for n, s in specs.items()
    }
    args = ocp.args.PyTreeRestore(
        item=item, restore_args=restore_args, partial_restore=True
    )
    try:
        options = _this_process_only()
        handler = ocp.PyTreeCheckpointHandler(multiprocessing_options=options)
        with (
            ocp.Checkpointer(handler, multiprocessing_options=options) as checkpointer,
            storage.orbax_read_dir(path) as source,
        ):
            out = checkpointer.restore(source, args=args)
    except Exception as e:
        raise _data_loss(path, f"reading failed ({type(e).__name__}: {e})") from e
    return {n: _checked(path, n, out.get(n), specs[n]) for n in specs}


def _checked(path: str, name: str, value: Any, spec: VarSpec) -> Any:
    if value is None:
        raise _data_loss(path, f"variable {name} is missing from the Orbax data")
    if not isinstance(value, jax.Array):
        value = np.asarray(value)
    if tuple(value.shape) != spec.shape:
        raise _data_loss(
            path, f"variable {name} has shape {value.shape}, expected {spec.shape}"
        )
    if isinstance(value, jax.Array):
        return value  # read in the dtype asked for, where it lives
    return value.astype(spec.dtype, copy=False)
