"""Weight initializers, by Keras name and Keras class name.

Keras 2's names are all here: the classes (``Constant(value=...)``,
``TruncatedNormal``, ``Orthogonal``, ...), the functions ``glorot_uniform``,
``he_normal``, ... and the lowercase aliases (``zero``, ``normal``, ...).
Configs are written with the class names Keras 3 reads too.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..errors import ConfigError, nearest, unknown_name
from ..hooks.arguments import validate

# The standard deviation of a unit normal cut at +-2: dividing by it gives the
# cut distribution the wanted standard deviation (Keras 2.2's correction).
_TRUNCATED_STD = 0.87962566103423978


class Initializer(ABC):
    """Draws a weight array of a given shape.

    Attributes:
        seed: Seed of the initializer's own generator; None uses the model's.
    """

    class_name = "Initializer"
    seed: int | None = None

    def __call__(self, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any) -> np.ndarray:
        """Return a new array of ``shape`` and ``dtype``."""
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        return np.asarray(self.draw(tuple(shape), rng), dtype=dtype)

    @abstractmethod
    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Return the values (any float dtype)."""

    def get_config(self) -> dict[str, Any]:
        """The Keras config of this initializer."""
        return {}


def fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """Keras 2's ``(fan_in, fan_out)`` of a weight shape.

    A matrix ``(in, out)`` gives its two sizes; a convolution kernel
    ``(*receptive_field, in, out)`` (3 to 5 dimensions, channels_last) gives
    the channels times the receptive field size; any other shape gives the
    square root of its size for both.
    """
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) in (3, 4, 5):
        receptive = math.prod(shape[:-2])
        return float(shape[-2] * receptive), float(shape[-1] * receptive)
    root = math.sqrt(math.prod(shape))
    return root, root


def _truncated(
    rng: np.random.Generator, mean: float, stddev: float, shape: tuple[int, ...]
) -> np.ndarray:
    """Normal values, each one beyond two ``stddev`` from ``mean`` drawn again."""
    values = rng.normal(mean, stddev, shape)
    bad = np.abs(values - mean) > 2 * stddev
    while bad.any():
        values[bad] = rng.normal(mean, stddev, int(bad.sum()))
        bad = np.abs(values - mean) > 2 * stddev
    return values


class Zeros(Initializer):
    """All zeros."""

    class_name = "Zeros"

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.zeros(shape)


class Ones(Initializer):
    """All ones."""

    class_name = "Ones"

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.ones(shape)


class Constant(Initializer):
    """Every value ``value``.

    Args:
        value: The value.
    """

    class_name = "Constant"

    def __init__(self, value: float = 0) -> None:
        self.value = value

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.full(shape, self.value, dtype=np.float64)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomUniform(Initializer):
    """Uniform in ``[minval, maxval)``; Keras 2's ``'uniform'``.

    Args:
        minval: The lower bound.
        maxval: The upper bound.
        seed: Seed of the initializer's own generator; None uses the model's.
    """

    class_name = "RandomUniform"

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev``; Keras 2's ``'normal'``.

    Args:
        mean: The mean.
        stddev: The standard deviation.
        seed: Seed of the initializer's own generator; None uses the model's.
    """

    class_name = "RandomNormal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal with ``mean`` and ``stddev``, values beyond two ``stddev`` from
    the mean drawn again (Keras 2's rule).

    Args:
        mean: The mean.
        stddev: The standard deviation before the cut.
        seed: Seed of the initializer's own generator; None uses the model's.
    """

    class_name = "TruncatedNormal"

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return _truncated(rng, self.mean, self.stddev, shape)


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(Initializer):
    """Keras's variance scaling: the family behind Glorot, He and LeCun.

    Args:
        scale: The variance is ``scale / fan`` (a number > 0).
        mode: Which fan: ``fan_in``, ``fan_out`` or ``fan_avg``.
        distribution: ``truncated_normal`` (Keras 2's ``normal``, kept as
            this name so Keras 3 reads the config), ``untruncated_normal``
            or ``uniform``.
        seed: Seed of the initializer's own generator; None uses the model's.
    """

    class_name = "VarianceScaling"

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        if not scale > 0:
            raise ConfigError(
                f"VarianceScaling: scale must be a number > 0, got {scale!r}. "
                "Keras's initializers use 1.0 (Glorot, LeCun) or 2.0 (He)."
            )
        if mode not in _MODES:
            raise ConfigError(
                f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, got {mode!r}"
                f"{nearest(str(mode), _MODES)}."
            )
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in _DISTRIBUTIONS:
            raise ConfigError(
                "VarianceScaling: distribution must be truncated_normal, untruncated_normal "
                f"or uniform, got {distribution!r}{nearest(str(distribution), _DISTRIBUTIONS)}."
            )
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, np.sqrt(variance), shape)
        return _truncated(rng, 0.0, np.sqrt(variance) / _TRUNCATED_STD, shape)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class Orthogonal(Initializer):
    """A random orthogonal matrix times ``gain`` (Keras 2: the shape is
    flattened to ``(product of all but the last, last)``).

    Args:
        gain: The factor.
        seed: Seed of the initializer's own generator; None uses the model's.
    """

    class_name = "Orthogonal"

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = gain, seed

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        if not shape:
            raise ConfigError(
                "Orthogonal: cannot initialize a scalar (shape ()); it needs a weight of "
                "at least one dimension. Use Constant for a scalar."
            )
        flat = (math.prod(shape[:-1]), shape[-1])
        u, _, v = np.linalg.svd(rng.normal(0.0, 1.0, flat), full_matrices=False)
        q = u if u.shape == flat else v  # the factor of the flattened shape
        return self.gain * q.reshape(shape)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """The identity matrix times ``gain``; Keras 2 allows square matrices only.

    Args:
        gain: The factor.
    """

    class_name = "Identity"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ConfigError(
                f"Identity: the identity initializer makes square 2-D matrices, got shape "
                f"{shape}. Give the layer as many units as inputs, or use Orthogonal."
            )
        return self.gain * np.identity(shape[0])

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


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


