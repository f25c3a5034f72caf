"""The package's structure, as the README's "Layout and architecture" draws it: layers, no cycles,
imports at the top.

Read from the source with ``ast`` (nothing is imported), so a violation names the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "manybody"

#: Each layer and the layers it may import (besides itself). A module's layer is its first
#: folder below manybody/ (top-level modules: their own name).
ALLOWED = {
    "units": set(),
    "support": set(),
    "config": {"support", "units"},
    "simulation": {"support", "units", "config"},
    "laws": {"support", "units"},
    "measured": {"support", "units", "laws"},
    "runs": {"support", "units", "config", "simulation"},
    "study": {"support", "units", "config", "simulation", "laws", "runs", "_moved"},
    "cli": {"support", "units", "config", "simulation", "laws", "measured", "runs", "study"},
    "_moved": set(),
    "__main__": {"cli"},
}
#: The package's face (manybody/__init__.py) names every layer's public objects lazily.
FACADE = "__init__"
#: Modules that may import the package's own modules inside a function, with the reason.
LATE_IMPORTS_ALLOWED: dict[str, str] = {
    "manybody/__init__.py": "lazy public API: `import manybody` stays light",
    "manybody/cli/": "a command imports its heavy modules when it runs: `manybody --help` stays fast",
}
#: Modules any module may import inside a function: compiled kernels that import numba (~0.4 s)
#: at their top, loaded when first used (their callers need not pay for numba otherwise).
LATE_IMPORTABLE: dict[str, str] = {
    "manybody.simulation.observables.pair_kernels": "numba kernels of the dense-ED pair sums",
    "manybody.simulation.solvers.chebyshev.run_kernel": "numba kernel of the matrix-free product",
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _own_imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int, bool]]:
    """(imported manybody module, line, at module top) for every import of the package."""
    found = []
    top_level = set(map(id, tree.body))
    type_only = set()  # imports under `if TYPE_CHECKING:` never run: not part of the graph
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            if base == "manybody" or base.startswith("manybody."):
                names = [f"{base}.{a.name}" for a in node.names]  # a module or a name in one
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == "manybody"]
        for name in names:
            found.append((name, node.lineno, id(node) in top_level))
    return found


def _graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, int, bool]]]]:
    modules = {_name(p): p for p in _modules()}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    raw = {}
    for module, path in modules.items():
        imports = _own_imports(ast.parse(path.read_text()), module, path.name == "__init__.py")
        raw[module] = imports
        for name, _, _ in imports:
            # resolve to a known module (a name imported from a package resolves to the package)
            target = name
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module and target != "manybody":
                graph[module].add(target)
    return graph, raw


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph()[0]) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_import_only_what_they_may():
    graph, _ = _graph()
    wrong = []
    for module, targets in graph.items():
        layer = _layer(module)
        if layer == FACADE:
            continue
        assert layer in ALLOWED, f"{module}: a module outside the layers (add it to a layer)"
        for target in targets:
            other = _layer(target)
            if other != layer and other not in ALLOWED[layer]:
                wrong.append(f"{module} ({layer}) imports {target} ({other})")
    assert wrong == []


def test_package_imports_at_module_top():
    _, raw = _graph()
    late = []
    for module, imports in raw.items():
        path = str(_modules_by_name()[module].relative_to(PACKAGE.parent))
        if any(path.startswith(allowed) for allowed in LATE_IMPORTS_ALLOWED):
            continue
        late += [f"{path}:{line} imports {name} inside a function"
                 for name, line, top in imports
                 if not top and not any(name == m or name.startswith(m + ".")
                                        for m in LATE_IMPORTABLE)]
    assert late == []


def _modules_by_name() -> dict[str, Path]:
    return {_name(p): p for p in _modules()}


def test_layer_graph_depth():
    """Layers stacked at most 7 deep (the flat package of 0.1 stood 15 files deep): cli -> study
    -> runs -> simulation -> config -> support (laws and measured beside them)."""
    graph, _ = _graph()
    layers: dict[str, set[str]] = {}
    for module, targets in graph.items():
        if _layer(module) == FACADE:
            continue
        layers.setdefault(_layer(module), set()).update(
            _layer(t) for t in targets if _layer(t) != _layer(module))
    depth: dict[str, int] = {}

    def level(layer: str) -> int:
        if layer not in depth:
            depth[layer] = 1 + max((level(t) for t in layers.get(layer, ())), default=0)
        return depth[layer]

    assert max(level(layer) for layer in layers) <= 7


def test_every_module_is_the_attribute_of_its_package():
    """``import a.b.c as m`` reads attribute c of a.b: a name bound in a package's __init__ must
    not shadow one of its submodules (the solver registry bound ``chebyshev`` to the solver module,
    so ``import manybody.simulation.solvers.chebyshev.fused as f`` failed; session 15)."""
    import importlib
    import pkgutil
    import sys

    import manybody

    names = [m.name for m in pkgutil.walk_packages(manybody.__path__, "manybody.")
             if not m.name.endswith("__main__")]
    for name in names:
        importlib.import_module(name)
    shadowed = [name for name in names
                if getattr(sys.modules[name.rpartition(".")[0]], name.rpartition(".")[2], None)
                is not sys.modules[name]]
    assert shadowed == []
    import manybody.simulation.solvers.chebyshev.fused as fused  # the import that failed

    assert callable(fused.record)
