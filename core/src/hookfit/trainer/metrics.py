"""Keras 2.2.4's metric functions on numpy arrays: one score per sample
(``keras.metrics``). What ``compile(metrics=[...])`` holds becomes a metric
of a model in `hookfit.trainer.compile_metrics`."""

from __future__ import annotations

import numpy as np

from . import losses
from .losses import EPSILON, class_ids, per_sample

Array = np.ndarray


def binary_accuracy(y_true: Array, y_pred: Array) -> Array:
    """Per sample, the fraction of outputs whose rounded prediction equals the
    target (Keras rounds half to even, as numpy does)."""
    return _rows(np.equal(y_true, np.round(y_pred)))


def categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """1.0 where the most probable class is the one-hot target's, else 0.0."""
    return _rows(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1))


def sparse_categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """1.0 where the most probable class is the class id in ``y_true``
    (shape ``(n,)`` or ``(n, 1)``), else 0.0."""
    guess = np.argmax(y_pred, axis=-1)
    # Keras compares the ids as floats: a target of 1.5 is never right.
    return _rows(np.reshape(y_true, guess.shape) == guess)


def top_k_categorical_accuracy(y_true: Array, y_pred: Array, k: int = 5) -> Array:
    """1.0 where the one-hot target's class is among the ``k`` most probable."""
    return in_top_k(y_pred, np.argmax(y_true, axis=-1), k)


def sparse_top_k_categorical_accuracy(y_true: Array, y_pred: Array, k: int = 5) -> Array:
    """1.0 where the class id in ``y_true`` is among the ``k`` most probable."""
    return in_top_k(y_pred, class_ids(y_true), k)


def in_top_k(predictions: Array, targets: Array, k: int) -> Array:
    """TensorFlow's ``in_top_k``, Keras 2's default backend, as 0.0/1.0.

    A target is in the top ``k`` when fewer than ``k`` classes score strictly
    higher, so classes tied at the boundary all count as in. A row with a
    non-finite score, or a target outside the classes, is not.
    """
    predictions = np.asarray(predictions)
    targets = np.asarray(targets)
    valid = (targets >= 0) & (targets < predictions.shape[-1])
    rows = np.arange(len(targets))
    target_score = predictions[rows, np.where(valid, targets, 0)]
    higher = np.count_nonzero(predictions > target_score[:, None], axis=-1)
    finite = np.isfinite(predictions).all(axis=-1)
    return (valid & finite & (higher < k)).astype(np.float64)


# Keras 2.2.4's other losses, as metrics only: hookfit cannot train on them.
def mean_absolute_percentage_error(y_true: Array, y_pred: Array) -> Array:
    """100 * mean |(y_true - y_pred) / y_true|, with |y_true| clipped to epsilon."""
    scale = np.maximum(np.abs(y_true), EPSILON)
    return per_sample(100.0 * np.mean(np.abs((y_true - y_pred) / scale), axis=-1))


def mean_squared_logarithmic_error(y_true: Array, y_pred: Array) -> Array:
    """Mean squared difference of log(1 + x), with x clipped to epsilon."""
    first = np.log(np.maximum(y_pred, EPSILON) + 1.0)
    second = np.log(np.maximum(y_true, EPSILON) + 1.0)
    return per_sample(np.mean(np.square(first - second), axis=-1))


def hinge(y_true: Array, y_pred: Array) -> Array:
    """Mean of max(1 - y_true * y_pred, 0), for targets of -1 and 1."""
    return per_sample(np.mean(np.maximum(1.0 - y_true * y_pred, 0.0), axis=-1))


def squared_hinge(y_true: Array, y_pred: Array) -> Array:
    """Mean of max(1 - y_true * y_pred, 0) squared."""
    return per_sample(np.mean(np.square(np.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1))


def logcosh(y_true: Array, y_pred: Array) -> Array:
    """Mean of log(cosh(y_pred - y_true)), computed without overflow."""
    x = y_pred - y_true
    return per_sample(np.mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0), axis=-1))


def kullback_leibler_divergence(y_true: Array, y_pred: Array) -> Array:
    """Sum of y_true * log(y_true / y_pred), both clipped to [epsilon, 1]."""
    t = np.clip(y_true, EPSILON, 1.0)
    p = np.clip(y_pred, EPSILON, 1.0)
    return per_sample(np.sum(t * np.log(t / p), axis=-1))


def poisson(y_true: Array, y_pred: Array) -> Array:
    """Mean of y_pred - y_true * log(y_pred + epsilon)."""
    return per_sample(np.mean(y_pred - y_true * np.log(y_pred + EPSILON), axis=-1))


def cosine_proximity(y_true: Array, y_pred: Array) -> Array:
    """Minus the cosine of the angle between target and prediction rows."""

    def unit(x: Array) -> Array:  # TensorFlow's l2_normalize: norms floored at 1e-6
        return x / np.sqrt(np.maximum(np.sum(np.square(x), axis=-1, keepdims=True), 1e-12))

    return per_sample(-np.sum(unit(y_true) * unit(y_pred), axis=-1))


def _rows(matches: Array) -> Array:
    """Per-sample means of a boolean array (a scalar row per sample for 1-D)."""
    return per_sample(np.asarray(matches, dtype=np.float64))


# Keras's aliases, so that ``from keras.metrics import mse`` keeps working.
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
cosine = cosine_proximity
mean_squared_error = mse = MSE = losses.mean_squared_error
mean_absolute_error = mae = MAE = losses.mean_absolute_error
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy


__all__ = [
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "binary_accuracy",
    "binary_crossentropy",
    "categorical_accuracy",
    "categorical_crossentropy",
    "cosine",
    "cosine_proximity",
    "hinge",
    "in_top_k",
    "kullback_leibler_divergence",
    "logcosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "poisson",
    "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy",
    "squared_hinge",
    "top_k_categorical_accuracy",
]
