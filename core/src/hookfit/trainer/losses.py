"""Loss functions with their gradients, the accuracy metrics, and Keras 2's
sample weighting.

A loss is the mean over the batch (and, for the elementwise losses, over the
outputs), as in Keras. ``values`` gives the per-sample losses whose mean
that is, which `weighted_mean` weighs. ``gradient`` is d(loss)/d(y_pred). When the model's
last activation is the one a loss pairs with (softmax for the cross-entropies,
sigmoid for binary cross-entropy), the trainer uses ``fused_gradient``,
d(loss)/d(pre-activation) = (y_pred - y_true) / n, which is cheaper and
better conditioned.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..errors import ModelError, unknown_name

Array = np.ndarray
EPSILON = 1e-7  # Keras's K.epsilon(): probabilities are clipped to [eps, 1 - eps]


def per_sample(values: Array) -> Array:
    """The mean of ``values`` over every axis but the batch axis, shape ``(n,)``.

    Keras 2 means a loss over the last axis, then over the axes the sample
    weights do not cover; for 1-D sample weights that is all but the first.
    """
    if values.ndim == 1:
        return values
    return values.reshape(len(values), -1).mean(axis=1)


def class_ids(y_true: Array) -> Array:
    """Integer class ids of shape ``(n,)`` from ids of shape ``(n,)`` or ``(n, 1)``."""
    ids = np.asarray(y_true).reshape(len(y_true))
    return ids if ids.dtype.kind in "iu" else ids.astype(np.intp)


class Loss(ABC):
    """A loss by Keras name.

    Attributes:
        name: The Keras name.
        fuses_with: The activation whose pre-activation gradient is simply
            ``(y_pred - y_true) / n`` with this loss, or None.
        sparse: True when ``y_true`` holds integer class indices.
    """

    name = "loss"
    fuses_with: str | None = None
    sparse = False

    @abstractmethod
    def __call__(self, y_true: Array, y_pred: Array) -> float:
        """Return the batch's mean loss."""

    @abstractmethod
    def values(self, y_true: Array, y_pred: Array) -> Array:
        """Return the per-sample losses, shape ``(n,)``: the mean over the
        last axis where Keras takes it, then over any other non-batch axes
        (as Keras 2 does before it applies sample weights)."""

    @abstractmethod
    def gradient(self, y_true: Array, y_pred: Array) -> Array:
        """Return d(mean loss)/d(y_pred), a new array."""

    def fused_value(self, y_true: Array, y_pred: Array) -> float:
        """The batch's mean loss when ``y_pred`` is the output of `fuses_with`
        (the trainer computes it for every batch some plugin logs)."""
        return self(y_true, y_pred)

    def fused_gradient(self, y_true: Array, y_pred: Array) -> Array:
        """Return d(mean loss)/d(pre-activation) for `fuses_with`.

        Overwrites and returns ``y_pred``, which the caller owns.

        Raises:
            ModelError: This loss pairs with no activation.
        """
        raise ModelError(
            f"The loss {self.name} has no fused gradient: it pairs with no activation."
        )

    def __repr__(self) -> str:
        return f"<loss {self.name}>"


