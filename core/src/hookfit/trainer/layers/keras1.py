"""Keras 2.0's support for Keras 1 layer arguments (``Dense(output_dim=)``,
``Convolution2D(32, 3, 3)``, ``border_mode``, ``init``, ...), converted with
the warning Keras 2 gave (`hookfit.trainer.legacy.update_warning`), and the
Keras 1 class names Keras 2 kept (``Convolution2D``)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import ConfigError
from ..legacy import LegacyArgumentError, rename, update_warning

_ORDERING = {"dim_ordering": {"tf": "channels_last", "th": "channels_first", "default": None}}
_WEIGHTS = {
    "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint",
    "bias": "use_bias",
}
Preprocessor = Callable[[str, list[Any], dict[str, Any]], bool]


@dataclass(frozen=True)
class LayerRenames:
    """How Keras 2 took one layer's Keras 1 arguments.

    Attributes:
        positional: The arguments that may be given by position (Keras 2
            refused more, since Keras 1 put other arguments there).
        renames: Old keyword -> new keyword.
        values: New keyword -> {old value: new value}.
        preprocess: Converts positional forms, in place; True when it did.
    """

    positional: tuple[str, ...]
    renames: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)
    preprocess: Preprocessor | None = None


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _conv2d_kernel(name: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """Keras 1's ``Conv2D(32, 3, 3)`` and ``nb_row``/``nb_col``: the kernel
    size as one tuple."""
    if len(args) > 3:
        raise LegacyArgumentError(
            f"{name}: layer can receive at most 3 positional arguments, got {len(args)}: "
            f"{list(args)}. Write the kernel size as one tuple: {name}(32, (3, 3))."
        )
    kernel: tuple[Any, ...] | None = None
    if len(args) == 3 and _is_int(args[1]) and _is_int(args[2]):
        if {"padding", "strides", "data_format"} & set(kwargs):
            # Keras 2's words: Conv2D(32, 3, 2, padding=...) may mean strides 2
            raise ConfigError(
                "It seems that you are using the Keras 2 and you are passing both "
                "`kernel_size` and `strides` as integer positional arguments. For safety "
                "reasons, this is disallowed. Pass `strides` as a keyword argument instead."
            )
        kernel = (args.pop(1), args.pop(1))
    elif len(args) == 2 and _is_int(args[1]) and "nb_col" in kwargs:
        kernel = (args.pop(1), kwargs.pop("nb_col"))
    elif len(args) <= 1 and "nb_row" in kwargs and "nb_col" in kwargs:
        kernel = (kwargs.pop("nb_row"), kwargs.pop("nb_col"))
        if not args:
            kwargs["kernel_size"] = kernel
            return True
    if kernel is None:
        return False
    args.append(kernel)
    return True


def _batchnorm_mode(name: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    if args:
        raise LegacyArgumentError(
            "The `BatchNormalization` layer does not accept positional arguments. "
            "Use keyword arguments instead."
        )
    if "mode" not in kwargs:
        return False
    if kwargs.pop("mode") != 0:
        raise LegacyArgumentError(
            "The `mode` argument of `BatchNormalization` no longer exists. "
            "`mode=1` and `mode=2` are no longer supported."
        )
    return True


def _embedding_dropout(name: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    if "dropout" in kwargs:
        kwargs.pop("dropout")
        warnings.warn(  # Keras 2's words; it dropped the argument too
            "The `dropout` argument is no longer support in `Embedding`. You can apply a "
            "`keras.layers.SpatialDropout1D` layer right after the `Embedding` layer to get "
            "the same behavior.",
            UserWarning,
            stacklevel=4,
        )
    return False


_POOLING = LayerRenames(
    ("pool_size", "strides", "padding"),
    {"border_mode": "padding", "dim_ordering": "data_format"},
    {"data_format": _ORDERING["dim_ordering"]},
)
_GLOBAL_POOLING = LayerRenames(
    (), {"dim_ordering": "data_format"}, {"data_format": _ORDERING["dim_ordering"]}
)

LAYER_RENAMES: dict[str, LayerRenames] = {
    "Dense": LayerRenames(("units",), {"output_dim": "units", **_WEIGHTS}),
    "Dropout": LayerRenames(("rate", "noise_shape", "seed"), {"p": "rate"}),
    "Conv2D": LayerRenames(
        ("filters", "kernel_size"),
        {
            "nb_filter": "filters",
            "subsample": "strides",
            "border_mode": "padding",
            "dim_ordering": "data_format",
            **_WEIGHTS,
        },
        {"data_format": _ORDERING["dim_ordering"]},
        _conv2d_kernel,
    ),
    "MaxPooling2D": _POOLING,
    "AveragePooling2D": _POOLING,
    "GlobalAveragePooling2D": _GLOBAL_POOLING,
    "GlobalMaxPooling2D": _GLOBAL_POOLING,
    "BatchNormalization": LayerRenames(
        (),
        {"beta_init": "beta_initializer", "gamma_init": "gamma_initializer"},
        preprocess=_batchnorm_mode,
    ),
    "Embedding": LayerRenames(
        ("input_dim", "output_dim"),
        {
            "init": "embeddings_initializer",
            "W_regularizer": "embeddings_regularizer",
            "W_constraint": "embeddings_constraint",
        },
        preprocess=_embedding_dropout,
    ),
}
"""Keras 1 -> Keras 2 constructor arguments, by Keras 2 class name."""

CLASS_ALIASES: dict[str, dict[str, str]] = {
    "convolutional": {"Convolution2D": "Conv2D"},
    "pooling": {
        "MaxPool2D": "MaxPooling2D",
        "AvgPool2D": "AveragePooling2D",
        "GlobalAvgPool2D": "GlobalAveragePooling2D",
        "GlobalMaxPool2D": "GlobalMaxPooling2D",
    },
}
"""The other names Keras 2 gave its layer classes, by Keras 2 module:
alias -> class name (``keras.layers.Convolution2D is keras.layers.Conv2D``)."""


def layer_arguments(
    name: str, args: Sequence[Any], kwargs: Mapping[str, Any], stacklevel: int = 3
) -> tuple[list[Any], dict[str, Any]]:
    """A layer's Keras 1 constructor arguments as Keras 2's, warning
    "Update your `Conv2D` call to the Keras 2 API: `Conv2D(32, (3, 3))`"
    when anything changed.

    Args:
        name: The Keras class name (a key of `LAYER_RENAMES`).
        args: The positional arguments (without ``self``).
        kwargs: The keyword arguments.
        stacklevel: Of the warning.

    Returns:
        The positional and keyword arguments to call the Keras 2 constructor with.

    Raises:
        ConfigError: More positional arguments than Keras 2 took, an
            argument under both names, or a Keras 1 form Keras 2 refused
            (a `LegacyArgumentError`, also a `TypeError`, where Keras raised
            one).
    """
    rules = LAYER_RENAMES[name]
    args, kwargs = list(args), dict(kwargs)
    changed = rules.preprocess(name, args, kwargs) if rules.preprocess else False
    if len(args) > len(rules.positional):
        raise LegacyArgumentError(
            f"`{name}` can accept only {len(rules.positional)} positional arguments "
            f"{rules.positional}, but you passed the following positional arguments: {args}"
        )
    for old, new in rules.renames.items():
        if old in kwargs and new in rules.values:
            kwargs[old] = rules.values[new].get(kwargs[old], kwargs[old])
    taken = rules.positional[: len(args)]
    changed = rename(kwargs, rules.renames, taken) or changed
    if changed:
        update_warning(name, args, kwargs, stacklevel)
    return args, kwargs


_WRAPPED = "_hookfit_keras1"


def layer_init(cls: type) -> None:
    """Make ``cls.__init__`` take Keras 1's arguments (`layer_arguments`)
    when the class itself declares a ``class_name`` of `LAYER_RENAMES`.

    Called for every subclass of the base `Layer` (its ``__init_subclass__``).
    A user's subclass that inherits ``class_name`` keeps its own
    ``__init__`` as written: Keras 2 converted its own layers only.
    """
    name = cls.__dict__.get("class_name")
    if name not in LAYER_RENAMES:
        return
    init = cls.__init__  # type: ignore[misc]
    if getattr(init, _WRAPPED, None) == name:
        return

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        keras2_args, keras2_kwargs = layer_arguments(name, args, kwargs)
        init(self, *keras2_args, **keras2_kwargs)

    setattr(__init__, _WRAPPED, name)
    cls.__init__ = __init__  # type: ignore[misc]


__all__ = ["CLASS_ALIASES", "LAYER_RENAMES", "LayerRenames", "layer_arguments", "layer_init"]
