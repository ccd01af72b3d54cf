"""``hookfit new-plugin NAME``: a ready third-party plugin package.

The package has the entry point, a module in either style (a
`hookfit.Callback` subclass, or ``@hookfit.hookimpl`` functions), a README and
a test that passes, built on the fixtures of `hookfit.testing`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import ConfigError

# PEP 508 names: letters, digits and . _ - inside, a letter or digit at both ends
_DIST_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
STYLES = ("callback", "hookimpl")


@dataclass(frozen=True)
class Names:
    """The names a plugin package uses, all derived from its distribution name.

    Attributes:
        dist: The distribution, e.g. ``hookfit-loss-printer``.
        module: The import package, e.g. ``hookfit_loss_printer``.
        plugin: The entry-point name and config key, e.g. ``loss_printer``.
        cls: The class name, e.g. ``LossPrinter``.
    """

    dist: str
    module: str
    plugin: str
    cls: str


def names_for(dist: str) -> Names:
    """Derive the names from a distribution name.

    Raises:
        ConfigError: Not a valid distribution name, or one that would give
            no valid Python names.
    """
    if not _DIST_NAME.match(dist):
        raise ConfigError(
            f"new-plugin: {dist!r} is not a valid distribution name: use letters, digits, '-', "
            "'_' and '.', starting and ending with a letter or digit, e.g. hookfit-loss-printer."
        )
    module = re.sub(r"[-_.]+", "_", dist).lower()
    plugin = module.removeprefix("hookfit_")
    if not module.isidentifier() or not plugin.isidentifier() or plugin[0].isdigit():
        raise ConfigError(
            f"new-plugin: {dist!r} gives the module name {module!r} and plugin name "
            f"{plugin!r}, which are not Python identifiers; start it with a letter."
        )
    cls = "".join(part.capitalize() for part in plugin.split("_"))
    return Names(dist, module, plugin, cls)


def write(dist: str, parent: Path, style: str = "callback") -> Path:
    """Create the package folder ``parent/dist`` and return it.

    Raises:
        ConfigError: A bad name or style, or a folder that exists.
    """
    if style not in STYLES:
        raise ConfigError(f"new-plugin: --style must be one of {', '.join(STYLES)}, got {style!r}.")
    n = names_for(dist)
    root = parent / dist
    if root.exists():
        raise ConfigError(f"new-plugin: {root} exists; choose another name or remove it.")
    minor = ".".join(__version__.split(".")[:2])
    major, minor_number = (int(p) for p in minor.split("."))
    upper = f"{major + 1}" if major else f"0.{minor_number + 1}"
    files = {
        "pyproject.toml": PYPROJECT.format(n=n, lower=minor, upper=upper),
        "README.md": README.format(n=n),
        f"src/{n.module}/__init__.py": (CALLBACK if style == "callback" else HOOKIMPL).format(n=n),
        f"tests/test_{n.plugin}.py": TEST.format(n=n),
        ".gitignore": "__pycache__/\n*.egg-info/\nbuild/\ndist/\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "{n.dist}"
version = "0.1.0"
description = "A hookfit plugin: {n.cls}."
readme = "README.md"
requires-python = ">=3.11"
# The hook specifications are stable within a hookfit minor version (0.x).
dependencies = ["hookfit>={lower},<{upper}"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points."hookfit.callbacks"]
{n.plugin} = "{n.module}:{n.cls}"

# Uncomment to run without being named (the value is "always" or "verbose"):
# [project.entry-points."hookfit.defaults"]
# {n.plugin} = "always"

[tool.hatch.build.targets.wheel]
packages = ["src/{n.module}"]
"""

README = """\
# {n.dist}

A [hookfit](https://pypi.org/project/hookfit/) plugin that prints a summary
line at the end of every epoch.

    pip install {n.dist}

Switch it on from code, `fit(callbacks=["{n.plugin}"])`, from `hookfit.toml`:

```toml
[callbacks.{n.plugin}]
prefix = "epoch"
```

or from the command line, `hookfit train -p {n.plugin}`.

## Arguments

- `prefix` (default `"epoch"`): the first word of each line.

## Development

    pip install -e '.[test]'
    pytest
"""

CALLBACK = '''\
"""{n.cls}: a hookfit plugin."""

from __future__ import annotations

from typing import Any

from hookfit import Callback, ConfigError


class {n.cls}(Callback):
    """Print one line with the epoch's logs at the end of every epoch.

    Args:
        prefix: The first word of each line.

    Attributes:
        lines: The lines printed so far.
    """

    writes = True  # it prints: under MPI (hookfit.distributed) rank 0 only

    def __init__(self, prefix: str = "epoch") -> None:
        super().__init__()
        if not isinstance(prefix, str) or not prefix:
            raise ConfigError(f"{n.cls}: prefix must be a non-empty string, got {{prefix!r}}.")
        self.prefix = prefix
        self.lines: list[str] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        values = " ".join(f"{{k}}={{v:.4f}}" for k, v in sorted((logs or {{}}).items()))
        line = f"{{self.prefix}} {{epoch + 1}}: {{values}}"
        self.lines.append(line)
        print(line)
'''

HOOKIMPL = '''\
"""{n.cls}: a hookfit plugin written with hook implementations."""

from __future__ import annotations

from typing import Any

import hookfit
from hookfit import ConfigError


class {n.cls}:
    """Print one line with the epoch's logs at the end of every epoch.

    Args:
        prefix: The first word of each line.

    Attributes:
        lines: The lines printed so far.
    """

    writes = True  # it prints: under MPI (hookfit.distributed) rank 0 only

    def __init__(self, prefix: str = "epoch") -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ConfigError(f"{n.cls}: prefix must be a non-empty string, got {{prefix!r}}.")
        self.prefix = prefix
        self.lines: list[str] = []

    @hookfit.hookimpl
    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        values = " ".join(f"{{k}}={{v:.4f}}" for k, v in sorted(logs.items()))
        line = f"{{self.prefix}} {{epoch + 1}}: {{values}}"
        self.lines.append(line)
        print(line)
'''

TEST = '''\
"""Tests of {n.cls}, with the fixtures hookfit.testing provides."""

import pytest

from hookfit import ConfigError
from {n.module} import {n.cls}


def test_one_line_per_epoch(hookfit_fit, capsys):
    plugin = {n.cls}(prefix="step")
    result = hookfit_fit(plugin, epochs=3, validation_split=0.25)
    assert result.count("on_epoch_end") == 3
    assert [line.split(":")[0] for line in plugin.lines] == ["step 1", "step 2", "step 3"]
    assert "val_loss=" in plugin.lines[-1]
    # each line printed, in this order; other output (a print in another
    # hook, another plugin's) may come between them
    printed = iter(capsys.readouterr().out.splitlines())
    assert all(line in printed for line in plugin.lines), plugin.lines


def test_it_is_installed_as_a_plugin(hookfit_fit):
    result = hookfit_fit("{n.plugin}", epochs=1)
    assert result.count("on_epoch_end") == 1


def test_a_bad_prefix_is_refused():
    with pytest.raises(ConfigError, match="prefix must be a non-empty string"):
        {n.cls}(prefix="")
'''
