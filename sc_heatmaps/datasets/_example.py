"""The bundled example AnnData (simulated)."""

from __future__ import annotations

from pathlib import Path

_NAME = "example.h5ad"


def example_path() -> Path:
    """Path of the bundled example file (inside the installed package, or ``data/``
    of a source checkout).

    Returns
    -------
    pathlib.Path
        The ``example.h5ad`` file (``FileNotFoundError`` when it is missing).

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> sch.datasets.example_path().name
    'example.h5ad'
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / _NAME, here.parents[1] / "data" / _NAME):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"The bundled example {_NAME} is missing from {here} and from the source tree's data/; "
        "reinstall sc-heatmaps, or run `python data/make_example.py` in a checkout."
    )


def example():
    """A small *simulated* multi-dataset PBMC-like AnnData (2,325 cells x 416 genes).

    It is not real data. Three datasets (``obs["dataset"]``: ``ctrl``,
    ``stim_IFN``, ``stim_LPS``) and eight clusters (``obs["cluster"]``: CD4 T,
    CD8 T, NK, B, CD14 Mono, FCGR3A Mono, DC, Platelet) with textbook marker
    genes raised. Interferon-stimulated genes (ISG15, IFI6, MX1, ...) are up
    in every cluster of ``stim_IFN``; inflammatory genes (IL1B, CXCL8, TNF, ...)
    are up in the monocytes of ``stim_LPS``. ``X`` is log-normalised, raw
    counts are in ``layers["counts"]``. Made by ``data/make_example.py``;
    loads offline. Every call returns a fresh object.

    Returns
    -------
    anndata.AnnData
        2,325 cells x 416 genes, with ``obs`` keys ``dataset``, ``cluster`` and
        ``total_counts``.

    Examples
    --------
    >>> import sc_heatmaps as sch
    >>> adata = sch.datasets.example()
    >>> sorted(adata.obs["dataset"].cat.categories)
    ['ctrl', 'stim_IFN', 'stim_LPS']
    """
    import anndata as ad

    return ad.read_h5ad(example_path())
