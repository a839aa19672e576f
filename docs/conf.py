"""Sphinx configuration of the sc_heatmaps documentation.

Build (offline, warnings as errors), from the repository root:

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The tutorials (``tutorials/*.ipynb``) are copied into ``docs/tutorials/`` at build time
(git-ignored, never committed) and executed by myst-nb, so the site shows their
outputs. They read the real data from ``$SC_HEATMAPS_DATA`` (default ``../shared/data``
beside the repository) and write their files under ``docs/_build``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import sc_heatmaps

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

project = "sc_heatmaps"
author = "sc_heatmaps developers"
copyright = "2026, sc_heatmaps developers"
release = sc_heatmaps.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

# ---- API reference: numpydoc docstrings rendered by napoleon ----
autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
maximum_signature_line_length = 88  # one parameter per line in long signatures
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_param = False  # "vmin, vmax, vcenter" stay one entry
napoleon_use_rtype = False

# ---- Offline: no intersphinx, no remote images ----
intersphinx_mapping: dict = {}

# ---- Markdown and notebooks ----
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# ---- Layout ----
html_theme = "furo"
html_title = f"sc_heatmaps {release}"
# Classes: every member, the plots' savefig and sidecar_table included (inherited from
# Plot), without the members of str and the built-in exceptions.
templates_path = ["_templates"]
exclude_patterns = ["_build", "gallery/make_gallery.py", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]


def _copy_tutorials() -> None:
    """Copy ``tutorials/*.ipynb`` into the source tree (only when changed)."""
    target = DOCS / "tutorials"
    target.mkdir(exist_ok=True)
    for notebook in sorted((ROOT / "tutorials").glob("*.ipynb")):
        copy = target / notebook.name
        if not copy.exists() or copy.read_bytes() != notebook.read_bytes():
            shutil.copyfile(notebook, copy)


def _tutorial_environment() -> None:
    """Real data and a scratch output folder for the executed tutorials."""
    os.environ.setdefault("SC_HEATMAPS_DATA", str((ROOT.parent / "shared" / "data").resolve()))
    out = DOCS / "_build" / "tutorial_output"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SC_HEATMAPS_OUT", str(out))
    # The kernels inherit this environment: without MPLBACKEND (CI sets Agg) ipykernel
    # picks its inline backend, so that the figures appear in the pages.
    os.environ.pop("MPLBACKEND", None)


_copy_tutorials()
_tutorial_environment()
