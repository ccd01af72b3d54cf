"""Keras's EarlyStopping callback: stop training when a monitored quantity stops improving."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from hookfit import Callback, Range
from hookfit.monitor import Baseline, Best, LogKey, MinDelta, Mode, Monitor

Count = Annotated[int, Range(ge=0)]


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving.

    Keras 3's algorithm: every epoch from ``start_from_epoch`` on counts
    towards ``wait``; an improvement on the best value so far resets it, but
    only if it also beats ``baseline`` (when given). Training stops at an
    epoch that does not improve once ``wait >= patience``. All state is reset
    at ``on_train_begin``, so one instance serves several ``fit`` calls.

    Args:
        monitor: Quantity to be monitored, e.g. ``"val_loss"``.
        min_delta: Minimum change in the monitored quantity to qualify as an
            improvement (>= 0).
        patience: Number of epochs with no improvement after which training
            will be stopped.
        verbose: 0: quiet, 1: say when training stopped and weights were
            restored.
        mode: ``"auto"``, ``"min"`` or ``"max"``; ``"auto"`` maximizes
            accuracy-like quantities and minimizes the rest.
        baseline: Value the monitored quantity must beat before patience is
            reset, or None.
        restore_best_weights: At the end of training, put back the weights
            of the epoch with the best value (also when this plugin did not
            stop training).
        start_from_epoch: Number of warm-up epochs not watched at all.

    Attributes:
        monitoring: The `Monitor` of ``monitor`` (mode, baseline, best).
        stopped_epoch: The 0-based epoch at which training was stopped, or 0.
        best: The best value seen so far, or None.
        wait: Epochs counted towards patience.
        best_weights: The weights of the best epoch when restoring, else None.
        best_epoch: The 0-based epoch of the best value.

    Raises:
        ConfigError: A bad argument (unknown mode, negative patience, ...),
            checked against the hints below when the plugin is built.

    Example:
        >>> early_stopping = EarlyStopping(monitor="val_loss", patience=3)
        >>> model.fit(x, y, validation_split=0.2, callbacks=[early_stopping])
    """

    def __init__(
        self,
        monitor: LogKey = "val_loss",
        min_delta: MinDelta = 0,
        patience: Count = 0,
        verbose: Literal[0, 1] = 0,
        mode: Mode = "auto",
        baseline: Baseline = None,
        restore_best_weights: bool = False,
        start_from_epoch: Count = 0,
    ) -> None:
        super().__init__()
        self.monitoring = Monitor.of_checked("EarlyStopping", monitor, mode, min_delta, baseline)
        self.monitor = monitor
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: list[Any] | None = None
        self.best_epoch = 0

    best = Best()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.monitoring.reset()
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = self.monitoring.get(logs or {}, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the first watched epoch is the best.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        # Keras 3 counts first: an improvement that misses the baseline keeps
        # the count, yet only a non-improving epoch can stop training.
        self.wait += 1
        if self.monitoring.improves(current):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.monitoring.beats_baseline(current):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1:05d}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        """The counters and best value, JSON-able, to resume a run (not the weights)."""
        return {
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best = None if state["best"] is None else float(state["best"])
        self.best_epoch = int(state["best_epoch"])
