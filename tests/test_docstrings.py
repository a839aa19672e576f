"""Every public function has a complete numpydoc docstring (issue 15).

Public means: everything in the ``__all__`` of ``sc_heatmaps.tl``, ``pp``, ``get``,
``pl``, ``arrange``, ``export`` and ``datasets``, and the public methods of the classes
exported there (the plot objects' ``savefig``, ...). For each function:

- a one-line summary;
- a Parameters section naming every parameter of ``inspect.signature`` (which, for the
  plotting functions built by ``takes_options``, includes every field of the frozen
  options class) and nothing that is not one (a stale or misplaced entry);
- a Returns section whose first line names the type;
- an Examples section with at least one ``>>>`` line (run by ``--doctest-modules``).

The docstrings are parsed by a small numpydoc section reader, so that the test needs no
documentation packages.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re

import pytest

SUBMODULES = ("tl", "pp", "get", "pl", "arrange", "export", "datasets")
_UNDERLINE = re.compile(r"^-{3,}$")
# "pandas.DataFrame", "list of pathlib.Path", "Criterion or BoolOp", "None"
_TYPE_LINE = re.compile(r"^[A-Za-z_][\w.]*( of [\w.]+)?( or [\w.]+)*$")


def sections(doc: str) -> dict[str, list[str]]:
    """``{section title: its lines}`` of a (dedented) numpydoc docstring; the text
    before the first section is under ``"Summary"``."""
    lines = doc.splitlines()
    out: dict[str, list[str]] = {"Summary": []}
    current = "Summary"
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and _UNDERLINE.match(nxt) and len(nxt) == len(line.strip()):
            current = line.strip()
            out[current] = []
            i += 2
            continue
        out[current].append(line)
        i += 1
    return out


def parameter_names(lines: list[str]) -> list[str]:
    """Names of a Parameters section: its unindented lines (``a, b`` names two; a
    ``name : type`` line names ``name``)."""
    names = []
    for line in lines:
        if line.strip() and not line[0].isspace():
            head = line.split(" : ")[0]
            names += [n.strip().lstrip("*") for n in head.split(",") if n.strip()]
    return names


def _public_callables():
    """``(qualified name, callable)`` for every public function and method."""
    seen = set()
    for sub in SUBMODULES:
        module = importlib.import_module(f"sc_heatmaps.{sub}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        key = (obj.__module__, obj.__qualname__, attr)
                        if key not in seen:
                            seen.add(key)
                            yield f"{sub}.{name}.{attr}", member
            elif callable(obj) and id(obj) not in seen:
                seen.add(id(obj))
                yield f"{sub}.{name}", obj


def _public_classes():
    for sub in SUBMODULES:
        module = importlib.import_module(f"sc_heatmaps.{sub}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                yield f"{sub}.{name}", obj


CALLABLES = dict(_public_callables())
CLASSES = dict(_public_classes())


def _signature_names(func) -> list[str]:
    params = inspect.signature(func).parameters
    return [p for p in params if p not in ("self", "cls")]


def test_the_public_api_is_collected():
    # a few names that must be checked, so that the collection cannot silently shrink
    for name in ("pl.grouped_heatmap", "pl.savefig", "pl.Plot.savefig", "get.marker_genes"):
        assert name in CALLABLES
    assert len(CALLABLES) >= 35


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_parameter_is_documented(name):
    func = CALLABLES[name]
    parts = sections(inspect.getdoc(func) or "")
    wanted = _signature_names(func)
    documented = parameter_names(parts.get("Parameters", []))
    missing = [p for p in wanted if p not in documented]
    assert not missing, f"{name}: parameters without documentation: {missing}"
    stray = [p for p in documented if p not in wanted]
    assert not stray, f"{name}: documented but not parameters: {stray}"


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_summary_returns_and_examples(name):
    parts = sections(inspect.getdoc(CALLABLES[name]) or "")
    summary = [line for line in parts["Summary"] if line.strip()]
    assert summary, f"{name}: no summary line"
    returns = [line for line in parts.get("Returns", []) if line.strip()]
    assert returns, f"{name}: no Returns section"
    assert _TYPE_LINE.match(returns[0]), f"{name}: Returns must start with the type"
    examples = parts.get("Examples", [])
    assert any(line.lstrip().startswith(">>> ") for line in examples), (
        f"{name}: no Examples section with a runnable line"
    )


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_public_class_has_a_summary(name):
    doc = inspect.getdoc(CLASSES[name]) or ""
    assert doc.strip(), f"{name}: no docstring"


def test_option_fields_reach_the_documented_signature():
    # the figure options are written once, in a frozen dataclass; takes_options puts
    # every field into the public signature, which the tests above hold to the docstring
    with_options = {n: f for n, f in CALLABLES.items() if hasattr(f, "options")}
    assert len(with_options) >= 6
    for name, func in with_options.items():
        fields = [f.name for f in dataclasses.fields(func.options)]
        assert set(fields) <= set(_signature_names(func)), name
        documented = parameter_names(sections(inspect.getdoc(func))["Parameters"])
        assert set(fields) <= set(documented), (name, set(fields) - set(documented))


def test_the_section_reader():
    doc = "Summary.\n\nParameters\n----------\na, b\n    Two.\nc : int\n    One.\n\nReturns\n"
    doc += "-------\nint\n    A number.\n"
    parts = sections(doc)
    assert parameter_names(parts["Parameters"]) == ["a", "b", "c"]
    assert parts["Returns"][0] == "int"


_FUNCTION = re.compile(r"\bsch\.(\w+)\.(\w+)")
_KEYWORD = re.compile(r"(?<![\w.\"'])([a-z_]\w*)=(?!=)")


def test_the_seurat_page_names_real_functions_and_parameters():
    # docs/coming_from_seurat.md maps Seurat's and Cell-Hub's calls to ours: every
    # sch.<module>.<name> it writes must exist, and every name= in a table row must be
    # a parameter of a function named in that row (R's `a = b` is written with spaces).
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "coming_from_seurat.md"
    if not page.is_file():
        pytest.skip("docs/ is not part of this checkout")
    rows = [line for line in page.read_text().splitlines() if line.startswith("| ")]
    checked = 0
    for row in rows:
        funcs = []
        for sub, name in _FUNCTION.findall(row):
            module = importlib.import_module(f"sc_heatmaps.{sub}")
            assert name in module.__all__, f"sch.{sub}.{name} is not public: {row}"
            funcs.append(getattr(module, name))
        if "plot.savefig(" in row:
            funcs.append(CALLABLES["pl.Plot.savefig"])
        # only the cells of our calls (the last columns); Seurat's cell comes first
        ours = "|".join(row.split("|")[2:])
        # a row naming no function (the general conventions) may use any public name
        pool = funcs or CALLABLES.values()
        params = {p for f in pool for p in _signature_names(f)}
        for keyword in _KEYWORD.findall(ours):
            assert keyword in params, f"{keyword}= is not a parameter in: {row}"
            checked += 1
    assert checked >= 40
