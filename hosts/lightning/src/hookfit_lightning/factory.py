"""Lightning's ``callbacks_factory`` entry point: the switch that turns
hookfit on in an unchanged Lightning script.

Lightning calls `callbacks` in every ``Trainer()``. With ``HOOKFIT_CONFIG``
set to a config file's path it returns ``[Plugins(config=that path)]``;
unset or empty, nothing.
"""

from __future__ import annotations

import os

ENV_CONFIG = "HOOKFIT_CONFIG"


def callbacks() -> list[object]:
    """The callbacks hookfit adds to a Trainer: none unless ``HOOKFIT_CONFIG`` is set.

    Raises:
        ConfigError: The file is missing or invalid (raised by ``Trainer()``,
            before any training).
    """
    path = os.environ.get(ENV_CONFIG, "").strip()
    if not path:
        return []
    # imported only when switched on: an unset switch costs a Trainer nothing
    from .plugins import Plugins

    plugins = Plugins(config=path)
    plugins.source = ENV_CONFIG
    return [plugins]
