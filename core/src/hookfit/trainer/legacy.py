"""Keras 2.0's support for Keras 1 names: the renamed arguments of the
model methods and of the layers, with the warnings Keras 2 gave (its
``keras/legacy/interfaces.py``), and the Keras 1 class names Keras 2 kept.

Keras 2 converted the old names and said how to write the call in Keras 2;
so does hookfit, word for word, so that a Keras 1 or 2.0 script runs and
its console reads as under Keras 2. Every warning is a `UserWarning`, Keras's
category (Python shows it outside ``__main__``, unlike a
`DeprecationWarning`), pointing at the user's line.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from ..errors import ConfigError, nearest

F = TypeVar("F", bound=Callable[..., Any])


class LegacyArgumentError(ConfigError, TypeError):
    """A Keras 1 call that Keras 2 refused with a `TypeError` (so code that
    catches Keras's `TypeError` still does), or that names an argument
    twice."""


# ---------------------------------------------------------------- the warning


def _shown(value: Any) -> str:
    """A value in Keras 2's "Update your call" text: strings in double
    quotes, an array as ``array``, anything else cut to 10 characters."""
    if isinstance(value, str):
        return f'"{value}"'
    text = "array" if isinstance(value, np.ndarray) else str(value)
    return text[:10] + "..." if len(text) > 10 else text


def keras2_call(name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """The Keras 2 form of a call, as Keras 2 wrote it in its warning:
    ``Conv2D(32, (3, 3), padding="same")``."""
    parts = [_shown(a) for a in args] + [f"{k}={_shown(v)}" for k, v in kwargs.items()]
    return f"`{name}({', '.join(parts)})`"


def _update_warning(name: str, args: Sequence[Any], kwargs: Mapping[str, Any], level: int) -> None:
    warnings.warn(
        f"Update your `{name}` call to the Keras 2 API: {keras2_call(name, args, kwargs)}",
        UserWarning,
        stacklevel=level + 1,
    )


def _duplicate(old: str, new: str) -> LegacyArgumentError:
    # Keras 2's words ("the layer" for methods too)
    return LegacyArgumentError(
        f"For the `{new}` argument, the layer received both the legacy keyword argument "
        f"`{old}` and the Keras 2 keyword argument `{new}`. Stick to the latter!"
    )


def _rename(kwargs: dict[str, Any], renames: Mapping[str, str], taken: Iterable[str] = ()) -> bool:
    """Rename the old keys of ``kwargs`` in place (the new key goes last, as
    in Keras's text); True when one was renamed."""
    taken = set(taken)
    renamed = False
    for old, new in renames.items():
        if old in kwargs:
            value = kwargs.pop(old)
            if new in kwargs or new in taken:
                raise _duplicate(old, new)
            kwargs[new] = value
            renamed = True
    return renamed


def _refuse_unknown(owner: str, kwargs: Mapping[str, Any], valid: Iterable[str]) -> None:
    valid = list(valid)
    for key in kwargs:
        if key not in valid:
            raise ConfigError(
                f"{owner}: unknown argument {key!r}{nearest(key, valid)}. {owner} takes: "
                f"{', '.join(valid)}."
            )


# ---------------------------------------------------------------- the methods

_WORKERS = {
    "nb_worker": "workers",
    "pickle_safe": "use_multiprocessing",
    "max_q_size": "max_queue_size",
}
METHOD_RENAMES: dict[str, dict[str, str]] = {
    "fit": {"nb_epoch": "epochs"},
    "fit_generator": {
        "samples_per_epoch": "steps_per_epoch",
        "nb_epoch": "epochs",
        "nb_val_samples": "validation_steps",
        **_WORKERS,
    },
    "evaluate_generator": {"val_samples": "steps", **_WORKERS},
    "predict_generator": {"val_samples": "steps", **_WORKERS},
}
"""Keras 1 argument names of the model methods -> Keras 2's."""

# Keras 1 counted samples where Keras 2 counts batches; Keras 2 says so
_COUNTS = {"samples_per_epoch", "val_samples", "nb_epoch", "nb_val_samples", "nb_worker"}
SEMANTICS_WARNING = (
    "The semantics of the Keras 2 argument `steps_per_epoch` is not the same as the Keras 1 "
    "argument `samples_per_epoch`. `steps_per_epoch` is the number of batches to draw from "
    "the generator at each epoch. Basically steps_per_epoch = samples_per_epoch/batch_size. "
    "Similarly `nb_val_samples`->`validation_steps` and `val_samples`->`steps` arguments "
    "have changed. Update your method calls accordingly."
)
"""Keras 2.2's caveat when a generator method gets Keras 1's sample counts."""


def method_arguments(
    method: str,
    kwargs: Mapping[str, Any],
    args: Sequence[Any] = (),
    valid: Iterable[str] | None = None,
    taken: Iterable[str] = (),
    stacklevel: int = 3,
) -> dict[str, Any]:
    """Keras 1 keyword arguments of a model method renamed to Keras 2's,
    with Keras 2's warnings.

    ``fit(nb_epoch=)`` warns "The `nb_epoch` argument in `fit` has been
    renamed `epochs`."; the generator methods warn "Update your
    `fit_generator` call to the Keras 2 API: `fit_generator(...)`" (and
    Keras's caveat about sample counts). ``samples_per_epoch`` becomes
    ``samples_per_epoch // generator.batch_size`` steps when the generator
    has a ``batch_size``, as in Keras, else the same number.

    Args:
        method: ``"fit"``, ``"fit_generator"``, ``"evaluate_generator"`` or
            ``"predict_generator"``.
        kwargs: The keyword arguments received.
        args: The positional arguments received (without ``self``), for the
            warning's text and the generator.
        valid: The method's Keras 2 argument names; given, anything else is
            refused.
        taken: Arguments also given positionally or under their new name
            outside ``kwargs``.
        stacklevel: Of the warnings: 3 points at the caller of the function
            that calls this one.

    Returns:
        A new dict of keyword arguments under Keras 2's names.

    Raises:
        ConfigError: An unknown argument (naming the nearest valid one), or
            an argument given under both names (a `LegacyArgumentError`).
    """
    renames = METHOD_RENAMES[method]
    out = dict(kwargs)
    steps = None
    if method == "fit_generator" and "samples_per_epoch" in out and len(args) < 2:
        samples = out.pop("samples_per_epoch")
        generator = args[0] if args else out.get("generator")
        batch_size = getattr(generator, "batch_size", None)
        steps = samples // batch_size if isinstance(batch_size, int) and batch_size > 0 else samples
        if "steps_per_epoch" in out or "steps_per_epoch" in set(taken):
            raise _duplicate("samples_per_epoch", "steps_per_epoch")
    counts = _COUNTS & set(kwargs)
    if method == "fit":
        if "nb_epoch" in out:
            warnings.warn(
                "The `nb_epoch` argument in `fit` has been renamed `epochs`.",
                UserWarning,
                stacklevel=stacklevel,
            )
        _rename(out, renames, taken)
    else:
        if steps is not None:
            out["steps_per_epoch"] = steps
        renamed = _rename(out, renames, taken)
        if steps is not None or renamed:
            _update_warning(method, args, out, stacklevel)
        if counts:
            warnings.warn(SEMANTICS_WARNING, UserWarning, stacklevel=stacklevel)
    if valid is not None:
        _refuse_unknown(method, out, valid)
    return out


def keras1_method(func: F) -> F:
    """Decorate a model method (``fit``, ``fit_generator``, ...) with
    `method_arguments`: it takes Keras 1's names and refuses unknown keyword
    arguments with the nearest valid name. The method's own signature says
    what is valid; it may end with ``**kwargs`` to receive Keras 1's names.
    """
    signature = inspect.signature(func)
    named = [
        p.name
        for p in list(signature.parameters.values())[1:]  # without self
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    method = func.__name__

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        positional = named[: len(args)]
        kwargs = method_arguments(method, kwargs, args, valid=named, taken=positional, stacklevel=3)
        return func(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------- the layers

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
    changed = _rename(kwargs, rules.renames, taken) or changed
    if changed:
        _update_warning(name, args, kwargs, stacklevel)
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


__all__ = [
    "CLASS_ALIASES",
    "LAYER_RENAMES",
    "METHOD_RENAMES",
    "SEMANTICS_WARNING",
    "LayerRenames",
    "LegacyArgumentError",
    "keras1_method",
    "keras2_call",
    "layer_arguments",
    "layer_init",
    "method_arguments",
]
