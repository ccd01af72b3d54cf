"""Keras's core layers: `Dense`, `Activation`, `Dropout`, `Flatten`,
`Reshape` and `Lambda` (Keras 2's ``keras.layers.core``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...errors import ConfigError
from .. import activations, initializers
from .base import Array, Layer, Shape, not_built
from .checks import positive_int
from .kernels import KernelLayer


class Dense(KernelLayer):
    """A fully connected layer on the last axis: ``activation(x @ kernel + bias)``.

    Args:
        units: The number of outputs.
        activation: A Keras activation name, or None for linear.
        use_bias: Whether to add a bias.
        kernel_initializer: A Keras initializer name or object.
        bias_initializer: A Keras initializer name or object.
        kernel_regularizer: A penalty on the kernel (`hookfit.regularizers`).
        bias_regularizer: A penalty on the bias.
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
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = positive_int(self.name, "units", units)
        self.activation = activations.get(activation)
        self._kernel_settings(
            use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer
        )
        # refused now, not at build: the kernel has a row per input at least
        self.check_budget(self.declared_shape or (1,))
        self._x: Array | None = None
        self._y: Array | None = None

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def weight_shapes(self, input_shape: Shape) -> list[Shape]:
        return [(input_shape[-1], self.units), (self.units,)][: len(self.weight_names)]

    def forward(self, x: Array, training: bool) -> Array:
        rows = x.reshape(-1, x.shape[-1]) if x.ndim > 2 else x
        z = self._buffer("z", len(rows), self.units)
        np.matmul(rows, self.weights[0], out=z)
        if self.use_bias:
            z += self.weights[1]
        self._x = rows
        self._y = y = self.activation.forward(z)
        return y.reshape(*x.shape[:-1], self.units) if x.ndim > 2 else y

    def backward(
        self, dy: Array, need_dx: bool = True, pre_activation: bool = False
    ) -> Array | None:
        """See `Layer.backward`; ``pre_activation`` means ``dy`` is already
        d(loss)/d(x @ kernel + bias) (the fused loss gradient)."""
        if self._x is None or self._y is None:
            raise not_built(self)
        shape = dy.shape
        if dy.ndim > 2:
            dy = dy.reshape(-1, self.units)
        dz = dy if pre_activation else self.activation.backward(dy, self._y)
        np.matmul(self._x.T, dz, out=self.grads[0])
        if self.use_bias:
            np.add.reduce(dz, axis=0, out=self.grads[1])
        if not need_dx:
            return None
        dx = self._buffer("dx", len(dz), self._x.shape[1])
        np.matmul(dz, self.weights[0].T, out=dx)
        return dx.reshape(*shape[:-1], dx.shape[1]) if len(shape) > 2 else dx

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation.name,
            **self.kernel_config(),
        }


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
        out = self._buffer("y", *x.shape)
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
            raise not_built(self)
        return self.activation.backward(dy, self._y)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": self.activation.name}


