"""Keras's ``keras.callbacks`` module, resolved from installed plugins.

``from hookfit.callbacks import EarlyStopping`` imports the class from the
installed plugin that provides it. When none does, the ImportError says
which distribution to install.
"""

from __future__ import annotations

from typing import Any

from .hooks.callback import Callback
from .run.catalogue import PluginInfo, built_in_distribution, catalogue, install_hint, load

__all__ = ["Callback"]


def _find(name: str) -> PluginInfo | None:
    for info in catalogue().plugins.values():
        if info.attr == name:
            return info
    return None


def __getattr__(name: str) -> Any:
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
