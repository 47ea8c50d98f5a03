"""Every golden suite: ``cases.py`` and each ``cases_<area>.py``.

A suite is a module defining ``CASES`` (build them with
``cases.case_adder``) and optionally ``DIFFERENCES``, ``KNOWN_BUGS``,
``UNCOVERED`` (same meaning as in ``differences.py``), ``UTILITIES`` (public
names that are not ops) and ``NAMESPACES`` (more ``tf.<ns>`` modules whose
callables need a case or a reason). Its goldens live in
``tf_goldens_<area>.json`` (``tf_goldens.json`` for ``cases.py``), so areas
are added and regenerated independently.
"""

import importlib
import json
import pathlib

HERE = pathlib.Path(__file__).parent


def suite_names():
    """``""`` for ``cases.py``, then the areas of ``cases_<area>.py``, sorted."""
    return ["", *sorted(p.stem[len("cases_") :] for p in HERE.glob("cases_*.py"))]


def suite_module(name):
    """The module of suite ``name``."""
    return importlib.import_module("tests.goldens.cases" + (f"_{name}" if name else ""))


def goldens_path(name):
    """The JSON file holding suite ``name``'s goldens."""
    return HERE / (f"tf_goldens_{name}.json" if name else "tf_goldens.json")


def load_goldens(name):
    """``{case id: record}`` of suite ``name`` (empty when not generated yet)."""
    path = goldens_path(name)
    if not path.exists():
        return {}
    return json.loads(path.read_text())["cases"]


def merged(attr, default):
    """``attr`` of every suite, lists concatenated and dicts/sets merged."""
    out = type(default)()
    for name in suite_names():
        part = getattr(suite_module(name), attr, default)
        if isinstance(out, list):
            out.extend(part)
        else:
            out.update(part)
    return out
