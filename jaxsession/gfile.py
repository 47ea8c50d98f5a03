"""``tf.gfile``: TF1's file API on local paths, ``gs://`` and ``s3://``.

Errors are TF1's: a missing path raises ``errors.NotFoundError``, an existing
target ``errors.AlreadyExistsError``, both naming the path. Bucket URLs go
through ``checkpoint/storage.py`` (the ``jaxsession[gcs]`` / ``[s3]`` extras).

Differs from TF1: other URL schemes (``hdfs://``) raise
``errors.UnimplementedError``; in a bucket, directories exist only while they
hold a file (``MakeDirs`` creates nothing) and files open only in ``r``/``w``
modes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from jaxsession import errors as _errors
from jaxsession.checkpoint import storage as _storage


def _path(name: Any) -> str:
    path = _storage.fspath(name)
    _storage.is_remote(path)  # raises for a scheme it does not know
    return path


def _not_found(path: str, what: str = "No such file or directory") -> Exception:
    return _errors.NotFoundError(None, None, f"{path}; {what}")


def _already_exists(path: str) -> Exception:
    return _errors.AlreadyExistsError(None, None, f"file already exists: {path}")


def _translate(e: OSError, path: str) -> Exception:
    if isinstance(e, FileNotFoundError):
        return _not_found(path)
    if isinstance(e, FileExistsError):
        return _already_exists(path)
    if isinstance(e, PermissionError):
        return _errors.PermissionDeniedError(None, None, f"{path}; Permission denied")
    return _errors.UnknownError(None, None, f"{path}; {e.strerror or e}")


class FileStatistics(NamedTuple):
    """What ``Stat`` returns (TF1's FileStatistics)."""

    length: int
    mtime_nsec: int
    is_directory: bool


class GFile:
    """A file object with TF1's API: ``tf.gfile.GFile(name, mode)``.

    As in TF1 the file is opened at the first read or write, so a missing
    file raises ``errors.NotFoundError`` there, not in the constructor.
    Text modes read and write ``str``; ``b`` modes ``bytes``.
    """

    def __init__(self, name: Any, mode: str = "r"):
        self.__name = _path(name)
        self.__mode = mode
        self._file: IO[Any] | None = None
        if mode not in (
            "r",
            "w",
            "a",
            "rb",
            "wb",
            "ab",
            "r+",
            "w+",
            "a+",
            "r+b",
            "w+b",
            "a+b",
            "rb+",
            "wb+",
            "ab+",
        ):
            raise _errors.InvalidArgumentError(
                None, None, f"mode is not 'r' or 'w' or 'a' or binary: {mode!r}"
            )

    @property
    def name(self) -> str:
        """The file path."""
        return self.__name

    @property
    def mode(self) -> str:
        """The open mode."""
        return self.__mode

    def _open(self) -> IO[Any]:
        if self._file is None:
            try:
                self._file = _storage.open_file(self.__name, self.__mode)
            except OSError as e:
                raise _translate(e, self.__name) from e
        return self._file

    def size(self) -> int:
        """The file's length in bytes."""
        return Stat(self.__name).length

    def read(self, n: int = -1) -> Any:
        """Reads ``n`` bytes or characters (all when -1)."""
        return self._open().read(n)

    def readline(self) -> Any:
        """Reads one line, with its newline."""
        return self._open().readline()

    def readlines(self) -> list[Any]:
        """Reads every remaining line."""
        return self._open().readlines()

    def write(self, file_content: Any) -> None:
        """Writes ``file_content`` (str in text modes, bytes in binary modes)."""
        self._open().write(file_content)

    def seek(
        self, offset: int | None = None, whence: int = 0, position: Any = None
    ) -> None:
        """Moves to ``offset`` (``position`` is TF1's deprecated name)."""
        self._open().seek(position if offset is None else offset, whence)

    def tell(self) -> int:
        """The current position."""
        return self._open().tell()

    def flush(self) -> None:
        """Flushes written data to the file."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Closes the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def seekable(self) -> bool:
        """Always True."""
        return True

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def next(self) -> Any:
        """The next line (TF1's Python 2 name)."""
        return self.__next__()

    def __enter__(self) -> GFile:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


Open = GFile
FastGFile = GFile


def Exists(filename: Any) -> bool:
    """Whether ``filename`` (a file or directory) exists."""
    return _storage.exists(_path(filename))


def IsDirectory(dirname: Any) -> bool:
    """Whether ``dirname`` is an existing directory."""
    return _storage.isdir(_path(dirname))


def MkDir(dirname: Any) -> None:
    """Creates one directory; its parent must exist.

    Raises:
        errors.AlreadyExistsError: ``dirname`` exists.
        errors.NotFoundError: the parent is missing.
    """
    path = _path(dirname)
    try:
        _storage.mkdir(path)
    except OSError as e:
        raise _translate(e, path) from e


def MakeDirs(dirname: Any) -> None:
    """Creates ``dirname`` and missing parents; an existing directory is fine."""
    path = _path(dirname)
    try:
        _storage.makedirs(path)
    except OSError as e:
        raise _translate(e, path) from e


def Remove(filename: Any) -> None:
    """Deletes a file.

    Raises:
        errors.NotFoundError: ``filename`` does not exist.
    """
    path = _path(filename)
    try:
        _storage.remove(path)
    except OSError as e:
        raise _translate(e, path) from e


def DeleteRecursively(dirname: Any) -> None:
    """Deletes a directory tree (or a single file).

    Raises:
        errors.NotFoundError: ``dirname`` does not exist.
    """
    path = _path(dirname)
    if not _storage.exists(path):
        raise _not_found(path)
    if _storage.isdir(path):
        _storage.rmtree(path)
    else:
        _storage.remove(path)


def _check_target(path: str, overwrite: bool) -> None:
    if not overwrite and _storage.exists(path):
        raise _already_exists(path)


def Rename(oldname: Any, newname: Any, overwrite: bool = False) -> None:
    """Renames (moves) a file or directory.

    Raises:
        errors.NotFoundError: ``oldname`` does not exist.
        errors.AlreadyExistsError: ``newname`` exists and ``overwrite`` is False.
    """
    old, new = _path(oldname), _path(newname)
    _check_target(new, overwrite)
    try:
        _storage.rename(old, new)
    except OSError as e:
        raise _translate(e, old) from e


def Copy(oldpath: Any, newpath: Any, overwrite: bool = False) -> None:
    """Copies a file.

    Raises:
        errors.NotFoundError: ``oldpath`` does not exist.
        errors.AlreadyExistsError: ``newpath`` exists and ``overwrite`` is False.
    """
    old, new = _path(oldpath), _path(newpath)
    _check_target(new, overwrite)
    try:
        _storage.copy(old, new)
    except OSError as e:
        raise _translate(e, old) from e


def Glob(filename: Any) -> list[str]:
    """The paths matching the pattern ``filename`` (``*``, ``?``, ``[...]``), sorted."""
    return _storage.glob(_path(filename))


def ListDirectory(dirname: Any) -> list[str]:
    """The names (not paths) of the entries of ``dirname``, sorted.

    Raises:
        errors.NotFoundError: ``dirname`` is not an existing directory.
    """
    path = _path(dirname)
    if not _storage.isdir(path):
        raise _not_found(path, "could not find directory")
    return _storage.listdir(path)


def Stat(filename: Any) -> FileStatistics:
    """Length, modification time (ns) and kind of ``filename``.

    Raises:
        errors.NotFoundError: ``filename`` does not exist.
    """
    path = _path(filename)
    try:
        st = _storage.stat(path)
    except OSError as e:
        raise _translate(e, path) from e
    return FileStatistics(st.length, st.mtime_nsec, st.is_directory)


def Walk(top: Any, in_order: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:
    """Yields ``(dirname, subdirs, files)`` for each directory under ``top``.

    ``in_order`` yields a directory before its subdirectories; otherwise after.
    A missing ``top`` yields nothing, as in TF1.
    """
    yield from _storage.walk(_path(top), topdown=in_order)
