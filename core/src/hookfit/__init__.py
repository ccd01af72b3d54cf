"""hookfit: Keras-style training callbacks as pluggy plugins.

The package root stays light (no numpy) so that listing plugins is fast;
the trainer lives in `hookfit.models`, `hookfit.layers` and friends.
"""

from __future__ import annotations

import importlib
from typing import Any

from .callback import Callback
from .errors import (
    ConfigError,
    FormatError,
    HookfitError,
    HookfitWarning,
    MissingDependencyError,
    ModelError,
    PluginError,
    PluginLoadError,
    PluginNotFoundError,
    PluginValidationError,
    TrainingError,
)
from .hookspecs import Logs, hookimpl

__version__ = "0.1.0"

__all__ = [
    "Callback",
    "ConfigError",
    "FormatError",
    "HookfitError",
    "HookfitWarning",
    "Logs",
    "MissingDependencyError",
    "ModelError",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginValidationError",
    "TrainingError",
    "__version__",
    "hookimpl",
]

# Keras's submodules, imported on first use (``hookfit.models.Sequential``
# works after a bare ``import hookfit``, which stays numpy-free).
_SUBMODULES = frozenset(
    {
        "activations",
        "background",
        "callbacks",
        "datasets",
        "initializers",
        "layers",
        "losses",
        "models",
        "monitor",
        "optimizers",
        "saving",
        "utils",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'hookfit' has no attribute {name!r}")
