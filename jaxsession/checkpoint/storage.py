"""The one storage layer: local paths, ``gs://`` and ``s3://`` URLs.

Every file that gfile, the Saver, the checkpoint state file, the summary
writer and graph files touch goes through these functions. A local path
(or ``file://``) uses the operating system directly, as before; a bucket URL
uses an fsspec file system (``gcsfs`` for ``gs://``, ``s3fs`` for ``s3://``,
the ``jaxsession[gcs]`` and ``jaxsession[s3]`` extras). fsspec rather than
``etils.epath``: epath sends ``gs://`` to ``tf.io.gfile`` whenever
TensorFlow is importable, which ignores ``STORAGE_EMULATOR_HOST``, and its
``s3://`` paths lose a slash in Orbax; fsspec gives one explicit client per
scheme.

Endpoints and credentials are the clients' standard variables:
``AWS_ENDPOINT_URL`` and the AWS credential chain for S3,
``STORAGE_EMULATOR_HOST`` and Google default credentials for GCS.
``STORAGE_EMULATOR_HOST`` is also handed to TensorStore (which writes
Orbax's array data to ``gs://`` itself) as ``TENSORSTORE_GCS_HTTP_URL``.

Object stores have no directories: a "directory" exists while it holds an
object, ``makedirs`` creates nothing, a rename copies then deletes, and a
write of a whole object is atomic.
"""

# Checkpoint paths are strings compared verbatim; pathlib would turn
# 'gs://b' into 'gs:/b', so path strings go through os.path.
# ruff: noqa: PTH100, PTH102, PTH103, PTH105, PTH107, PTH110, PTH112, PTH113, PTH116, PTH117, PTH118, PTH119, PTH207, PTH208

from __future__ import annotations

import contextlib
import glob as _glob
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from jaxsession import errors

__all__ = [
    "Stat",
    "abspath",
    "copy",
    "exists",
    "is_remote",
    "isabs",
    "isdir",
    "isfile",
    "join",
    "listdir",
    "makedirs",
    "open_file",
    "orbax_read_dir",
    "orbax_write_dir",
    "read_bytes",
    "read_text",
    "remove",
    "rename",
    "rmtree",
    "stat",
    "upload",
    "walk",
    "write_atomic",
]

# scheme -> (fsspec protocol, extra that installs its client)
_CLIENTS = {"gs": ("gcs", "gcs"), "s3": ("s3", "s3")}


class Stat(NamedTuple):
    """Length, modification time (ns) and kind of a path."""

    length: int
    mtime_nsec: int
    is_directory: bool


def _scheme(path: str) -> str | None:
    """``gs``/``s3`` for a bucket URL, None for a local path.

    Raises:
        errors.UnimplementedError: another URL scheme (``hdfs://``, ...).
    """
    head, sep, _ = path.partition("://")
    if not sep or head == "file":
        return None
    if head not in _CLIENTS:
        raise errors.UnimplementedError(
            None,
            None,
            f"File system scheme '{head}' of {path!r} not implemented: "
            "jaxsession stores to local paths, gs:// and s3://",
        )
    return head


