"""Keras's ProgbarLogger callback: progress and metrics on stdout."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any, Literal

from hookfit import Callback, hookimpl

WIDTH = 30
_BAR = "{n_fmt}/{total_fmt} [{bar:" + str(WIDTH) + "}] - ETA: {remaining}{metrics}"
_REDRAW = 0.05  # seconds between redraws, as Keras's Progbar
_SKIP = ("batch", "size", "outputs")


class ProgbarLogger(Callback):
    """Print a progress bar and the metrics, like Keras.

    On by default when ``verbose`` is not 0 (entry point ``progbar_logger``),
    and last in every hook, so it shows keys the other plugins added. With
    ``verbose=1`` in a terminal the bar updates in place (drawn by tqdm);
    when stdout is not a terminal, and with ``verbose=2``, each epoch prints
    one line at its end and nothing else. Stand-alone `evaluate` and
    `predict` get a bar too; the validation inside `fit` is silent.

    Args:
        count_mode: ``"samples"`` or ``"steps"``: what the bar counts.
        stateful_metrics: Metrics shown as their last value, not averaged.

    Raises:
        ConfigError: ``count_mode`` is neither (a ValueError, as in Keras).
    """

    writes = True  # under MPI: rank 0 only (hookfit.distributed)

    def __init__(
        self,
        count_mode: Literal["samples", "steps"] = "samples",
        stateful_metrics: Iterable[str] | None = None,
    ) -> None:
        super().__init__()
        self.count_mode = count_mode
        self.stateful_metrics = set(stateful_metrics or ())
        self.verbose = 0
        self._in_fit = False
        self._bar: Any = None

    @hookimpl(trylast=True)
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._in_fit = True
        self.verbose = self.params.get("verbose", 0)

    @hookimpl(trylast=True)
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()
        self._in_fit = False

    @hookimpl(trylast=True)
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')}", flush=True)
        self._start()

    @hookimpl(trylast=True)
    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._advance(logs or {})

    @hookimpl(trylast=True)
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._finish(logs or {})

    # Stand-alone evaluate() and predict(): inside fit they are validation.
    @hookimpl(trylast=True)
    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._in_fit:
            self.verbose = self.params.get("verbose", 0)
            self._start()

    @hookimpl(trylast=True)
    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._in_fit:
            self._advance(logs or {})

    @hookimpl(trylast=True)
    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self._in_fit:
            self._finish(logs or {})

    on_predict_begin = on_test_begin
    on_predict_batch_end = on_test_batch_end
    on_predict_end = on_test_end

    def _start(self) -> None:
        self._close()
        # fit_generator knows its steps, not its samples (as in Keras 2)
        self._steps = self.count_mode == "steps" or self.params.get("samples") is None
        self._target = self.params.get("steps" if self._steps else "samples") or 0
        self._seen = 0
        self._totals: dict[str, float] = {}
        self._count = 0
        self._t0 = self._last = time.monotonic()
        live = sys.stdout.isatty() or "ipykernel" in sys.modules
        if self.verbose == 1 and live:
            from tqdm.auto import tqdm  # imported only when a bar is drawn

            class Bar(tqdm):
                metrics = ""

                @property
                def format_dict(self) -> dict[str, Any]:
                    return {**super().format_dict, "metrics": self.metrics}

            self._bar = Bar(
                total=self._target, file=sys.stdout, bar_format=_BAR, ascii=".>=", leave=False
            )

    def _advance(self, logs: dict[str, Any]) -> None:
        if not self.verbose:  # on by name with verbose=0, as in Keras: silent and free
            return
        size = logs.get("size", 0)
        self._seen += 1 if self._steps else size
        self._count += size
        for key in self.params.get("metrics", ()):
            if key in logs:
                if key in self.stateful_metrics:  # shown as the last value
                    self._totals[key] = logs[key] * self._count
                else:
                    self._totals[key] = self._totals.get(key, 0.0) + logs[key] * size
        bar = self._bar
        if bar is not None and self._seen < self._target:
            now = time.monotonic()
            if now - self._last >= _REDRAW:
                self._last = now
                bar.n = self._seen
                bar.metrics = _format({k: v / self._count for k, v in self._totals.items()})
                bar.refresh()

    def _finish(self, logs: dict[str, Any]) -> None:
        self._close()
        if not self.verbose:
            return
        values = {k: v / self._count for k, v in self._totals.items()} if self._count else {}
        values.update((k, logs[k]) for k in self.params.get("metrics", ()) if k in logs)
        # then whatever other plugins added (ReduceLROnPlateau's lr, ...)
        values.update((k, v) for k, v in logs.items() if k not in values and k not in _SKIP)
        elapsed = time.monotonic() - self._t0
        if self.verbose == 2:
            print(f" - {elapsed:.0f}s{_format(values)}", flush=True)
            return
        # Per counted unit (a sample in count_mode "samples"), yet labelled
        # "/step" in both modes, as Keras 2.1+ prints it: "- 3s 50us/step".
        per = elapsed / self._seen if self._seen else 0.0
        rate = (
            f"{per:.0f}s"
            if per >= 1
            else f"{per * 1e3:.0f}ms"
            if per >= 1e-3
            else f"{per * 1e6:.0f}us"
        )
        bar = f"{self._seen}/{self._target} [{'=' * WIDTH}]"
        print(f"{bar} - {elapsed:.0f}s {rate}/step{_format(values)}", flush=True)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _format(values: dict[str, Any]) -> str:
    parts = []
    for key, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            parts.append(f" - {key}: {value}")
            continue
        parts.append(
            f" - {key}: {number:.4e}" if 0 < abs(number) <= 1e-3 else f" - {key}: {number:.4f}"
        )
    return "".join(parts)