class Dropout(Layer):
    """Sets a fraction ``rate`` of the inputs to 0 during training, scaling
    the rest by ``1 / (1 - rate)``; the identity at inference.

    With `share` set (a data-parallel rank's rows of the whole batch), the
    mask is drawn for the whole batch and this share's rows kept, so that
    N ranks drop what one process would.

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
        self.share: tuple[int, int, int] | None = None
        """``(start, stop, whole)``: this process's rows of a batch of
        ``whole`` rows, set by a data-parallel step; None for the whole."""
        self._mask: Array | None = None

    def build(self, input_shape: Shape, rng: np.random.Generator) -> None:
        super().build(input_shape, rng)
        self.rng = rng if self.seed is None else np.random.default_rng(self.seed)

    def forward(self, x: Array, training: bool) -> Array:
        if not training or self.rate == 0:
            self._mask = None
            return x
        if self.rng is None:
            self.rng = np.random.default_rng(self.seed)
        if self.share is None:
            mask = self._buffer("mask", *x.shape)
            self.rng.random(out=mask, dtype=mask.dtype)
        else:
            start, stop, whole = self.share
            mask = self.rng.random((whole, *x.shape[1:]), dtype=self.dtype)[start:stop]
        np.greater_equal(mask, self.rate, out=mask, casting="unsafe")
        mask *= 1.0 / (1.0 - self.rate)
        self._mask = mask
        out = self._buffer("y", *x.shape)
        return np.multiply(x, mask, out=out)

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        if self._mask is not None:
            dy *= self._mask
        return dy

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": None,
            "seed": self.seed,
        }


class Flatten(Layer):
    """Flattens each sample to one dimension (images to feature rows).

    Args:
        data_format: ``'channels_last'`` (or None), Keras's only layout here.
        **kwargs: `Layer` arguments.
    """

    class_name = "Flatten"

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ConfigError(
                f"{self.name}: data_format must be 'channels_last' (hookfit's only layout), "
                f"got {data_format!r}."
            )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def forward(self, x: Array, training: bool) -> Array:
        self._shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        return dy.reshape(self._shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": "channels_last"}


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1).

    Args:
        target_shape: The new sample shape.
        **kwargs: `Layer` arguments.
    """

    class_name = "Reshape"

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (
            not isinstance(target_shape, (tuple, list))
            or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) and (d > 0 or d == -1)
                for d in target_shape
            )
            or list(target_shape).count(-1) > 1
        ):
            raise ConfigError(
                f"{self.name}: target_shape must be a tuple of positive integers with at most "
                f"one -1, got {target_shape!r}."
            )
        self.target_shape = tuple(int(d) for d in target_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        size, known = math.prod(input_shape), math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape and known and size % known == 0:
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size or -1 in self.target_shape:
            raise ConfigError(
                f"{self.name}: cannot reshape samples of shape {input_shape} ({size} values) "
                f"to {self.target_shape}."
            )
        return self.target_shape

    def forward(self, x: Array, training: bool) -> Array:
        self._shape = x.shape
        return x.reshape(len(x), *self.out_shape)

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        return dy.reshape(self._shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Lambda(Layer):
    """Wraps a function of the batch, as Keras's ``Lambda``: for arranging
    inputs (it passes no gradient: numpy cannot differentiate a Python
    function, so it must come before every layer with weights).

    Args:
        function: Takes the input array (or list of arrays) and returns an
            array or a list of arrays.
        output_shape: The output's sample shape, or a function of the input
            shape; found by calling ``function`` on a one-sample batch when None.
        arguments: Keyword arguments for ``function``.
        **kwargs: `Layer` arguments.
    """

    class_name = "Lambda"
    inputs_count = 0

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise ConfigError(f"{self.name}: function must be callable, got {function!r}.")
        if mask is not None:
            raise ConfigError(f"{self.name}: mask is not supported; hookfit has no masks.")
        self.function, self.arguments = function, dict(arguments or {})
        self._output_shape = output_shape

    def compute_output_shape(self, input_shape: Any) -> Any:
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        if self._output_shape is not None:
            return tuple(self._output_shape)
        probe = (
            [np.zeros((1, *s), self.dtype) for s in input_shape]
            if isinstance(input_shape, list)
            else np.zeros((1, *input_shape), self.dtype)
        )
        out = self.function(probe, **self.arguments)
        if isinstance(out, (list, tuple)):
            return [tuple(np.shape(o)[1:]) for o in out]
        return tuple(np.shape(out)[1:])

    def forward(self, x: Any, training: bool) -> Any:
        out = self.function(x, **self.arguments)
        return list(out) if isinstance(out, tuple) else out

    def backward(self, dy: Any, need_dx: bool = True) -> Any:
        if need_dx:
            raise ConfigError(
                f"{self.name}: a Lambda layer passes no gradient (numpy cannot differentiate "
                "a Python function); put it before every layer with weights, or use a "
                "built-in layer."
            )
        return None

    def get_config(self) -> dict[str, Any]:
        name = getattr(self.function, "__name__", "function")
        return {**super().get_config(), "function": name, "arguments": self.arguments}


__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Lambda", "Reshape"]