class CategoricalCrossentropy(Loss):
    """Cross-entropy between one-hot (or soft) targets and probabilities."""

    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        p = np.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
        return float(-np.einsum("ij,ij->", y_true, np.log(p)) / len(y_true))

    def values(self, y_true: Array, y_pred: Array) -> Array:
        p = np.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
        return per_sample(-np.sum(y_true * np.log(p), axis=-1))

    def gradient(self, y_true: Array, y_pred: Array) -> Array:
        # Through the renormalisation q = p / sum(p) and the clip, exactly.
        total = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / total
        inside = (q > EPSILON) & (q < 1 - EPSILON)
        dq = np.where(inside, -y_true / np.clip(q, EPSILON, 1 - EPSILON), 0.0) / len(y_true)
        return (dq - np.einsum("ij,ij->i", dq, q)[:, None]) / total

    def fused_value(self, y_true: Array, y_pred: Array) -> float:
        # Softmax rows already sum to 1, so Keras's renormalisation is skipped:
        # three numpy calls instead of six, for every logged batch.
        return -float(np.vdot(y_true, np.log(np.maximum(y_pred, EPSILON)))) / len(y_true)

    def fused_gradient(self, y_true: Array, y_pred: Array) -> Array:
        y_pred -= y_true
        y_pred *= 1.0 / len(y_pred)
        return y_pred


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy with integer class targets of shape ``(n,)`` or ``(n, 1)``."""

    name = "sparse_categorical_crossentropy"
    fuses_with = "softmax"
    sparse = True

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        return float(self.values(y_true, y_pred).mean())

    def values(self, y_true: Array, y_pred: Array) -> Array:
        ids = class_ids(y_true)
        return -np.log(np.clip(y_pred[np.arange(len(ids)), ids], EPSILON, 1 - EPSILON))

    def gradient(self, y_true: Array, y_pred: Array) -> Array:
        rows, ids = np.arange(len(y_true)), class_ids(y_true)
        grad = np.zeros_like(y_pred)
        grad[rows, ids] = -1.0 / np.clip(y_pred[rows, ids], EPSILON, 1 - EPSILON)
        return grad / len(y_true)

    def fused_gradient(self, y_true: Array, y_pred: Array) -> Array:
        y_pred[np.arange(len(y_true)), class_ids(y_true)] -= 1
        y_pred *= 1.0 / len(y_pred)
        return y_pred


class BinaryCrossentropy(Loss):
    """Elementwise binary cross-entropy of probabilities."""

    name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log1p(-p)))

    def values(self, y_true: Array, y_pred: Array) -> Array:
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return per_sample(-(y_true * np.log(p) + (1 - y_true) * np.log1p(-p)))

    def gradient(self, y_true: Array, y_pred: Array) -> Array:
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return (p - y_true) / (p * (1 - p)) / y_pred.size

    def fused_gradient(self, y_true: Array, y_pred: Array) -> Array:
        y_pred -= y_true
        y_pred *= 1.0 / y_pred.size
        return y_pred


class MeanSquaredError(Loss):
    """Mean of squared differences."""

    name = "mean_squared_error"

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        return float(np.mean(np.square(y_pred - y_true)))

    def values(self, y_true: Array, y_pred: Array) -> Array:
        return per_sample(np.square(y_pred - y_true))

    def gradient(self, y_true: Array, y_pred: Array) -> Array:
        return (y_pred - y_true) * (2.0 / y_pred.size)


class MeanAbsoluteError(Loss):
    """Mean of absolute differences."""

    name = "mean_absolute_error"

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        return float(np.mean(np.abs(y_pred - y_true)))

    def values(self, y_true: Array, y_pred: Array) -> Array:
        return per_sample(np.abs(y_pred - y_true))

    def gradient(self, y_true: Array, y_pred: Array) -> Array:
        return np.sign(y_pred - y_true) / y_pred.size


categorical_crossentropy = CategoricalCrossentropy()
sparse_categorical_crossentropy = SparseCategoricalCrossentropy()
binary_crossentropy = BinaryCrossentropy()
mean_squared_error = mse = MeanSquaredError()
mean_absolute_error = mae = MeanAbsoluteError()

_REGISTRY: dict[str, Loss] = {
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
}


def get(identifier: str | Loss) -> Loss:
    """Return the loss for a Keras name or a `Loss`.

    Raises:
        ConfigError: An unknown name; the message lists the valid ones.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier in _REGISTRY:
        return _REGISTRY[identifier]
    raise unknown_name("loss", "losses", identifier, _REGISTRY)


def weighted_mean(values: Array, sample_weight: Array | None) -> float:
    """Keras 2's sample-weighted loss of a batch.

    Keras 2.2.4 multiplies each sample's loss by its weight, divides by the
    fraction of nonzero weights, and takes the mean: ``mean(values * w) /
    mean(w != 0)``. Samples of weight 0 are thus left out rather than
    averaged in as zeros.

    Args:
        values: Per-sample losses, shape ``(n,)`` (`Loss.values`).
        sample_weight: Weights of shape ``(n,)``, or None for the plain mean.

    Returns:
        The weighted loss. A batch whose weights are all 0 has nothing to
        learn from and gives 0.0, where Keras's ``0 / 0`` would give NaN and
        turn every weight into NaN at the next update.
    """
    if sample_weight is None:
        return float(np.mean(values))
    nonzero = np.count_nonzero(sample_weight)
    if nonzero == 0:
        return 0.0
    return float(np.dot(values, sample_weight)) / nonzero


def gradient_scale(sample_weight: Array) -> Array:
    """Per-sample factors turning the unweighted gradient into the weighted one.

    d(weighted loss)/d(output_i) = w_i / mean(w != 0) * d(mean loss)/d(output_i),
    so the caller multiplies row i of `Loss.gradient` (or `fused_gradient`)
    by factor i: ``grad *= f.reshape(-1, *(1,) * (grad.ndim - 1))``.

    Args:
        sample_weight: Weights of shape ``(n,)``.

    Returns:
        float32 factors of shape ``(n,)``; all 0 for a batch of zero weights
        (see `weighted_mean`).
    """
    nonzero = np.count_nonzero(sample_weight)
    scale = len(sample_weight) / nonzero if nonzero else 0.0
    return np.multiply(sample_weight, scale, dtype=np.float32)


def accuracy_for(loss: Loss, units: int) -> str:
    """The accuracy Keras 2 picks for ``metrics=['accuracy']``: binary for one
    output unit or binary cross-entropy, else sparse for a sparse loss, else
    categorical, in that order (Keras 2.2.4's ``compile``)."""
    if units == 1 or loss.name == "binary_crossentropy":
        return "binary"
    if loss.sparse:
        return "sparse_categorical"
    return "categorical"


def accuracy(kind: str, y_true: Array, y_pred: Array) -> float:
    """The fraction of correct predictions for an `accuracy_for` kind.

    Superseded by `hookfit.trainer.metrics` (Keras's exact rounding for the
    binary kind); kept until the model computes its metrics there.
    """
    if kind == "binary":
        return float(np.mean((y_pred > 0.5) == (y_true > 0.5)))
    guess = y_pred.argmax(axis=-1)
    truth = y_true if kind == "sparse_categorical" else y_true.argmax(axis=-1)
    return float(np.mean(guess == truth))


__all__ = [
    "EPSILON",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "accuracy",
    "accuracy_for",
    "binary_crossentropy",
    "categorical_crossentropy",
    "class_ids",
    "get",
    "gradient_scale",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "per_sample",
    "sparse_categorical_crossentropy",
    "weighted_mean",
]
