"""The command line imports only what a command needs (start-up time, issue 14).

Each test runs the command in a fresh interpreter and reads ``sys.modules`` at the
end: a module that was never imported cost no start-up time. Timings themselves are
in ``benchmarks/startup_export.py``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from conftest import ROOT

EXAMPLE = ROOT / "data" / "example.h5ad"

HEAVY = (
    "scanpy",
    "sklearn",
    "statsmodels",
    "scipy.stats",
    "matplotlib",
    "matplotlib.pyplot",
    "marsilea",
    "seaborn",
    "plotly",
    "anndata",
    "numba",
)

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import sc_heatmaps.cli as cli

    argv = json.loads(sys.argv[1])
    code = cli.main(argv) if argv else 0
    print(json.dumps({"code": code, "loaded": [m for m in json.loads(sys.argv[2])
                                               if m in sys.modules]}))
    """
)


def _loaded(argv: list[str], tmp_path) -> set[str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(argv), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["code"] == 0, result.stderr
    return set(out["loaded"])


def test_importing_the_cli_loads_no_heavy_package(tmp_path):
    assert _loaded([], tmp_path) == set()


def test_ttest_markers_need_anndata_but_not_scanpy_scipy_stats_or_matplotlib(tmp_path):
    argv = ["markers", "-i", str(EXAMPLE), "--groupby", "cluster", "--method", "t-test"]
    loaded = _loaded([*argv, "-n", "3", "-o", str(tmp_path / "m.tsv")], tmp_path)
    assert (tmp_path / "m.tsv").stat().st_size > 0
    assert "anndata" in loaded
    unexpected = {"scanpy", "sklearn", "statsmodels", "scipy.stats", "matplotlib", "plotly"}
    assert loaded & unexpected == set()


def test_heatmap_imports_neither_scanpy_nor_plotly(tmp_path):
    argv = ["heatmap", "-i", str(EXAMPLE), "--cluster-key", "cluster"]
    loaded = _loaded([*argv, "-n", "2", "-o", str(tmp_path / "h.png")], tmp_path)
    assert (tmp_path / "h.png").stat().st_size > 0
    assert "matplotlib" in loaded
    assert loaded & {"scanpy", "sklearn", "plotly"} == set()


def test_dual_imports_neither_the_heatmap_board_nor_scanpy(tmp_path):
    argv = ["dual", "-i", str(EXAMPLE), "--genes", "ISG15,IFI6", "--color", "dataset"]
    loaded = _loaded([*argv, "-o", str(tmp_path / "d.png")], tmp_path)
    assert (tmp_path / "d.png").stat().st_size > 0
    assert loaded & {"scanpy", "sklearn", "plotly", "marsilea", "seaborn"} == set()


def test_drawing_a_heatmap_leaves_matplotlib_legend_settings_alone():
    """marsilea's legendkit sets legend rcParams on import; a heatmap must not leak them."""
    code = textwrap.dedent(
        """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib as mpl
        before = {k: v for k, v in mpl.rcParams.items() if k.startswith("legend.")}
        import sc_heatmaps as sch
        sch.pl.grouped_heatmap(sch.datasets.example(), ["CD3E", "MS4A1"], "cluster")
        import marsilea
        after = {k: v for k, v in mpl.rcParams.items() if k.startswith("legend.")}
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert changed == {}, changed
        """
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=600)
