"""The state file ``<dir>/checkpoint`` and checkpoint lookup (TF1_BEHAVIOUR §8.2).

The state file keeps TF1's text ``CheckpointState`` format, so tools that read
it keep working; it is rewritten atomically (temp file + rename) and only
after the checkpoint it names has been committed.
"""

# TF1 checkpoint paths are strings returned and compared verbatim, and may be
# bucket URLs: path strings go through os.path and ``storage``, files through
# ``storage``.
# ruff: noqa: PTH118

from __future__ import annotations

import codecs
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from jaxsession import errors
from jaxsession.checkpoint import pending, sources, storage

__all__ = [
    "CheckpointState",
    "checkpoint_exists",
    "generate_checkpoint_state_proto",
    "get_checkpoint_mtimes",
    "get_checkpoint_state",
    "latest_checkpoint",
    "list_variables",
    "load_variable",
    "update_checkpoint_state",
]

logger = logging.getLogger("jaxsession")

_LINE = re.compile(r"^\s*([A-Za-z_]\w*)\s*:\s*(.*?)\s*$")


@dataclass
class CheckpointState:
    """TF1's ``CheckpointState``: the newest checkpoint and those still kept."""

    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list[str] = field(default_factory=list)
    all_model_checkpoint_timestamps: list[float] = field(default_factory=list)
    last_preserved_timestamp: float = 0.0


# -- text format ------------------------------------------------------------------


def _quote(s: str) -> str:
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def _unquote(text: str) -> str:
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "\"'":
        raise ValueError(f"expected a quoted string, got {text!r}")
    raw = codecs.escape_decode(text[1:-1].encode("utf-8"))[0]
    return raw.decode("utf-8")


def _to_text(state: CheckpointState) -> str:
    lines = [f"model_checkpoint_path: {_quote(state.model_checkpoint_path)}"]
    lines += [
        f"all_model_checkpoint_paths: {_quote(p)}"
        for p in state.all_model_checkpoint_paths
    ]
    lines += [
        f"all_model_checkpoint_timestamps: {t!r}"
        for t in state.all_model_checkpoint_timestamps
    ]
    if state.last_preserved_timestamp:
        lines.append(f"last_preserved_timestamp: {state.last_preserved_timestamp!r}")
    return "\n".join(lines) + "\n"


def _parse(text: str) -> CheckpointState:
    state = CheckpointState()
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"cannot parse line {line!r}")
        key, value = match.groups()
        if key == "model_checkpoint_path":
            state.model_checkpoint_path = _unquote(value)
        elif key == "all_model_checkpoint_paths":
            state.all_model_checkpoint_paths.append(_unquote(value))
        elif key == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif key == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
        else:
            raise ValueError(f"unknown field {key!r}")
    return state


# -- writing the state ------------------------------------------------------------


