"""Name lists as text: names joined by commas, a name holding a separator or a quote
written in double quotes (a quote inside doubled), as the command line reads them and
the app prints them."""

from __future__ import annotations

QUOTE = '"'
_SPECIAL = (",", ";", ":", QUOTE)  # a name holding one of these is written in quotes


def quote_name(name) -> str:
    """``name`` as the list options read it back: as is, or in double quotes (a quote
    inside doubled) when it holds a separator or a quote, or starts or ends with a space."""
    text = str(name)
    if text and text == text.strip() and not any(c in text for c in _SPECIAL):
        return text
    return QUOTE + text.replace(QUOTE, QUOTE * 2) + QUOTE


def quote_names(items) -> str:
    """Names joined by commas, each as :func:`quote_name` writes it."""
    return ",".join(quote_name(n) for n in items)


def split_quoted(text: str, sep: str, *, maxsplit: int = -1) -> list[str]:
    """``text`` split at each ``sep`` outside double quotes (the quotes are kept)."""
    pieces, current, quoted = [], [], False
    for char in text:
        if char == QUOTE:
            quoted = not quoted
        if char == sep and not quoted and maxsplit != len(pieces):
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise ValueError(f"{text!r} has an unclosed double quote")
    return [*pieces, "".join(current)]


def unquote(piece: str) -> str:
    """A piece of :func:`split_quoted`: stripped, or the text inside its double quotes."""
    text = piece.strip()
    inner = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == QUOTE else None
    if inner is None or QUOTE in inner.replace(QUOTE * 2, ""):
        if QUOTE in text:
            raise ValueError(
                f"{piece!r}: write a name holding a double quote in double quotes, with "
                'the quote doubled (e.g. "5""UTR")'
            )
        return text
    return inner.replace(QUOTE * 2, QUOTE)