def fspath(path: Any) -> str:
    """``path`` (str, bytes or PathLike) as a string; ``file://`` dropped."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode()
    return path.removeprefix("file://")


def is_remote(path: Any) -> bool:
    """Whether ``path`` is a bucket URL (``gs://`` or ``s3://``).

    Raises:
        errors.UnimplementedError: a URL of another scheme.
    """
    return _scheme(fspath(path)) is not None


def _fs(path: str) -> Any:
    """The fsspec file system of a bucket URL."""
    scheme = _scheme(path)
    protocol, extra = _CLIENTS[scheme]
    if scheme == "gs" and os.environ.get("STORAGE_EMULATOR_HOST"):
        os.environ.setdefault(
            "TENSORSTORE_GCS_HTTP_URL", os.environ["STORAGE_EMULATOR_HOST"]
        )
    try:
        import fsspec

        # No listing cache: another process (or host) may have written since.
        return fsspec.filesystem(protocol, use_listings_cache=False)
    except ImportError as e:
        raise errors.UnimplementedError(
            None,
            None,
            f"{scheme}:// paths ({path}) need the '{extra}' extra: "
            f"pip install 'jaxsession[{extra}]' ({e})",
        ) from None


def _url(path: str, key: str) -> str:
    """``key`` (as fsspec lists it, without scheme) as a URL like ``path``."""
    scheme = _scheme(path)
    return key if key.startswith(f"{scheme}://") else f"{scheme}://{key}"


# -- path strings ---------------------------------------------------------------


def join(path: Any, *parts: str) -> str:
    """``os.path.join`` that keeps a URL's ``//``."""
    return os.path.join(fspath(path), *parts)


def isabs(path: str) -> bool:
    """Whether ``path`` is absolute; a bucket URL always is."""
    return is_remote(path) or os.path.isabs(path)


def abspath(path: str) -> str:
    """The absolute form of a local path; a bucket URL as it is."""
    return path if is_remote(path) else os.path.abspath(fspath(path))


# -- queries ----------------------------------------------------------------------


def exists(path: Any) -> bool:
    """Whether a file or (non-empty, in a bucket) directory is at ``path``."""
    path = fspath(path)
    return _fs(path).exists(path) if is_remote(path) else os.path.exists(path)


def isdir(path: Any) -> bool:
    """Whether ``path`` is a directory (in a bucket: a prefix holding objects)."""
    path = fspath(path)
    return _fs(path).isdir(path) if is_remote(path) else os.path.isdir(path)


def isfile(path: Any) -> bool:
    """Whether ``path`` is a file (an object)."""
    path = fspath(path)
    return _fs(path).isfile(path) if is_remote(path) else os.path.isfile(path)


def stat(path: Any) -> Stat:
    """Length, modification time and kind of ``path``.

    Raises:
        FileNotFoundError: nothing is at ``path``.
    """
    path = fspath(path)
    if not is_remote(path):
        st = os.stat(path)
        return Stat(st.st_size, st.st_mtime_ns, os.path.isdir(path))
    fs = _fs(path)
    info = fs.info(path)
    if info.get("type") == "directory":
        return Stat(0, 0, True)
    return Stat(int(info["size"]), int(fs.modified(path).timestamp() * 1e9), False)


def listdir(path: Any) -> list[str]:
    """The names of the entries of directory ``path``, sorted.

    Raises:
        FileNotFoundError: ``path`` is not a directory.
    """
    path = fspath(path)
    if not is_remote(path):
        return sorted(os.listdir(path))
    fs = _fs(path)
    if not fs.isdir(path):
        raise FileNotFoundError(path)
    return sorted(
        {os.path.basename(p.rstrip("/")) for p in fs.ls(path, detail=False)} - {""}
    )


def glob(pattern: Any) -> list[str]:
    """The paths matching ``pattern`` (``*``, ``?``, ``[...]``), sorted."""
    pattern = fspath(pattern)
    if not is_remote(pattern):
        return sorted(_glob.glob(pattern))
    return sorted(_url(pattern, p) for p in _fs(pattern).glob(pattern))


def walk(top: Any, topdown: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:
    """Yields ``(dirname, subdirs, files)`` under ``top``, as ``os.walk``."""
    top = fspath(top)
    if not is_remote(top):
        yield from os.walk(top, topdown=topdown)
        return
    found = [
        (_url(top, root), sorted(dirs), sorted(files))
        for root, dirs, files in _fs(top).walk(top)
    ]
    yield from found if topdown else reversed(found)


# -- reading and writing ----------------------------------------------------------


def open_file(path: Any, mode: str) -> IO[Any]:
    """Opens ``path``; text modes read and write UTF-8.

    In a bucket, only ``r``, ``w`` and their ``b`` forms exist: an object is
    written whole when the file closes.

    Raises:
        FileNotFoundError: reading a missing file.
        errors.UnimplementedError: an append or update mode in a bucket.
    """
    path = fspath(path)
    if not is_remote(path):
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding="utf-8")
    if mode.replace("b", "") not in ("r", "w"):
        raise errors.UnimplementedError(
            None, None, f"mode {mode!r} on {path}: objects are read or written whole"
        )
    return _fs(path).open(path, mode, **({} if "b" in mode else {"encoding": "utf-8"}))


def read_bytes(path: Any) -> bytes:
    """The content of file ``path``."""
    with open_file(path, "rb") as f:
        return f.read()


def read_text(path: Any) -> str:
    """The content of file ``path`` as UTF-8 text."""
    return read_bytes(path).decode("utf-8")


def write_atomic(path: Any, data: bytes | str) -> None:
    """Writes ``data`` to ``path`` so that readers see the old or the new file.

    Locally: a temp file, fsync, rename. In a bucket a whole-object write is
    atomic already.
    """
    path = fspath(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if is_remote(path):
        with _fs(path).open(path, "wb") as f:
            f.write(raw)
        return
    tmp = f"{path}.tmp{secrets.token_hex(8)}"
    try:
        with open(tmp, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def upload(local: str, path: str) -> None:
    """Copies the local file ``local`` to ``path`` (any kind), replacing it."""
    if is_remote(path):
        _fs(path).put_file(local, path)
    else:
        shutil.copyfile(local, path)


# -- changing the tree ----------------------------------------------------------


def makedirs(path: Any, exist_ok: bool = True) -> None:
    """Creates directory ``path`` and its parents; nothing to do in a bucket.

    Raises:
        FileExistsError: ``path`` exists and not ``exist_ok``.
    """
    path = fspath(path)
    if not is_remote(path):
        os.makedirs(path, exist_ok=exist_ok)
    elif not exist_ok and exists(path):
        raise FileExistsError(path)


def mkdir(path: Any) -> None:
    """Creates one directory (its parent must exist); nothing to do in a bucket.

    Raises:
        FileExistsError: ``path`` exists.
        FileNotFoundError: a local parent is missing.
    """
    path = fspath(path)
    if not is_remote(path):
        os.mkdir(path)
    elif exists(path):
        raise FileExistsError(path)


def remove(path: Any) -> None:
    """Deletes file ``path``.

    Raises:
        FileNotFoundError: no file at ``path``.
    """
    path = fspath(path)
    if not is_remote(path):
        os.remove(path)
        return
    fs = _fs(path)
    if not fs.isfile(path):
        raise FileNotFoundError(path)
    fs.rm_file(path)


def rmtree(path: Any, ignore_errors: bool = False) -> None:
    """Deletes directory ``path`` and everything under it.

    Raises:
        FileNotFoundError: nothing at ``path`` (unless ``ignore_errors``).
    """
    path = fspath(path)
    if not is_remote(path):
        shutil.rmtree(path, ignore_errors=ignore_errors)
        return
    try:
        _fs(path).rm(path, recursive=True)
    except FileNotFoundError:
        if not ignore_errors:
            raise


def _remote_files(path: str) -> list[str]:
    fs = _fs(path)
    if fs.isfile(path):
        return [path]
    return sorted(_url(path, p) for p in fs.find(path))


def rename(src: Any, dst: Any, last: str | None = None) -> None:
    """Moves file or directory ``src`` to ``dst`` (replacing a file there).

    In a bucket the objects are copied, then the originals deleted;
    ``last``, a path relative to ``src``, is copied after every other
    object, so that its presence at ``dst`` means the copy is whole.

    Raises:
        FileNotFoundError: nothing at ``src``.
        ValueError: ``src`` and ``dst`` are not on the same kind of storage.
    """
    src, dst = fspath(src), fspath(dst)
    if is_remote(src) != is_remote(dst) or _scheme(src) != _scheme(dst):
        raise ValueError(f"cannot rename {src} to {dst}: not on the same storage")
    if not is_remote(src):
        os.replace(src, dst)
        return
    fs = _fs(src)
    files = _remote_files(src)
    if not files:
        raise FileNotFoundError(src)
    if files == [src]:
        fs.cp_file(src, dst)
    else:
        marker = join(src, last) if last else None
        for file in sorted(files, key=lambda f: f == marker):
            fs.cp_file(file, dst + file[len(src) :])
    fs.rm(src, recursive=len(files) > 1 or files != [src])


def copy(src: Any, dst: Any) -> None:
    """Copies file ``src`` to ``dst`` (either may be local or in a bucket).

    Raises:
        FileNotFoundError: no file at ``src``.
    """
    src, dst = fspath(src), fspath(dst)
    if not is_remote(src) and not is_remote(dst):
        shutil.copyfile(src, dst)
    elif is_remote(src) and _scheme(src) == _scheme(dst):
        _fs(src).cp_file(src, dst)
    elif is_remote(src):
        _fs(src).get_file(src, dst)
    else:
        upload(src, dst)


def fsync_dir(path: str) -> None:
    """Makes a local directory's entries durable; nothing to do in a bucket."""
    if is_remote(path):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- where Orbax reads and writes -------------------------------------------------


@contextlib.contextmanager
def orbax_write_dir(directory: str) -> Iterator[str]:
    """The absolute path Orbax writes the checkpoint for ``directory`` to.

    Orbax writes local and ``gs://`` paths itself (array data through
    TensorStore's ``gcs`` driver). Its writer has no ``s3://`` support
    (orbax-checkpoint 0.12: it builds a local ``file`` spec for any other
    URL), so an ``s3://`` checkpoint is written to a local temporary
    directory and uploaded when the block ends without error.
    """
    if _scheme(directory) != "s3":
        yield abspath(directory)
        return
    with tempfile.TemporaryDirectory(prefix="jaxsession-s3-") as tmp:
        local = os.path.join(tmp, "checkpoint")
        yield local
        _fs(directory).put(local + "/", directory.rstrip("/") + "/", recursive=True)


@contextlib.contextmanager
def orbax_read_dir(directory: str) -> Iterator[str]:
    """The absolute path Orbax reads the checkpoint at ``directory`` from.

    An ``s3://`` checkpoint is downloaded to a local temporary directory
    first (see ``orbax_write_dir``).
    """
    if _scheme(directory) != "s3":
        yield abspath(directory)
        return
    with tempfile.TemporaryDirectory(prefix="jaxsession-s3-") as tmp:
        local = os.path.join(tmp, "checkpoint")
        _fs(directory).get(directory.rstrip("/") + "/", local + "/", recursive=True)
        yield local
