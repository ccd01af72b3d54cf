"""The Keras-compatible `Callback` base class."""

from __future__ import annotations

from typing import Any

from .hookspecs import Logs


class Callback:
    """Abstract base class used to build new callbacks, as in Keras.

    Override the hook methods you need; they are called with the real
    arguments, positionally, even when declared with a default such as
    ``def on_batch_end(self, batch, logs={})``. Only overridden methods are
    registered, so a hook you do not override costs nothing.

    Attributes:
        params: dict. Training parameters (verbosity, batch size, number of
            epochs, ...), set by `set_params` before ``on_train_begin``.
        model: The model being trained, set by `set_model`.
        validation_data: ``[x_val, y_val]`` during `fit` when validating,
            else None.

    Example:
        >>> class LossHistory(Callback):
        ...     def on_train_begin(self, logs={}):
        ...         self.losses = []
        ...     def on_batch_end(self, batch, logs={}):
        ...         self.losses.append(logs.get('loss'))
    """

    # Class-level defaults, so that subclasses that do not call
    # super().__init__() (the seed's examples do not) still have them.
    model: Any = None
    params: dict[str, Any] = {}  # noqa: RUF012 - replaced, never mutated
    validation_data: Any = None

    def __init__(self) -> None:
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_params(self, params: dict[str, Any]) -> None:
        """Store the run's parameters as ``self.params``."""
        self.params = params

    def set_model(self, model: Any) -> None:
        """Store the model as ``self.model``."""
        self.model = model

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of an epoch."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the end of an epoch."""

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each training batch."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each training batch."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Keras 3 name of `on_batch_begin`; by default calls it."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Keras 3 name of `on_batch_end`; by default calls it."""
        self.on_batch_end(batch, logs)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of training."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called at the end of training."""

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of evaluation or validation."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called at the end of evaluation or validation."""

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each evaluation batch."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of prediction."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Called at the end of prediction."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each prediction batch."""


def overridden_hooks(callback: Callback) -> list[str]:
    """Return the hook names that ``callback`` overrides.

    A hook counts as overridden when the class redefines the method or the
    instance has its own attribute of that name (LambdaCallback's way).

    ``on_train_batch_*`` and ``on_batch_*`` fire together, so when a class
    overrides the Keras 3 name, the Keras 2 one is reached only through it
    (as in Keras 3, where the default forwards) and is not registered again.
    """
    cls = type(callback)
    own = vars(callback)
    names = [
        name
        for name in vars(Callback)
        if name.startswith("on_")
        and (name in own or getattr(cls, name) is not getattr(Callback, name))
    ]
    for k3, k2 in (
        ("on_train_batch_begin", "on_batch_begin"),
        ("on_train_batch_end", "on_batch_end"),
    ):
        if k3 in names and k2 in names:
            names.remove(k2)
    return names
