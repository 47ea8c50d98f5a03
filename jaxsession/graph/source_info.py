"""Where an op was created: the first stack frame outside jaxsession."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
_EXCLUDED: list[str] = [_PACKAGE_DIR + os.sep]


class SourceInfo(NamedTuple):
    """A creation site: file, line and function name."""

    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f"{Path(self.filename).name}:{self.lineno} in {self.function}"


UNKNOWN = SourceInfo("<unknown>", 0, "<unknown>")


def register_exclusion(path: str) -> None:
    """Treats frames under ``path`` as library frames (e.g. a wrapper package)."""
    _EXCLUDED.append(str(Path(path).resolve()) + os.sep)


def current() -> SourceInfo:
    """The first frame on the stack whose file is not a library file."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not any(filename.startswith(p) for p in _EXCLUDED):
            return SourceInfo(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return UNKNOWN
