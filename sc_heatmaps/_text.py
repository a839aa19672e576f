"""One text policy: user strings are shown literally and cleanly, in figures and in HTML.

Gene names, category labels, titles, layer names and obs keys come from the
user's data. They are drawn exactly as written: no mathtext (``$...$``) and no
TeX, so ``CD4+ $T$ cells`` keeps its dollars and ``$\\foo$`` cannot crash a
figure. Characters that no output format can hold (control characters, lone
surrogates) are removed, so that SVG files are valid XML and PDF and HTML
show no stray boxes. Three functions carry the policy:

- :func:`literal_text`, the decorator of every function that draws a figure;
- :func:`clean_text`, for one string (:func:`clean_label` as drawn), and
  :func:`clean_figure_text`, for every text of a drawn figure (at drawing and
  again at export);
- :func:`html_text`, the one escape for user strings placed in HTML markup.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import matplotlib as mpl
from matplotlib.text import Text

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates (from
# surrogateescape-decoded bytes) and the two non-characters XML forbids.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
LITERAL_RC = {"text.parse_math": False, "text.usetex": False}

F = TypeVar("F", bound=Callable)


def clean_text(value: object) -> str:
    """``str(value)`` without characters that SVG, PDF or HTML cannot hold.

    Tabs and newlines are kept; every other control character is removed.

    Examples
    --------
    >>> clean_text("CD4\\x00+ $T$ cells")
    'CD4+ $T$ cells'
    """
    return _UNPRINTABLE.sub("", str(value))


def clean_label(value: object) -> str:
    """A string as drawn in a figure: :func:`clean_text`, and tabs (no glyph) as spaces."""
    return clean_text(value).replace("\t", " ")


def html_text(value: object) -> str:
    """A user string escaped for HTML text or an attribute value (after :func:`clean_text`).

    Examples
    --------
    >>> html_text('<a href="x">IL7R</a>')
    '&lt;a href=&quot;x&quot;&gt;IL7R&lt;/a&gt;'
    """
    return html.escape(clean_text(value), quote=True)


def clean_strings(value):
    """Apply :func:`clean_text` to every string in nested dicts and lists (JSON-like data)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_strings(k): clean_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_strings(v) for v in value]
    return value


def _texts(artist) -> Iterator[Text]:
    """Every text artist under ``artist``. An axis gives its label, offset text and the
    ticks it has already made: asking an axis for its children makes all its ticks (a
    third of an export's time on a board of 47 axes), and tick labels are rewritten
    from the formatter whenever the figure is drawn."""
    from matplotlib.axis import Axis

    if isinstance(artist, Text):
        yield artist
    if isinstance(artist, Axis):
        made = vars(artist)
        children = [artist.label, artist.offsetText]
        children += [*made.get("majorTicks", []), *made.get("minorTicks", [])]
    else:
        children = artist.get_children()
    for child in children:
        yield from _texts(child)


def clean_figure_text(figure) -> None:
    """Remove unprintable characters from every text artist of ``figure``, in place."""
    for artist in _texts(figure):
        text = artist.get_text()
        cleaned = clean_label(text)
        if cleaned != text:
            artist.set_text(cleaned)


@contextmanager
def literal_rc() -> Iterator[None]:
    """Texts created inside are literal: ``text.parse_math`` and ``text.usetex`` off."""
    # only these keys are set and restored: mpl.rc_context restores every rcParam, which
    # resets the notebook's interactive state so that later figures are not displayed
    saved = {key: mpl.rcParams[key] for key in LITERAL_RC}
    mpl.rcParams.update(LITERAL_RC)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def literal_text(draw: F) -> F:
    """Decorate a drawing function: texts it creates are literal (no mathtext, no TeX).

    The function returns a figure, or a tuple whose first item is the figure;
    every text of that figure is then cleaned with :func:`clean_figure_text`.
    """

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with literal_rc():
            result = draw(*args, **kwargs)
        figure = result[0] if isinstance(result, tuple) else result
        clean_figure_text(figure)
        return result

    return wrapper  # type: ignore[return-value]
