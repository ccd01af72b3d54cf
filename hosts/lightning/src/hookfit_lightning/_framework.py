"""Which Lightning this host runs on: ``pytorch_lightning`` or
``lightning.pytorch``, whichever is installed (the first of `PACKAGES`)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from hookfit.errors import MissingDependencyError

PACKAGES = ("pytorch_lightning", "lightning.pytorch")


def load() -> ModuleType:
    """The first Lightning package of `PACKAGES` that imports.

    Raises:
        MissingDependencyError: Neither is installed.
    """
    for name in PACKAGES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise MissingDependencyError(
        "hookfit-lightning needs PyTorch Lightning: neither pytorch_lightning nor "
        "lightning.pytorch imports. Install one: "
        "pip install 'hookfit-lightning[pytorch-lightning]' (or 'hookfit-lightning[lightning]')."
    )


# Any: the two packages are one API under two names, known only at run time
pl: Any = load()
