"""``tf.train.NewCheckpointReader`` and ``tf.train.load_checkpoint``.

The reader reads any checkpoint ``sources.open_checkpoint`` opens: a
jaxsession checkpoint, a TensorFlow V2 checkpoint (``model.ckpt-N.index`` and
its data files) or a plain Orbax checkpoint.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.checkpoint import sources, state as state_lib
from jaxsession.graph import dtypes as dtypes_lib

__all__ = ["CheckpointReader", "NewCheckpointReader", "load_checkpoint"]


class CheckpointReader:
    """The variables of one checkpoint, read by name (TF1's ``CheckpointReader``).

    Make one with ``NewCheckpointReader`` or ``load_checkpoint``.
    """

    def __init__(self, source: sources.Source):
        self._source = source

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        """Name -> shape (a list of ints) of every stored tensor."""
        return {n: list(s.shape) for n, s in self._source.variables.items()}

    def get_variable_to_dtype_map(self) -> dict[str, dtypes_lib.DType]:
        """Name -> ``tf.DType`` of every stored tensor."""
        return {
            n: dtypes_lib.as_dtype(s.dtype) for n, s in self._source.variables.items()
        }

    def has_tensor(self, name: str) -> bool:
        """Whether a tensor ``name`` is stored."""
        return name in self._source.variables

    def get_tensor(self, name: str) -> Any:
        """The stored value of ``name``: an ndarray (a NumPy scalar for a scalar).

        Raises:
            errors.NotFoundError: ``Key <name> not found in checkpoint``.
            errors.DataLossError: its data is truncated or corrupt.
        """
        spec = self._source.variables.get(name)
        if spec is None:
            raise errors.NotFoundError(
                None, None, f"Key {name} not found in checkpoint {self._source.path}"
            )
        value = np.asarray(self._source.read({name: spec})[name])
        return value[()] if value.ndim == 0 else value

    def debug_string(self) -> bytes:
        """One line per tensor: ``name (DT_FLOAT) [4, 8]``, sorted by name."""
        lines = [
            f"{n} ({_dt_name(s.dtype)}) {list(s.shape)}\n"
            for n, s in sorted(self._source.variables.items())
        ]
        return "".join(lines).encode()


_DT_NAMES = {"float32": "FLOAT", "float64": "DOUBLE", "float16": "HALF"}


def _dt_name(dtype: np.dtype) -> str:
    name = dtypes_lib.as_dtype(dtype).name
    return "DT_" + _DT_NAMES.get(name, name.upper())


def NewCheckpointReader(filepattern: str) -> CheckpointReader:
    """Opens the checkpoint ``filepattern`` (a prefix, or an Orbax directory).

    Raises:
        errors.NotFoundError: no checkpoint there.
        errors.DataLossError: its metadata cannot be read.
    """
    path = os.fspath(filepattern)
    source = sources.open_checkpoint(path)
    if source is None:
        raise errors.NotFoundError(
            None,
            None,
            "Unsuccessful TensorSliceReader constructor: Failed to find any matching "
            f"files for {path} ({sources.what_was_looked_for(path)})",
        )
    return CheckpointReader(source)


def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """A reader of a checkpoint, or of the latest one in a directory.

    Raises:
        ValueError: a directory without checkpoints.
        errors.NotFoundError: no checkpoint at the path.
    """
    _, source = state_lib.resolve(ckpt_dir_or_file)
    return CheckpointReader(source)