def glorot_uniform(seed: int | None = None) -> VarianceScaling:
    """Uniform in ``+-sqrt(6 / (fan_in + fan_out))``."""
    return GlorotUniform(seed=seed)


def glorot_normal(seed: int | None = None) -> VarianceScaling:
    """Truncated normal, standard deviation ``sqrt(2 / (fan_in + fan_out))``."""
    return GlorotNormal(seed=seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    """Uniform in ``+-sqrt(6 / fan_in)``."""
    return HeUniform(seed=seed)


def he_normal(seed: int | None = None) -> VarianceScaling:
    """Truncated normal, standard deviation ``sqrt(2 / fan_in)``."""
    return HeNormal(seed=seed)


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    """Uniform in ``+-sqrt(3 / fan_in)``."""
    return LecunUniform(seed=seed)


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    """Truncated normal, standard deviation ``sqrt(1 / fan_in)``."""
    return LecunNormal(seed=seed)


# Keras 2's lowercase aliases
zero = zeros = Zeros
one = ones = Ones
constant = Constant
uniform = random_uniform = RandomUniform
normal = random_normal = RandomNormal
truncated_normal = TruncatedNormal
identity = Identity
orthogonal = Orthogonal

_BY_CLASS: dict[str, type[Initializer]] = {
    cls.class_name: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        RandomUniform,
        RandomNormal,
        TruncatedNormal,
        VarianceScaling,
        Orthogonal,
        Identity,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
        LecunUniform,
        LecunNormal,
    )
}
_BY_NAME: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "zero": Zeros,
    "ones": Ones,
    "one": Ones,
    "constant": Constant,
    "uniform": RandomUniform,
    "random_uniform": RandomUniform,
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal,
    "orthogonal": Orthogonal,
    "identity": Identity,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
}


def get(identifier: str | dict[str, Any] | Initializer) -> Initializer:
    """Return an initializer for a Keras name (``'glorot_uniform'``,
    ``'TruncatedNormal'``), a saved config, or the object itself.

    Raises:
        ConfigError: An unknown name; the message names the nearest and
            lists the valid ones.
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return from_config(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_CLASS.get(identifier)
        if cls is not None:
            return cls()
    raise unknown_name("initializer", "initializers", identifier, _BY_NAME)


def from_config(config: dict[str, Any]) -> Initializer:
    """Rebuild an initializer from ``{"class_name": ..., "config": {...}}``.

    Raises:
        ConfigError: An unknown class name or setting.
    """
    name = config.get("class_name")
    cls = _BY_CLASS.get(str(name)) or _BY_NAME.get(str(name))
    if cls is None:
        raise ConfigError(
            f"Unknown initializer class {name!r}{nearest(str(name), _BY_CLASS)}. "
            f"Known: {', '.join(_BY_CLASS)}."
        )
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "args", "kwargs"}
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
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "constant",
    "fans",
    "from_config",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "one",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "uniform",
    "zero",
    "zeros",
]
