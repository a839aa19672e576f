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
    assert "python3 -m venv" in ci and 'pip install --quiet ".[test]"' in ci


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
