"""hookfit: Keras-style training callbacks as pluggy plugins.

The package is grouped by layer, and data flows one way: run resolution
(`hookfit.run`: sources, plan) -> the trainer (`hookfit.trainer`) -> the
hooks (`hookfit.hooks`) -> plugins. `hookfit.saving` writes files and
`hookfit.cli` is the command. Users import the Keras paths:
`hookfit.models`, `hookfit.layers`, `hookfit.callbacks`, ...

The package root stays light (no numpy) so that listing plugins is fast.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

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
from .hooks import dispatch
from .hooks.arguments import ArgumentError, Check, Range
from .hooks.callback import Callback, resumable
from .hooks.specs import Logs, hookimpl

if TYPE_CHECKING:
    from .run.plan import Plan

try:
    __version__ = importlib.metadata.version("hookfit")
except importlib.metadata.PackageNotFoundError:  # a source tree on sys.path
    __version__ = "0+unknown"


def plan(callbacks: Any = None, **options: Any) -> Plan:
    """Resolve code, command line, environment, config file and defaults into
    the run's ordered plugin instances, each setting with its origin.

    See `hookfit.run.plan.plan` for the arguments. ``model.fit(x, y,
    callbacks=hookfit.plan(...))`` runs exactly that plan.
    """
    from .run.plan import plan as resolve

    return resolve(callbacks, **options)


def _plugins_for(callbacks: Any, *, config: Any, verbose: int) -> Any:
    return plan(callbacks, config=config, verbose=verbose).plugins


# The trainer asks the hooks layer for a run's plugins; run resolution
# answers. The trainer never imports run resolution itself.
dispatch.use_planner(_plugins_for)

__all__ = [
    "ArgumentError",
    "Callback",
    "Check",
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
    "Range",
    "TrainingError",
    "__version__",
    "hookimpl",
    "plan",
    "resumable",
]

# Keras's submodules, imported on first use (``hookfit.models.Sequential``
# works after a bare ``import hookfit``, which stays numpy-free).
_SUBMODULES = frozenset(
    {
        "activations",
        "backend",
        "background",
        "callbacks",
        "datasets",
        "hooks",
        "initializers",
        "layers",
        "losses",
        "models",
        "monitor",
        "optimizers",
        "run",
        "saving",
        "testing",
        "trainer",
        "utils",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'hookfit' has no attribute {name!r}")
