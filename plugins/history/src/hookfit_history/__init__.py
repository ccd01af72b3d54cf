"""Keras's History callback: record every epoch's logs."""

from __future__ import annotations

from typing import Any

from hookfit import Callback, hookimpl


class History(Callback):
    """Record the logs of every epoch; `fit` returns this object.

    On by default (entry point ``history``). As a default plugin it runs
    after the plugins you name, so keys they add to the epoch logs (``lr``)
    are recorded too. It makes itself the model's ``history`` when training
    begins, before any other plugin's ``on_train_begin``, which is how `fit`
    finds what to return.

    Attributes:
        epoch: The 0-based indices of the finished epochs.
        history: For every log key, the list of its values, one per epoch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[Any]] = {}

    @hookimpl(tryfirst=True)
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch = []
        self.history = {}
        self.model.history = self

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
