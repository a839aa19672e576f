"""Cell grouping: which cells go into which (dataset x cluster) group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._labels import joined_labels
from ._validate import (
    ScHeatmapsKeyError,
    as_name_list,
    categorical_obs,
    format_choices,
    obs_in_memory,
)


@dataclass(frozen=True)
class Grouping:
    """Cells assigned to groups.

    Attributes
    ----------
    keys
        The obs keys that define the groups, outermost first.
    codes
        Group index of every cell, ``-1`` for cells left out.
    meta
        One row per non-empty group, indexed by the group label, with one
        categorical column per key and ``n_cells``.
    """

    keys: list[str]
    codes: np.ndarray
    meta: pd.DataFrame

    @property
    def labels(self) -> pd.Index:
        return self.meta.index

    @property
    def n_groups(self) -> int:
        return len(self.meta)


def as_keys(groupby: str | list[str] | tuple[str, ...] | None, what: str = "groupby") -> list[str]:
    """Normalise ``groupby`` to a non-empty list of distinct keys."""
    if groupby is None:
        raise ValueError(f"{what} is required: give an obs key or a list of obs keys.")
    if isinstance(groupby, str):
        keys = [groupby]
    elif isinstance(groupby, list | tuple):
        keys = list(groupby)
    else:
        raise ValueError(f"{what}={groupby!r} is not valid; give an obs key or a list of obs keys.")
    if not all(isinstance(k, str) for k in keys):
        raise ValueError(f"{what}={groupby!r} is not valid; obs keys are strings.")
    if not keys:
        raise ValueError(f"{what} is empty: give an obs key or a list of obs keys.")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{what}={keys!r} repeats a key; each key may appear once.")
    return keys


def resolve_cluster_key(keys: list[str], cluster_key: str | None) -> str:
    """The key that ``clusters`` refers to: ``cluster_key``, or the only groupby key."""
    if cluster_key is not None:
        return cluster_key
    if len(keys) == 1:
        return keys[0]
    raise ValueError(
        f"clusters was given but cluster_key is not, and groupby has several keys {keys!r}; "
        "pass cluster_key= to say which key the clusters belong to."
    )


def select_categories(
    cat: pd.Categorical, wanted: list[str], key: str, what: str = "clusters"
) -> np.ndarray:
    """Boolean mask of cells whose ``key`` value is in ``wanted`` (matched as strings)."""
    by_name = {str(c): c for c in cat.categories}
    unknown = [w for w in wanted if w not in by_name]
    if unknown:
        raise ScHeatmapsKeyError(
            f"{what} {unknown!r} are not categories of {key!r}; valid {what} are "
            f"{format_choices(cat.categories, limit=50)}."
        )
    # a new, writable array: under pandas 3 (copy-on-write) np.asarray of a pandas
    # result is read-only, and callers combine masks in place
    return pd.Series(cat).isin([by_name[w] for w in wanted]).to_numpy(dtype=bool, copy=True)


def cluster_mask(obs: pd.DataFrame, keys: list[str], clusters, cluster_key) -> np.ndarray:
    """Cells kept by the ``clusters`` selection (all cells when it is ``None``)."""
    wanted = as_name_list(clusters, "clusters")
    key = None if wanted is None else resolve_cluster_key(keys, cluster_key)
    obs = obs_in_memory(obs, [*keys, key])
    if wanted is None:
        return np.ones(len(obs), dtype=bool)
    cat = categorical_obs(obs, key, "cluster_key")
    return select_categories(cat, wanted, key)


def labelled_cells(obs: pd.DataFrame, keys: dict[str, str | None]) -> np.ndarray:
    """Cells that have a label in every key of ``keys`` (``{what: obs key}``; ``None``
    keys are skipped). A cell whose label is missing (NaN) belongs to no group, so
    every function leaves it out."""
    obs = obs_in_memory(obs, keys.values())
    mask = np.ones(len(obs), dtype=bool)
    for what, key in keys.items():
        if key is not None:
            mask = mask & (np.asarray(categorical_obs(obs, key, what).codes) >= 0)
    return mask


def make_grouping(
    obs: pd.DataFrame,
    groupby: str | list[str],
    *,
    clusters: str | list | None = None,
    cluster_key: str | None = None,
) -> Grouping:
    """Group cells by one or several obs keys, optionally keeping only some clusters.

    Groups follow the category order of each key, the first key outermost, except
    that the clusters listed in ``clusters`` come in the order they are listed
    (``"B,CD14 Mono"`` puts B first); with several keys that order holds within each
    group of the outer keys. Combinations with no cells are left out. A group's
    label is its category, or with several keys the categories joined by
    ``LABEL_SEP``, a category that could pass for the separator quoted (see
    :func:`sc_heatmaps._labels.label_part`): labels never collide.
    """
    keys = as_keys(groupby)
    obs = obs_in_memory(obs, [*keys, cluster_key])
    if len(obs) == 0:
        raise ValueError("adata has no cells (n_obs = 0); there is nothing to group.")
    cats = [categorical_obs(obs, k) for k in keys]
    mask = cluster_mask(obs, keys, clusters, cluster_key)
    codes_per_key = [np.asarray(c.codes) for c in cats]
    for codes in codes_per_key:
        mask = mask & (codes >= 0)
    if not mask.any():
        unlabelled = int(np.count_nonzero(np.logical_or.reduce([c < 0 for c in codes_per_key])))
        raise ValueError(
            f"No cells left after selecting clusters={clusters!r} with groupby={keys!r} "
            f"({unlabelled} of {len(obs)} cells have no label in some groupby key and belong "
            "to no group)."
        )
    orders = _category_orders(cats, keys, clusters, cluster_key)
    shape = tuple(len(c.categories) for c in cats)
    flat = _flat_positions(orders, codes_per_key, shape)  # garbage where mask is False
    every = bool(mask.all())
    counts = np.bincount(flat if every else flat[mask], minlength=int(np.prod(shape)))
    present = np.flatnonzero(counts)
    remap = np.full(len(counts), -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    group_codes = remap[flat]
    if not every:
        group_codes[~mask] = -1
    unravelled = np.unravel_index(present, shape)
    codes = [order[pos] for order, pos in zip(orders, unravelled, strict=True)]
    meta = _group_meta(keys, cats, codes, counts[present])
    return Grouping(keys=keys, codes=group_codes, meta=meta)


def _flat_positions(orders, codes_per_key, shape) -> np.ndarray:
    """Each cell's position in the grid of drawing positions of every key (the first key
    outermost), as ``np.ravel_multi_index`` numbers it. Cells with a code of -1 get a
    meaningless position: the caller leaves them out."""
    flat = np.zeros(len(codes_per_key[0]), dtype=np.int64)
    for order, codes, size in zip(orders, codes_per_key, shape, strict=True):
        rank = np.argsort(order)  # category code -> drawing position
        flat *= size
        flat += rank[codes]
    return flat


def _category_orders(cats, keys: list[str], clusters, cluster_key) -> list[np.ndarray]:
    """Category codes of each key in drawing order: the category order, except for the
    cluster key, whose listed ``clusters`` come first in the user's order."""
    orders = [np.arange(len(c.categories)) for c in cats]
    wanted = as_name_list(clusters, "clusters")
    if wanted is None:
        return orders
    key = resolve_cluster_key(keys, cluster_key)
    if key not in keys:
        return orders
    i = keys.index(key)
    code_of = {str(c): j for j, c in enumerate(cats[i].categories)}
    first = list(dict.fromkeys(code_of[w] for w in wanted))  # checked by cluster_mask
    rest = [j for j in orders[i] if j not in set(first)]
    orders[i] = np.asarray(first + rest, dtype=np.int64)
    return orders


def _group_labels(meta: pd.DataFrame, keys: list[str]) -> pd.Index:
    """Display label of every group, made by the one labeller (:mod:`._labels`)."""
    rows = zip(*(meta[k] for k in keys), strict=True)
    return pd.Index(joined_labels(rows, f"groups of {keys!r}"), name="group")


def _group_meta(keys, cats, unravelled, counts) -> pd.DataFrame:
    columns = {
        k: pd.Categorical.from_codes(idx, categories=c.categories)
        for k, c, idx in zip(keys, cats, unravelled, strict=True)
    }
    meta = pd.DataFrame(columns)
    meta.index = _group_labels(meta, keys)
    meta["n_cells"] = np.asarray(counts, dtype=np.int64)
    return meta
