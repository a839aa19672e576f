"""Layers: data flows one way (AnnData -> select -> aggregate -> arrange -> draw).

The package's imports are read with ``ast`` (every import, also those inside
functions, which run on first use) and checked as a graph: no module imports itself
back through others, ``tl`` never imports ``get`` (``get`` may call ``tl``: it reads
markers from ``tl.top_markers``), and drawing code never imports anndata.
"""

from __future__ import annotations

import ast
import functools
import time
from pathlib import Path

import pytest

import sc_heatmaps
from sc_heatmaps.get._grouped import as_gene_list

PACKAGE = Path(sc_heatmaps.__file__).parent
NAME = "sc_heatmaps"


def _module_name(path: Path) -> str:
    parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, tuple[Path, ast.Module]]:
    return {
        _module_name(p): (p, ast.parse(p.read_text(encoding="utf-8"), filename=str(p)))
        for p in sorted(PACKAGE.rglob("*.py"))
    }


SOURCES = _sources()
MODULES = set(SOURCES)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str:
    if node.level == 0:
        return node.module or ""
    base = _package_of(module, path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(node: ast.AST, module: str, path: Path) -> list[str]:
    """Modules an import statement names: ``from .x import y`` names ``x.y`` when
    ``y`` is a module, else ``x`` (a parent package's ``__init__`` is not an edge)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = _absolute(node, module, path)
        return [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
            for alias in node.names
        ]
    return []


def _inside_function(tree: ast.Module) -> set[int]:
    """ids of the import nodes that run only when a function is called."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inside.update(id(sub) for sub in ast.walk(node) if sub is not node)
    return inside


@functools.cache
def imports(module_level_only: bool = False) -> dict[str, set[str]]:
    """Module -> every module (of the package or not) it imports."""
    graph = {}
    for module, (path, tree) in SOURCES.items():
        skip = _inside_function(tree) if module_level_only else set()
        graph[module] = {
            target
            for node in ast.walk(tree)
            if id(node) not in skip
            for target in _targets(node, module, path)
        }
    return graph


@functools.cache
def package_graph() -> dict[str, set[str]]:
    """Imports between the modules of the package."""
    return {m: {t for t in targets if t in MODULES} for m, targets in imports().items()}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        v = todo.pop()
        if v not in seen:
            seen.add(v)
            todo.extend(graph.get(v, ()))
    return seen


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components (modules that reach each other) with more than
    one module, or one module that imports itself."""
    reach = {v: _reachable(graph, v) for v in graph}
    components = {
        tuple(sorted({v} | {w for w in reach[v] if v in reach.get(w, ())}))
        for v in graph
        if v in reach[v]
    }
    return sorted(map(list, components))


def layer_of(module: str) -> str:
    """``get``, ``tl``, ``pl``, ...; top-level private modules are ``core``."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1].startswith("__"):  # sc_heatmaps, sc_heatmaps.__main__
        return "package"
    return "core" if parts[1].startswith("_") else parts[1]


def layer_edges() -> set[tuple[str, str]]:
    return {
        (layer_of(m), layer_of(t))
        for m, targets in package_graph().items()
        for t in targets
        if layer_of(m) != layer_of(t)
    }


def _edges_between(a: str, b: str) -> list[str]:
    return sorted(
        f"{m} -> {t}"
        for m, targets in package_graph().items()
        for t in targets
        if layer_of(m) == a and layer_of(t) == b
    )


# --- the graph reader itself -------------------------------------------------------


def test_the_reader_finds_known_imports():
    """A check of the checker: known imports, also function-level ones, are found."""
    graph = package_graph()
    assert "sc_heatmaps.tl._markers" in graph["sc_heatmaps.tl"]
    assert "sc_heatmaps._sources" in graph["sc_heatmaps.get._grouped"]
    assert "sc_heatmaps.tl" in graph["sc_heatmaps.get._markers"]  # inside marker_genes
    assert "sc_heatmaps._numba_kernels" in graph["sc_heatmaps._aggregate"]  # inside a function
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"a"}, "b": set()}) == [["a"]]


