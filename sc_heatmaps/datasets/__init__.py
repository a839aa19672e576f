"""Bundled example data, and paths to the real test data."""

from ._example import example, example_path

__all__ = ["example", "example_path"]
