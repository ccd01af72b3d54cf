"""Keras's ReduceLROnPlateau callback: lower the learning rate when a metric stops improving."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from hookfit import Callback, ConfigError, Range
from hookfit.monitor import Best, LogKey, MinDelta, Mode, Monitor

Count = Annotated[int, Range(ge=0)]
NonNegative = Annotated[float, Range(ge=0)]


class ReduceLROnPlateau(Callback):
    """Reduce the learning rate when a metric has stopped improving.

    The fixed patience count of Keras 2.2: after ``patience`` epochs in a row
    without improvement the learning rate becomes ``max(lr * factor,
    min_lr)``, then ``cooldown`` epochs pass before counting starts again.
    The first value of a run always counts as an improvement. The learning
    rate at the start of each ``on_epoch_end`` is written to ``logs['lr']``.

    Args:
        monitor: Quantity to be monitored, e.g. ``"val_loss"``.
        factor: Factor by which the learning rate will be reduced:
            ``new_lr = lr * factor``, in (0, 1).
        patience: Number of epochs with no improvement after which the
            learning rate will be reduced.
        verbose: 0: quiet, 1: update messages.
        mode: ``"auto"``, ``"min"`` or ``"max"``; ``"auto"`` maximizes
            accuracy-like quantities and minimizes the rest.
        min_delta: Threshold for measuring the new optimum, to only focus on
            significant changes (>= 0).
        cooldown: Number of epochs to wait before resuming normal operation
            after the learning rate has been reduced.
        min_lr: Lower bound on the learning rate.
        epsilon: Deprecated name of ``min_delta`` (Keras 2.0), with Keras
            2's `UserWarning`; kept as ``min_delta`` only.

    Attributes:
        monitoring: The `Monitor` of ``monitor`` (mode, best).
        wait: Non-improving epochs counted towards patience.
        cooldown_counter: Epochs of cooldown left.
        best: The best value seen so far, or None.

    Raises:
        ConfigError: A bad argument (``factor >= 1``, negative patience, ...),
            checked against the hints below when the plugin is built; or
            ``epsilon`` given with a different ``min_delta``.

    Example:
        >>> reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.2,
        ...                               patience=5, min_lr=0.001)
        >>> model.fit(X_train, Y_train, callbacks=[reduce_lr])
    """

    def __init__(
        self,
        monitor: LogKey = "val_loss",
        factor: Annotated[float, Range(gt=0, lt=1)] = 0.1,
        patience: Count = 10,
        verbose: Literal[0, 1] = 0,
        mode: Mode = "auto",
        min_delta: MinDelta = 1e-4,
        cooldown: Count = 0,
        min_lr: NonNegative = 0,
        epsilon: NonNegative | None = None,
    ) -> None:
        super().__init__()
        if epsilon is not None:
            # Keras 2's words and category: a UserWarning, which Python shows
            # outside __main__ too
            warnings.warn(
                "`epsilon` argument is deprecated and will be removed, use `min_delta` instead.",
                UserWarning,
                stacklevel=2,
            )
            if min_delta not in (1e-4, epsilon):
                raise ConfigError(
                    f"ReduceLROnPlateau: got min_delta={min_delta!r} and epsilon={epsilon!r}; "
                    "epsilon is the deprecated name of min_delta, give only min_delta."
                )
            min_delta = epsilon
        self.monitoring = Monitor.of_checked("ReduceLROnPlateau", monitor, mode, min_delta)
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.min_delta = float(min_delta)
        self.cooldown = cooldown
        self.min_lr = float(min_lr)
        self.wait = 0
        self.cooldown_counter = 0

    best = Best()

    def in_cooldown(self) -> bool:
        """True while epochs of cooldown are left."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.monitoring.reset()
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = {} if logs is None else logs
        optimizer = self.model.optimizer
        # Before any reduction, as Keras 2 does: the rate this epoch trained with.
        logs["lr"] = float(optimizer.lr)
        current = self.monitoring.get(logs, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitoring.improves(current):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.lr)
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.lr = new_lr
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning rate "
                            f"to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def state_dict(self) -> dict[str, Any]:
        """The counters and best value, JSON-able, to resume a run."""
        return {"wait": self.wait, "cooldown_counter": self.cooldown_counter, "best": self.best}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self.best = None if state["best"] is None else float(state["best"])
