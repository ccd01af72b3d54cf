"""Weight regularizers: Keras 2's ``L1L2`` and ``l1``, ``l2``, ``l1_l2``.

A layer keeps ``(weight index, Regularizer)`` pairs; training adds each
penalty to the loss and each `Regularizer.gradient` to its weight's
gradient, as Keras 2 adds the regularization losses to the total loss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ConfigError, nearest, unknown_name
from .optimizers import non_negative


class Regularizer:
    """Base class: a penalty on a weight array, and its gradient (no penalty)."""

    def __call__(self, w: np.ndarray) -> float:
        """The penalty added to the loss for the weight ``w``."""
        return 0.0

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """d(penalty)/d(w), an array like ``w``."""
        grad = np.zeros_like(w)
        self.add_gradient(w, grad)
        return grad

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        """Add `gradient` to ``grad`` in place (what training does each step)."""

    def get_config(self) -> dict[str, Any]:
        """The Keras config of this regularizer."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """Rebuild from `get_config`'s settings."""
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``.

    Args:
        l1: The L1 factor (a number >= 0).
        l2: The L2 factor (a number >= 0).
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = non_negative("L1L2", "l1", l1)
        self.l2 = non_negative("L1L2", "l2", l2)

    def __call__(self, w: np.ndarray) -> float:
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.abs(w).sum(dtype=np.float64))
        if self.l2:
            penalty += self.l2 * float(np.square(w).sum(dtype=np.float64))
        return penalty

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        """Add ``l1 * sign(w) + 2 * l2 * w`` to ``grad`` in place."""
        if self.l2:
            grad += (2.0 * self.l2) * w
        if self.l1:
            grad += self.l1 * np.sign(w)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


def l1(l: float = 0.01) -> L1L2:  # noqa: E741 (Keras's argument name)
    """An L1 penalty ``l * sum(|w|)``."""
    return L1L2(l1=l)


def l2(l: float = 0.01) -> L1L2:  # noqa: E741 (Keras's argument name)
    """An L2 penalty ``l * sum(w ** 2)``."""
    return L1L2(l2=l)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Both penalties, ``l1 * sum(|w|) + l2 * sum(w ** 2)``."""
    return L1L2(l1=l1, l2=l2)


# The strings Keras 2 accepts, each giving its defaults.
_BY_NAME: dict[str, Callable[[], L1L2]] = {"l1": l1, "l2": l2, "l1_l2": l1_l2, "L1L2": L1L2}


# Class names in saved configs, with their settings and defaults: Keras 2
# writes L1L2; Keras 3 also L1 and L2.
_BY_CLASS: dict[str, dict[str, float]] = {
    "L1L2": {"l1": 0.0, "l2": 0.0},
    "L1": {"l1": 0.01},
    "L2": {"l2": 0.01},
}


def from_config(config: dict[str, Any]) -> L1L2:
    """Rebuild a regularizer from ``{"class_name": "L1L2", "config": {...}}``
    (Keras 3's ``L1`` and ``L2`` too).

    Raises:
        ConfigError: An unknown class name or setting.
    """
    name = str(config.get("class_name"))
    if name not in _BY_CLASS:
        raise ConfigError(
            f"Unknown regularizer class {name!r}{nearest(name, _BY_CLASS)}. "
            f"Known: {', '.join(_BY_CLASS)}."
        )
    given = config.get("config") or {}
    if not isinstance(given, dict):
        raise ConfigError(f"Regularizer {name}: config must be a table, got {given!r}.")
    settings = _BY_CLASS[name]
    for key in given:
        if key not in settings:
            raise ConfigError(
                f"Regularizer {name} has no setting {key!r}{nearest(str(key), settings)}; "
                f"it takes {', '.join(settings)}."
            )
    return L1L2(**{**settings, **given})


def get(identifier: str | dict[str, Any] | Regularizer | None) -> Regularizer | None:
    """Return a regularizer for a Keras name (``'l2'``), a saved config, the
    object itself, or None for None.

    Raises:
        ConfigError: An unknown name; the message names the nearest and
            lists the valid ones.
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return from_config(identifier)
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    error = unknown_name("regularizer", "regularizers", identifier, _BY_NAME)
    error.add_note("Or pass a regularizer object, e.g. hookfit.regularizers.l2(0.01).")
    raise error


__all__ = ["L1L2", "Regularizer", "from_config", "get", "l1", "l1_l2", "l2"]
