"""Keras's ``keras.callbacks`` module, resolved from installed plugins.

``from hookfit.callbacks import EarlyStopping`` imports the class from the
installed plugin that provides it. When none does, the ImportError says
which distribution to install. ``from hookfit.callbacks import *`` imports
`Callback` and every installed plugin's class, as ``keras.callbacks`` does;
nothing is imported before that (``dir()`` reads metadata only).
"""

from __future__ import annotations

import warnings
from typing import Any

from .errors import HookfitWarning, PluginError
from .hooks.callback import Callback as Callback  # re-exported: Keras's keras.callbacks.Callback
from .run.catalogue import PluginInfo, built_in_distribution, catalogue, install_hint, load


def _find(name: str) -> PluginInfo | None:
    for info in catalogue().plugins.values():
        if info.attr == name:
            return info
    return None


def _every_class() -> list[str]:
    """``__all__``, built when ``import *`` asks for it: `Callback` and the
    class of every installed plugin that loads. ``import *`` would import
    each of them anyway; one that fails is left out with a warning, so that
    a broken plugin does not break the import of the others."""
    names = ["Callback"]
    for info in catalogue().plugins.values():
        if not info.attr.isidentifier() or info.attr in names:
            continue
        try:
            obj = load(info)
        except PluginError as exc:
            warnings.warn(
                f"{exc} from hookfit.callbacks import * goes on without it.",
                HookfitWarning,
                stacklevel=3,
            )
            continue
        if isinstance(obj, type):
            names.append(info.attr)
    return names


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return _every_class()
    if name.startswith("__"):
        raise AttributeError(name)
    info = _find(name)
    if info is not None:
        return load(info)
    dist = built_in_distribution(name)
    if dist is not None and name[:1].isupper():
        raise ImportError(
            f"cannot import name {name!r} from 'hookfit.callbacks': it is provided by {dist}, "
            f"which is not installed. Install it with: {install_hint(dist)}",
            name=__name__,
        )
    raise AttributeError(
        f"module 'hookfit.callbacks' has no attribute {name!r}: no installed plugin "
        f"provides a class of that name."
    )


def __dir__() -> list[str]:
    return sorted({"Callback", *(info.attr for info in catalogue().plugins.values() if info.attr)})
