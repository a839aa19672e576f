"""Hierarchical ordering of rows or columns, within blocks (scipy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from .._validate import check_choice

METHODS = ("average", "complete", "single", "ward", "weighted", "centroid", "median")


@dataclass(frozen=True)
class ClusterOrder:
    """Leaf order of a clustering, and the linkage of each block.

    ``order`` indexes the input items. ``linkages`` maps each block label to
    its scipy linkage matrix (``None`` for a block of one item), with leaves
    renumbered to the block's items *in the new order*: the leaves of each
    linkage, read left to right, are then simply 0, 1, 2, ...
    """

    order: np.ndarray
    linkages: dict


def _renumber_leaves(Z: np.ndarray, leaves: np.ndarray) -> np.ndarray:
    """Rename leaf ``leaves[k]`` to ``k`` so the linkage describes the reordered items."""
    n = len(leaves)
    new_name = np.empty(n, dtype=np.float64)
    new_name[leaves] = np.arange(n)
    out = Z.copy()
    ids = out[:, :2]
    is_leaf = ids < n
    ids[is_leaf] = new_name[ids[is_leaf].astype(np.int64)]
    return out


def _blocks_in_order(blocks: Sequence) -> list:
    return list(dict.fromkeys(blocks))


def _nan_euclidean(values: np.ndarray) -> np.ndarray:
    """Condensed Euclidean distances that skip missing (non-finite) values.

    As scikit-learn's ``nan_euclidean_distances``: the squared distance over the
    coordinates present in both items, scaled up by ``n / n_common``. Items with no
    coordinate in common are as far apart as the farthest measured pair.
    """
    from scipy.spatial.distance import squareform

    present = np.isfinite(values).astype(np.float64)
    filled = np.where(present > 0, values, 0.0)
    squares = filled * filled
    sq = squares @ present.T + present @ squares.T - 2.0 * (filled @ filled.T)
    common = present @ present.T
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.sqrt(np.maximum(sq, 0.0) * values.shape[1] / common)
    measured = dist[common > 0]
    dist[common == 0] = measured.max() if measured.size else 0.0
    np.fill_diagonal(dist, 0.0)
    return squareform((dist + dist.T) / 2, checks=False)


def _linkage(values: np.ndarray, method: str, metric: str) -> np.ndarray:
    """scipy linkage of the rows of ``values``; missing values are skipped (Euclidean only)."""
    if np.isfinite(values).all():  # distances first: a square matrix is never mistaken for one
        return hierarchy.linkage(pdist(values, metric=metric), method=method)
    if metric != "euclidean":
        raise ValueError(
            f"metric={metric!r} cannot cluster values with missing entries (NaN or inf); "
            "use metric='euclidean', which skips them, or fill them first."
        )
    return hierarchy.linkage(_nan_euclidean(values), method=method)


def cluster_order(
    values: np.ndarray,
    blocks: Sequence | None = None,
    *,
    method: str = "average",
    metric: str = "euclidean",
) -> ClusterOrder:
    """Order items (rows of ``values``) by hierarchical clustering.

    With ``blocks``, items are clustered within each block and the blocks keep
    their order of first appearance, so that grouped layouts stay grouped.
    Missing values (NaN, e.g. a group without cells) are skipped by the distances.

    Parameters
    ----------
    values
        Items x features (a 2-D array).
    blocks
        Block label of each item, or ``None`` for one block.
    method
        Linkage method (:func:`scipy.cluster.hierarchy.linkage`), e.g. ``"average"``.
    metric
        Distance between items, e.g. ``"euclidean"`` or ``"correlation"``.

    Returns
    -------
    ClusterOrder
        ``.order`` (positions of the items in drawing order) and ``.linkages``
        (``{block: linkage}``, ``None`` for a block of one item).

    Examples
    --------
    >>> import numpy as np
    >>> import sc_heatmaps as sch
    >>> values = np.array([[0.0], [9.0], [0.1], [8.0]])
    >>> sch.arrange.cluster_order(values, ["a", "a", "b", "b"]).order.tolist()
    [0, 1, 2, 3]
    >>> sch.arrange.cluster_order(values).order.tolist()
    [0, 2, 1, 3]
    """
    check_choice("method", method, METHODS)
    values = np.asarray(values, dtype=np.float64)
    labels = [None] * len(values) if blocks is None else list(blocks)
    order, linkages = [], {}
    for block in _blocks_in_order(labels):
        members = np.flatnonzero([lab == block for lab in labels])
        if len(members) < 2:
            linkages[block] = None
            order.extend(members)
            continue
        Z = _linkage(values[members], method, metric)
        leaves = hierarchy.leaves_list(Z)
        linkages[block] = _renumber_leaves(Z, leaves)
        order.extend(members[leaves])
    return ClusterOrder(order=np.asarray(order, dtype=np.int64), linkages=linkages)


def distance_order(distance: np.ndarray, *, method: str = "average") -> ClusterOrder:
    """Leaf order from a square distance matrix (e.g. ``1 - r`` for correlations).

    Parameters
    ----------
    distance
        A square, symmetric distance matrix (it is symmetrised, its diagonal set
        to 0 and negative values clipped to 0, on a copy).
    method
        Linkage method (:func:`scipy.cluster.hierarchy.linkage`), e.g. ``"average"``.

    Returns
    -------
    ClusterOrder
        ``.order`` and ``.linkages`` (one block, keyed ``None``).

    Examples
    --------
    >>> import numpy as np
    >>> import sc_heatmaps as sch
    >>> r = np.array([[1.0, 0.1, 0.9], [0.1, 1.0, 0.2], [0.9, 0.2, 1.0]])
    >>> sch.arrange.distance_order(1 - r).order.tolist()
    [1, 0, 2]
    """
    from scipy.spatial.distance import squareform

    check_choice("method", method, METHODS)
    n = len(distance)
    if n < 2:
        return ClusterOrder(order=np.arange(n), linkages={None: None})
    D = np.asarray(distance, dtype=np.float64).copy()
    D = (D + D.T) / 2
    np.fill_diagonal(D, 0.0)
    Z = hierarchy.linkage(squareform(np.maximum(D, 0.0), checks=False), method=method)
    leaves = hierarchy.leaves_list(Z)
    return ClusterOrder(order=leaves.astype(np.int64), linkages={None: _renumber_leaves(Z, leaves)})
