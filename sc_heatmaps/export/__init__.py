"""Export: the only code that writes files."""

from ._save import FORMATS, savefig, write_html, write_table

__all__ = ["FORMATS", "savefig", "write_html", "write_table"]
