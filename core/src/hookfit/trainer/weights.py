"""``sample_weight`` and ``class_weight`` as one weight per sample and output,
following Keras 2.2.4's ``standardize_weights``.

A given ``sample_weight`` wins over ``class_weight`` (with Keras's warning);
``class_weight`` maps each sample's class (the argmax of one-hot targets,
else the class id itself) to its weight and must cover every class in the
data. Without either, an output has no weights (None): the plain mean loss,
which is what Keras's weights of 1 give.
"""

from __future__ import annotations

import numbers as _numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, HookfitWarning, nearest
from .inputs import numbers

Array = np.ndarray


def standardize(
    y: Array, sample_weight: Any = None, class_weight: Any = None, what: str = "fit()"
) -> Array | None:
    """One output's weights: float32 of shape ``(n,)``, or None for none.

    Args:
        y: The output's targets: one-hot ``(n, classes)``, or class ids
            ``(n,)`` / ``(n, 1)``, or any targets when only ``sample_weight``
            is given.
        sample_weight: One weight per sample, 1-D, finite and >= 0.
        class_weight: A dict ``{class id: weight}`` covering every class in ``y``.
        what: The call, for messages (``"fit()"``, ``"fit() output 'out1'"``).

    Raises:
        ConfigError: Weights that are not numbers, of the wrong shape or
            length, negative or not finite; a ``class_weight`` that is not a
            dict, lacks a class of the data, or meets 3-D targets.
    """
    y = np.asarray(y)
    if sample_weight is not None:
        if class_weight is not None and not _empty(class_weight):
            warnings.warn(
                f"{what}: Found both `sample_weight` and `class_weight`: `class_weight` "
                "argument will be ignored.",
                HookfitWarning,
                stacklevel=2,
            )
        return _sample_weight(sample_weight, len(y), what)
    if class_weight is None:
        return None
    if not isinstance(class_weight, Mapping):
        raise ConfigError(
            f"{what}: class_weight must be a dict {{class id: weight}}, e.g. "
            f"{{0: 1.0, 1: 5.0}}; received {type(class_weight).__name__}."
        )
    if _empty(class_weight):
        return None  # Keras 2.2.4 reads an empty dict as no class weights
    return _class_weight(class_weight, y, what)


def _empty(weight: Any) -> bool:
    return isinstance(weight, (list, tuple, Mapping)) and not weight


def _sample_weight(sample_weight: Any, n: int, what: str) -> Array:
    weights = numbers(sample_weight, "sample_weight", what, np.float32)
    if weights.ndim != 1:
        temporal = (
            " Keras's per-timestep weights (sample_weight_mode='temporal') are not supported."
            if weights.ndim == 2
            else ""
        )
        raise ConfigError(
            f"{what}: sample_weight has shape {weights.shape}; pass a 1-D array of {n} "
            f"weights, one per sample.{temporal}"
        )
    if len(weights) != n:
        raise ConfigError(
            f"{what}: sample_weight has {len(weights)} weights for {n} samples; pass one "
            f"weight per sample, shape ({n},)."
        )
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        at = int(np.argmax(bad))
        raise ConfigError(
            f"{what}: sample_weight[{at}] is {weights[at]}; weights must be finite and >= 0 "
            "(0 leaves a sample out)."
        )
    return weights


def _class_weight(class_weight: Mapping[Any, Any], y: Array, what: str) -> Array:
    for key, value in class_weight.items():
        if not isinstance(key, _numbers.Real):
            raise ConfigError(
                f"{what}: class_weight has the key {key!r}; its keys are class ids "
                "(integers), e.g. {0: 1.0, 1: 5.0}."
            )
        if not isinstance(value, _numbers.Real) or not np.isfinite(float(value)) or value < 0:
            raise ConfigError(
                f"{what}: class_weight[{key!r}] is {value!r}; weights must be finite numbers >= 0."
            )
    if y.ndim > 2:
        raise ConfigError(
            f"{what}: class_weight is not supported for targets of 3 or more dimensions "
            f"(shape {y.shape}); pass sample_weight instead."
        )
    one_hot = y.ndim == 2 and y.shape[1] > 1
    classes = np.argmax(y, axis=1) if one_hot else y.reshape(len(y))
    present, inverse = np.unique(classes, return_inverse=True)
    missing = [c.item() for c in present if c.item() not in class_weight]
    if missing:
        raise ConfigError(
            f"{what}: class_weight must contain all classes in the data. The classes "
            f"{missing[:10]} exist in the data but not in class_weight (keys: "
            f"{sorted(class_weight)[:10]}); add them, e.g. with weight 1.0."
        )
    table = np.array([class_weight[c.item()] for c in present], dtype=np.float32)
    return table[inverse.reshape(-1)]


