"""Keras's BaseLogger callback: epoch averages of the batch metrics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hookfit import Callback, hookimpl


class BaseLogger(Callback):
    """Put each metric's sample-weighted mean over the epoch in the epoch logs.

    On by default (entry point ``base_logger``), and its hooks run first, as
    in Keras 2.0: every other plugin's ``on_epoch_end`` sees its values. The
    trainer already logs the same means, so nothing depends on this plugin;
    only ``stateful_metrics`` changes what the other plugins see.

    Args:
        stateful_metrics: Metrics to report as their last batch value rather
            than averaged (Keras 2.1.4+).
    """

    def __init__(self, stateful_metrics: Iterable[str] | None = None) -> None:
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())
        self.seen = 0
        self.totals: dict[str, float] = {}
        self._averaged: list[str] = []
        self._stateful: list[str] = []

    @hookimpl(tryfirst=True)
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seen = 0
        self.totals = {}
        # Only the run's metrics: Keras 2.0 also summed 'batch' and 'size',
        # then never reported them. Split once here: this runs every batch.
        metrics = self.params.get("metrics", ())
        self._averaged = [k for k in metrics if k not in self.stateful_metrics]
        self._stateful = [k for k in metrics if k in self.stateful_metrics]

    @hookimpl(tryfirst=True)
    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        size = logs.get("size", 0)
        self.seen += size
        totals = self.totals
        for key in self._averaged:
            if key in logs:
                totals[key] = totals.get(key, 0.0) + logs[key] * size
        for key in self._stateful:
            if key in logs:
                totals[key] = logs[key]

    @hookimpl(tryfirst=True)
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None or not self.seen:
            return
        for key, total in self.totals.items():
            logs[key] = total if key in self.stateful_metrics else total / self.seen
