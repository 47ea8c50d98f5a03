"""Runs every ``benchmarks/bench_*.py`` module's ``main()`` (``make bench``).

A benchmark module is found by its name alone: add ``benchmarks/bench_<x>.py``
with a ``main()`` that prints its markdown table (see bench_dispatch.py and
common.py). The MLP training-step benchmark is meant to land as
``bench_mlp.py`` once the optimizers exist. Pass module suffixes to run a
subset: ``python -m benchmarks.run_all dispatch``.
"""

from __future__ import annotations

import importlib
import pkgutil
import platform
import sys

import jax

import benchmarks


def bench_modules() -> list[str]:
    """The names of the bench_* modules, sorted."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.name.startswith("bench_")
    )


def main(argv: list[str] | None = None) -> None:
    wanted = argv if argv is not None else sys.argv[1:]
    print(
        f"# jaxsession benchmarks\n\njax {jax.__version__}, backend "
        f"{jax.default_backend()}, {platform.processor() or platform.machine()}\n"
    )
    for name in bench_modules():
        if wanted and name.removeprefix("bench_") not in wanted:
            continue
        importlib.import_module(f"benchmarks.{name}").main()


if __name__ == "__main__":
    main()
