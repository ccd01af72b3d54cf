"""Keras 2's normalization layer: `BatchNormalization`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import ConfigError
from .. import initializers
from .base import Array, Layer, Shape, not_built
from .kernels import init_config, regularizer, regularizer_config

Reducer = Callable[[Array], Array]
"""Sums an array over the ranks of a data-parallel run, in place."""


class BatchNormalization(Layer):
    """Normalizes each feature by the batch's statistics while training and
    by their moving averages at inference, as Keras 2.2.4 does.

    Weights, in Keras's order: ``gamma`` (when ``scale``), ``beta`` (when
    ``center``), then ``moving_mean`` and ``moving_variance``, which have no
    gradients and change in ``forward(x, training=True)``.

    Args:
        axis: The features axis of the batch (``-1``: channels_last); any
            axis but the batch axis.
        momentum: Weight of the old value in the moving averages, in [0, 1].
        epsilon: Added to the variance before its square root; > 0.
        center: Whether to add the learned offset ``beta``.
        scale: Whether to multiply by the learned ``gamma``.
        beta_initializer: Initializer of ``beta``.
        gamma_initializer: Initializer of ``gamma``.
        moving_mean_initializer: Initializer of the moving mean.
        moving_variance_initializer: Initializer of the moving variance.
        beta_regularizer: A penalty on ``beta`` (`hookfit.regularizers`).
        gamma_regularizer: A penalty on ``gamma``.
        beta_constraint: Must be None: hookfit has no constraints.
        gamma_constraint: Must be None.
        **kwargs: `Layer` arguments (``input_shape``, ``name``, ...).
    """

    class_name = "BatchNormalization"

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: str | initializers.Initializer = "zeros",
        gamma_initializer: str | initializers.Initializer = "ones",
        moving_mean_initializer: str | initializers.Initializer = "zeros",
        moving_variance_initializer: str | initializers.Initializer = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ConfigError(
                f"{self.name}: axis must be an integer such as -1 (the last axis), got {axis!r}."
            )
        self.axis = int(axis)
        self.momentum = _real(self.name, "momentum", momentum, "in [0, 1], e.g. 0.99")
        if not 0.0 <= self.momentum <= 1.0:
            raise ConfigError(
                f"{self.name}: momentum must be in [0, 1], e.g. 0.99, got {momentum!r}."
            )
        self.epsilon = _real(self.name, "epsilon", epsilon, "> 0, e.g. 1e-3")
        if not self.epsilon > 0.0:
            raise ConfigError(f"{self.name}: epsilon must be > 0, e.g. 1e-3, got {epsilon!r}.")
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        # a penalty on a weight the layer does not have is dropped, as in Keras
        self.gamma_regularizer = regularizer(gamma_regularizer) if self.scale else None
        self.beta_regularizer = regularizer(beta_regularizer) if self.center else None
        # index of each trainable weight: gamma first, then beta
        penalties = [self.gamma_regularizer] * self.scale + [self.beta_regularizer] * self.center
        self.regularizers = [(i, r) for i, r in enumerate(penalties) if r is not None]
        for key, value in (
            ("beta_constraint", beta_constraint),
            ("gamma_constraint", gamma_constraint),
        ):
            no_constraint(self.name, key, value)
        self.weight_names = (
            *(("gamma",) if self.scale else ()),
            *(("beta",) if self.center else ()),
            "moving_mean",
            "moving_variance",
        )
        self.sync: Reducer | None = None
        """Set by a data-parallel step: sums the batch moments over the
        ranks, so that every rank normalizes by the global batch's
        statistics (see `forward`)."""
        self._view: tuple[int, ...] = (0, 0)
        self._pairs = "ij,ij->j"
        """einsum of per-feature sums of products on the view."""
        self._before = self._after = 1
        """Sizes of the sample axes before and after the features axis."""
        self._ones: Array = np.ones(0, self.dtype)
        self._xhat: Array = np.empty(0, self.dtype)
        self._x: Array = self._xhat
        self._inv: Array | None = None
        self._count = 0.0
        self._training = False

    # -- shapes ------------------------------------------------------------------

    def _feature_axis(self, input_shape: Shape) -> int:
        """The features axis of the sample shape (the batch axis removed)."""
        rank = len(input_shape) + 1
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ConfigError(
                f"{self.name}: axis {self.axis} is not a features axis of inputs of shape "
                f"(batch, {', '.join(map(str, input_shape))}); use an axis in 1..{rank - 1} "
                f"or -{rank - 1}..-1 (-1: channels_last)."
            )
        return self.axis % rank - 1

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._feature_axis(input_shape)
        return input_shape

    def weight_shapes(self, input_shape: Any) -> list[Shape]:
        return [(input_shape[self._feature_axis(input_shape)],)] * len(self.weight_names)

    def build(self, input_shape: Any, rng: np.random.Generator) -> None:
        self.check_budget(input_shape)
        shape = self.weight_shapes(input_shape)[0]
        inits = [
            *((self.gamma_initializer,) if self.scale else ()),
            *((self.beta_initializer,) if self.center else ()),
            self.moving_mean_initializer,
            self.moving_variance_initializer,
        ]
        self.weights = [np.ascontiguousarray(init(shape, rng, self.dtype)) for init in inits]
        self.grads = [np.zeros_like(w) for w in self.weights[: len(inits) - 2]]
        axis = self._feature_axis(input_shape)
        self._before = int(np.prod(input_shape[:axis], dtype=np.int64))
        self._after = int(np.prod(input_shape[axis + 1 :], dtype=np.int64))
        self._pairs = "ij,ij->j" if self._after == 1 else "icj,icj->c"
        super().build(input_shape, rng)

    # -- numerics ----------------------------------------------------------------

    def _gamma_beta(self) -> tuple[Array | None, Array | None]:
        gamma = self.weights[0] if self.scale else None
        beta = self.weights[int(self.scale)] if self.center else None
        return gamma, beta

    def _per(self, v: Array) -> Array:
        """A per-feature vector shaped to broadcast against the view."""
        return v if len(self._view) == 2 else v[:, None]

    def _sum(self, v: Array) -> Array:
        """Per-feature sums of ``v`` (the view)."""
        if v.ndim == 3:
            return np.einsum("icj->c", v)
        # a BLAS product: twice as fast as sum(axis=0) on conv outputs
        if len(self._ones) != len(v):
            self._ones = np.ones(len(v), self.dtype)
        return self._ones @ v

    def _reduce(self, *parts: Array) -> list[Array]:
        """``parts`` summed over the ranks by `sync`, in one message."""
        if self.sync is None:
            return list(parts)
        joined = self.sync(np.concatenate(parts, dtype=np.float64))
        return np.split(joined, np.cumsum([len(p) for p in parts[:-1]]))

    def forward(self, x: Array, training: bool) -> Array:
        """Normalize ``x``; while training, also update the moving statistics.

        With `sync` set, the batch statistics are those of the global batch
        (every rank's share together), as one process computes them.
        """
        mean_w, var_w = self.weights[-2], self.weights[-1]
        # (rows, features) when the features axis is last, else (rows,
        # features, cols): numpy's loops run fast over a long last axis only
        view: tuple[int, ...] = (len(x) * self._before, len(mean_w), self._after)
        self._view = view = view if self._after > 1 else view[:2]
        xv = x.reshape(view)
        self._training = training
        gamma, beta = self._gamma_beta()
        y = self._buffer("y", *view)
        if not training:
            # (x - mean) / sqrt(var + eps) * gamma + beta as one multiply-add
            inv = 1.0 / np.sqrt(var_w + self.epsilon)
            factor = inv if gamma is None else inv * gamma
            shift = -mean_w * factor if beta is None else beta - mean_w * factor
            np.multiply(xv, self._per(factor), out=y)
            y += self._per(shift)
            self._x, self._inv = xv, inv
            return y.reshape(x.shape)
        total, count = self._reduce(self._sum(xv), np.array([xv.size // len(mean_w)], np.float64))
        n = float(count[0])
        self._count = n
        if not n:  # nothing to normalize anywhere
            self._xhat, self._inv = y, np.zeros_like(mean_w)
            return y.reshape(x.shape)
        mean = total / n
        xhat = self._buffer("xhat", *view)
        np.subtract(xv, self._per(mean), out=xhat, casting="same_kind")
        (squares,) = self._reduce(np.einsum(self._pairs, xhat, xhat))
        var = squares / n  # biased: the normalization uses it
        inv = (1.0 / np.sqrt(var + self.epsilon)).astype(self.dtype)
        xhat *= self._per(inv)
        if gamma is None:
            np.copyto(y, xhat)
        else:
            np.multiply(xhat, self._per(gamma), out=y)
        if beta is not None:
            y += self._per(beta)
        self._xhat, self._inv = xhat, inv
        # Keras 2.2.4 feeds the moving variance the unbiased sample variance,
        # with its own factor n / (n - (1 + epsilon)), and uses the moving
        # average of its Theano and CNTK backends (and of tf.keras):
        # moving = moving * momentum + batch * (1 - momentum). Its TensorFlow
        # backend instead divides by 1 - momentum**step (TF's zero_debias),
        # with a hidden step counter that its model files do not keep.
        # A frozen layer (trainable=False) keeps them: Keras 2's Layer.updates
        # is empty then.
        unbiased = var * (n / (n - (1.0 + self.epsilon)))
        for moving, batch_value in ((mean_w, mean), (var_w, unbiased)) if self.trainable else ():
            moving *= self.momentum
            moving += batch_value * (1.0 - self.momentum)
        return y.reshape(x.shape)

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        """See `Layer.backward`: the exact gradient of the batch statistics
        after ``forward(training=True)``, of the moving ones after
        ``forward(training=False)``."""
        if self._inv is None:
            raise not_built(self)
        dyv = dy.reshape(self._view)
        gamma = self._gamma_beta()[0]
        xhat = self._xhat
        if not self._training:
            # the normalized input at inference, for gamma's gradient
            xhat = self._buffer("xhat", *self._view)
            np.subtract(self._x, self._per(self.weights[-2]), out=xhat)
            xhat *= self._per(self._inv)
        dbeta, dgamma = self._sum(dyv), np.einsum(self._pairs, dyv, xhat)
        if self.scale:
            self.grads[0][...] = dgamma
        if self.center:
            self.grads[int(self.scale)][...] = dbeta
        if not need_dx:
            return None
        factor = self._inv if gamma is None else self._inv * gamma
        dx = self._buffer("dx", *self._view)
        if not self._training:
            np.multiply(dyv, self._per(factor), out=dx)
            return dx.reshape(dy.shape)
        # dx = factor * (dy - mean(dy) - xhat * mean(dy * xhat)), the means
        # over the global batch
        dbeta, dgamma = self._reduce(dbeta, dgamma)
        n = self._count or 1.0  # an empty global batch: empty dx
        np.multiply(xhat, self._per(-factor * dgamma / n), out=dx)
        dx += self._per(-factor * dbeta / n)
        dyv *= self._per(factor)
        dx += dyv
        return dx.reshape(dy.shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": init_config(self.beta_initializer),
            "gamma_initializer": init_config(self.gamma_initializer),
            "moving_mean_initializer": init_config(self.moving_mean_initializer),
            "moving_variance_initializer": init_config(self.moving_variance_initializer),
            "beta_regularizer": regularizer_config(self.beta_regularizer),
            "gamma_regularizer": regularizer_config(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
        }


def _real(owner: str, name: str, value: Any, valid: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{owner}: {name} must be a number {valid}, got {value!r}.")
    return float(value)


def no_constraint(owner: str, key: str, value: Any) -> None:
    """Refuse a weight constraint: hookfit has none (None passes).

    Raises:
        ConfigError: ``value`` is not None.
    """
    if value is not None:
        raise ConfigError(
            f"{owner}: {key}={value!r}: hookfit has no weight constraints; remove {key}."
        )


__all__ = ["BatchNormalization"]
