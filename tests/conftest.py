"""Shared fixtures: real data from SC_HEATMAPS_DATA, small seeded synthetic data, fingerprints."""

from __future__ import annotations

import hashlib
import os
import pickle
from importlib.metadata import version
from pathlib import Path

import anndata as ad
import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("SC_HEATMAPS_DATA", ROOT.parent / "shared" / "data"))
KANG = "kang2018_muscat_example.h5ad"
# the columns of a marker table, as the documentation of tl.top_markers promises
MARKER_COLUMNS = ["group", "rank", "gene", "score", "logfc", "pval_adj", "pct_in", "pct_out"]


# ------------------------------------------------------------------ test tiers
# The README's command runs the fast tier. The opt-in tier is every test marked
# ``exhaustive`` (and the gallery's ``gallery_full`` cases): deselected unless
# ``--run-exhaustive`` is given or SC_HEATMAPS_EXHAUSTIVE=1. .ci/run runs it on both stacks.
# The tier also sets how many examples hypothesis draws per fuzz test (tests/test_fuzz.py
# reads SC_HEATMAPS_FUZZ_EXAMPLES when imported; a value already set wins).
OPT_IN_MARKERS = ("exhaustive", "gallery_full")
FUZZ_EXAMPLES = {False: "10", True: "100"}


def pytest_addoption(parser):
    parser.addoption(
        "--run-exhaustive",
        action="store_true",
        default=False,
        help="also run the opt-in tier (tests marked exhaustive or gallery_full) and fuzz "
        f"with {FUZZ_EXAMPLES[True]} examples per test (env: SC_HEATMAPS_EXHAUSTIVE=1)",
    )


def run_exhaustive(config) -> bool:
    """Whether this run includes the opt-in tier."""
    env = os.environ.get("SC_HEATMAPS_EXHAUSTIVE", "").lower() in ("1", "true", "yes")
    return bool(config.getoption("--run-exhaustive", default=False)) or env


def pytest_configure(config):
    os.environ.setdefault("SC_HEATMAPS_FUZZ_EXAMPLES", FUZZ_EXAMPLES[run_exhaustive(config)])


def pytest_collection_modifyitems(config, items):
    if run_exhaustive(config):
        return
    opt_in = [i for i in items if any(i.get_closest_marker(m) for m in OPT_IN_MARKERS)]
    if opt_in:
        config.hook.pytest_deselected(items=opt_in)
        chosen = set(map(id, opt_in))
        items[:] = [i for i in items if id(i) not in chosen]


def pytest_report_header(config):
    tier = "fast + exhaustive" if run_exhaustive(config) else "fast (--run-exhaustive: all)"
    examples = os.environ["SC_HEATMAPS_FUZZ_EXAMPLES"]
    return f"sc_heatmaps test tier: {tier}; fuzz examples per test: {examples}"


def real_data_path(name: str) -> Path:
    """Path of a real dataset; a missing file fails under CI and skips elsewhere."""
    path = DATA_DIR / name
    if not path.is_file():
        message = f"real dataset {path} not found (set SC_HEATMAPS_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _anndata_holds_sparse_arrays() -> bool:
    try:
        ad.AnnData(sparse.csr_array((1, 1)))
    except ValueError:
        return False
    return True


# anndata < 0.11 refuses scipy sparse arrays (csr_array, csc_array), so it never hands
# us one: cases built on them apply only where anndata holds them
SPARSE_ARRAYS = pytest.mark.skipif(
    not _anndata_holds_sparse_arrays(),
    reason=f"anndata {version('anndata')} holds no scipy sparse arrays (anndata >= 0.11 does)",
)


def layout_params(names) -> list:
    """Parameters for matrix layouts by name; sparse-array layouts carry SPARSE_ARRAYS."""
    return [pytest.param(n, marks=SPARSE_ARRAYS) if n.endswith("_array") else n for n in names]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def kang_raw() -> ad.AnnData:
    """The Kang data as stored (raw counts in X). Do not modify: use ``kang``."""
    return ad.read_h5ad(real_data_path(KANG))


