"""The exceptions hookfit raises, all under one `HookfitError`.

Each also derives from the builtin a Keras user would catch (`ValueError`
for bad arguments, `ImportError` for a plugin that cannot be imported), so
code written against Keras keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "ConfigError",
    "FormatError",
    "HookfitError",
    "HookfitWarning",
    "MissingDependencyError",
    "MissingName",
    "ModelError",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginValidationError",
    "TrainingError",
    "missing_names",
    "nearest",
    "unknown_name",
]


class HookfitError(Exception):
    """Base class of every error hookfit raises on purpose."""


class ConfigError(HookfitError, ValueError):
    """An argument, config key or config value is not valid.

    Raised before any training starts. The message says what was received,
    what is valid and how to fix it.
    """


class FormatError(HookfitError, ValueError):
    """A model file that hookfit refuses to load, with the reason (corrupt,
    truncated, a layer hookfit does not have, data outside the file, ...)."""


class MissingDependencyError(HookfitError, ImportError):
    """An optional dependency is not installed; the message says which
    extra or distribution to install."""


class ModelError(HookfitError, RuntimeError):
    """The model is not in a state that allows the call (e.g. not compiled)."""


class TrainingError(HookfitError, RuntimeError):
    """A plugin stopped training with an error (TerminateOnNaN's
    ``raise_error=True``, for one). ``on_train_end`` still runs."""


class PluginError(HookfitError):
    """Base class of plugin discovery, loading and validation errors."""


class PluginNotFoundError(PluginError, LookupError):
    """A plugin name that no installed distribution provides."""


class PluginLoadError(PluginError, ImportError):
    """An installed plugin could not be imported or built.

    Attributes:
        plugin: The entry-point name of the plugin.
        dist: The distribution that provides it, with its version.
    """

    def __init__(self, message: str, *, plugin: str, dist: str) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.dist = dist


class PluginValidationError(PluginError, TypeError):
    """A plugin implements a hook that does not exist or asks for an argument
    that the hook does not offer."""


class HookfitWarning(UserWarning):
    """Runtime trouble that does not stop training (a default-on plugin that
    fails to load, a monitored metric that is missing, ...)."""


def unknown_name(kind: str, plural: str, identifier: object, valid: Iterable[str]) -> ConfigError:
    """The error for a name no registry knows (a loss, an optimizer, ...).

    Args:
        kind: What was looked up, e.g. ``"loss"``.
        plural: Its plural, e.g. ``"losses"``.
        identifier: What was given (a name, or an object of the wrong type).
        valid: The valid names.
    """
    valid = list(valid)
    shown = identifier if isinstance(identifier, str) else type(identifier).__name__
    return ConfigError(
        f"Unknown {kind} {shown!r}{nearest(str(shown).lower(), valid)}. "
        f"Valid {plural}: {', '.join(valid)}."
    )


class MissingName(ConfigError, ImportError):
    """A name a Keras module has and hookfit's lacks: an ImportError, so
    that ``from hookfit.layers import Conv3D`` shows its message."""


def missing_names(module: str, names: Iterable[str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` refusing a name the module lacks with the
    nearest one it has (``hookfit.layers.Conv3D``: did you mean 'Conv2D'?).

    Args:
        module: The module's public path, e.g. ``"hookfit.layers"``.
        names: What it has (its ``__all__``).
    """
    known = list(names)

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise MissingName(
            f"{module} has no {name!r}{nearest(name, known)}; hookfit does not have it. "
            f"{module} has: {', '.join(known)}."
        )

    return __getattr__


def nearest(word: str, choices: Iterable[str]) -> str:
    """Return a `' (did you mean X?)'` suffix for the closest choice, or `''`."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
