"""Keras 2.0's support for Keras 1 names: the renamed arguments of the
model methods, with the warnings Keras 2 gave (its
``keras/legacy/interfaces.py``); the layers' are
`hookfit.trainer.layers.keras1`, with the same warnings.

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


def update_warning(name: str, args: Sequence[Any], kwargs: Mapping[str, Any], level: int) -> None:
    """Keras 2's "Update your `NAME` call to the Keras 2 API: ..." warning,
    ``level`` frames up (a `UserWarning`)."""
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


def rename(kwargs: dict[str, Any], renames: Mapping[str, str], taken: Iterable[str] = ()) -> bool:
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
        rename(out, renames, taken)
    else:
        if steps is not None:
            out["steps_per_epoch"] = steps
        renamed = rename(out, renames, taken)
        if steps is not None or renamed:
            update_warning(method, args, out, stacklevel)
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


__all__ = [
    "METHOD_RENAMES",
    "SEMANTICS_WARNING",
    "LegacyArgumentError",
    "keras1_method",
    "keras2_call",
    "method_arguments",
    "rename",
    "update_warning",
]
