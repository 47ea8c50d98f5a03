"""Which format a checkpoint path holds, and one way to read any of them.

``open_checkpoint`` gives a ``Source`` for jaxsession's own checkpoints
(``_format.py``), TensorFlow's V2 checkpoints (``tf1_bundle.py``) and plain
Orbax checkpoints (``orbax_in.py``); ``Saver.restore``, ``init_from_checkpoint``,
``list_variables``, ``load_variable`` and ``NewCheckpointReader`` read through
it, so each accepts all three.
"""

# TF1 checkpoint paths are strings compared verbatim (see _format.py).

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from jaxsession.checkpoint import _format, orbax_in, storage, tf1_bundle
from jaxsession.checkpoint._format import VarSpec


class Source(Protocol):
    """A checkpoint opened for reading: its variables' specs and their values."""

    path: str
    variables: dict[str, VarSpec]

    def verify(self, checksums: bool = False) -> None:
        """Raises errors.DataLossError if the files are truncated (or corrupt)."""

    def read(
        self, specs: Mapping[str, VarSpec], shardings: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The named values, in the specs' dtypes."""


class _Native:
    """A jaxsession checkpoint: Orbax data and jaxsession's manifest."""

    def __init__(self, path: str, manifest: _format.Manifest):
        self.path, self._manifest = path, manifest
        self.variables = manifest.variables

    def verify(self, checksums: bool = False) -> None:
        _format.verify(self.path, self._manifest, checksums)

    def read(
        self, specs: Mapping[str, VarSpec], shardings: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return _format.read(self.path, specs, shardings)


class _Bundle:
    """A TensorFlow V2 checkpoint; every tensor's CRC32C is checked as it is read."""

    def __init__(self, path: str):
        self.path = path
        self._reader = tf1_bundle.BundleReader(path)
        self.variables = self._reader.variables

    def verify(self, checksums: bool = False) -> None:
        bad = self._reader.bad_files()
        if bad:
            raise tf1_bundle.data_loss(self.path, "; ".join(bad))

    def read(
        self, specs: Mapping[str, VarSpec], shardings: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._reader.read_many(specs)


def open_checkpoint(path: str) -> Source | None:
    """The checkpoint at ``path`` opened for reading, or None if there is none.

    ``path`` is a jaxsession or TF checkpoint prefix, an Orbax checkpoint
    directory, a CheckpointManager step or root (its latest step).

    Raises:
        errors.DataLossError: the checkpoint's metadata cannot be read.
    """
    manifest = _format.read_manifest(path)
    if manifest is not None:
        return _Native(path, manifest)
    if tf1_bundle.is_bundle(path):
        return _Bundle(path)
    found = orbax_in.find(path)
    return orbax_in.OrbaxSource(found) if found is not None else None


def what_was_looked_for(path: str) -> str:
    """Says, for an error message, which files would have made ``path`` a checkpoint."""
    return (
        f"found no jaxsession checkpoint ({storage.join(path, _format.MANIFEST)}), "
        f"no TF checkpoint ({tf1_bundle.index_file(path)}) and no Orbax checkpoint "
        f"(a directory with {orbax_in.ITEM_METADATA}, or CheckpointManager steps)"
    )


def is_complete(path: str) -> bool:
    """Whether ``path`` holds a complete checkpoint of any of the formats."""
    if _format.is_complete(path):
        return True
    if storage.exists(storage.join(path, _format.MANIFEST)):
        return (
            False  # a truncated jaxsession checkpoint, though Orbax's files are there
        )
    if tf1_bundle.is_bundle(path):
        try:
            return not tf1_bundle.BundleReader(path).bad_files()
        except Exception:  # an unreadable index: not a complete checkpoint
            return False
    return orbax_in.find(path) is not None


def mtime(path: str) -> float:
    """When the complete checkpoint at ``path`` was written (its index file's time)."""
    if tf1_bundle.is_bundle(path) and not storage.isdir(path):
        return storage.stat(tf1_bundle.index_file(path)).mtime_nsec / 1e9
    manifest = storage.join(path, _format.MANIFEST)
    return storage.stat(manifest if storage.exists(manifest) else path).mtime_nsec / 1e9