def generate_checkpoint_state_proto(
    save_dir: str,
    model_checkpoint_path: str,
    all_model_checkpoint_paths: Sequence[str] | None = None,
    all_model_checkpoint_timestamps: Sequence[float] | None = None,
    last_preserved_timestamp: float | None = None,
) -> CheckpointState:
    """Builds a CheckpointState; the newest path is appended to the list if missing.

    Paths are made relative to ``save_dir`` when ``save_dir`` itself is relative.
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if not storage.isabs(save_dir):
        model_checkpoint_path = _relative(model_checkpoint_path, save_dir)
        paths = [_relative(p, save_dir) for p in paths]
    return CheckpointState(
        model_checkpoint_path,
        paths,
        list(all_model_checkpoint_timestamps or []),
        last_preserved_timestamp or 0.0,
    )


def _relative(path: str, save_dir: str) -> str:
    return path if storage.isabs(path) else os.path.relpath(path, save_dir)


def _relative_if_absolute(path: str, save_dir: str) -> str:
    return os.path.relpath(path, save_dir) if storage.isabs(path) else path


def update_checkpoint_state(
    save_dir: str,
    model_checkpoint_path: str,
    all_model_checkpoint_paths: Sequence[str] | None = None,
    latest_filename: str | None = None,
    all_model_checkpoint_timestamps: Sequence[float] | None = None,
    last_preserved_timestamp: float | None = None,
    save_relative_paths: bool = False,
) -> None:
    """Atomically rewrites ``<save_dir>/<latest_filename>``.

    Args:
        save_dir: Directory of the state file.
        model_checkpoint_path: The newest checkpoint prefix.
        all_model_checkpoint_paths: Kept checkpoints, oldest first.
        latest_filename: State file name (default ``checkpoint``).
        all_model_checkpoint_timestamps: Optional save times.
        last_preserved_timestamp: Optional time of the last preserved checkpoint.
        save_relative_paths: Write paths relative to ``save_dir``.

    Raises:
        RuntimeError: the state file path is the checkpoint path.
    """
    state_file = os.path.join(save_dir, latest_filename or "checkpoint")
    if storage.abspath(state_file) == storage.abspath(model_checkpoint_path):
        raise RuntimeError(
            f"Save path '{model_checkpoint_path}' conflicts with path used for "
            f"checkpoint state. Please use a different save path."
        )
    paths = list(all_model_checkpoint_paths or [])
    if save_relative_paths:
        model_checkpoint_path = _relative_if_absolute(model_checkpoint_path, save_dir)
        paths = [_relative_if_absolute(p, save_dir) for p in paths]
    state = generate_checkpoint_state_proto(
        save_dir,
        model_checkpoint_path,
        paths,
        all_model_checkpoint_timestamps,
        last_preserved_timestamp,
    )
    storage.write_atomic(state_file, _to_text(state))


# -- reading the state ------------------------------------------------------------


def get_checkpoint_state(
    checkpoint_dir: str, latest_filename: str | None = None
) -> CheckpointState | None:
    """The state recorded in ``<checkpoint_dir>/checkpoint``; None if there is none.

    Relative paths are joined with ``checkpoint_dir``.

    Differs from TF1: when the newest recorded checkpoint is missing, incomplete
    or truncated, ``model_checkpoint_path`` is the newest complete one listed
    (with a warning) and broken entries are dropped, so restore-on-start resumes
    from the last good checkpoint.

    Args:
        checkpoint_dir: Directory holding the state file.
        latest_filename: State file name (default ``checkpoint``).

    Returns:
        The state, or None if the file is missing or unreadable (logged).

    Raises:
        ValueError: the file parses but names no checkpoint.
    """
    pending.wait_for_pending_saves()
    state_file = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    if not storage.isfile(state_file):
        return None
    try:
        state = _parse(storage.read_text(state_file))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        logger.warning("%s: %s", type(e).__name__, e)
        logger.warning("%s: Checkpoint ignored", state_file)
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")
    state.model_checkpoint_path = _join(checkpoint_dir, state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [
        _join(checkpoint_dir, p) for p in state.all_model_checkpoint_paths
    ]
    return _prefer_complete(state)


def listed_checkpoints(
    checkpoint_dir: str, latest_filename: str = "checkpoint"
) -> list[str]:
    """The checkpoints the state file lists, as it has them (none if unreadable).

    Unlike ``get_checkpoint_state``, it neither waits for saves in flight nor
    drops incomplete entries.
    """
    try:
        text = storage.read_text(storage.join(checkpoint_dir, latest_filename))
        state = _parse(text)
    except (OSError, ValueError, UnicodeDecodeError):
        return []
    paths = [state.model_checkpoint_path, *state.all_model_checkpoint_paths]
    return [_join(checkpoint_dir, p) for p in paths if p]


def _join(directory: str, path: str) -> str:
    return path if storage.isabs(path) else os.path.join(directory, path)


def _prefer_complete(state: CheckpointState) -> CheckpointState:
    if sources.is_complete(state.model_checkpoint_path):
        return state
    paths = state.all_model_checkpoint_paths
    keep = [i for i, p in enumerate(paths) if sources.is_complete(p)]
    if not keep:
        return state
    good = paths[keep[-1]]
    logger.warning(
        "Checkpoint %s is missing, incomplete or truncated; using %s instead.",
        state.model_checkpoint_path,
        good,
    )
    stamps = state.all_model_checkpoint_timestamps
    return replace(
        state,
        model_checkpoint_path=good,
        all_model_checkpoint_paths=[paths[i] for i in keep],
        all_model_checkpoint_timestamps=(
            [stamps[i] for i in keep] if len(stamps) == len(paths) else stamps
        ),
    )


def latest_checkpoint(
    checkpoint_dir: str, latest_filename: str | None = None
) -> str | None:
    """The newest complete checkpoint recorded in ``checkpoint_dir``, or None.

    Args:
        checkpoint_dir: Directory holding the state file.
        latest_filename: State file name (default ``checkpoint``).

    Returns:
        The checkpoint prefix, or None when there is no state file or no
        complete checkpoint among those it lists.
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None:
        return None
    if sources.is_complete(state.model_checkpoint_path):
        return state.model_checkpoint_path
    logger.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None


