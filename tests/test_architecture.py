"""The package's layers, read from the modules' own imports.

Every ``import`` of a jaxsession module counts, at the top of a file or
inside a function (a lazy import is still a dependency); only imports under
``if TYPE_CHECKING:`` are left out, since they never run. docs/ARCHITECTURE.md
draws the same arrows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import jaxsession

ROOT = Path(jaxsession.__file__).parent

# What each internal package may import besides itself. ``errors`` is the
# package-wide error vocabulary; the top-level modules (``nn.py``,
# ``train.py``, ...) are TF1 namespaces that only re-export, and no internal
# package may import them.
ALLOWED = {
    "graph": {"errors"},
    "ops": {"graph", "errors"},
    "library": {"ops", "graph", "errors"},
    "input": {"graph", "errors"},
    "distributed": {"errors"},
    "engine": {"graph", "input", "distributed", "errors"},
    "checkpoint": {"graph", "distributed", "errors"},
    "session": {
        "engine",
        "checkpoint",
        "library",
        "input",
        "ops",
        "graph",
        "distributed",
        "errors",
    },
}
MAX_LINES = 1000


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The module file ``name`` is, or lives in (``a.b.func`` -> ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                skipped.update(id(n) for n in ast.walk(stmt))
    return skipped


def _imports(module: str) -> set[str]:
    """The jaxsession modules that ``module`` imports, lazy imports included."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skipped = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [f"{base}.{a.name}" for a in node.names] or [base]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "jaxsession":
                target = _resolve(name)
                if target is not None and target != module:
                    found.add(target)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def _layer(module: str) -> str:
    """``graph`` for ``jaxsession.graph.core``; the module itself at the top."""
    parts = module.split(".")
    if len(parts) == 2 and parts[1] in ALLOWED:
        return parts[1]  # a subpackage's __init__
    return parts[1] if len(parts) > 2 else module


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    return found


def test_the_walk_sees_lazy_imports_and_skips_type_checking_ones():
    # variables.py imports core at the top, rules.py imports core's types
    # only for annotations, core.py imports graph_def inside a method.
    assert "jaxsession.graph.core" in GRAPH["jaxsession.graph.variables"]
    assert "jaxsession.graph.graph_def" in GRAPH["jaxsession.graph.core"]
    assert "jaxsession.graph.core" not in GRAPH["jaxsession.graph.rules"]
    assert _layer("jaxsession.graph.core") == "graph"
    assert _layer("jaxsession.ops") == "ops"
    assert _layer("jaxsession.errors") == "jaxsession.errors"


def test_no_import_circle_between_files():
    assert _cycles() == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(layer):
    allowed = {layer, *ALLOWED[layer]}
    bad = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _layer(module) == layer
        for target in targets
        if _layer(target).removeprefix("jaxsession.") not in allowed
    )
    assert bad == []


def test_no_module_over_the_size_limit():
    sizes = {m: len(p.read_text().splitlines()) for m, p in MODULES.items()}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}
