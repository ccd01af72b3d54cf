"""Keras's BaseLogger callback: the epoch logs as Keras 2 reports them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hookfit import Callback, hookimpl


class BaseLogger(Callback):
    """Keras's view of the epoch logs: each metric's sample-weighted mean over
    the epoch, or its last batch value for a stateful metric.

    On by default (entry point ``base_logger``), and its hooks run first, as
    in Keras 2.0: every other plugin's ``on_epoch_end`` sees its values. The
    trainer already puts the means in the epoch logs, so this plugin leaves
    them as they are; only ``stateful_metrics`` changes what the other
    plugins see, and only then does it watch the batches.

    Args:
        stateful_metrics: Metrics to report as their last batch value rather
            than averaged (Keras 2.1.4+).

    Attributes:
        stateful_metrics: The names given, as a set.
        last: The stateful metrics' values in the epoch's latest batch.
    """

    def __init__(self, stateful_metrics: Iterable[str] | None = None) -> None:
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())
        self.last: dict[str, Any] = {}
        self._stateful: list[str] = []

    def needs_hook(self, hook: str) -> bool:
        """The batch hook only for stateful metrics: the means are the
        trainer's, so without them this plugin costs nothing per batch."""
        return hook != "on_batch_end" or bool(self.stateful_metrics)

    @hookimpl(tryfirst=True)
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.last = {}
        # Only the run's metrics, as Keras 2: split once here, not per batch.
        metrics = self.params.get("metrics", ())
        self._stateful = [k for k in metrics if k in self.stateful_metrics]

    @hookimpl(tryfirst=True)
    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        for key in self._stateful:
            if key in logs:
                self.last[key] = logs[key]

    @hookimpl(tryfirst=True)
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs.update(self.last)
