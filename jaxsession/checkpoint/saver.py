"""Saver: asynchronous save, validated restore and retention (TF1_BEHAVIOUR §8).

A save copies the values off the device and returns; a background thread
writes the Orbax checkpoint, commits it (rename), records it in the state
file and deletes expired checkpoints. At most one save is in flight. A
failure in the background is kept and raised by the next ``save``,
``wait_until_finished`` or ``close``, as TF1's error class for it (a full
disk: ``ResourceExhaustedError``; a name too long: ``InvalidArgumentError``)
with the original error as its ``__cause__``; since the state file is
rewritten only after the commit, a failed save never becomes the latest
checkpoint.
"""

# TF1 checkpoint paths are strings returned and compared verbatim; pathlib would
# normalize them ('./m' -> 'm'), so path strings go through os.path.
# ruff: noqa: PTH100, PTH119, PTH120

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.checkpoint import (
    _format,
    hygiene,
    pending,
    sources,
    state as state_lib,
    storage,
)
from jaxsession.checkpoint.policies import (
    AnyOf,
    CheckpointEntry,
    KeepEvery,
    KeepLatest,
    RetentionPolicy,
)
from jaxsession.checkpoint.session_like import SessionLike
from jaxsession.graph.core import GraphKeys, get_default_graph

__all__ = ["Saver"]

logger = logging.getLogger("jaxsession")

_WRITER_NICENESS = 10


