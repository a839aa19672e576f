"""Write ``sc_heatmaps/_palette.py``: scanpy's ``default_20``, extended with glasbey.

Run once, by hand, when the palette is to be remade (glasbey is not a dependency of
sc_heatmaps, only of this script)::

    pip install glasbey
    python tools/make_palette.py            # writes sc_heatmaps/_palette.py
    python tools/make_palette.py --check    # exit 1 if the stored palette differs

The first 20 colours are scanpy's ``default_20`` in its order, so that up to 20
categories get the colours of scanpy's UMAPs. The rest are chosen by the Glasbey
algorithm (``glasbey.extend_palette``): each new colour is the one farthest, in
CAM02-UCS, from all colours already in the palette. Its lightness is bounded to
``LIGHTNESS_BOUNDS`` (CAM02-UCS J') so that no new colour is near white (nor near
black, which would hide the heatmap's text and gaps).
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version
from pathlib import Path

N_COLORS = 64
LIGHTNESS_BOUNDS = (25, 75)
TARGET = Path(__file__).resolve().parents[1] / "sc_heatmaps" / "_palette.py"

HEADER = '''"""The package's categorical palette (generated: do not edit by hand).

Made by ``tools/make_palette.py`` with glasbey {glasbey} and scanpy {scanpy}:
the first 20 colours are scanpy's ``scanpy.plotting.palettes.default_20`` (in order);
colours 21-{n} come from ``glasbey.extend_palette(default_20, {n},
lightness_bounds={bounds})``, which adds, one at a time, the colour farthest in
CAM02-UCS from those already chosen, with a lightness that excludes near-white and
near-black colours.
"""

# fmt: off
PALETTE: tuple[str, ...] = (
'''


def make_palette() -> list[str]:
    """The 20 colours of scanpy's ``default_20`` followed by glasbey's extension."""
    import glasbey
    from matplotlib.colors import to_hex
    from scanpy.plotting import palettes

    base = [to_hex(c) for c in palettes.default_20]
    colors = glasbey.extend_palette(base, N_COLORS, lightness_bounds=LIGHTNESS_BOUNDS)
    colors = [to_hex(c) for c in colors]
    if colors[:20] != base or len(set(colors)) != N_COLORS:
        raise RuntimeError(f"glasbey changed the base palette or repeated a colour: {colors}")
    return colors


def module_text(colors: list[str]) -> str:
    """The text of ``sc_heatmaps/_palette.py`` for ``colors``."""
    head = HEADER.format(
        glasbey=version("glasbey"),
        scanpy=version("scanpy"),
        n=len(colors),
        bounds=LIGHTNESS_BOUNDS,
    )
    rows = []
    for i in range(0, len(colors), 8):
        rows.append("    " + " ".join(f'"{c}",' for c in colors[i : i + 8]) + "\n")
    return head + "".join(rows) + ")\n# fmt: on\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    colors = make_palette()
    if args.check:
        from sc_heatmaps._palette import PALETTE

        same = list(PALETTE) == colors
        print("stored palette is up to date" if same else "stored palette differs")
        return 0 if same else 1
    TARGET.write_text(module_text(colors))
    print(f"wrote {len(colors)} colours to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
