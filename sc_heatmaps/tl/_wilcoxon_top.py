"""The Wilcoxon test's per-group results from its rank sums, computed where they are
needed: scores and p-values of every (group, gene), then each group's top genes and
the adjusted p-values of those genes only (compiled, in parallel over groups).

Numbers are those of the whole-matrix numpy path (``_wilcoxon.wilcoxon_ranking`` with
``depth=None``, which equals scanpy's): the same floating-point operations in the same
order (no fast-math), and:

- the top ``n`` genes of a group (``n <= ONE_PASS_DEPTH``) are taken in one pass; when
  the top ``n + 1`` scores are all distinct, their order is the only one any sort can
  give, so it is scanpy's (``_ttest._top_order``). A group with tied scores among them,
  and every group when ``n`` is larger, takes ``_top_order``;
- Benjamini-Hochberg: the adjusted value of ``p`` is ``min(1, min over sorted positions
  j >= last(p) of p_(j) / ((j + 1) / n))`` (``_ttest._adjust``). Only the p-values up
  to a threshold ``T`` (at least the largest reported one) are sorted: they are the
  first positions of the whole sorted row, so their terms are exact, and every later
  term is ``>= p_(j) > T``. Where a reported gene's minimum over the sorted part is
  ``<= T`` it is the whole row's; otherwise ``T`` is raised to that minimum and the
  part sorted again (at most twice; at ``T >= max p`` the part is the whole row).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from scipy import special

from .._numba_kernels import _njit

TILE = 16  # genes per block of the transposing pass
# deeper tops are sorted (scanpy's calls): the one-pass selection costs genes x depth
ONE_PASS_DEPTH = 64


@_njit(nogil=True, parallel=True)
def _scores_and_z(sums, coef, half, n_active, n_cells, continuity):
    """Scores and ``|deviation (- continuity)| / std`` per (group, gene), ``(groups,
    genes)``, from rank sums ``(genes, codes)``; read in tiles of genes, so that both
    layouts are walked along their rows. NaN scores are 0; NaN ``z`` stays NaN."""
    n_genes, n_groups = sums.shape[0], len(n_active)
    scores = np.empty((n_groups, n_genes))
    z = np.empty((n_groups, n_genes))
    nc, np1 = np.float64(n_cells), np.float64(n_cells + 1)
    for block in numba.prange((n_genes + TILE - 1) // TILE):
        lo = block * TILE
        hi = min(lo + TILE, n_genes)
        for i in range(n_groups):
            na = n_active[i]
            for g in range(lo, hi):
                dev = sums[g, i] - half[i]
                std = math.sqrt(coef[g] * na * (nc - na) * np1 / 12.0)
                s = dev / std
                scores[i, g] = 0.0 if math.isnan(s) else s
                shift = 0.5 * np.sign(dev) if continuity else 0.0
                z[i, g] = abs(dev - shift) / std
    return scores, z


@_njit(nogil=True)
def _top_distinct(row, n, out):
    """The ``n`` highest values of ``row`` (all when ``n >= len(row)``), highest first,
    into ``out``; False when two of the highest ``n + 1`` are equal (then their order
    depends on the sort: the caller takes scanpy's)."""
    m = min(n + 1, len(row))
    vals = np.empty(m)
    idx = np.empty(m, dtype=np.int64)
    count = 0
    for g in range(len(row)):
        x = row[g]
        if count == m and not x > vals[m - 1]:
            continue
        if count < m:
            j = count
            count += 1
        else:
            j = m - 1
        while j > 0 and vals[j - 1] < x:
            vals[j] = vals[j - 1]
            idx[j] = idx[j - 1]
            j -= 1
        vals[j] = x
        idx[j] = g
    for k in range(m - 1):
        if vals[k] == vals[k + 1]:
            return False
    out[:] = idx[: len(out)]
    return True


@_njit(nogil=True)
def _bh_part(row, threshold, wanted, out):
    """One try of the adjusted p-values of ``row[wanted]`` from the p-values up to
    ``threshold`` (module docstring). Writes the exact ones into ``out`` and returns the
    largest minimum found above the threshold (the next threshold), or -1 when every
    one is exact."""
    part = np.sort(row[row <= threshold])
    n = len(row)
    tail = np.empty(len(part))
    low = np.inf
    for k in range(len(part) - 1, -1, -1):
        low = min(low, part[k] / ((k + 1) / np.float64(n)))
        tail[k] = low
    raise_to = -1.0
    for w in range(len(wanted)):
        last = np.searchsorted(part, row[wanted[w]], side="right") - 1
        m = tail[last]
        if m <= threshold or len(part) == n:
            out[w] = min(m, 1.0)
        else:
            raise_to = max(raise_to, m)
    return raise_to


@_njit(nogil=True)
def bh_of(row, wanted, out):
    """Benjamini-Hochberg adjusted p-values of ``row[wanted]`` within ``row`` (NaN-free
    p-values of one group), into ``out``."""
    threshold = 0.0
    for w in range(len(wanted)):
        threshold = max(threshold, row[wanted[w]])
    while threshold >= 0.0:
        threshold = _bh_part(row, threshold, wanted, out)
    return out


@_njit(nogil=True, parallel=True)
def _top_and_bh(scores, pvals, depth, select, bh):
    """Each group's top ``depth`` genes by score when ``select`` (``ok[i]`` False: tied
    or not selected, not filled) and their adjusted p-values when ``bh`` (filled where
    ``ok``)."""
    n_groups = scores.shape[0]
    top = np.zeros((n_groups, depth), dtype=np.int64)
    adjusted = np.zeros((n_groups, depth))
    ok = np.zeros(n_groups, dtype=np.bool_)
    for i in numba.prange(n_groups):
        ok[i] = select and _top_distinct(scores[i], depth, top[i])
        if ok[i] and bh:
            bh_of(pvals[i], top[i], adjusted[i])
    return top, adjusted, ok


@_njit(nogil=True, parallel=True)
def _bh_rows(pvals, top, adjusted, rows):
    """:func:`bh_of` of the groups ``rows`` (their ``top`` genes) into ``adjusted``."""
    for k in numba.prange(len(rows)):
        i = rows[k]
        bh_of(pvals[i], top[i], adjusted[i])


def _ndtr_pvalues(z: np.ndarray) -> np.ndarray:
    """``2 * ndtr(-z)`` in place, NaN to 1 (two-sided normal p-values; ``scipy.stats.norm.sf(z)`` is
    ``special.ndtr(-z)``), rows split
    between numba's threads (scipy's ufunc releases the GIL)."""

    def rows(part):
        np.negative(part, out=part)
        special.ndtr(part, out=part)
        part *= 2
        part[np.isnan(part)] = 1.0

    parts = np.array_split(z, max(1, min(numba.get_num_threads(), len(z))))
    if len(parts) == 1:
        rows(z)
    else:
        with ThreadPoolExecutor(len(parts)) as pool:
            list(pool.map(rows, parts))
    return z


def tie_coef(ties: np.ndarray, n_cells: int, tie_correct: bool) -> np.ndarray:
    """Each gene's factor of the rank-sum variance: ``1 - sum(t**3 - t) / (n**3 - n)``
    when ``tie_correct``, else 1."""
    if not tie_correct:
        return np.ones(len(ties))
    return 1.0 - ties / (float(n_cells) ** 3 - n_cells)


def scores_and_pvalues(sums_gc, ties, sizes, n_groups: int, tie_correct: bool, continuity):
    """scanpy's Wilcoxon scores and p-values, ``(groups, genes)`` each, from rank sums
    laid out ``(genes, codes)`` and tie sums per gene (``_wilcoxon._deviations``'s
    arithmetic, in its order)."""
    n_cells = int(sizes.sum())
    coef = tie_coef(ties, n_cells, tie_correct)
    n_active = sizes[:n_groups].astype(np.float64)
    half = n_active * (n_cells + 1) / 2.0
    scores, z = _scores_and_z(sums_gc, coef, half, n_active, n_cells, bool(continuity))
    return scores, _ndtr_pvalues(z)


def top_genes(scores: np.ndarray, pvals: np.ndarray, depth: int, corr_method: str):
    """Each group's top ``depth`` genes in scanpy's order, ``(groups, depth)``, and
    their adjusted p-values (``corr_method`` as scanpy's)."""
    from ._ttest import _top_order

    n_genes = scores.shape[1]
    depth = min(depth, n_genes)
    bh = corr_method != "bonferroni"
    top, adjusted, ok = _top_and_bh(scores, pvals, depth, depth <= ONE_PASS_DEPTH, bh)
    rest = np.flatnonzero(~ok)
    for i in rest:
        top[i] = _top_order(scores[i], depth)
    if bh and len(rest):
        _bh_rows(pvals, top, adjusted, rest)
    if not bh:
        adjusted = np.minimum(np.take_along_axis(pvals, top, axis=1) * n_genes, 1.0)
    return top, adjusted
