"""Keras's LearningRateScheduler callback: set the learning rate every epoch."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np

from hookfit import Callback, ConfigError, Range


class LearningRateScheduler(Callback):
    """Learning rate scheduler.

    At the start of every epoch the optimizer's learning rate is set to
    ``schedule(epoch)`` or ``schedule(epoch, lr)``, where ``epoch`` is the
    0-based epoch index and ``lr`` the current rate. Which form is used is
    read from the schedule's signature once, when the callback is built: a
    schedule that takes two positional arguments gets the current rate. At
    the end of every epoch the rate is written to ``logs['lr']``, so History
    and CSVLogger record it.

    Args:
        schedule: A function of the epoch index (integer, from 0), or of the
            epoch index and the current learning rate, returning the new
            learning rate as a float.
        verbose: 0: quiet, 1: print a message every epoch.

    Attributes:
        takes_lr: True when the schedule is called as ``schedule(epoch, lr)``.

    Raises:
        ConfigError: ``schedule`` is not callable or takes neither form;
            ``verbose`` is not an integer >= 0 (both checked against the
            hints when the callback is built); during training, the
            schedule returned something that is not a finite float >= 0.

    Example:
        >>> scheduler = LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)
        >>> model.fit(x, y, epochs=5, callbacks=[scheduler])
    """

    def __init__(
        self, schedule: Callable[..., float], verbose: Annotated[int, Range(ge=0)] = 0
    ) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose
        self.takes_lr = _takes_lr(schedule)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        optimizer = self.model.optimizer
        lr = self.schedule(epoch, optimizer.lr) if self.takes_lr else self.schedule(epoch)
        # A Python int is refused, as in Keras: it is most often a schedule
        # that meant 1e-3 and wrote 0 (integer division, round()).
        if not isinstance(lr, (float, np.floating)):
            raise ConfigError(
                f"LearningRateScheduler: the schedule returned {lr!r} "
                f"({type(lr).__name__}) for epoch {epoch}; it must return a float, "
                "e.g. 0.01 (an int is refused too, as in Keras: write 1.0, not 1)."
            )
        if not (math.isfinite(lr) and lr >= 0):
            raise ConfigError(
                f"LearningRateScheduler: the schedule returned {lr!r} for epoch {epoch}; "
                "the learning rate must be a finite float >= 0."
            )
        optimizer.lr = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["lr"] = self.model.optimizer.lr


def _takes_lr(schedule: Callable[..., Any]) -> bool:
    """True for ``schedule(epoch, lr)``, False for ``schedule(epoch)``.

    Keras calls ``schedule(epoch, lr)`` and retries with ``schedule(epoch)``
    on any TypeError, which also swallows a TypeError raised inside the
    schedule and calls it a second time. Reading the signature once avoids
    both.
    """
    try:
        params = list(inspect.signature(schedule).parameters.values())
    except (TypeError, ValueError):
        raise ConfigError(
            f"LearningRateScheduler: cannot read the signature of schedule {schedule!r}. "
            "Wrap it in a function: lambda epoch: ... or lambda epoch, lr: ..."
        ) from None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    keyword_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    many = any(p.kind is p.VAR_POSITIONAL for p in params)
    if keyword_only or len(required) > 2 or not (positional or many):
        raise ConfigError(
            f"LearningRateScheduler: schedule{inspect.signature(schedule)} cannot be called "
            "as schedule(epoch) or schedule(epoch, lr). Give a function of (epoch) or "
            "(epoch, lr)."
        )
    return many or len(positional) >= 2
