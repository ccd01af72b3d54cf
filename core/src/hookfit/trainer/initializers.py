"""Weight initializers, by Keras name and Keras class name."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..errors import ConfigError, nearest, unknown_name
from ..hooks.arguments import validate


class Initializer(ABC):
    """Draws a weight array of a given shape.

    Args:
        seed: Seed of the initializer's own generator; None uses the model's.
    """

    class_name = "Initializer"

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def __call__(self, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any) -> np.ndarray:
        """Return a new array of ``shape`` and ``dtype``."""
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        return np.asarray(self.draw(shape, rng), dtype=dtype)

    @abstractmethod
    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Return the values (any float dtype)."""

    def get_config(self) -> dict[str, Any]:
        """The Keras config of this initializer."""
        return {"seed": self.seed}


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 2:
        return shape[0], shape[1]
    size = int(np.prod(shape)) if shape else 1
    return size, size


class Zeros(Initializer):
    """All zeros."""

    class_name = "Zeros"

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.zeros(shape)

    def get_config(self) -> dict[str, Any]:
        return {}


class Ones(Zeros):
    """All ones."""

    class_name = "Ones"

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.ones(shape)


class RandomUniform(Initializer):
    """Uniform in ``[minval, maxval)``; Keras 2's ``'uniform'``."""

    class_name = "RandomUniform"

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev``; Keras 2's ``'normal'``."""

    class_name = "RandomNormal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras's variance scaling: the family behind Glorot, He and LeCun."""

    class_name = "VarianceScaling"

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ConfigError(
                f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, got {mode!r}."
            )
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ConfigError(
                "VarianceScaling: distribution must be truncated_normal, untruncated_normal "
                f"or uniform, got {distribution!r}."
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, np.sqrt(variance), shape)
        # Keras's constant: the stddev of a unit normal truncated at +-2
        stddev = np.sqrt(variance) / 0.87962566103423978
        values = rng.normal(0.0, stddev, shape)
        bad = np.abs(values) > 2 * stddev
        while bad.any():
            values[bad] = rng.normal(0.0, stddev, int(bad.sum()))
            bad = np.abs(values) > 2 * stddev
        return values

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


def _variance(class_name: str, scale: float, mode: str, distribution: str) -> type[VarianceScaling]:
    def __init__(self: VarianceScaling, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return {"seed": self.seed}

    return type(
        class_name,
        (VarianceScaling,),
        {
            "__init__": __init__,
            "get_config": get_config,
            "class_name": class_name,
            "__doc__": f"Keras's {class_name}: variance scaling {scale}, {mode}, {distribution}.",
        },
    )


GlorotUniform = _variance("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance("LecunNormal", 1.0, "fan_in", "truncated_normal")

_BY_NAME: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "ones": Ones,
    "uniform": RandomUniform,
    "random_uniform": RandomUniform,
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
}
_BY_CLASS: dict[str, type[Initializer]] = {
    cls.class_name: cls
    for cls in (
        Zeros,
        Ones,
        RandomUniform,
        RandomNormal,
        VarianceScaling,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
        LecunUniform,
        LecunNormal,
    )
}


def get(identifier: str | Initializer) -> Initializer:
    """Return an initializer for a Keras name (``'glorot_uniform'``) or object.

    Raises:
        ConfigError: An unknown name; the message lists the valid ones.
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise unknown_name("initializer", "initializers", identifier, _BY_NAME)


def from_config(config: dict[str, Any]) -> Initializer:
    """Rebuild an initializer from ``{"class_name": ..., "config": {...}}``.

    Raises:
        ConfigError: An unknown class name.
    """
    name = config.get("class_name")
    if name not in _BY_CLASS:
        raise ConfigError(
            f"Unknown initializer class {name!r}{nearest(str(name), _BY_CLASS)}. "
            f"Known: {', '.join(_BY_CLASS)}."
        )
    cls = _BY_CLASS[name]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    given = config.get("config") or {}
    if not isinstance(given, dict):
        raise ConfigError(f"Initializer {name}: config must be a table, got {given!r}.")
    # Keras 3 adds settings that are off by default (input_axes, ...).
    unknown = {k: v for k, v in given.items() if k not in accepted | {"dtype"} and v is not None}
    if unknown:
        raise ConfigError(f"Initializer {name} has settings hookfit does not know: {unknown}.")
    # a config is data from a file: each setting checked against the hints
    return cls(**validate(cls, {k: v for k, v in given.items() if k in accepted}))


__all__ = [
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "RandomNormal",
    "RandomUniform",
    "VarianceScaling",
    "Zeros",
    "from_config",
    "get",
]
