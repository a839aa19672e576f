"""One labeller: the text shown for every gene, group, block and column.

Every name that is drawn or written (heatmap rows and columns, legend entries, the
HTML view, the TSV and JSON sidecars, the app) is made here, and every label maps back
to exactly one gene or group. The policy, the same everywhere:

- **Refuse** a collision: two different sources (``1`` and ``"1"`` as block keys, two
  column pairs, a gene and an obs column listed by one ambiguous name) that would show
  the same text raise a ``ValueError`` naming both sources. Nothing is merged, and no
  row ever stands in for another.
- Two cases are **resolved**, the same way every time, because the label itself says
  which source it is:

  * a part of a combined label (``cluster / dataset``) that could pass for the
    separator, or starts with a quote, is quoted (``'T / x' / y``, ``T / 'x / y'``);
  * a gene and a numeric obs column of the same name, both correlated, are labelled
    ``"ISG15 (gene)"`` and ``"ISG15 (obs)"``;
  * with ``gene_symbols``, a symbol that is another gene's ``var_name`` is not used as
    a label: the var_name wins (as a label and as a name passed in), and the gene with
    that symbol is labelled by its own ``var_name``. Such genes are recorded in the
    heatmap's JSON sidecar (``provenance["gene_symbols_not_used"]``).

- Pooled rows (every group together) are never a label: they carry ``None`` in the
  group column and a boolean flag, so a category named ``"all"`` stays a category.

Below every layer; imports nothing from the package.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Hashable, Iterable, Mapping, Sequence

LABEL_SEP = " / "
# a "/" with a space or an edge on both sides could pass for LABEL_SEP once joined
_SEP_LIKE = re.compile(r"(?:^| )/(?: |$)")
KIND_SUFFIX = {"gene": " (gene)", "obs": " (obs)"}
NAME_CHARS = 32  # a category name wraps past this many characters in a legend
LINE_CHARS = 64  # a legend entry on one line up to this many characters


def text(value: object) -> str:
    """The text of one name (a category, a gene, a key)."""
    return str(value)


def label_part(value: object) -> str:
    """One key's share of a combined label: ``str(value)``, quoted (``repr``) when it
    could be mistaken for a separator or for a quoted part, so that labels joined with
    ``LABEL_SEP`` never collide (``'x / y' / z`` and ``x / 'y / z'``)."""
    out = text(value)
    if _SEP_LIKE.search(out) or out[:1] in ("'", '"'):
        return repr(out)
    return out


def joined(parts: Sequence[object]) -> str:
    """The label of a combination of names: one name as it is, several joined by
    ``LABEL_SEP`` with each part quoted where needed (:func:`label_part`)."""
    if len(parts) == 1:
        return text(parts[0])
    return LABEL_SEP.join(label_part(p) for p in parts)


def numbered(label: str, i: int) -> str:
    """The label of the ``i``-th column of a per-cell heatmap, in group ``label``: the
    counter keeps the labels of every column distinct."""
    return f"{label}#{i}"


def refuse_collisions(labels: Sequence[str], sources: Sequence[object], what: str) -> None:
    """Raise when two different ``sources`` share one label, naming both."""
    seen: dict[str, object] = {}
    for label, source in zip(labels, sources, strict=True):
        if label in seen and seen[label] != source:
            raise ValueError(
                f"{what}: {seen[label]!r} and {source!r} both display as {label!r}, and "
                "every label must name one of them; rename one so that they differ."
            )
        seen.setdefault(label, source)


def joined_labels(rows: Iterable[Sequence[object]], what: str = "groups") -> list[str]:
    """Labels of several combinations (:func:`joined`), refused when two collide."""
    rows = [tuple(r) for r in rows]
    labels = [joined(r) for r in rows]
    refuse_collisions(labels, rows, what)
    return labels


def name_labels(names: Sequence[object], what: str) -> list[str]:
    """Labels of single names (e.g. block keys), refused when two differ only in type
    (``1`` and ``"1"``)."""
    labels = [text(n) for n in names]
    refuse_collisions(labels, list(names), what)
    return labels


def labelled_mapping(mapping: Mapping, what: str) -> dict[str, object]:
    """``mapping`` keyed by the labels of its keys (collisions refused)."""
    keys = list(mapping)
    return dict(zip(name_labels(keys, what), mapping.values(), strict=True))


def variable_labels(variables: Sequence[tuple[str, str]]) -> list[str]:
    """Labels of ``(kind, label)`` variables (kind ``"gene"`` or ``"obs"``): the label,
    with its kind appended when a gene and an obs column share it."""
    kinds: dict[str, set[str]] = {}
    for kind, name in variables:
        kinds.setdefault(name, set()).add(kind)
    labels = [
        name + KIND_SUFFIX[kind] if len(kinds[name]) > 1 else name for kind, name in variables
    ]
    refuse_collisions(labels, list(variables), "variables")
    return labels


def gene_labels(var_names: Sequence[Hashable], symbol_of: Mapping) -> tuple[dict, dict]:
    """``var_name -> label`` for the genes labelled by a symbol, and the genes whose
    unique symbol is not used because it is another gene's ``var_name``
    (``var_name -> symbol``). ``symbol_of`` holds the symbols of exactly one gene."""
    names = {text(v) for v in var_names}
    label_of, not_used = {}, {}
    for var_name, symbol in symbol_of.items():
        if symbol in names and symbol != text(var_name):
            not_used[var_name] = symbol
        else:
            label_of[var_name] = symbol
    return label_of, not_used


def wrap_name(name: str, width: int = NAME_CHARS) -> str:
    """A category name on lines of at most ``width`` characters (long words broken); a
    name that fits is kept as it is, edge spaces too (``"B cells "`` is not ``"B cells"``)."""
    if len(name) <= width:
        return name
    return "\n".join(textwrap.wrap(name, width, break_on_hyphens=False)) or name


def entry_label(name: str, stats: list[str]) -> str:
    """A legend entry: the name, then the statistics on the same line when short."""
    name = wrap_name(name)
    one_line = f"{name}  {' · '.join(stats)}" if stats else name
    if "\n" not in name and len(one_line) <= LINE_CHARS:
        return one_line
    lines, line = [], ""
    for part in stats:  # statistics on their own lines, never broken inside
        if line and len(line) + 3 + len(part) > LINE_CHARS:
            lines.append(line)
            line = part
        else:
            line = f"{line} · {part}" if line else part
    return "\n".join([name, *lines, line] if line else [name, *lines])
