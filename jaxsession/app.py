"""``tf.app``: ``run`` and ``flags``, over absl-py as in TF1."""

from __future__ import annotations

import sys as _sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from absl import app as _absl_app

from jaxsession import flags as flags


def _parse_flags_tolerate_undef(argv: Sequence[str]) -> list[str]:
    """Parses known flags; unknown ones stay in the returned argv (TF1)."""
    return flags.FLAGS(_sys.argv if argv is None else argv, known_only=True)


def run(
    main: Callable[[list[str]], Any] | None = None, argv: Sequence[str] | None = None
) -> NoReturn:
    """Parses the flags in ``argv``, calls ``main(argv)`` and exits with its result.

    Args:
        main: The program's main function; by default ``__main__.main``.
        argv: The command line; by default ``sys.argv``. Flags not defined
            are left in the argv given to ``main``.

    Raises:
        SystemExit: always, with ``main``'s return value as exit status.
    """
    main = main or _sys.modules["__main__"].main
    _absl_app.run(main=main, argv=argv, flags_parser=_parse_flags_tolerate_undef)