# --- the rules ---------------------------------------------------------------------


def test_no_import_cycle_between_modules():
    cycles = strongly_connected(package_graph())
    assert cycles == [], f"modules that import each other (directly or through others): {cycles}"


def test_no_cycle_inside_tl():
    graph = {m: t for m, t in package_graph().items() if layer_of(m) == "tl"}
    assert strongly_connected(graph) == []
    assert "sc_heatmaps.tl._rank_store" not in graph["sc_heatmaps.tl._ttest"]
    assert "sc_heatmaps.tl._ttest" not in graph["sc_heatmaps.tl._rank_store"]


def test_get_and_tl_do_not_import_each_other_both_ways():
    get_to_tl, tl_to_get = _edges_between("get", "tl"), _edges_between("tl", "get")
    assert not (get_to_tl and tl_to_get), f"both ways: {get_to_tl} and {tl_to_get}"


def test_tl_never_imports_get():
    """The one allowed direction: get -> tl (get.marker_genes calls tl.top_markers)."""
    assert _edges_between("tl", "get") == []


def test_no_cycle_between_layers():
    graph: dict[str, set[str]] = {}
    for a, b in layer_edges():
        graph.setdefault(a, set()).add(b)
    assert strongly_connected(graph) == [], sorted(layer_edges())


@pytest.mark.parametrize("layer", ["core", "arrange", "tl", "get"])
def test_lower_layers_never_import_drawing_or_the_command_line(layer):
    for upper in ("pl", "cli"):
        assert _edges_between(layer, upper) == []


def test_shared_kernels_live_below_get_and_tl():
    graph = package_graph()
    for module in ("sc_heatmaps._aggregate", "sc_heatmaps._genes"):
        assert {layer_of(t) for t in graph[module]} <= {"core"}, graph[module]
    users = {m for m, targets in graph.items() if "sc_heatmaps._aggregate" in targets}
    assert {layer_of(m) for m in users} >= {"get", "tl"}


def test_drawing_code_never_imports_anndata():
    bad = {
        m: sorted(t for t in targets if t.split(".")[0] == "anndata")
        for m, targets in imports().items()
        if layer_of(m) == "pl"
    }
    assert {m: t for m, t in bad.items() if t} == {}


def test_drawing_code_never_imports_scanpy_at_module_level():
    bad = {
        m: sorted(t for t in targets if t.split(".")[0] == "scanpy")
        for m, targets in imports(module_level_only=True).items()
        if layer_of(m) == "pl"
    }
    assert {m: t for m, t in bad.items() if t} == {}


# --- gene lists: one pass ----------------------------------------------------------


def _naive_gene_list(var_names) -> list[str]:
    if isinstance(var_names, str):
        return [var_names]
    if isinstance(var_names, dict):
        out = []
        for block in var_names.values():
            out += [g for g in block if g not in out]
        return out
    genes = [str(g) for g in var_names]
    for i, g in enumerate(genes):
        if g in genes[:i]:
            raise ValueError(g)
    return genes


@pytest.mark.parametrize(
    "var_names",
    [
        "CD3E",
        ["CD3E", "MS4A1", "LYZ"],
        ("b", "a", "c"),
        {"T": ["CD3E", "CD4"], "B": ["MS4A1", "CD3E"], "x": []},
        ["B", "A", "B", "C", "A"],
    ],
)
def test_gene_list_equals_a_naive_reading(var_names):
    try:
        expected = _naive_gene_list(var_names)
    except ValueError:
        with pytest.raises(ValueError, match=r"\['A', 'B'\] more than once"):
            as_gene_list(var_names)
        return
    assert as_gene_list(var_names) == expected


def test_gene_list_of_20000_genes_is_linear():
    """``list.count`` per gene took 26 s for 20,000 genes; one pass takes milliseconds."""
    genes = [f"ENSG{i:011d}" for i in range(20_000)]
    start = time.perf_counter()
    assert as_gene_list(genes) == genes
    with pytest.raises(ValueError, match="ENSG00000000007"):
        as_gene_list([*genes, "ENSG00000000007"])
    assert time.perf_counter() - start < 2.0
