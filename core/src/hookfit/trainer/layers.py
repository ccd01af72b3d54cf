"""Layers: `Dense`, `Activation`, `Dropout`, `Flatten`, with Keras arguments.

A layer works on 2-D float arrays ``(batch, features)`` (Flatten turns images
into that). ``forward`` returns an array the layer owns and reuses for the
next batch of the same size, so the trainer copies what it keeps.
``backward`` takes d(loss)/d(output), may overwrite it, stores the weight
gradients in ``grads`` and returns d(loss)/d(input).
"""

from __future__ import annotations

import itertools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, ModelError
from . import activations, initializers, utils

Array = np.ndarray
_counters: dict[str, itertools.count[int]] = {}


def _auto_name(prefix: str) -> str:
    # Keras 2 style: dense_1, dense_2, ... unique within the process
    return f"{prefix}_{next(_counters.setdefault(prefix, itertools.count(1)))}"


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


def _positive_int(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{owner}: {name} must be a positive integer, got {value!r}.")
    return int(value)


class Layer(ABC):
    """Base class of the layers.

    Args:
        name: The layer's name; ``dense_1``-style by default.
        input_dim: The number of input features, for the first layer.
        input_shape: ``(input_dim,)``, the other Keras way to say it.
        dtype: The float type of the weights and outputs.
        trainable: Whether `fit` updates the weights.
    """

    class_name = "Layer"
    weight_names: tuple[str, ...] = ()
    flattens = False  # True for a layer that accepts samples of any rank

    def __init__(
        self,
        name: str | None = None,
        input_dim: int | None = None,
        input_shape: Sequence[int] | None = None,
        dtype: str | None = None,
        trainable: bool = True,
    ) -> None:
        self.name = _auto_name(self.class_name.lower()) if name is None or name == "" else name
        check_name(self.name)
        if input_shape is not None and input_dim is None:
            shape = tuple(_positive_int(self.name, "input_shape", d) for d in input_shape)
            if not shape or (len(shape) > 1 and not self.flattens):
                raise ConfigError(
                    f"{self.name}: input_shape must have one dimension (features,), got "
                    f"{input_shape!r}. For images put Flatten(input_shape={input_shape!r}) first."
                )
            input_dim = int(np.prod(shape))
            self.batch_input_shape: tuple[int | None, ...] | None = (None, *shape)
        elif input_dim is not None:
            input_dim = _positive_int(self.name, "input_dim", input_dim)
            self.batch_input_shape = (None, input_dim)
        else:
            self.batch_input_shape = None
        self.input_dim = input_dim
        self.dtype = np.dtype(dtype or "float32")
        self.trainable = trainable
        self.weights: list[Array] = []
        self.grads: list[Array] = []
        self.built = False
        self.output_dim: int | None = None
        self._buffers: dict[tuple[str, int], Array] = {}

    def weight_shapes(self, input_dim: int) -> list[tuple[int, ...]]:
        """The shapes `build` gives the weights for ``input_dim`` inputs, in
        `weight_names` order (a loader compares a file against them before
        anything is allocated)."""
        return []

    def check_budget(self, input_dim: int, before: int = 0) -> int:
        """Refuse weights for ``input_dim`` inputs that would take the
        model's weights (``before`` bytes without this layer's) over the
        memory budget (`hookfit.trainer.utils.check_budget`); nothing is
        allocated. Returns the model's weight bytes with this layer's.

        Raises:
            ConfigError: Over the budget, naming the layer and the sizes.
        """
        shapes = self.weight_shapes(input_dim)
        total = before + sum(math.prod(s) for s in shapes) * self.dtype.itemsize
        if shapes:
            declared = ", ".join(f"{n} {s}" for n, s in zip(self.weight_names, shapes, strict=True))
            utils.check_budget(
                f"Layer {self.name} ({self.class_name}) declares {declared} of {self.dtype.name}, "
                "which take the model's weights to",
                total,
            )
        return total

    def build(self, input_dim: int, rng: np.random.Generator) -> None:
        """Create the weights for ``input_dim`` input features."""
        self.input_dim = input_dim
        self.output_dim = input_dim
        self.built = True

    @abstractmethod
    def forward(self, x: Array, training: bool) -> Array:
        """Return the layer's output for the batch ``x``."""

    @abstractmethod
    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        """Return d(loss)/d(input) from ``dy``; fill ``grads``."""

    def _buffer(self, key: str, rows: int, cols: int) -> Array:
        buf = self._buffers.get((key, rows))
        if buf is None or buf.shape[1] != cols:
            buf = self._buffers[(key, rows)] = np.empty((rows, cols), dtype=self.dtype)
        return buf

    def get_weights(self) -> list[Array]:
        """Return copies of the weights, in `weight_names` order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Array]) -> None:
        """Replace the weights by copies of ``weights`` (same shapes).

        Raises:
            ConfigError: A different number of arrays, a shape mismatch, or
                values that are not real numbers; nothing is changed then.
        """
        for target, value in zip(self.weights, self.checked_weights(weights), strict=True):
            target[...] = value

    def checked_weights(self, weights: Sequence[Any], first: int | None = None) -> list[Array]:
        """``weights`` as arrays that `set_weights` can copy, checked
        against the layer's weights; ``first`` is the index of the first
        one in the model's list, for messages.

        Raises:
            ConfigError: A different number of arrays, a shape mismatch, or
                values that are not real numbers (strings, objects, complex).
        """
        if len(weights) != len(self.weights):
            raise ConfigError(
                f"Layer {self.name} has {len(self.weights)} weights "
                f"({', '.join(self.weight_names) or 'none'}), got {len(weights)} arrays."
            )
        out = []
        for i, (target, value, wname) in enumerate(
            zip(self.weights, weights, self.weight_names, strict=True)
        ):
            where = f"Layer {self.name}: {wname}" + (
                "" if first is None else f" (weights[{first + i}])"
            )
            try:
                value = np.asarray(value)
            except ValueError:  # ragged nested lists
                raise ConfigError(
                    f"{where} must be an array of shape {target.shape}, got ragged nested lists."
                ) from None
            if value.dtype.kind not in "biuf":
                raise ConfigError(
                    f"{where} must hold real numbers, got dtype {value.dtype}; pass arrays "
                    "of floats like those get_weights() returns."
                )
            if value.shape != target.shape:
                raise ConfigError(f"{where} has shape {target.shape}, got {value.shape}.")
            out.append(value)
        return out

    def count_params(self) -> int:
        """The number of weight values."""
        return int(sum(w.size for w in self.weights))

    def get_config(self) -> dict[str, Any]:
        """The Keras layer config."""
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype.name,
        }
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    def __repr__(self) -> str:
        return f"<{self.class_name} {self.name}>"


class Dense(Layer):
    """A fully connected layer: ``activation(x @ kernel + bias)``.

    Args:
        units: The number of outputs.
        activation: A Keras activation name, or None for linear.
        use_bias: Whether to add a bias.
        kernel_initializer: A Keras initializer name or object.
        bias_initializer: A Keras initializer name or object.
        **kwargs: `Layer` arguments (``input_dim``, ``input_shape``, ``name``,
            ``dtype``, ``trainable``).
    """

    class_name = "Dense"

    def __init__(
        self,
        units: int,
        activation: str | activations.ActivationFunction | None = None,
        use_bias: bool = True,
        kernel_initializer: str | initializers.Initializer = "glorot_uniform",
        bias_initializer: str | initializers.Initializer = "zeros",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _positive_int(self.name, "units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.weight_names = ("kernel", "bias") if self.use_bias else ("kernel",)
        self.output_dim = self.units
        # refused now, not at build: the kernel has a row per input at least
        self.check_budget(self.input_dim or 1)
        self._x: Array | None = None
        self._y: Array | None = None

    def weight_shapes(self, input_dim: int) -> list[tuple[int, ...]]:
        return [(input_dim, self.units), (self.units,)][: len(self.weight_names)]

    def build(self, input_dim: int, rng: np.random.Generator) -> None:
        self.check_budget(input_dim)
        kernel_shape, *bias_shape = self.weight_shapes(input_dim)
        kernel = self.kernel_initializer(kernel_shape, rng, self.dtype)
        self.weights = [np.ascontiguousarray(kernel)]
        if self.use_bias:
            self.weights.append(self.bias_initializer(bias_shape[0], rng, self.dtype))
        self.grads = [np.zeros_like(w) for w in self.weights]
        self.input_dim = input_dim
        self.built = True

    def forward(self, x: Array, training: bool) -> Array:
        z = self._buffer("z", len(x), self.units)
        np.matmul(x, self.weights[0], out=z)
        if self.use_bias:
            z += self.weights[1]
        self._x = x
        self._y = y = self.activation.forward(z)
        return y

    def backward(
        self, dy: Array, need_dx: bool = True, pre_activation: bool = False
    ) -> Array | None:
        """See `Layer.backward`; ``pre_activation`` means ``dy`` is already
        d(loss)/d(x @ kernel + bias) (the fused loss gradient)."""
        if self._x is None or self._y is None:
            raise ModelError(f"Layer {self.name}: backward() before forward().")
        dz = dy if pre_activation else self.activation.backward(dy, self._y)
        np.matmul(self._x.T, dz, out=self.grads[0])
        if self.use_bias:
            np.add.reduce(dz, axis=0, out=self.grads[1])
        if not need_dx:
            return None
        dx = self._buffer("dx", len(dz), self.input_dim or 0)
        np.matmul(dz, self.weights[0].T, out=dx)
        return dx

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation.name,
            "use_bias": self.use_bias,
            "kernel_initializer": _init_config(self.kernel_initializer),
            "bias_initializer": _init_config(self.bias_initializer),
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        }


def _init_config(init: initializers.Initializer) -> dict[str, Any]:
    return {"class_name": init.class_name, "config": init.get_config()}


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: A Keras activation name.
        **kwargs: `Layer` arguments.
    """

    class_name = "Activation"

    def __init__(self, activation: str | activations.ActivationFunction, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._y: Array | None = None

    def forward(self, x: Array, training: bool) -> Array:
        out = self._buffer("y", len(x), x.shape[1])
        np.copyto(out, x)
        self._y = y = self.activation.forward(out)
        return y

    def backward(
        self, dy: Array, need_dx: bool = True, pre_activation: bool = False
    ) -> Array | None:
        """See `Layer.backward`; with ``pre_activation`` ``dy`` passes through."""
        if pre_activation:
            return dy
        if self._y is None:
            raise ModelError(f"Layer {self.name}: backward() before forward().")
        return self.activation.backward(dy, self._y)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": self.activation.name}


class Dropout(Layer):
    """Sets a fraction ``rate`` of the inputs to 0 during training, scaling
    the rest by ``1 / (1 - rate)``; the identity at inference.

    Args:
        rate: The fraction to drop, in [0, 1).
        seed: Seed of the layer's own generator; None uses the model's.
        **kwargs: `Layer` arguments.
    """

    class_name = "Dropout"

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ConfigError(f"{self.name}: rate must be a number in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
        ):
            raise ConfigError(f"{self.name}: seed must be None or an integer >= 0, got {seed!r}.")
        self.seed = seed
        self.rng: np.random.Generator | None = None
        self._mask: Array | None = None

    def build(self, input_dim: int, rng: np.random.Generator) -> None:
        super().build(input_dim, rng)
        self.rng = rng if self.seed is None else np.random.default_rng(self.seed)

    def forward(self, x: Array, training: bool) -> Array:
        if not training or self.rate == 0:
            self._mask = None
            return x
        if self.rng is None:
            self.rng = np.random.default_rng(self.seed)
        mask = self._buffer("mask", len(x), x.shape[1])
        self.rng.random(out=mask, dtype=mask.dtype)
        np.greater_equal(mask, self.rate, out=mask, casting="unsafe")
        mask *= 1.0 / (1.0 - self.rate)
        self._mask = mask
        out = self._buffer("y", len(x), x.shape[1])
        return np.multiply(x, mask, out=out)

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        if self._mask is not None:
            dy *= self._mask
        return dy

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Flatten(Layer):
    """Flattens each sample to one dimension (images to feature rows).

    Args:
        **kwargs: `Layer` arguments.
    """

    class_name = "Flatten"
    flattens = True

    def forward(self, x: Array, training: bool) -> Array:
        self._shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        return dy.reshape(self._shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": "channels_last"}


LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.class_name: cls for cls in (Dense, Activation, Dropout, Flatten)
}

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
]
