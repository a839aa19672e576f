"""marsilea, imported without changing the caller's matplotlib settings.

marsilea imports legendkit, which updates matplotlib's ``legend.*`` rcParams for the
whole process at import time (no frame, smaller handles and pads). A user's own
legends drawn after one of our heatmaps would then look different, and so would
our dual-expression legends, depending on which figure came first. The heatmap
board draws its own legends, so it needs none of those settings: they are put
back as they were right after the import.
"""

from __future__ import annotations

import matplotlib as mpl


def _import_quietly():
    saved = {key: value for key, value in mpl.rcParams.items() if key.startswith("legend.")}
    try:
        import marsilea
        import marsilea.plotter
    finally:
        mpl.rcParams.update(saved)
    return marsilea, marsilea.plotter


ma, mp = _import_quietly()
