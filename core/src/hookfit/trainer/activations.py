"""Activation functions with their gradients, by Keras name.

Every gradient is written in terms of the activation's *output* ``y``, so a
layer keeps one array per forward pass. Both directions work in place on
arrays the layer owns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import unknown_name

Array = np.ndarray


class ActivationFunction:
    """An elementwise (or row-wise, for softmax) activation.

    Args:
        name: The Keras name.
        forward: ``forward(z) -> y``, allowed to overwrite ``z``.
        backward: ``backward(dy, y) -> dz``, allowed to overwrite ``dy``.
    """

    def __init__(
        self,
        name: str,
        forward: Callable[[Array], Array],
        backward: Callable[[Array, Array], Array],
    ) -> None:
        self.name = name
        self.forward = forward
        self.backward = backward

    def __call__(self, x: Array) -> Array:
        """Apply the activation to a copy of ``x``."""
        return self.forward(np.array(x, copy=True))

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


def _linear_fwd(z: Array) -> Array:
    return z


def _linear_bwd(dy: Array, y: Array) -> Array:
    return dy


def _relu_fwd(z: Array) -> Array:
    return np.maximum(z, 0, out=z)


def _relu_bwd(dy: Array, y: Array) -> Array:
    return np.multiply(dy, y > 0, out=dy)


def _sigmoid_fwd(z: Array) -> Array:
    # 1 / (1 + exp(-z)), written to avoid overflow warnings for large |z|
    np.negative(z, out=z)
    np.clip(z, -88.0, 88.0, out=z)
    np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def _sigmoid_bwd(dy: Array, y: Array) -> Array:
    dy *= y
    dy *= 1 - y
    return dy


def _tanh_fwd(z: Array) -> Array:
    return np.tanh(z, out=z)


def _tanh_bwd(dy: Array, y: Array) -> Array:
    dy *= 1 - y * y
    return dy


def _softmax_fwd(z: Array) -> Array:
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def _softmax_bwd(dy: Array, y: Array) -> Array:
    # J^T dy for J = diag(y) - y y^T, row by row
    dot = np.einsum("ij,ij->i", dy, y)[:, None]
    dy -= dot
    dy *= y
    return dy


_ALPHA = 1.0  # Keras's elu default
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu_fwd(z: Array) -> Array:
    neg = z < 0
    z[neg] = _ALPHA * np.expm1(z[neg])
    return z


def _elu_bwd(dy: Array, y: Array) -> Array:
    neg = y < 0
    dy[neg] *= y[neg] + _ALPHA
    return dy


def _selu_fwd(z: Array) -> Array:
    neg = z < 0
    z[neg] = _SELU_ALPHA * np.expm1(z[neg])
    z *= _SELU_SCALE
    return z


def _selu_bwd(dy: Array, y: Array) -> Array:
    neg = y < 0
    dy[neg] *= y[neg] + _SELU_SCALE * _SELU_ALPHA
    dy[~neg] *= _SELU_SCALE
    return dy


def _softplus_fwd(z: Array) -> Array:
    return np.logaddexp(z, 0, out=z)


def _softplus_bwd(dy: Array, y: Array) -> Array:
    # d/dz log(1 + e^z) = sigmoid(z) = 1 - e^-y
    dy *= -np.expm1(-y)
    return dy


def _softsign_fwd(z: Array) -> Array:
    z /= 1 + np.abs(z)
    return z


def _softsign_bwd(dy: Array, y: Array) -> Array:
    # 1 / (1 + |z|)^2 = (1 - |y|)^2
    dy *= np.square(1 - np.abs(y))
    return dy


def _hard_sigmoid_fwd(z: Array) -> Array:
    z *= 0.2
    z += 0.5
    return np.clip(z, 0.0, 1.0, out=z)


def _hard_sigmoid_bwd(dy: Array, y: Array) -> Array:
    dy *= 0.2 * ((y > 0) & (y < 1))
    return dy


_REGISTRY: dict[str, ActivationFunction] = {
    f.name: f
    for f in (
        ActivationFunction("linear", _linear_fwd, _linear_bwd),
        ActivationFunction("relu", _relu_fwd, _relu_bwd),
        ActivationFunction("sigmoid", _sigmoid_fwd, _sigmoid_bwd),
        ActivationFunction("tanh", _tanh_fwd, _tanh_bwd),
        ActivationFunction("softmax", _softmax_fwd, _softmax_bwd),
        ActivationFunction("elu", _elu_fwd, _elu_bwd),
        ActivationFunction("selu", _selu_fwd, _selu_bwd),
        ActivationFunction("softplus", _softplus_fwd, _softplus_bwd),
        ActivationFunction("softsign", _softsign_fwd, _softsign_bwd),
        ActivationFunction("hard_sigmoid", _hard_sigmoid_fwd, _hard_sigmoid_bwd),
    )
}

linear = _REGISTRY["linear"]
relu = _REGISTRY["relu"]
sigmoid = _REGISTRY["sigmoid"]
tanh = _REGISTRY["tanh"]
softmax = _REGISTRY["softmax"]
elu = _REGISTRY["elu"]
selu = _REGISTRY["selu"]
softplus = _REGISTRY["softplus"]
softsign = _REGISTRY["softsign"]
hard_sigmoid = _REGISTRY["hard_sigmoid"]

NAMES = tuple(_REGISTRY)


def get(identifier: str | ActivationFunction | None) -> ActivationFunction:
    """Return the activation for a Keras name, None (linear) or an activation.

    Raises:
        ConfigError: An unknown name or type; the message lists valid names.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str) and identifier in _REGISTRY:
        return _REGISTRY[identifier]
    raise unknown_name("activation", "activations", identifier, _REGISTRY)


__all__ = [
    "NAMES",
    "ActivationFunction",
    "elu",
    "get",
    "hard_sigmoid",
    "linear",
    "relu",
    "selu",
    "sigmoid",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
]
