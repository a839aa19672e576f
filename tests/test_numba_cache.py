"""numba's on-disk cache: used when a directory is writable, a clean fallback when none is.

A root-installed environment run as another user (``docker run -u 12345``) can write
neither the package's ``__pycache__`` nor ``$HOME/.cache``; numba then raises
"RuntimeError: cannot cache function ...: no locator available" when a function with
``cache=True`` is decorated. Each test runs in a fresh interpreter in which numba's
locators are told the chosen directories cannot be written, exactly as they would be
found by numba's own write check (``ensure_cache_path``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT
from scipy import sparse

EXAMPLE = ROOT / "data" / "example.h5ad"

# numba < 0.61 spells the locator classes with a leading underscore
PRELUDE = textwrap.dedent(
    """
    import json, sys
    import numba.core.caching as caching

    def _refuse(self):
        raise PermissionError(13, "Permission denied (simulated)", self.get_cache_path())

    for name in sys.argv[1].split(","):
        cls = getattr(caching, name, None) or getattr(caching, "_" + name)
        cls.ensure_cache_path = _refuse
    """
)

KERNELS = PRELUDE + textwrap.dedent(
    """
    import numpy as np
    from scipy import sparse
    from sc_heatmaps import _numba_kernels as k

    X = sparse.random(40, 7, density=0.4, format="csr", random_state=1)
    codes = np.arange(40) % 3 - (np.arange(40) == 5)  # cell 5 is left out (-1)
    sums, m2, n_pos = k.csr_group_moments(X, codes, 3)
    binned = k.csr_binned_columns(X, np.array([4, 0, 6]), codes, np.full(40, 0.5), 3)
    print(json.dumps({
        "sums": sums.tolist(), "m2": m2.tolist(), "n_pos": n_pos.tolist(),
        "binned": binned.tolist(),
        "hits": k._csr_group_moments.stats.cache_hits.total()
        + k._csr_binned_columns.stats.cache_hits.total(),
    }))
    """
)


def _run(script: str, refuse: list[str], tmp_path, *args: str):
    env = {**os.environ, "TMPDIR": str(tmp_path), "NUMBA_CACHE_DIR": ""}
    env.pop("NUMBA_CACHE_LOCATOR_CLASSES", None)
    return subprocess.run(
        [sys.executable, "-c", script, ",".join(refuse), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )


def _expected():
    """The same numbers from numpy alone."""
    X = sparse.random(40, 7, density=0.4, format="csr", random_state=1).toarray()
    codes = np.arange(40) % 3 - (np.arange(40) == 5)
    indicator = np.stack([codes == g for g in range(3)]).astype(float)
    binned = (indicator * 0.5) @ X[:, [4, 0, 6]]
    m2 = [((X[codes == g] - X[codes == g].mean(axis=0)) ** 2).sum(axis=0) for g in range(3)]
    return indicator @ X, np.array(m2), indicator @ (X > 0), binned


def _check_numbers(out: dict) -> None:
    sums, m2, n_pos, binned = _expected()
    np.testing.assert_allclose(out["sums"], sums, rtol=1e-12)
    np.testing.assert_allclose(out["m2"], m2, rtol=1e-12)
    np.testing.assert_array_equal(out["n_pos"], n_pos)
    np.testing.assert_allclose(out["binned"], binned, rtol=1e-12)


@pytest.mark.exhaustive
def test_unwritable_package_and_home_use_a_private_temp_cache(tmp_path):
    refuse = ["InTreeCacheLocator", "UserWideCacheLocator"]
    first = _run(KERNELS, refuse, tmp_path)
    assert first.returncode == 0, first.stderr
    _check_numbers(json.loads(first.stdout))
    cache = tmp_path / f"sc_heatmaps-numba-{os.getuid()}"
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)
    assert list(cache.rglob("*.nbi")), "no numba index file was written"
    second = _run(KERNELS, refuse, tmp_path)
    assert second.returncode == 0, second.stderr
    out = json.loads(second.stdout)
    _check_numbers(out)
    assert out["hits"] == 2  # both kernels were loaded from the cache, not compiled


@pytest.mark.exhaustive
def test_without_a_safe_cache_dir_the_kernels_compile_in_memory(tmp_path):
    cache = tmp_path / f"sc_heatmaps-numba-{os.getuid()}"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)  # anyone could plant compiled code here: not used
    r = _run(KERNELS, ["InTreeCacheLocator", "UserWideCacheLocator"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "no locator available" not in r.stderr
    _check_numbers(json.loads(r.stdout))
    assert not list(cache.rglob("*.nbi"))


CLI = PRELUDE + textwrap.dedent(
    """
    from sc_heatmaps.cli import console_main
    sys.argv = ["sc-heatmaps", *sys.argv[2:]]
    console_main()
    """
)
# wilcoxon goes through scanpy, whose functions are cached too
MARKERS = ["markers", "-i", str(EXAMPLE), "--groupby", "cluster", "-n", "2", "--method", "wilcoxon"]


def test_cli_gives_every_package_a_private_cache_when_package_and_home_are_read_only(tmp_path):
    # what the command line calls first: scanpy's cached functions need a place as well
    module = tmp_path / "other_package.py"  # stands for scanpy: its __pycache__ is refused
    module.write_text("import numba\n\n@numba.njit(cache=True)\ndef twice(x):\n    return 2 * x\n")
    script = PRELUDE + textwrap.dedent(
        """
        import os
        from sc_heatmaps._numba_kernels import use_private_cache_dir_if_needed
        path = use_private_cache_dir_if_needed()
        import other_package
        print(json.dumps({"path": path, "env": os.environ["NUMBA_CACHE_DIR"],
                          "twice": other_package.twice(21)}))
        """
    )
    r = _run(script, ["InTreeCacheLocator", "UserWideCacheLocator"], tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    cache = tmp_path / f"sc_heatmaps-numba-{os.getuid()}"
    assert out == {"path": str(cache), "env": str(cache), "twice": 42}
    assert list(cache.rglob("other_package*.nbi"))


def test_cli_changes_nothing_when_numba_can_cache():
    from sc_heatmaps._numba_kernels import use_private_cache_dir_if_needed

    before = os.environ.get("NUMBA_CACHE_DIR")
    assert use_private_cache_dir_if_needed() is None
    assert os.environ.get("NUMBA_CACHE_DIR") == before


def test_cli_without_any_writable_cache_dir_gives_no_traceback(tmp_path):
    r = _run(CLI, ["CacheLocator"], tmp_path, *MARKERS)
    assert "Traceback" not in r.stderr
    if r.returncode:  # scanpy's cached functions cannot be defined: say what to do
        assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
        assert "set the environment variable NUMBA_CACHE_DIR to a writable directory" in r.stderr


def test_cache_is_kept_when_the_package_dir_is_writable():
    from sc_heatmaps import _numba_kernels as k

    for kernel in (k._csr_group_moments, k._csr_binned_columns):
        assert type(kernel._cache).__name__ == "FunctionCache"
