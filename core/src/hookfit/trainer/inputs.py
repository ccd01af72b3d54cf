"""Checking what `fit`, `evaluate` and `predict` are given, before any hook
runs: the data's shapes and sizes and the loop's arguments."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

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


def _by_name(data: Any, names: list[str], what: str, kind: str) -> list[Any]:
    """``data`` for several inputs or outputs as a list in model order: a
    list or tuple, or a dict by layer name."""
    if isinstance(data, Mapping):
        missing = [n for n in names if n not in data]
        if missing:
            given = ", ".join(repr(k) for k in data) or "none"
            raise ConfigError(
                f"{what}: {kind} has no entry for {missing[0]!r}; the model's {kind} names are "
                f"{', '.join(names)} (got {given})."
            )
        return [data[n] for n in names]
    if isinstance(data, (list, tuple)) and len(names) > 1:
        if len(data) != len(names):
            raise ConfigError(
                f"{what}: the model has {len(names)} {kind}s ({', '.join(names)}) but got a "
                f"list of {len(data)} arrays; pass one array per {kind}."
            )
        return list(data)
    if len(names) > 1:
        raise ConfigError(
            f"{what}: the model has {len(names)} {kind}s ({', '.join(names)}); pass a list of "
            f"{len(names)} arrays or a dict by name, got one array."
        )
    return [data]


def prepare_x(model: Network, x: Any, what: str) -> Any:
    """``x`` as contiguous float32 arrays that fit the model (building a
    Sequential on first use): an array, or a list for several inputs.

    Raises:
        ConfigError: No data, no samples, or a shape the model cannot take.
        ModelError: The model has no layers.
    """
    if x is None:
        raise ConfigError(f"{what}: no input data (x is None).")
    if not model.layers:
        raise ModelError(f"{what}: model {model.name} has no layers; add() some first.")
    shapes = model.input_shapes
    names = model.input_names
    arrays = [numbers(v, "x", what, np.float32) for v in _by_name(x, names, what, "input")]
    n = None
    for arr, shape, name in zip(arrays, shapes, names, strict=True):
        if arr.ndim >= 1 and len(arr) == 0:
            raise ConfigError(f"{what}: x holds no samples (shape {arr.shape}); pass at least one.")
        if arr.ndim < 2:
            raise ConfigError(
                f"{what}: x must have shape (samples, features); got shape {arr.shape}."
            )
        if shape is not None and arr.shape[1:] != shape:
            where = f"input {name!r}" if len(names) > 1 else "the model"
            hints = []
            if math.prod(arr.shape[1:]) == math.prod(shape):
                hints.append(f"reshape x to ({len(arr)}, {', '.join(map(str, shape))})")
            if arr.ndim > 2 and len(shape) == 1:
                hints.append(f"add Flatten(input_shape={arr.shape[1:]}) as the first layer")
            joined = " or ".join(hints)
            hint = f" {joined[:1].upper()}{joined[1:]}." if hints else ""
            raise ConfigError(
                f"{what}: x has samples of shape {arr.shape[1:]}, but {where} takes {shape}.{hint}"
            )
        if n is not None and len(arr) != n:
            raise ConfigError(
                f"{what}: the inputs have different numbers of samples ({n} and {len(arr)})."
            )
        n = len(arr)
    if not model.built:
        model.build(arrays[0].shape[1:])
    arrays = [np.ascontiguousarray(a) for a in arrays]
    return arrays if len(arrays) > 1 else arrays[0]


def samples(data: Any) -> int:
    """The number of samples of an array or of the first of a list."""
    return len(data[0] if isinstance(data, list) else data)


def prepare_y(model: Network, y: Any, n: int, what: str) -> Any:
    """``y`` as the arrays the model's losses take, for ``n`` samples: an
    array, or a list for several outputs.

    Raises:
        ConfigError: No targets, or a shape or label a loss cannot take.
    """
    if y is None:
        raise ConfigError(f"{what}: no targets (y is None).")
    names = model.output_names
    arrays = [
        _target(loss, value, shape, n, f"{what} output {name!r}" if len(names) > 1 else what)
        for loss, value, shape, name in zip(
            model.losses_list,
            _by_name(y, names, what, "output"),
            model.output_shapes,
            names,
            strict=True,
        )
    ]
    return arrays if len(arrays) > 1 else arrays[0]


def _target(loss: losses.Loss, y: Any, shape: Any, n: int, what: str) -> Array:
    units = shape[-1] if shape else None
    if loss.fuses_with == "softmax" and units == 1:
        raise ConfigError(
            f"{what}: {loss.name} needs one output per class, at least 2; the model has 1, so "
            "its softmax is always 1 and nothing is learned. Give the last layer one unit per "
            "class, or for two classes one sigmoid unit with binary_crossentropy."
        )
    if loss.sparse:
        arr = numbers(y, "y", what)
        if arr.ndim == len(shape or ()) + 1 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim != len(shape or (0,)) or (arr.size and not np.all(np.mod(arr, 1) == 0)):
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
        want = tuple(shape or (units,))
        if arr.ndim == 1 and want == (1,):
            arr = arr[:, None]
        if arr.shape[1:] != want:
            hint = ""
            column = arr.ndim == 2 and arr.shape[1] == 1  # class labels saved as a column
            if (arr.ndim == 1 or column) and loss.fuses_with == "softmax":
                hint = (
                    " These look like class labels: one-hot encode them with "
                    "hookfit.utils.to_categorical(y), or compile with "
                    "loss='sparse_categorical_crossentropy'."
                )
            shown = ", ".join(str(d) for d in want)
            raise ConfigError(
                f"{what}: y must have shape (samples, {shown}) for the model's outputs; got "
                f"{arr.shape}.{hint}"
            )
    if len(arr) != n:
        raise ConfigError(f"{what}: x has {n} samples but y has {len(arr)}; they must match.")
    return np.ascontiguousarray(arr)


def sample_weights(model: Network, y: Any, sample_weight: Any, class_weight: Any, what: str) -> Any:
    """Each output's sample weights from ``sample_weight`` and
    ``class_weight`` (`hookfit.trainer.weights`): None when neither is
    given, an array for one output, a list for several."""
    if sample_weight is None and class_weight is None:
        return None
    from . import weights  # it checks arrays with `numbers`, from here

    ys = y if isinstance(y, list) else [y]
    found = weights.standardize_all(ys, sample_weight, class_weight, model.output_names, what)
    if all(w is None for w in found):
        return None
    found = [np.ones(samples(ys), np.float32) if w is None else w for w in found]
    return found if len(found) > 1 else found[0]


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


def validation(
    model: Network, data: Any, what: str = "fit(validation_data)"
) -> tuple[Any, Any, Any]:
    """``validation_data`` as ``(x_val, y_val, sample_weight)``; Keras 2
    takes a pair or a triple.

    Raises:
        ConfigError: Not a pair or triple, or empty, or arrays that do not fit.
    """
    if not isinstance(data, tuple | list) or len(data) not in (2, 3):
        raise ConfigError(
            "fit: validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight)."
        )
    x_val = prepare_x(model, data[0], what)
    y_val = prepare_y(model, data[1], samples(x_val), what)
    weight = data[2] if len(data) == 3 else None
    return x_val, y_val, sample_weights(model, y_val, weight, None, what)


def validation_triple(val: tuple[Any, Any, Any]) -> list[Any]:
    """``validation_data`` as plugins see it: Keras 2's list of the inputs,
    then the targets, then each output's sample weights (of 1 when none
    were given): ``[x, y, sample_weights]`` for one input and output."""
    x, y, sw = val
    xs, ys = (x if isinstance(x, list) else [x]), (y if isinstance(y, list) else [y])
    sws = sw if isinstance(sw, list) else [sw] * len(ys)
    n = samples(x)
    return [*xs, *ys, *(np.ones(n, np.float32) if w is None else w for w in sws)]


def fit_data(
    model: Network,
    x: Any,
    y: Any,
    validation_split: Any,
    validation_data: Any,
    sample_weight: Any = None,
    class_weight: Any = None,
) -> tuple[tuple[Any, Any, Any], tuple[Any, Any, Any] | None]:
    """`fit`'s training batch data ``(x, y, sample_weight)`` and validation
    data (or None): checked, and split when asked.

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
    y = prepare_y(model, y, samples(x), "fit")
    sw = sample_weights(model, y, sample_weight, class_weight, "fit")
    train = (x, y, sw)
    val = None
    if validation_data is not None:
        val = validation(model, validation_data)
    elif validation_split:
        n = samples(x)
        train, val = split_validation(train, validation_split)
        if not samples(val[0]):
            raise ConfigError(
                f"fit: validation_split={validation_split} leaves no validation samples "
                f"out of {n}; raise it or pass validation_data."
            )
    if not samples(train[0]):
        raise ConfigError("fit: there are no training samples.")
    return train, val


def split_validation(data: tuple[Any, ...], validation_split: float) -> tuple[Any, Any]:
    """``data`` (arrays, lists of arrays or None, of one sample count) as
    Keras splits it: the last ``validation_split`` of the samples, before
    any shuffling, to validate on, the rest to train on."""
    n = samples(data[0])
    split = int(n * (1.0 - validation_split))
    head, tail = slice(0, split), slice(split, n)
    return tuple(rows(d, head) for d in data), tuple(rows(d, tail) for d in data)


def rows(data: Any, index: Any) -> Any:
    """The rows ``index`` (a slice) of an array, of each array of a list,
    or None."""
    if data is None:
        return None
    return [d[index] for d in data] if isinstance(data, list) else data[index]


__all__ = [
    "batch_size",
    "count",
    "fit_data",
    "prepare_x",
    "prepare_y",
    "rows",
    "sample_weights",
    "samples",
    "split_validation",
    "validation",
    "validation_triple",
    "verbose",
]
