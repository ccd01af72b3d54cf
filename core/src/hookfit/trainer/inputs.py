"""Checking what `fit`, `evaluate` and `predict` are given, before any hook
runs: the data's shapes and sizes and the loop's arguments."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import ConfigError, ModelError
from . import losses

if TYPE_CHECKING:
    from .network import Network

Array = np.ndarray
_NOT_NUMBERS = {
    "U": "text",
    "S": "bytes",
    "O": "Python objects",
    "V": "structured records",
    "c": "complex numbers",
    "M": "dates",
    "m": "time spans",
}


def numbers(value: Any, name: str, what: str, dtype: Any = None) -> Array:
    """``value`` as an array of numbers (of ``dtype`` when given).

    Raises:
        ConfigError: A dict, a generator, ragged rows, or values that are
            not numbers (text, objects, records, complex numbers).
    """
    if isinstance(value, Mapping):
        raise ConfigError(
            f"{what}: {name} is a dict (keys {', '.join(map(repr, list(value)[:5]))}); "
            f"this model takes one array as {name}: pass the array itself."
        )
    if isinstance(value, Iterator):
        raise ConfigError(
            f"{what}: {name} is a generator or iterator; pass an array, or give the "
            "generator to fit_generator, evaluate_generator or predict_generator."
        )
    try:
        arr = np.asarray(value)
    except ValueError:  # rows of different lengths
        raise ConfigError(
            f"{what}: {name} has rows of different lengths; every sample needs the same "
            "shape: pad or cut the rows to one length."
        ) from None
    if arr.dtype.kind not in "biuf":
        held = _NOT_NUMBERS.get(arr.dtype.kind, f"dtype {arr.dtype}")
        raise ConfigError(
            f"{what}: {name} must hold numbers; got {held} (dtype {arr.dtype}). Convert it "
            f"first, e.g. {name}.astype('float32'), with class names mapped to integers."
        )
    return arr if dtype is None else arr.astype(dtype, copy=False)


def prepare_x(model: Network, x: Any, what: str) -> Array:
    """``x`` as a contiguous float32 array that fits the model (building it
    on first use).

    Raises:
        ConfigError: No data, no samples, or a shape the model cannot take.
        ModelError: The model has no layers.
    """
    if x is None:
        raise ConfigError(f"{what}: no input data (x is None).")
    if not model.layers:
        raise ModelError(f"{what}: model {model.name} has no layers; add() some first.")
    arr = numbers(x, "x", what, np.float32)
    first = model.layers[0]
    if arr.ndim >= 1 and len(arr) == 0:
        raise ConfigError(f"{what}: x holds no samples (shape {arr.shape}); pass at least one.")
    if arr.ndim < 2:
        raise ConfigError(f"{what}: x must have shape (samples, features); got shape {arr.shape}.")
    if arr.ndim > 2 and not first.flattens:
        raise ConfigError(
            f"{what}: x has shape {arr.shape}, but {first.name} takes (samples, features). "
            f"Reshape x to ({len(arr)}, {int(np.prod(arr.shape[1:]))}) or add "
            f"Flatten(input_shape={arr.shape[1:]}) as the first layer."
        )
    features = int(np.prod(arr.shape[1:]))
    if model.input_dim is not None and features != model.input_dim:
        raise ConfigError(
            f"{what}: x has {features} features per sample, but the model's first layer "
            f"{first.name} expects {model.input_dim}."
        )
    if not model.built:
        model.build(features)
    return np.ascontiguousarray(arr)


def prepare_y(model: Network, y: Any, n: int, what: str) -> Array:
    """``y`` as the array the model's loss takes, for ``n`` samples.

    Raises:
        ConfigError: No targets, or a shape or label the loss cannot take.
    """
    loss = cast(losses.Loss, model.loss)
    if y is None:
        raise ConfigError(f"{what}: no targets (y is None).")
    units = model.output_dim
    if loss.fuses_with == "softmax" and units == 1:
        raise ConfigError(
            f"{what}: {loss.name} needs one output per class, at least 2; the model has 1, so "
            "its softmax is always 1 and nothing is learned. Give the last layer one unit per "
            "class, or for two classes one sigmoid unit with binary_crossentropy."
        )
    if loss.sparse:
        arr = numbers(y, "y", what)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1 or (arr.size and not np.all(np.mod(arr, 1) == 0)):
            raise ConfigError(
                f"{what}: {loss.name} takes integer class labels of shape (samples,); "
                f"got shape {arr.shape}, dtype {arr.dtype}. For one-hot targets use "
                "categorical_crossentropy."
            )
        arr = arr.astype(np.intp)
        if arr.size and (arr.min() < 0 or arr.max() >= (units or 0)):
            raise ConfigError(
                f"{what}: labels must be in [0, {units}) for {units} outputs; "
                f"got {arr.min()}..{arr.max()}."
            )
    else:
        arr = numbers(y, "y", what, np.float32)
        if arr.ndim == 1 and units == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != units:
            hint = ""
            column = arr.ndim == 2 and arr.shape[1] == 1  # class labels saved as a column
            if (arr.ndim == 1 or column) and loss.fuses_with == "softmax":
                hint = (
                    " These look like class labels: one-hot encode them with "
                    "hookfit.utils.to_categorical(y), or compile with "
                    "loss='sparse_categorical_crossentropy'."
                )
            raise ConfigError(
                f"{what}: y must have shape (samples, {units}) for the model's {units} "
                f"outputs; got {arr.shape}.{hint}"
            )
    if len(arr) != n:
        raise ConfigError(f"{what}: x has {n} samples but y has {len(arr)}; they must match.")
    return np.ascontiguousarray(arr)


def batch_size(value: Any) -> int:
    """The batch size (32 when None).

    Raises:
        ConfigError: Not a positive integer.
    """
    if value is None:
        return 32
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {value!r}.")
    return int(value)


def count(name: str, value: Any, what: str = "fit") -> int:
    """An epoch count or index.

    Raises:
        ConfigError: Not an integer >= 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{what}: {name} must be an integer >= 0, got {value!r}.")
    return int(value)


