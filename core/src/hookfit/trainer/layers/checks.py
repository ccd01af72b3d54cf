"""What a layer is given, checked: its name (Keras 2's ``dense_1``-style
names, and names safe as HDF5 groups and folders) and its integer and shape
arguments. Each refusal names the layer and says what is valid."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np

from ...errors import ConfigError

Shape = tuple[int, ...]
_counters: dict[str, itertools.count[int]] = {}


def auto_name(prefix: str) -> str:
    """Keras 2's names: ``dense_1``, ``dense_2``, ... unique in the process
    until `reset_names` (``K.clear_session()``)."""
    return f"{prefix}_{next(_counters.setdefault(prefix, itertools.count(1)))}"


def reset_names() -> None:
    """Number layers from 1 again, as Keras 2's ``clear_session`` does."""
    _counters.clear()


def snake(class_name: str) -> str:
    """Keras's name prefix for a class: ``Conv2D`` -> ``conv2d``,
    ``MaxPooling2D`` -> ``max_pooling2d``."""
    intermediate = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", intermediate).lower()


NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
"""The names a layer may have: they become HDF5 group names and folder names
(TensorBoard's projector), so nothing that could climb out of a folder."""


def check_name(name: Any) -> str:
    """Return ``name`` if it is a safe layer name (`NAME_PATTERN`).

    Raises:
        ConfigError: Any other name, or not a string.
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            "layer name must be letters, digits, '_', '-' or '.', starting with a letter, "
            f"digit or '_', at most 128 characters, got {name!r}. Rename the layer, e.g. "
            "name='dense_out'."
        )
    return name


def positive_int(owner: str, name: str, value: Any) -> int:
    """``value`` as an int >= 1.

    Raises:
        ConfigError: Anything else, naming ``owner`` and ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{owner}: {name} must be a positive integer, got {value!r}.")
    return int(value)


def int_tuple(owner: str, name: str, value: Any, n: int) -> tuple[int, ...]:
    """``value`` (an int or ``n`` ints) as ``n`` positive ints, as Keras's
    ``conv_utils.normalize_tuple``.

    Raises:
        ConfigError: Not an int or a sequence of ``n`` positive ints.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (positive_int(owner, name, value),) * n
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise ConfigError(f"{owner}: {name} must be an integer or {n} integers, got {value!r}.")
    return tuple(positive_int(owner, name, v) for v in value)


def sample_shape(owner: str, name: str, value: Any) -> Shape:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise ConfigError(
            f"{owner}: {name} must be a tuple of positive integers such as (28, 28, 1), "
            f"got {value!r}."
        )
    return tuple(positive_int(owner, name, d) for d in value)


__all__ = [
    "NAME_PATTERN",
    "auto_name",
    "check_name",
    "int_tuple",
    "positive_int",
    "reset_names",
    "sample_shape",
    "snake",
]
