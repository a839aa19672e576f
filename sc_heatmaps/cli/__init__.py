"""The ``sc-heatmaps`` command: a thin layer over the public API."""

from ._main import main

__all__ = ["console_main", "main"]


def console_main() -> None:
    """Entry point of the ``sc-heatmaps`` script."""
    import sys

    sys.exit(main())