def verbose(value: Any) -> int:
    """The verbosity.

    Raises:
        ConfigError: Not 0, 1 or 2.
    """
    if value not in (0, 1, 2) or isinstance(value, bool):
        raise ConfigError(f"verbose must be 0, 1 or 2, got {value!r}.")
    return int(value)


def validation(model: Network, data: Any) -> tuple[Array, Array]:
    """``validation_data`` as ``(x_val, y_val)`` arrays.

    Raises:
        ConfigError: Not a pair, or empty, or arrays that do not fit.
    """
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise ConfigError("fit: validation_data must be a tuple (x_val, y_val).")
    x_val = prepare_x(model, data[0], "fit(validation_data)")
    return x_val, prepare_y(model, data[1], len(x_val), "fit(validation_data)")


def fit_data(
    model: Network, x: Any, y: Any, validation_split: Any, validation_data: Any
) -> tuple[Array, Array, Array | None, Array | None]:
    """`fit`'s ``(x, y, x_val, y_val)``: checked, and split when asked.

    Raises:
        ConfigError: Bad data, a split outside [0, 1), or a split or data
            that leaves no training or no validation samples.
    """
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)):
        raise ConfigError(
            f"fit: validation_split must be a number in [0, 1), got {validation_split!r}."
        )
    if not 0 <= validation_split < 1:
        raise ConfigError(f"fit: validation_split must be in [0, 1), got {validation_split!r}.")
    x = prepare_x(model, x, "fit")
    y = prepare_y(model, y, len(x), "fit")
    x_val = y_val = None
    if validation_data is not None:
        x_val, y_val = validation(model, validation_data)
    elif validation_split:
        split = int(len(x) * (1.0 - validation_split))
        x, x_val, y, y_val = x[:split], x[split:], y[:split], y[split:]
        if not len(x_val):
            raise ConfigError(
                f"fit: validation_split={validation_split} leaves no validation samples "
                f"out of {len(x) + len(x_val)}; raise it or pass validation_data."
            )
    if not len(x):
        raise ConfigError("fit: there are no training samples.")
    return x, y, x_val, y_val


__all__ = ["batch_size", "count", "fit_data", "prepare_x", "prepare_y", "validation", "verbose"]