class Saver:
    """Saves and restores variables (``tf.train.Saver``), stored with Orbax.

    A checkpoint with prefix ``P`` (``save_path + '-' + step``) is the Orbax
    checkpoint directory ``P`` (see ``checkpoint/_format.py``); ``<dir>/checkpoint``
    is TF1's state file.

    Differs from TF1: ``save`` is asynchronous (it returns once the values are
    on the host; call ``wait_until_finished`` or ``close`` to wait; reading the
    state file, any ``restore`` and interpreter exit wait too), and no
    ``.meta`` file is written (``write_meta_graph`` is accepted and ignored).

    ``save_path`` may be a ``gs://`` or ``s3://`` URL (``checkpoint/storage.py``);
    a bucket has no directories, so its "parent directory" is not checked.

    Args:
        var_list: Variables to save, as a list or a dict name -> variable;
            default GLOBAL_VARIABLES + SAVEABLE_OBJECTS of the default graph.
        reshape: Allow restoring a value of another shape with the same size.
        sharded: Accepted (Orbax shards by itself); lifts TF1's
            ``latest_filename`` clash check.
        max_to_keep: Checkpoints kept in the list (falsy: no bookkeeping).
        keep_checkpoint_every_n_hours: Also keep one checkpoint per N hours.
        name, restore_sequentially, saver_def, builder, write_version, filename:
            Accepted for TF1 compatibility; unused.
        defer_build: Resolve the variables in ``build()`` instead of now.
        allow_empty: With no variables, save and restore do nothing.
        pad_step_number: Zero-pad the step in the prefix to 8 digits.
        save_relative_paths: Write paths relative to the directory in the state file.
        retention: Keyword-only; overrides the policy deciding whether a
            checkpoint leaving the list stays on disk.
        clock: Keyword-only; wall-clock seconds for save times.

    Raises:
        ValueError: no variables (and not ``allow_empty``), or two share a name.
        TypeError: an entry of ``var_list`` is not a variable.
    """

    def __init__(
        self,
        var_list: Any = None,
        reshape: bool = False,
        sharded: bool = False,
        max_to_keep: int | None = 5,
        keep_checkpoint_every_n_hours: float = 10000.0,
        name: str | None = None,
        restore_sequentially: bool = False,
        saver_def: Any = None,
        builder: Any = None,
        defer_build: bool = False,
        allow_empty: bool = False,
        write_version: int = 2,
        pad_step_number: bool = False,
        save_relative_paths: bool = False,
        filename: str | None = None,
        *,
        retention: RetentionPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._allow_empty = allow_empty
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._retention = retention
        self._clock = clock
        self._vars: dict[str, Any] | None = None
        self._last: list[CheckpointEntry] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._thread_prefix = ""
        self._cleaned: set[tuple[str, str]] = set()
        self._cleaning: tuple[str, str, str] | None = None
        # Saves from several threads (a Supervisor's checkpoint thread and
        # the training loop) start one after the other.
        self._save_lock = threading.Lock()
        self._error: BaseException | None = None
        if not defer_build:
            self.build()

    # -- building ----------------------------------------------------------------

    def build(self) -> None:
        """Resolves the variables to save (once); called by __init__ unless deferred."""
        if self._vars is not None:
            return
        self._vars = _var_dict(self._var_list)
        if not self._vars and not self._allow_empty:
            raise ValueError("No variables to save")
        if self._retention is None:
            self._retention = AnyOf(
                (
                    KeepLatest(self._max_to_keep or 0),
                    KeepEvery(self._keep_hours, self._clock),
                )
            )

    def _check_built(self, what: str) -> dict[str, Any]:
        if self._vars is None:
            raise RuntimeError(
                f"`build()` should be called before {what} if defer_build==True"
            )
        return self._vars

    # -- saving ------------------------------------------------------------------

    def save(
        self,
        sess: SessionLike,
        save_path: str,
        global_step: Any = None,
        latest_filename: str | None = None,
        meta_graph_suffix: str = "meta",
        write_meta_graph: bool = True,
        write_state: bool = True,
        strip_default_attrs: bool = False,
        save_debug_info: bool = False,
    ) -> str | None:
        """Starts saving the variables' values; returns the checkpoint prefix.

        Waits for the previous save first (at most one is in flight).

        In a multi-process job (``jax.process_count() > 1``) a save is
        collective: every process MUST call ``save`` for the same step, in the
        same order as its other saves (a process that does not would leave
        the others waiting at Orbax's barriers). Each process writes its
        shards of sharded variables, process 0 the replicated values; process
        0 alone then commits the checkpoint (manifest, rename), the state
        file and retention, and every process returns the same prefix.
        Differs from TF1: TF1's chief saved alone.

        Args:
            sess: The Session holding the values.
            save_path: Prefix of the checkpoint path.
            global_step: An int, or a variable/tensor (or its name) run in ``sess``;
                appended to the prefix.
            latest_filename: State file name (default ``checkpoint``).
            meta_graph_suffix: Unused (no ``.meta`` file is written).
            write_meta_graph: Unused.
            strip_default_attrs: Unused.
            save_debug_info: Unused.
            write_state: Record the checkpoint in the state file and apply retention.

        Returns:
            The checkpoint prefix, or None for an empty saver.

        Raises:
            ValueError: bad ``latest_filename`` or a missing parent directory.
            errors.FailedPreconditionError: a variable is not initialized.
            errors.UnavailableError: (``PeerLostError``) a process of the job
                was lost while the previous collective save was in flight.
            Exception: the previous save's background failure, re-raised.
        """
        variables = self._check_built("save")
        with self._save_lock:
            return self._start_save(
                sess, variables, save_path, global_step, latest_filename, write_state
            )

    def _start_save(
        self,
        sess: SessionLike,
        variables: Any,
        save_path: str,
        global_step: Any,
        latest_filename: str | None,
        write_state: bool,
    ) -> str | None:
        self.wait_until_finished()
        if not variables:
            return None
        latest_filename = latest_filename or "checkpoint"
        prefix = self._prefix(sess, save_path, global_step, latest_filename)
        self._plan_cleaning(os.fspath(save_path), latest_filename)
        args: tuple = (prefix, self._clock(), write_state, latest_filename)
        if jax.process_count() > 1:
            # One collective write at a time, issued in program order (the
            # same on every process), so the processes' writes pair up.
            pending.wait_for_pending_saves()
            target = self._write_collective_in_background
            args += (*_collective_snapshot(sess, variables), _next_save_key())
        else:
            target = self._write_in_background
            args += (_snapshot(sess, variables),)
        # A daemon: with a peer lost it may wait at a barrier long after the
        # caller gave up on it (checkpoint/pending.py); exit waits for it otherwise.
        thread = threading.Thread(
            target=target,
            args=args,
            name=f"jaxsession checkpoint writer {prefix}",
            daemon=True,
        )
        self._thread = thread
        self._thread_prefix = prefix
        pending.start(thread, prefix)
        return prefix

    def _plan_cleaning(self, save_path: str, latest_filename: str) -> None:
        """Has this save's writer first clean its directory, once per directory (chief only)."""
        directory = os.path.dirname(save_path) or "."
        key = (os.path.abspath(directory), os.path.basename(save_path))
        if jax.process_index() != 0 or key in self._cleaned:
            return
        self._cleaned.add(key)
        self._cleaning = (directory, key[1], latest_filename)

    def _clean_first(self) -> None:
        cleaning, self._cleaning = self._cleaning, None
        if cleaning is not None:
            hygiene.clean(*cleaning)

    def _prefix(
        self, sess: SessionLike, save_path: str, global_step: Any, latest_filename: str
    ) -> str:
        save_path = os.fspath(save_path)
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        parent = os.path.dirname(save_path)
        # A bucket has no directories to check.
        if parent and not storage.is_remote(parent) and not storage.isdir(parent):
            raise ValueError(
                f"Parent directory of {save_path} doesn't exist, can't save."
            )
        if global_step is None:
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError(
                    f"'latest_filename' collides with 'save_path': '{latest_filename}' "
                    f"and '{save_path}'"
                )
            return save_path
        step = _step_value(sess, global_step)
        return (
            f"{save_path}-{step:08d}"
            if self._pad_step_number
            else f"{save_path}-{step}"
        )

    def _write_in_background(
        self,
        prefix: str,
        save_time: float,
        write_state: bool,
        latest_filename: str,
        values: dict[str, np.ndarray],
    ) -> None:
        _lower_priority()
        try:
            self._clean_first()
            _format.write(prefix, values)
            if write_state and jax.process_index() == 0:
                self._commit_state(prefix, save_time, latest_filename)
        except BaseException as e:  # kept and re-raised in the caller's thread
            self._fail(prefix, e)
        finally:
            pending.finished()

    def _write_collective_in_background(
        self,
        prefix: str,
        save_time: float,
        write_state: bool,
        latest_filename: str,
        values: dict[str, Any],
        specs: dict[str, _format.VarSpec],
        key: str,
    ) -> None:
        _lower_priority()
        chief = jax.process_index() == 0

        def commit() -> None:
            if write_state:
                self._commit_state(prefix, save_time, latest_filename, delete=chief)

        try:
            self._clean_first()
            _format.write_collective(
                prefix,
                values,
                specs,
                key,
                _COMMIT_TIMEOUT_SECS,
                after_commit=commit if chief else None,
            )
            if not chief:
                commit()  # the chief's list, kept alike; it writes nothing here
        except BaseException as e:  # kept and re-raised in the caller's thread
            self._fail(prefix, e)
        finally:
            pending.finished()

    def _fail(self, prefix: str, error: BaseException) -> None:
        logger.error(
            "Saving checkpoint %s failed: %s: %s", prefix, type(error).__name__, error
        )
        self._error = errors.translated(error, f"Saving checkpoint {prefix} failed")

    def _commit_state(
        self, prefix: str, save_time: float, latest_filename: str, delete: bool = True
    ) -> None:
        """Records ``prefix``; with ``delete``, writes the state file and retires.

        ``prefix`` joins the list only once the state file lists it, so a
        failed state write leaves the list as the file has it.
        """
        with self._lock:
            kept, expired = self._with(prefix, save_time)
            if delete:
                state_lib.update_checkpoint_state(
                    os.path.dirname(prefix),
                    prefix,
                    [e.path for e in kept],
                    latest_filename,
                    save_relative_paths=self._save_relative_paths,
                )
            if self._max_to_keep:
                self._last = kept
        if delete:
            for entry in expired:
                _delete(entry.path)

    def _with(
        self, prefix: str, save_time: float
    ) -> tuple[list[CheckpointEntry], list[CheckpointEntry]]:
        """The list with ``prefix`` appended, and the entries that leave it to be deleted."""
        if not self._max_to_keep:
            return list(self._last), []
        kept = [e for e in self._last if e.path != prefix]
        kept.append(CheckpointEntry(prefix, save_time))
        expired = []
        while len(kept) > self._max_to_keep:
            entry = kept.pop(0)
            if not self._retention.should_keep(entry, len(kept)):
                expired.append(entry)
        return kept, expired

    def wait_until_finished(self) -> None:
        """Waits for the save in flight; raises its failure, if any, once."""
        self._join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self) -> None:
        """Waits for the save in flight (raising its failure)."""
        self.wait_until_finished()

    def __enter__(self) -> Saver:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _join(self) -> None:
        thread = self._thread
        if thread is not None:
            pending.join(thread, self._thread_prefix)
            self._thread = None

    # -- restoring ---------------------------------------------------------------

    def restore(self, sess: SessionLike, save_path: str | None) -> None:
        """Sets the variables to the values of the checkpoint at ``save_path``.

        Everything is checked before any variable changes, so a failed restore
        leaves the session as it was. Each process reads alone, with the
        shardings of the session's current mesh (a sharded variable: only the
        parts this process holds), so a checkpoint written by N processes
        restores in M; in a multi-process job every process may restore, or
        only one.

        Args:
            sess: The Session to restore into.
            save_path: A checkpoint prefix, as returned by ``save`` or
                ``latest_checkpoint``; also a TensorFlow checkpoint prefix
                or a plain Orbax checkpoint (see ``checkpoint/sources.py``).

        Raises:
            ValueError: ``save_path`` is None or holds no checkpoint.
            errors.NotFoundError: variables missing from the checkpoint.
            errors.InvalidArgumentError: shape or dtype mismatches.
            errors.DataLossError: a truncated or corrupted checkpoint.
        """
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        variables = self._check_built("restore")
        self._join()
        pending.wait_for_pending_saves()
        if not variables:
            return
        save_path = os.fspath(save_path)
        source = sources.open_checkpoint(save_path)
        if source is None:
            raise ValueError(
                f"The passed save_path is not a valid checkpoint: {save_path} "
                f"({sources.what_was_looked_for(save_path)})"
            )
        logger.info("Restoring parameters from %s", save_path)
        source.verify()
        _check_matches(save_path, source, variables, self._reshape)
        source.verify(checksums=True)
        specs = {name: source.variables[name] for name in variables}
        shardings = _split_shardings(sess, variables, specs)
        for name, var in variables.items():
            if name in shardings:
                specs[name] = _format.VarSpec(specs[name].shape, _device_dtype(var))
        values = source.read(specs, shardings)
        sess.set_variable_values(
            {
                var: values[name]
                if name in shardings
                else values[name].reshape(var.shape.as_tuple())
                for name, var in variables.items()
            }
        )
        _restores.setdefault(sess, {}).update(
            (var.op.name, (save_path, name)) for name, var in variables.items()
        )

    # -- bookkeeping ---------------------------------------------------------------

    @property
    def last_checkpoints(self) -> list[str]:
        """Prefixes of the kept checkpoints, oldest first (waits for the save in flight)."""
        self._join()
        with self._lock:
            return [e.path for e in self._last]

    def set_last_checkpoints(self, last_checkpoints: Sequence[str]) -> None:
        """Replaces the list (times: now). Deprecated in TF1."""
        now = self._clock()
        self.set_last_checkpoints_with_time([(p, now) for p in last_checkpoints])

    def set_last_checkpoints_with_time(
        self, last_checkpoints_with_time: Sequence[tuple[str, float]]
    ) -> None:
        """Replaces the list with ``(prefix, save time)`` pairs, oldest first."""
        self._join()
        with self._lock:
            self._last = [
                CheckpointEntry(p, float(t)) for p, t in last_checkpoints_with_time
            ]

    def recover_last_checkpoints(self, checkpoint_paths: Sequence[str]) -> None:
        """Refills the list after a restart from the checkpoints that still exist.

        Their times are the files' modification times, so retention continues
        where the previous run left off.
        """
        existing = [p for p in checkpoint_paths if state_lib.checkpoint_exists(p)]
        self.set_last_checkpoints_with_time(
            list(zip(existing, state_lib.get_checkpoint_mtimes(existing)))
        )