def for_outputs(weight: Any, output_names: Sequence[str], kind: str, what: str) -> list[Any]:
    """``sample_weight`` or ``class_weight`` as one entry per output.

    As Keras 2.2.4 reads them: for one output the value itself (or its
    entry in a one-item list, or under the output's name in a dict); for
    several, a list with one entry per output or a dict by output name
    (outputs it leaves out get None).

    Args:
        weight: What the user passed.
        output_names: The model's output names.
        kind: ``"sample_weight"`` or ``"class_weight"``.
        what: The call, for messages.

    Raises:
        ConfigError: A list of the wrong length, a dict key that names no
            output, or one array for a model of several outputs.
    """
    count = len(output_names)
    if weight is None or _empty(weight):
        return [None] * count
    if count == 1:
        if isinstance(weight, (list, tuple)) and len(weight) == 1 and np.ndim(weight[0]) > 0:
            return [weight[0]]
        if isinstance(weight, Mapping) and output_names[0] in weight:
            return [weight[output_names[0]]]
        if isinstance(weight, Mapping) and kind == "sample_weight":
            _refuse_keys(weight, output_names, kind, what)
        return [weight]
    if isinstance(weight, (list, tuple)):
        if len(weight) != count:
            raise ConfigError(
                f"{what}: {kind} is a list of {len(weight)} entries, but the model has "
                f"{count} outputs ({', '.join(output_names)}); give one entry per output, "
                "None for an output without weights."
            )
        return list(weight)
    if isinstance(weight, Mapping):
        _refuse_keys(weight, output_names, kind, what)
        return [weight.get(name) for name in output_names]
    raise ConfigError(
        f"{what}: the model has {count} outputs ({', '.join(output_names)}), so {kind} must "
        f"be a list with one entry per output or a dict by output name; received "
        f"{type(weight).__name__}."
    )


def _refuse_keys(
    weight: Mapping[Any, Any], output_names: Sequence[str], kind: str, what: str
) -> None:
    for key in weight:
        if key not in output_names:
            example = "{0: 1.0, 1: 5.0}" if kind == "class_weight" else "weights"
            raise ConfigError(
                f"{what}: {kind} has the key {key!r}{nearest(str(key), output_names)}, which "
                f"names no output; key it by output name ({', '.join(output_names)}), e.g. "
                f"{kind}={{{output_names[0]!r}: {example}}}."
            )


def standardize_all(
    ys: Sequence[Array],
    sample_weight: Any,
    class_weight: Any,
    output_names: Sequence[str],
    what: str = "fit()",
) -> list[Array | None]:
    """Every output's weights, as `standardize` gives them, in output order.

    Args:
        ys: The targets, one array per output.
        sample_weight: As passed to ``fit``: an array, a list, or a dict by output name.
        class_weight: As passed to ``fit``: a dict of class weights, a list of
            them, or a dict of them by output name.
        output_names: The model's output names.
        what: The call, for messages.
    """
    sample = for_outputs(sample_weight, output_names, "sample_weight", what)
    classes = for_outputs(class_weight, output_names, "class_weight", what)
    several = len(output_names) > 1
    return [
        standardize(y, sw, cw, f"{what} output {name!r}" if several else what)
        for y, sw, cw, name in zip(ys, sample, classes, output_names, strict=True)
    ]


__all__ = ["for_outputs", "standardize", "standardize_all"]
