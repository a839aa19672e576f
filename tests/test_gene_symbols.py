"""``gene_symbols=``: genes named, and labelled, by a var column of symbols (scanpy's name).

The data: the bundled example with Ensembl-like ``var_names`` and the symbols in
``var["symbol"]``; the expected values come from the same calls by ``var_names``
(whose correctness other tests check against scanpy), mapped through the column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import fingerprint

import sc_heatmaps as sch
from sc_heatmaps.get._cells_matrix import cell_matrix

GENES = ["CD3E", "MS4A1", "LYZ", "NKG7"]


@pytest.fixture
def ensembl(example):
    """The example with var_names ENSG..., symbols in var["symbol"] (categorical, as
    read from h5ad files)."""
    adata = example.copy()
    symbols = list(adata.var_names)
    adata.var_names = [f"ENSG{i:011d}" for i in range(adata.n_vars)]
    adata.var["symbol"] = pd.Categorical(symbols)
    return adata


def ids_of(adata, symbols: list[str]) -> list[str]:
    by_symbol = pd.Series(adata.var_names, index=adata.var["symbol"].astype(str))
    return [by_symbol[s] for s in symbols]


def test_grouped_expression_by_symbols_equals_by_var_names(ensembl):
    before = fingerprint(ensembl)
    by_symbol = sch.get.grouped_expression(
        ensembl, GENES, ["dataset", "cluster"], gene_symbols="symbol", scale="zscore"
    )
    by_id = sch.get.grouped_expression(
        ensembl, ids_of(ensembl, GENES), ["dataset", "cluster"], scale="zscore"
    )
    assert list(by_symbol.matrix.index) == GENES
    assert list(by_symbol.fraction.index) == GENES
    for field in ("matrix", "unscaled", "fraction"):
        np.testing.assert_array_equal(
            getattr(by_symbol, field).to_numpy(), getattr(by_id, field).to_numpy()
        )
    assert list(by_symbol.matrix.columns) == list(by_id.matrix.columns)
    assert fingerprint(ensembl) == before


def test_blocks_of_symbols_and_missing_drop(ensembl):
    blocks = {"T": ["CD3E", "CD3D"], "B": ["MS4A1", "CD3E", "CD3X"]}
    ge = sch.get.grouped_expression(
        ensembl, blocks, "cluster", gene_symbols="symbol", missing="drop"
    )
    assert list(ge.matrix.index) == ["CD3E", "CD3D", "MS4A1"]
    assert ge.dropped_genes == ["CD3X"]


def test_markers_by_symbols_equal_markers_by_ids_mapped(ensembl):
    before = fingerprint(ensembl)
    by_id = sch.get.marker_genes(ensembl, "cluster", n_genes=4)
    symbol_of = dict(zip(ensembl.var_names, ensembl.var["symbol"].astype(str), strict=True))
    expected = {g: [symbol_of[i] for i in genes] for g, genes in by_id.items()}
    by_symbol = sch.get.marker_genes(ensembl, "cluster", n_genes=4, gene_symbols="symbol")
    assert by_symbol == expected
    assert all(not g.startswith("ENSG") for genes in by_symbol.values() for g in genes)
    # candidates are symbols too
    only = sch.get.marker_genes(
        ensembl, "cluster", n_genes=1, gene_symbols="symbol", candidates=GENES
    )
    assert {g for genes in only.values() for g in genes} <= set(GENES)
    assert fingerprint(ensembl) == before


def test_dual_expression_by_symbols(ensembl):
    before = fingerprint(ensembl)
    by_symbol = sch.get.dual_expression(
        ensembl, "ISG15", "IFI6", color="dataset", gene_symbols="symbol"
    )
    by_id = sch.get.dual_expression(ensembl, *ids_of(ensembl, ["ISG15", "IFI6"]), color="dataset")
    assert (by_symbol.gene_x, by_symbol.gene_y) == ("ISG15", "IFI6")
    pd.testing.assert_frame_equal(by_symbol.cells, by_id.cells)
    pd.testing.assert_frame_equal(by_symbol.stats, by_id.stats)
    assert fingerprint(ensembl) == before


def test_cell_matrix_by_symbols(ensembl):
    before = fingerprint(ensembl)
    kws = {"max_cells_per_group": 5}
    by_symbol = cell_matrix(ensembl, GENES, "cluster", gene_symbols="symbol", **kws)
    by_id = cell_matrix(ensembl, ids_of(ensembl, GENES), "cluster", **kws)
    assert list(by_symbol.matrix.index) == GENES
    np.testing.assert_array_equal(by_symbol.matrix.to_numpy(), by_id.matrix.to_numpy())
    assert fingerprint(ensembl) == before


def test_correlation_by_symbols(ensembl):
    before = fingerprint(ensembl)
    genes = ["ISG15", "IFI6", "MX1"]
    by_symbol = sch.get.correlation(
        ensembl, rows=[*genes, "total_counts"], cols="obs", gene_symbols="symbol"
    )
    by_id = sch.get.correlation(ensembl, rows=[*ids_of(ensembl, genes), "total_counts"], cols="obs")
    assert list(by_symbol.matrix.index) == [*genes, "total_counts"]
    assert by_symbol.rows == (*genes, "total_counts")
    np.testing.assert_array_equal(by_symbol.matrix.to_numpy(), by_id.matrix.to_numpy())
    per_group = sch.get.correlation(ensembl, genes=genes, groupby="dataset", gene_symbols="symbol")
    for matrix in per_group.matrices.values():
        assert list(matrix.index) == list(matrix.columns) == genes
    assert fingerprint(ensembl) == before


def test_misspelt_symbol_suggests_close_matches(ensembl):
    with pytest.raises(KeyError, match=r"'CD3F' \(did you mean 'CD3E', 'CD3D'"):
        sch.get.grouped_expression(ensembl, ["CD3F", "LYZ"], "cluster", gene_symbols="symbol")
    with pytest.raises(KeyError, match="did you mean 'MS4A1'"):
        sch.get.dual_expression(ensembl, "ms4a1", "LYZ", gene_symbols="symbol")
    with pytest.raises(KeyError, match="Did you mean 'symbol'"):
        sch.get.grouped_expression(ensembl, ["CD3E"], "cluster", gene_symbols="symbols")


def test_symbol_of_several_genes_is_an_error_naming_them(ensembl):
    adata = ensembl.copy()
    symbols = adata.var["symbol"].astype(str)
    cd3d = adata.var_names[symbols == "CD3D"][0]
    cd3e = adata.var_names[symbols == "CD3E"][0]
    adata.var["symbol"] = symbols.where(symbols != "CD3D", "CD3E")
    with pytest.raises(ValueError, match="several genes") as info:
        sch.get.grouped_expression(adata, ["CD3E"], "cluster", gene_symbols="symbol")
    assert cd3d in str(info.value) and cd3e in str(info.value)
    # each of them is still reachable, and labelled, by its var_name
    ge = sch.get.grouped_expression(adata, [cd3e, cd3d, "LYZ"], "cluster", gene_symbols="symbol")
    assert list(ge.matrix.index) == [cd3e, cd3d, "LYZ"]


def test_names_made_unique_by_anndata():
    """var_names_make_unique gives TBCE and TBCE-1 one symbol; 'TBCE' is the gene TBCE."""
    import anndata as ad

    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    obs = pd.DataFrame({"g": pd.Categorical(["a", "a", "b", "b"])}, index=list("wxyz"))
    var = pd.DataFrame({"symbol": ["TBCE", "TBCE", np.nan]}, index=["TBCE", "TBCE-1", "X9"])
    adata = ad.AnnData(X=X, obs=obs, var=var)
    ge = sch.get.grouped_expression(adata, ["TBCE", "TBCE-1", "X9"], "g", gene_symbols="symbol")
    assert list(ge.matrix.index) == ["TBCE", "TBCE-1", "X9"]  # X9: no symbol, its var_name
    np.testing.assert_allclose(ge.matrix.to_numpy(), X.reshape(2, 2, 3).mean(axis=1).T)


def test_missing_symbols_are_ignored(ensembl):
    adata = ensembl.copy()
    symbols = adata.var["symbol"].astype(object)
    lyz = adata.var_names[symbols == "LYZ"][0]
    symbols[symbols == "LYZ"] = np.nan
    adata.var["symbol"] = symbols
    ge = sch.get.grouped_expression(adata, ["CD3E", lyz], "cluster", gene_symbols="symbol")
    assert list(ge.matrix.index) == ["CD3E", lyz]
    with pytest.raises(KeyError, match="'LYZ'"):
        sch.get.grouped_expression(adata, ["LYZ"], "cluster", gene_symbols="symbol")
    markers = sch.get.marker_genes(adata, "cluster", n_genes=30, gene_symbols="symbol")
    assert "nan" not in {g for genes in markers.values() for g in genes}


def test_a_symbol_and_its_var_name_name_one_gene(ensembl):
    (cd3e,) = ids_of(ensembl, ["CD3E"])
    with pytest.raises(ValueError, match="all name the gene"):
        sch.get.grouped_expression(ensembl, ["CD3E", cd3e], "cluster", gene_symbols="symbol")


def test_symbols_of_raw_for_source_rna(ensembl):
    """With adata.raw, source='RNA' reads raw, and the symbols in adata.raw.var."""
    adata = ensembl.copy()
    adata.raw = adata
    adata = adata[:, :50].copy()  # var holds fewer genes than raw
    gene = str(adata.raw.var["symbol"].iloc[100])
    ge = sch.get.grouped_expression(adata, [gene], "cluster", gene_symbols="symbol")
    assert list(ge.matrix.index) == [gene]
    bare = adata.copy()
    bare.raw = ad_without_column(adata.raw.to_adata(), "symbol")
    with pytest.raises(KeyError, match=r"adata.var has it, but source='RNA' reads adata.raw"):
        sch.get.grouped_expression(bare, [gene], "cluster", gene_symbols="symbol")


def ad_without_column(adata, column):
    adata.var = adata.var.drop(columns=[column])
    return adata


def test_without_gene_symbols_nothing_changes(ensembl):
    """The default still names genes by var_names, and does not read the column."""
    with pytest.raises(KeyError, match="not found"):
        sch.get.grouped_expression(ensembl, ["CD3E"], "cluster")


def test_real_data_suffixed_names(kang):
    """Kang: 91 var_names carry an Ensembl suffix (CD79A_ENSG00000105369)."""
    adata = kang
    adata.var["symbol"] = adata.var_names.str.replace(r"_ENSG\d+$", "", regex=True)
    assert "CD79A" not in adata.var_names
    genes = ["CD79A", "HLA-A", "MS4A1", "ISG15"]
    ids = ["CD79A_ENSG00000105369", "HLA-A_ENSG00000206503", "MS4A1", "ISG15"]
    by_symbol = sch.get.grouped_expression(adata, genes, "cluster_id", gene_symbols="symbol")
    by_id = sch.get.grouped_expression(adata, ids, "cluster_id")
    assert list(by_symbol.matrix.index) == genes
    np.testing.assert_array_equal(by_symbol.matrix.to_numpy(), by_id.matrix.to_numpy())
    markers = sch.get.marker_genes(adata, "cluster_id", n_genes=5, gene_symbols="symbol")
    listed = {g for block in markers.values() for g in block}
    assert not any("_ENSG" in g for g in listed)
    assert "CD79A" in markers["B cells"]
