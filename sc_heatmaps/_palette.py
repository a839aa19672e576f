"""The package's categorical palette (generated: do not edit by hand).

Made by ``tools/make_palette.py`` with glasbey 0.4.0 and scanpy 1.11.5:
the first 20 colours are scanpy's ``scanpy.plotting.palettes.default_20`` (in order);
colours 21-64 come from ``glasbey.extend_palette(default_20, 64,
lightness_bounds=(25, 75))``, which adds, one at a time, the colour farthest in
CAM02-UCS from those already chosen, with a lightness that excludes near-white and
near-black colours.
"""

# fmt: off
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#279e68", "#d62728", "#aa40fc", "#8c564b", "#e377c2", "#b5bd61",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
    "#dbdb8d", "#9edae5", "#ad494a", "#8c6d31", "#3d5951", "#8e0082", "#5900f3", "#006900",
    "#65557d", "#8692ff", "#31be04", "#6d8a8e", "#d70092", "#6d8a08", "#9a7d9e", "#00e7be",
    "#96b6a2", "#7918b6", "#ca86ff", "#c28e00", "#51551c", "#961400", "#c25900", "#db28e7",
    "#08aafb", "#6d65ca", "#754100", "#617959", "#9e5182", "#355571", "#ff6151", "#aedb00",
    "#f3be00", "#00757d", "#9a9669", "#fba2ff", "#6d4159", "#1859ff", "#8e9aba", "#00ca75",
    "#b67559", "#00eb51", "#0096b2", "#007149", "#aa00c6", "#697596", "#79aa5d", "#00ba9e",
)
# fmt: on
