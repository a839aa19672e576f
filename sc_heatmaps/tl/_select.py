"""Choosing the top genes of each group: filters, duplicate policies, refilling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def _eligible(ranking: pd.DataFrame, filters, pct: Callable, candidates) -> pd.DataFrame:
    min_logfc, max_pval_adj, min_in = filters
    keep = np.ones(len(ranking), dtype=bool)
    if candidates is not None:
        keep &= ranking["gene"].isin(set(candidates)).to_numpy()
    if min_logfc is not None:
        keep &= ranking["logfc"].to_numpy() >= min_logfc
    if max_pval_adj is not None:
        keep &= ranking["pval_adj"].to_numpy() <= max_pval_adj
    if min_in is not None:
        genes = list(dict.fromkeys(ranking["gene"]))
        pct_in, _ = pct(genes)
        frac = pct_in.stack()
        pairs = pd.MultiIndex.from_arrays([ranking["group"], ranking["gene"]])
        keep &= frac.reindex(pairs).to_numpy() >= min_in
    return ranking[keep]


def _winner(groups: list[str], gene: str, order: dict, scores: dict, policy: str) -> str:
    if policy == "first":
        return min(groups, key=order.__getitem__)
    # highest score; ties go to the earlier group
    return max(groups, key=lambda g: (scores[g][gene], -order[g]))


class _Lists:
    """Each group's current list: its first ``n_genes`` candidates not excluded, kept up
    to date as genes are excluded (a cursor per group: exclusions only grow, so the
    candidates before it are all in the list or excluded), with the groups holding each
    gene, and the genes whose holders changed since the last look."""

    def __init__(self, candidates: dict[str, list[str]], n_genes: int):
        self.candidates, self.n_genes = candidates, n_genes
        self.lists = {g: [] for g in candidates}
        self.cursor = dict.fromkeys(candidates, 0)
        self.excluded: dict[str, set] = {g: set() for g in candidates}
        self.owners: dict[str, set] = {}
        self.changed: set = set()
        for g in candidates:
            self._refill(g)

    def _refill(self, g: str) -> None:
        genes, held = self.candidates[g], self.lists[g]
        while len(held) < self.n_genes and self.cursor[g] < len(genes):
            gene = genes[self.cursor[g]]
            self.cursor[g] += 1
            if gene not in self.excluded[g]:
                held.append(gene)
                self.owners.setdefault(gene, set()).add(g)
                self.changed.add(gene)

    def conflicts(self) -> dict[str, set]:
        """Genes held by several groups (only those whose holders changed can be new)."""
        out = {gene: self.owners[gene] for gene in self.changed if len(self.owners[gene]) > 1}
        self.changed = set()
        return out

    def exclude(self, g: str, gene: str) -> None:
        self.excluded[g].add(gene)
        self.lists[g].remove(gene)
        self.owners[gene].discard(g)

    def refill(self, groups) -> None:
        for g in groups:
            self._refill(g)


def _resolve(candidates: dict[str, list[str]], scores: dict, n_genes: int, policy: str):
    """Top ``n_genes`` per group, each gene kept in one group, refilling from below.

    A gene that sits in the current top lists of several groups is kept by
    the winner (first group, or highest score) and excluded from the others;
    those groups then take their next candidates. Exclusions only grow, so
    this ends. Every round settles all its conflicts at once, from the lists as they
    were at its start; the lists are updated in place (not rebuilt each round: at
    hundreds of groups there are thousands of rounds).
    """
    order = {g: i for i, g in enumerate(candidates)}
    state = _Lists(candidates, n_genes)
    while policy != "keep":
        conflicts = state.conflicts()
        if not conflicts:
            break
        losers = set()
        for gene, gs in conflicts.items():
            win = _winner(list(gs), gene, order, scores, policy)
            for g in sorted(gs - {win}, key=order.__getitem__):
                state.exclude(g, gene)
                losers.add(g)
        state.refill(sorted(losers, key=order.__getitem__))
    return state.lists


def _refilled(head: pd.DataFrame, groups: list, n_genes: int, policy: str) -> pd.DataFrame:
    """The rows of ``head`` that the duplicate policy keeps, in ranking order."""
    by_group = dict(tuple(head.groupby("group", sort=False)))
    empty = head.iloc[:0]
    frames = {g: by_group.get(g, empty) for g in groups}
    candidates = {g: list(frame["gene"]) for g, frame in frames.items()}
    scores = {
        g: dict(zip(frame["gene"], frame["score"], strict=True)) for g, frame in frames.items()
    }
    chosen = _resolve(candidates, scores, n_genes, policy)
    pairs = {(g, gene) for g, genes in chosen.items() for gene in genes}
    keep = [pair in pairs for pair in zip(head["group"], head["gene"], strict=True)]
    return head[np.asarray(keep, dtype=bool)]


def select_markers(
    ranking: pd.DataFrame,
    *,
    n_genes: int,
    duplicates: str,
    filters,
    pct: Callable,
    candidates=None,
) -> pd.DataFrame:
    """Apply the filters and the duplicate policy to a full ranking table (or to its
    top rows per group, as deep as the policy can reach).

    Work is in whole-column operations (no pass over the rows per group), so that
    thousands of groups cost about what a few do."""
    eligible = _eligible(ranking, filters, pct, candidates)
    groups = list(dict.fromkeys(ranking["group"]))
    # a group can lose at most n_genes genes to each other group, so its first
    # n_genes x n_groups eligible genes are all the refill can ever need
    depth = n_genes if duplicates == "keep" else n_genes * len(groups)
    head = eligible.groupby("group", sort=False).head(depth)
    head = head[~head.duplicated(["group", "gene"]).to_numpy()]  # a gene once per group
    if duplicates == "keep":
        table = head.groupby("group", sort=False).head(n_genes)
    else:
        table = _refilled(head, groups, n_genes, duplicates)
    table = table.reset_index(drop=True)
    table["rank"] = table.groupby("group", sort=False).cumcount().to_numpy() + 1
    if table.empty:
        return table.assign(pct_in=np.nan, pct_out=np.nan)
    table["pct_in"], table["pct_out"] = pct(table["gene"].to_numpy(), table["group"].to_numpy())
    return table
