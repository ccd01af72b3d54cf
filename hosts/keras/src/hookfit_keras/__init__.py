"""hookfit's plugins in Keras 3, on any backend: one `keras.callbacks.Callback`.

    model.fit(x, y, epochs=20, validation_split=0.2,
              callbacks=[Plugins([EarlyStopping(patience=2), "csv_logger"], config="hookfit.toml")])

`Plugins` runs what `hookfit.plan(callbacks, config=config)` resolves (names,
objects, config files, the ``HOOKFIT_*`` switches) less hookfit's History,
BaseLogger and ProgbarLogger, which Keras has of its own. Plugins see the
Keras model only through the host protocol (`hookfit_keras.KerasHost`).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import keras

import hookfit
from hookfit import HookfitWarning
from hookfit.hooks.callback import Callback as HookfitCallback
from hookfit.hooks.dispatch import Run

from ._host import KerasHost

__all__ = ["KerasHost", "Plugins"]

KERAS_OWN = ("history", "base_logger", "progbar_logger")
"""hookfit's plugins that Keras replaces with its own (History, ProgbarLogger)."""


class Plugins(keras.callbacks.Callback):
    """Run hookfit's plugins in a Keras 3 ``fit``.

    The run is resolved here, when the callback is made, exactly as hookfit's
    ``fit`` resolves it: a bad name, argument or config file is refused now,
    with hookfit's message, before Keras starts. Keras's ``fit`` keeps its
    asynchronous batch dispatch unless a plugin needs a batch hook.

    Args:
        callbacks: Plugin objects or installed plugin names, as hookfit's
            ``fit(callbacks=...)`` takes them.
        config: A config file's path, or a dict in its form.

    Attributes:
        host: The model as the plugins see it (`KerasHost`).
        plugins: The plugins of the run, by name.
    """

    def __init__(self, callbacks: Any = (), *, config: Any = None) -> None:
        super().__init__()
        plan = hookfit.plan(callbacks, config=config, verbose=0)
        named = [
            p.name
            for p in plan.plugins
            if p.name in KERAS_OWN and not p.why.startswith("on by default")
        ]
        for name in named:
            warnings.warn(
                f"hookfit_keras.Plugins: {name} does not run in Keras, which keeps its own; "
                "use Keras's History and verbose= instead.",
                HookfitWarning,
                stacklevel=2,
            )
        self.host = KerasHost()
        self._params: dict[str, Any] = {}
        entries = [p for p in plan.plugins if p.name not in KERAS_OWN]
        self._run = Run(entries, self.host, self._params)
        self.plugins = self.host.plugins = self._run.plugins
        # Keras dispatches a batch-end hook on a thread (and skips building
        # its logs for us) only while every callback keeps the default
        # method: the instance gets its own one only when a plugin needs it.
        for keras_hook, event in _BATCH_HOOKS:
            if getattr(self._run, event):
                setattr(self, keras_hook, _caller(self._run, event))

    def set_model(self, model: Any) -> None:
        """Keras gives the model: the plugins get it through `KerasHost`."""
        super().set_model(model)
        self.host.keras_model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Keras's ``params`` (``epochs``, ``steps``, ``verbose``), which the
        plugins share, completed at ``on_train_begin``."""
        super().set_params(params)
        self._params.clear()
        self._params.update(params or {})

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Complete ``params``, then the plugins' ``on_train_begin``; an
        ``initial_epoch`` a plugin sets (BackupAndRestore) is where Keras starts."""
        fit = _fit_arguments(self.host.keras_model)
        if fit is not None:
            self.host.fit_initial_epoch = int(fit.get("initial_epoch") or 0)
            validates = fit.get("validation_data") is not None
            names = list(self.host.keras_model.get_metrics_result())
            self._params["do_validation"] = validates
            self._params["metrics"] = names + [f"val_{n}" for n in names] * validates
        for plugin in self._run.plugins.values():
            if isinstance(plugin, HookfitCallback) and fit is not None:
                plugin.validation_data = _validation(fit)
        Run.fire(self._run.on_train_begin, logs if logs is not None else {})
        if self.host.keras_model.stop_training and "epochs" in self._params:
            # Keras runs a batch before it looks at a stop: a stop asked
            # before the first epoch (a resumed run that was stopped) trains
            # nothing, as in hookfit's fit
            self.host.initial_epoch = int(self._params["epochs"])

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Every plugin's ``on_train_end``, also after one raises."""
        try:
            Run.fire_all(self._run.on_train_end, logs if logs is not None else {})
        finally:
            self.host.end_resume()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """The plugins' ``on_epoch_begin``."""
        Run.fire(self._run.on_epoch_begin, epoch, logs if logs is not None else {})

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """The plugins' ``on_epoch_end``, with Keras's own logs."""
        Run.fire(self._run.on_epoch_end, epoch, logs if logs is not None else {})

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        """The plugins' ``on_test_begin`` (also in ``fit``'s validation)."""
        Run.fire(self._run.on_test_begin, logs if logs is not None else {})

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        """The plugins' ``on_test_end``."""
        Run.fire_all(self._run.on_test_end, logs if logs is not None else {})

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        """The plugins' ``on_predict_begin``."""
        Run.fire(self._run.on_predict_begin, logs if logs is not None else {})

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        """The plugins' ``on_predict_end``."""
        Run.fire_all(self._run.on_predict_end, logs if logs is not None else {})


_BATCH_HOOKS = (
    ("on_train_batch_begin", "on_batch_begin"),
    ("on_train_batch_end", "on_batch_end"),
    ("on_test_batch_begin", "on_test_batch_begin"),
    ("on_test_batch_end", "on_test_batch_end"),
    ("on_predict_batch_begin", "on_predict_batch_begin"),
    ("on_predict_batch_end", "on_predict_batch_end"),
)


def _caller(run: Run, event: str) -> Any:
    entries = getattr(run, event)

    def call(batch: int, logs: dict[str, Any] | None = None) -> None:
        Run.fire(entries, batch, logs if logs is not None else {})

    call.__name__ = event
    return call


def _fit_arguments(model: Any) -> dict[str, Any] | None:
    """The locals of the Keras ``fit`` running ``model``, or None.

    Keras tells its callbacks neither whether ``fit`` validates nor its
    ``initial_epoch``; every backend's ``fit`` holds both as locals
    (``validation_data`` once ``validation_split`` made it), so they are read
    from the caller's frame, as a debugger would.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "fit" and frame.f_locals.get("self") is model:
            found = frame.f_locals
            if "validation_data" in found and "initial_epoch" in found:
                return dict(found)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _validation(fit: dict[str, Any]) -> list[Any] | None:
    if fit.get("validation_data") is None:
        return None
    return [fit.get("val_x"), fit.get("val_y")]
