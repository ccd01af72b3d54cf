"""The ``hookfit`` command (also ``python -m hookfit``)."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