# -- helpers -----------------------------------------------------------------------


def _var_dict(var_list: Any) -> dict[str, Any]:
    if var_list is None:
        graph = get_default_graph()
        var_list = graph.get_collection(
            GraphKeys.GLOBAL_VARIABLES
        ) + graph.get_collection(GraphKeys.SAVEABLE_OBJECTS)
    if isinstance(var_list, Mapping):
        pairs = list(var_list.items())
    else:
        unique = {id(v): v for v in var_list}.values()
        pairs = [(_op_name(v), v) for v in unique]
    out: dict[str, Any] = {}
    for name, var in pairs:
        _op_name(var)
        if name in out and out[name] is not var:
            raise ValueError(f"At least two variables have the same name: {name}")
        out[name] = var
    return out


def _op_name(var: Any) -> str:
    try:
        return var.op.name
    except AttributeError:
        raise TypeError(
            f"Variable to save is not a Variable: {var!r} of type {type(var).__name__}"
        ) from None


def _step_value(sess: SessionLike, global_step: Any) -> int:
    if isinstance(global_step, (int, np.integer)):
        return int(global_step)
    return int(sess.run(global_step))


def _current_values(sess: SessionLike, variables: Mapping[str, Any]) -> dict[str, Any]:
    """Each variable's value in ``sess``, by name.

    Raises:
        errors.FailedPreconditionError: a variable is not initialized.
    """
    current = {id(var): value for var, value in sess.variable_values().items()}
    missing = [name for name, var in variables.items() if id(var) not in current]
    if missing:
        raise errors.FailedPreconditionError(
            None,
            None,
            f"Attempting to save uninitialized variables: {errors.format_list(missing)}",
        )
    return {name: current[id(var)] for name, var in variables.items()}