@pytest.fixture(scope="session")
def _kang_lognorm(kang_raw) -> ad.AnnData:
    """Normalised once per session; tests get copies (``kang``)."""
    import scanpy as sc

    adata = kang_raw.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    return adata


@pytest.fixture
def kang(_kang_lognorm) -> ad.AnnData:
    """Kang data, log-normalised the scanpy way, counts in ``raw`` untouched (a fresh copy)."""
    return _kang_lognorm.copy()


@pytest.fixture(scope="session")
def _example_once() -> ad.AnnData:
    import sc_heatmaps as sch

    return sch.datasets.example()


@pytest.fixture
def example(_example_once) -> ad.AnnData:
    """The bundled example (a fresh copy of the one read per session)."""
    return _example_once.copy()


def make_synthetic(seed: int = 0, n_per_group: int = 12, sparse_x: bool = True) -> ad.AnnData:
    """Small seeded AnnData: 2 datasets x 4 clusters, 30 genes, log-like values."""
    rng = np.random.default_rng(seed)
    datasets, clusters = ["d1", "d2"], ["c0", "c1", "c2", "c3"]
    obs = pd.DataFrame(
        [(d, c) for d in datasets for c in clusters for _ in range(n_per_group)],
        columns=["dataset", "cluster"],
    )
    obs = obs.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    obs.index = [f"cell{i}" for i in range(len(obs))]
    obs["dataset"] = pd.Categorical(obs["dataset"], categories=datasets)
    obs["cluster"] = pd.Categorical(obs["cluster"], categories=clusters)
    n_genes = 30
    X = rng.gamma(1.0, 1.0, (len(obs), n_genes)) * (rng.random((len(obs), n_genes)) < 0.4)
    for k, c in enumerate(clusters):  # genes 0-3 mark c0, 4-7 mark c1, ...
        rows = (obs["cluster"] == c).to_numpy()
        X[np.ix_(rows, range(4 * k, 4 * k + 4))] += 3.0 + k
    X = np.log1p(X).astype(np.float32)
    var = pd.DataFrame(index=[f"G{i:02d}" for i in range(n_genes)])
    return ad.AnnData(X=sparse.csr_matrix(X) if sparse_x else X, obs=obs, var=var)


@pytest.fixture
def synthetic() -> ad.AnnData:
    return make_synthetic()


def _hash_matrix(m) -> str:
    h = hashlib.sha256()
    if sparse.issparse(m):
        m = m.tocsr()
        for part in (m.data, m.indices, m.indptr):
            h.update(np.ascontiguousarray(part).tobytes())
        h.update(str(m.shape).encode())
    else:
        h.update(np.ascontiguousarray(np.asarray(m)).tobytes())
    return h.hexdigest()


def fingerprint(adata: ad.AnnData) -> dict:
    """A deep fingerprint of everything a user would not want changed.

    anndata 0.13 also lists X among the layers, under the key ``None``: X has its own
    entry, so ``layers`` holds the named layers only.
    """
    return {
        "X": _hash_matrix(adata.X),
        "layers": {k: _hash_matrix(v) for k, v in adata.layers.items() if k is not None},
        "raw": None if adata.raw is None else _hash_matrix(adata.raw.X),
        "obs": pd.util.hash_pandas_object(adata.obs, index=True).sum(),
        "obs_dtypes": adata.obs.dtypes.astype(str).to_dict(),
        "obs_categories": {
            k: list(v.cat.categories) for k, v in adata.obs.items() if hasattr(v, "cat")
        },
        "var": pd.util.hash_pandas_object(adata.var, index=True).sum(),
        "var_names": list(adata.var_names),
        "uns": {k: hashlib.sha256(pickle.dumps(v)).hexdigest() for k, v in adata.uns.items()},
        "obsm": {k: _hash_matrix(v) for k, v in adata.obsm.items()},
    }