def checkpoint_exists(checkpoint_prefix: str) -> bool:
    """Whether a committed, complete checkpoint exists at ``checkpoint_prefix``."""
    return sources.is_complete(os.fspath(checkpoint_prefix))


def get_checkpoint_mtimes(checkpoint_prefixes: Sequence[str]) -> list[float]:
    """Modification times of the complete checkpoints among the prefixes (others skipped)."""
    return [sources.mtime(p) for p in checkpoint_prefixes if sources.is_complete(p)]


# -- reading variables ------------------------------------------------------------


def resolve(ckpt_dir_or_file: str) -> tuple[str, sources.Source]:
    """The checkpoint (a directory resolves to its latest) opened for reading.

    Any format ``sources.open_checkpoint`` reads: jaxsession's, TF's V2
    checkpoints, plain Orbax ones.

    Raises:
        ValueError: a directory without checkpoints.
        errors.NotFoundError: no checkpoint at the path.
        errors.DataLossError: the checkpoint is truncated or its metadata unreadable.
    """
    path = os.fspath(ckpt_dir_or_file)
    source = sources.open_checkpoint(path)
    if source is None and storage.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(
                f"Couldn't find 'checkpoint' file or checkpoints in given directory "
                f"{path} ({sources.what_was_looked_for(path)})"
            )
        source = sources.open_checkpoint(latest)
    if source is None:
        raise errors.NotFoundError(
            None,
            None,
            f"Failed to find any matching files for {path} "
            f"({sources.what_was_looked_for(path)})",
        )
    source.verify()
    return source.path, source


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list[int]]]:
    """The ``(name, shape)`` of every variable in a checkpoint, sorted by name.

    Args:
        ckpt_dir_or_file: A checkpoint prefix, or a directory (its latest).

    Raises:
        ValueError / errors.NotFoundError / errors.DataLossError: see ``resolve``.
    """
    _, source = resolve(ckpt_dir_or_file)
    return [(n, list(s.shape)) for n, s in sorted(source.variables.items())]


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """The stored value of one variable, in its stored dtype.

    Args:
        ckpt_dir_or_file: A checkpoint prefix, or a directory (its latest).
        name: The variable's name (a ``:0`` suffix is ignored).

    Raises:
        errors.NotFoundError: no such variable (or no checkpoint).
        errors.DataLossError: the data cannot be read.
    """
    path, source = resolve(ckpt_dir_or_file)
    name = name.removesuffix(":0")
    if name not in source.variables:
        raise errors.NotFoundError(
            None, None, f"Key {name} not found in checkpoint {path}"
        )
    return source.read({name: source.variables[name]})[name]