def _snapshot(sess: SessionLike, variables: Mapping[str, Any]) -> dict[str, np.ndarray]:
    current = _current_values(sess, variables)
    # device_get copies to the host; on CPU it may return a view of the device
    # buffer, which JAX then refuses to donate, so later steps cannot change it
    # while the writer thread reads it.
    hosts = _to_host(list(current.values()))
    return {
        name: np.asarray(host, dtype=var.dtype.np_dtype)
        for (name, var), host in zip(variables.items(), hosts)
    }


# Per session: variable op name -> (checkpoint, name in it) of its last restore.
_restores: weakref.WeakKeyDictionary[SessionLike, dict[str, tuple[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def restored_from(sess: SessionLike) -> dict[str, tuple[str, str]]:
    """Where a Saver last restored each variable of ``sess`` from.

    Returns:
        Variable op name -> (checkpoint prefix, the variable's name in it).
    """
    return dict(_restores.get(sess, {}))


_COMMIT_TIMEOUT_SECS = 1800.0
_collective_saves = {"count": 0}


def _next_save_key() -> str:
    # Every process saves in the same order (one program), so a per-process
    # counter names the same save everywhere.
    _collective_saves["count"] += 1
    return f"jaxsession_save_{_collective_saves['count']}"


_copy_arrays = jax.jit(lambda arrays: [a.copy() for a in arrays])


def _collective_snapshot(
    sess: SessionLike, variables: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, _format.VarSpec]]:
    """What this process writes of a collective save, and every variable's spec.

    Replicated values become host arrays in their declared dtype (written by
    process 0 only). Sharded ones stay global ``jax.Array``s, copied on
    device: the session donates its state buffers to later steps while the
    writer thread still reads them. The copy is a device computation with no
    collective, run by every process at the same point of the program.
    """
    current = _current_values(sess, variables)
    split = [name for name, value in current.items() if not _whole_here(value)]
    whole = [name for name, value in current.items() if _whole_here(value)]
    copies = dict(zip(split, _copy_arrays([current[n] for n in split])))
    hosts = dict(zip(whole, _to_host([current[n] for n in whole])))
    values: dict[str, Any] = {}
    specs: dict[str, _format.VarSpec] = {}
    for name, var in variables.items():
        dtype = np.dtype(var.dtype.np_dtype)
        values[name] = (
            copies[name] if name in copies else np.asarray(hosts[name], dtype)
        )
        specs[name] = _format.VarSpec(tuple(current[name].shape), dtype)
    return values, specs


def _whole_here(value: Any) -> bool:
    """Whether this process holds all of ``value``."""
    return getattr(value, "is_fully_addressable", True) or value.is_fully_replicated


def _split_shardings(
    sess: SessionLike,
    variables: Mapping[str, Any],
    specs: Mapping[str, _format.VarSpec],
) -> dict[str, Any]:
    """The shardings of the variables that live split over several devices."""
    sharding_of = getattr(sess, "variable_sharding", None)
    if sharding_of is None:
        return {}
    out = {}
    for name, var in variables.items():
        sharding = sharding_of(var)
        if (
            sharding is not None
            and not sharding.is_fully_replicated
            and specs[name].shape == var.shape.as_tuple()
        ):
            out[name] = sharding
    return out


def _device_dtype(var: Any) -> np.dtype:
    return np.dtype(var.dtype.jax_dtype)


def _to_host(arrays: list[Any]) -> list[np.ndarray]:
    """Whole host copies of ``arrays``, fetched in one transfer where held here.

    An array split across processes is gathered (a collective: every
    process must call this with it).
    """
    # A replicated global array: any local copy is all of it.
    local = [
        a
        if getattr(a, "is_fully_addressable", True)
        else a.addressable_data(0)
        if a.is_fully_replicated
        else None
        for a in arrays
    ]
    fetched = iter(jax.device_get([a for a in local if a is not None]))
    out = []
    for array, here in zip(arrays, local):
        if here is not None:
            out.append(next(fetched))
        else:
            from jax.experimental import multihost_utils

            out.append(np.asarray(multihost_utils.process_allgather(array, tiled=True)))
    return out


def _check_matches(
    path: str, source: sources.Source, variables: Mapping[str, Any], reshape: bool
) -> None:
    stored = source.variables
    missing = [name for name in variables if name not in stored]
    if len(missing) == 1:  # TF1's words
        raise errors.NotFoundError(
            None, None, f"Key {missing[0]} not found in checkpoint {path}"
        )
    if missing:
        raise errors.NotFoundError(
            None,
            None,
            f"{len(missing)} variable(s) not found in checkpoint {path}: "
            f"{errors.format_list(missing)}",
        )
    bad = [
        _mismatch(name, var, stored[name], reshape)
        for name, var in variables.items()
        if _mismatch(name, var, stored[name], reshape)
    ]
    if bad:
        shown = "; ".join(bad[: errors.MAX_LISTED])
        if len(bad) > errors.MAX_LISTED:
            shown += f"; and {len(bad) - errors.MAX_LISTED} more"
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Restoring from checkpoint {path} failed: {len(bad)} variable(s) do not "
            f"match the graph: {shown}",
        )


def _mismatch(name: str, var: Any, spec: _format.VarSpec, reshape: bool) -> str:
    want_shape = var.shape.as_tuple()
    want_dtype = np.dtype(var.dtype.np_dtype)
    shape_ok = want_shape == spec.shape or (
        reshape and int(np.prod(want_shape)) == int(np.prod(spec.shape))
    )
    if shape_ok and want_dtype == spec.dtype:
        return ""
    return (
        f"'{name}' has shape {errors.format_shape(spec.shape)} dtype {spec.dtype.name} "
        f"in the checkpoint, shape {errors.format_shape(want_shape)} dtype "
        f"{want_dtype.name} in the graph"
    )


def _lower_priority() -> None:
    # The writer is background work: on a host whose cores also run the
    # training computation (CPU backends), it should yield to it. Linux
    # niceness is per thread and inherited by the threads Orbax starts here.
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _WRITER_NICENESS)
    except (AttributeError, OSError):
        pass


def _delete(prefix: str) -> None:
    logger.info("Deleting old checkpoint %s", prefix)
    try:
        _format.delete(prefix)
    except OSError as e:
        logger.warning("Ignoring: failed to delete %s: %s", prefix, e)
