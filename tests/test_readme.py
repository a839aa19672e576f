"""The README keeps its two commands, and CI runs the README's test command."""

from __future__ import annotations

from conftest import ROOT

TEST_COMMAND = "python -m pytest --doctest-modules sc_heatmaps tests"


def test_readme_has_install_demo_and_test_commands():
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && sc-heatmaps demo" in readme
    assert f'pip install ".[test]" && {TEST_COMMAND}' in readme


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in ci
    # each stack: a fresh venv and the README's install; the lowest stack adds constraints
    assert "-m venv" in ci and '".[test]"' in ci
    assert "-c .ci/constraints-lowest.txt" in ci


def test_lowest_constraints_pin_the_declared_lower_bounds():
    """Every lower bound in pyproject.toml is what the lowest CI stack installs."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / ".ci" / "constraints-lowest.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = Version(version.strip())
    # ruff only lints, once, on the newest stack
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    for req in map(Requirement, declared):
        if req.name == "ruff":
            continue
        (bound,) = [Version(s.version) for s in req.specifier if s.operator == ">="]
        pin = pins[req.name.lower()]
        # the bound itself, or (for a yanked release) the first release after it
        assert pin >= bound and pin.release[: len(bound.release)] == bound.release, req


def test_readme_quick_start_runs(tmp_path, monkeypatch):
    import re

    import matplotlib.pyplot as plt

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README quick start", "exec"), {})
    plt.close("all")
    for name in ["markers.pdf", "markers.tsv", "isg15_ifi6.svg", "markers.html"]:
        assert (tmp_path / name).is_file(), name


def test_ci_newest_stack_is_python_313_and_the_prerelease_run_is_not_counted():
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'newest_python="$(find_python 3.13)"' in ci
    assert "install --quiet --upgrade --pre scanpy anndata" in ci
    assert 'timeout "${PRERELEASE_TIMEOUT:-900}"' in ci
    # the closing total reads the two stacks' reports only
    closing = ci[ci.rindex("# One closing line") :]
    assert 'for name in ("lowest", "newest"):' in closing and "prerelease" not in closing
    # the informational line never says "passed"/"failed" (the CI runner reads those)
    report = ci[ci.index("# The informational run") : ci.rindex("# One closing line")]
    assert "passed" not in report and "failed" not in report
