"""The settings of a layer's weights as Keras stores them (initializers,
regularizers), and `KernelLayer`, the kernel-and-bias layer that `Dense` and
`Conv2D` both are."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import initializers
from .base import Layer, Shape


def init_config(init: initializers.Initializer) -> dict[str, Any]:
    """An initializer as Keras's config stores it."""
    return {"class_name": init.class_name, "config": init.get_config()}


def regularizer(value: Any) -> Any:
    """A regularizer from a name, config or object (None stays None)."""
    if value is None:
        return None
    from .. import regularizers

    return regularizers.get(value)


def regularizer_config(value: Any) -> Any:
    """A regularizer as Keras's config stores it."""
    if value is None:
        return None
    return {"class_name": type(value).__name__, "config": value.get_config()}


class KernelLayer(Layer):
    """A layer with a kernel and an optional bias (`Dense`, `Conv2D`): their
    initializers, penalties, weights and Keras config keys, in one place."""

    def _kernel_settings(
        self,
        use_bias: bool,
        kernel_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        bias_regularizer: Any,
    ) -> None:
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizer(kernel_regularizer)
        self.bias_regularizer = regularizer(bias_regularizer) if self.use_bias else None
        self.regularizers = [
            (i, r)
            for i, r in enumerate((self.kernel_regularizer, self.bias_regularizer))
            if r is not None
        ]
        self.weight_names = ("kernel", "bias") if self.use_bias else ("kernel",)

    def build(self, input_shape: Shape, rng: np.random.Generator) -> None:
        """Draw the kernel and bias for ``input_shape`` (`weight_shapes`)."""
        self.check_budget(input_shape)
        kernel_shape, *bias_shape = self.weight_shapes(input_shape)
        self.weights = [
            np.ascontiguousarray(self.kernel_initializer(kernel_shape, rng, self.dtype))
        ]
        if self.use_bias:
            bias = self.bias_initializer(bias_shape[0], rng, self.dtype)
            self.weights.append(np.ascontiguousarray(bias))
        self.grads = [np.zeros_like(w) for w in self.weights]
        super().build(tuple(input_shape), rng)

    def kernel_config(self) -> dict[str, Any]:
        """The Keras config keys of the kernel and bias settings."""
        return {
            "use_bias": self.use_bias,
            "kernel_initializer": init_config(self.kernel_initializer),
            "bias_initializer": init_config(self.bias_initializer),
            "kernel_regularizer": regularizer_config(self.kernel_regularizer),
            "bias_regularizer": regularizer_config(self.bias_regularizer),
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        }


__all__ = ["KernelLayer", "init_config", "regularizer", "regularizer_config"]
