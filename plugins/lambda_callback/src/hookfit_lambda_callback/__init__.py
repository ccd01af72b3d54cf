"""Keras's LambdaCallback: a callback built from plain functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hookfit import Callback
from hookfit.errors import nearest
from hookfit.hooks.arguments import ArgumentError, shown
from hookfit.hooks.specs import ALL_HOOKS, Logs


class LambdaCallback(Callback):
    """Callback for creating simple, custom callbacks on-the-fly.

    Each function given becomes the hook of that name on this instance, so
    only the hooks given are registered: a hook you leave out costs nothing.
    The functions are called positionally, as in Keras 2: ``on_epoch_begin``
    and ``on_epoch_end`` with ``(epoch, logs)``, the batch hooks with
    ``(batch, logs)``, ``on_train_begin`` and ``on_train_end`` with
    ``(logs)``.

    Args:
        on_epoch_begin: Called at the beginning of every epoch.
        on_epoch_end: Called at the end of every epoch.
        on_batch_begin: Called at the beginning of every batch.
        on_batch_end: Called at the end of every batch.
        on_train_begin: Called at the beginning of model training.
        on_train_end: Called at the end of model training.
        **kwargs: Any other hookfit hook, as in Keras 3 (``on_train_batch_end``,
            ``on_test_begin``, ``on_predict_batch_end``, ...), called the same
            way. Any other keyword is stored on the instance, as in Keras 2.

    Raises:
        ConfigError: A hook given something that is not callable (the six
            named ones are checked against their hints first), or a function
            under an ``on_`` name that is not a hookfit hook (it would never
            be called).

    Example:
        >>> batch_print_callback = LambdaCallback(
        ...     on_batch_begin=lambda batch, logs: print(batch))
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_batch_begin: Callable[..., Any] | None = None,
        on_batch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
        }
        for key, value in kwargs.items():
            if key in ALL_HOOKS:
                hooks[key] = value
            elif key.startswith("on_") and callable(value):
                raise ArgumentError(
                    "LambdaCallback",
                    key,
                    f"not a hookfit hook{nearest(key, ALL_HOOKS)}, so the function given for it "
                    f"would never be called. Valid hooks: {', '.join(ALL_HOOKS)}",
                )
            else:
                setattr(self, key, value)
        for name, fn in hooks.items():
            # The hints cover the six named hooks; the hooks given through
            # **kwargs have no hint at all.
            if fn is not None and not callable(fn):
                raise ArgumentError(
                    "LambdaCallback", name, f"expected a function or None, got {shown(fn)}"
                )
        # The Callback adapter registers the hooks this instance has its own
        # attribute for, so a hook left at None must not become an attribute.
        given = {name: fn for name, fn in hooks.items() if fn is not None}
        # The adapter reaches on_batch_* only through an on_train_batch_* of
        # the same instance; when both are given, that one calls both.
        for k2, k3 in (
            ("on_batch_begin", "on_train_batch_begin"),
            ("on_batch_end", "on_train_batch_end"),
        ):
            if k2 in given and k3 in given:
                given[k3] = _both(given[k2], given[k3])
        for name, fn in given.items():
            setattr(self, name, fn)


def _both(first: Callable[..., Any], second: Callable[..., Any]) -> Callable[[int, Logs], None]:
    def call(batch: int, logs: Logs) -> None:
        first(batch, logs)
        second(batch, logs)

    return call
