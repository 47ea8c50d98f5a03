"""Runs every ``benchmarks/bench_*.py`` module's ``main()`` (``make bench``).

A benchmark module is found by its name alone: add ``benchmarks/bench_<x>.py``
with a ``main(quick=False)`` that prints its markdown table and returns its
rows (see bench_dispatch.py and common.py). Pass module suffixes to run a
subset (``python -m benchmarks.run_all dispatch mlp``) and ``--quick`` for a
smoke run on tiny sizes with one repeat: it checks that everything runs, its
figures mean nothing.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import pkgutil
import platform
import sys

import jax

import benchmarks
import jaxsession  # noqa: F401  (its XLA flags, before the backend starts below)


def bench_modules() -> list[str]:
    """The names of the bench_* modules, sorted."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.name.startswith("bench_")
    )


def main(argv: list[str] | None = None) -> dict[str, list]:
    """Runs the selected benchmarks; returns their rows by module name."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all")
    parser.add_argument("only", nargs="*", help="module suffixes, e.g. mlp mts")
    parser.add_argument("--quick", action="store_true", help="smoke run, tiny sizes")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    known = [name.removeprefix("bench_") for name in bench_modules()]
    unknown = sorted(set(args.only) - set(known))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {known}")
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"# jaxsession benchmarks{' (--quick: smoke run)' if args.quick else ''}\n\n"
        f"{now}; jax {jax.__version__}, backend {jax.default_backend()}, "
        f"{os.cpu_count()} CPU(s), {platform.processor() or platform.machine()}\n"
    )
    results: dict[str, list] = {}
    for name in bench_modules():
        if args.only and name.removeprefix("bench_") not in args.only:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        results[name] = module.main(quick=args.quick)
    return results


if __name__ == "__main__":
    main()
