"""The duplicate policies settle conflicts in rounds: every group keeps its first
``n_genes`` candidates not excluded, a gene held by several groups stays with the
winner (first group, or highest score) and is excluded from the others, until no gene
is held twice. The lists kept up to date in place give what rebuilding them every
round gives, at many groups."""

from __future__ import annotations

import numpy as np
import pytest

from sc_heatmaps.tl._select import _resolve


def _rounds(candidates, scores, n_genes, policy):
    """The rounds as written: rebuild every list, settle every conflict, repeat."""
    order = {g: i for i, g in enumerate(candidates)}
    excluded = {g: set() for g in candidates}
    while True:
        lists = {
            g: [x for x in genes if x not in excluded[g]][:n_genes]
            for g, genes in candidates.items()
        }
        holders = {}
        for g, genes in lists.items():
            for x in genes:
                holders.setdefault(x, []).append(g)
        conflicts = {x: gs for x, gs in holders.items() if len(gs) > 1}
        if not conflicts:
            return lists
        for x, gs in conflicts.items():
            if policy == "first":
                win = min(gs, key=order.get)
            else:
                win = max(gs, key=lambda g: (scores[g][x], -order[g]))
            for g in gs:
                if g != win:
                    excluded[g].add(x)


@pytest.mark.parametrize("policy", ["first", "best"])
@pytest.mark.parametrize("seed", range(6))
def test_lists_kept_in_place_equal_the_rounds_rebuilt(policy, seed):
    rng = np.random.default_rng(seed)
    n_groups, n_pool = int(rng.integers(2, 40)), int(rng.integers(5, 60))
    pool = [f"G{i}" for i in range(n_pool)]
    candidates, scores = {}, {}
    for k in range(n_groups):
        genes = list(rng.permutation(pool)[: int(rng.integers(1, n_pool + 1))])
        candidates[f"g{k}"] = genes
        # rounded scores: ties between groups go to the earlier group
        scores[f"g{k}"] = {x: float(np.round(rng.normal(), 1)) for x in genes}
    n_genes = int(rng.integers(1, 8))
    assert _resolve(candidates, scores, n_genes, policy) == _rounds(
        candidates, scores, n_genes, policy
    )
