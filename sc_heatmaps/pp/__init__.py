"""Preprocessing: derived expression layers."""

from ._integrate import integrate

__all__ = ["integrate"]
