"""The colour schemes we name ourselves, beside matplotlib's colormaps (known to the
option checks, which import no drawing code, and to ``pl._cmaps``, which builds them)."""

# The two classic expression schemes: low values first.
NAMED_CMAPS = {
    "blue_white_red": ["#2166ac", "#ffffff", "#b2182b"],
    "red_black_green": ["#00c000", "#000000", "#e00000"],
}
