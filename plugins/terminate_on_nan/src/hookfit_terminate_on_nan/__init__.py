"""Keras's TerminateOnNaN callback: stop training on a NaN or Inf loss."""

from __future__ import annotations

import math
from typing import Any

from hookfit import Callback, TrainingError


class TerminateOnNaN(Callback):
    """Callback that terminates training when a NaN or Inf loss is encountered.

    After each batch it reads the batch's ``loss``. When that is NaN or Inf
    it prints ``Batch {batch}: Invalid loss, terminating training`` and sets
    ``model.stop_training``: training stops after that batch, and the epoch
    still ends normally (validation runs, ``on_epoch_end`` fires).

    Args:
        raise_error: Raise a `hookfit.TrainingError` (a RuntimeError)
            instead, as Keras 3's ``raise_error=True`` does. The other
            plugins' ``on_train_end`` still runs.

    Raises:
        ConfigError: ``raise_error`` is not a bool (checked against its hint
            when the plugin is built).

    Example:
        >>> model.fit(x, y, callbacks=[TerminateOnNaN()])
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise TrainingError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately."
            )
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
