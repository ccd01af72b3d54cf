"""Keras's BaseLogger callback: epoch averages of the batch metrics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hookfit import Callback, hookimpl


class BaseLogger(Callback):
    """Put each metric's sample-weighted mean over the epoch in the epoch logs.

    On by default (entry point ``base_logger``) and runs first, so every
    other plugin's ``on_epoch_end`` sees ``loss`` and ``acc``.

    Args:
        stateful_metrics: Metrics to report as their last batch value rather
            than averaged (Keras 2.1.4+).
    """

    def __init__(self, stateful_metrics: Iterable[str] | None = None) -> None:
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())
        self.seen = 0
        self.totals: dict[str, float] = {}

    @hookimpl(tryfirst=True)
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seen = 0
        self.totals = {}

    @hookimpl(tryfirst=True)
    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        size = logs.get("size", 0)
        self.seen += size
        totals = self.totals
        # Only the run's metrics: Keras 2.0 also summed 'batch' and 'size',
        # then never reported them.
        for key in self.params.get("metrics", ()):
            if key in logs:
                value = logs[key]
                if key in self.stateful_metrics:
                    totals[key] = value
                else:
                    totals[key] = totals.get(key, 0.0) + value * size

    @hookimpl(tryfirst=True)
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None or not self.seen:
            return
        for key, total in self.totals.items():
            logs[key] = total if key in self.stateful_metrics else total / self.seen
