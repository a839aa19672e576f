"""Threads for numpy passes over large arrays (numpy's loops release the GIL).

No numba here: these passes run in processes where numba has not started, whose start
would cost more than the pass. The number of threads is numba's (``NUMBA_NUM_THREADS``,
else the cores this process may use), so one setting governs every parallel pass.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence


def available_threads() -> int:
    """Threads a parallel pass may use: numba's configured count when numba is imported,
    else ``NUMBA_NUM_THREADS``, else the cores this process may run on."""
    numba = sys.modules.get("numba")
    config = getattr(numba, "config", None)
    if config is not None and getattr(config, "NUMBA_NUM_THREADS", None):
        return max(1, int(config.NUMBA_NUM_THREADS))
    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def thread_map(func: Callable, items: Sequence, n_threads: int | None = None) -> list:
    """``[func(item) for item in items]``, in up to ``n_threads`` threads (in this thread
    when one is enough). Results keep the order of ``items``."""
    n = min(len(items), n_threads or available_threads())
    if n <= 1:
        return [func(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # imported on first use (CLI start)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(func, items))
