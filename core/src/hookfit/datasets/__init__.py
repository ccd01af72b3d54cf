"""Data sets shipped with hookfit."""
