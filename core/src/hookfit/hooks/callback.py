"""The Keras-compatible `Callback` base class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .arguments import check_call
from .specs import Logs


class Callback:
    """Abstract base class used to build new callbacks, as in Keras.

    Override the hook methods you need; they are called with the real
    arguments, positionally, even when declared with a default such as
    ``def on_batch_end(self, batch, logs={})``. Only overridden methods are
    registered, so a hook you do not override costs nothing. A hook that an
    instance needs only in some setups (a batch hook for ``save_freq=5``,
    not for ``save_freq="epoch"``) is declared in `needs_hook`.

    A subclass declares its arguments with type hints in ``__init__``
    (``Literal``, ``Annotated[int, Range(ge=0)]``, see
    `hookfit.hooks.arguments`); every construction is checked against them,
    the same way for code and for a config file, so ``__init__`` need not
    check types or ranges again.

    A plugin that must survive a resume returns its state from `state_dict`
    and takes it back in `load_state_dict` (see `resumable`).

    Attributes:
        params: dict. Training parameters (verbosity, batch size, number of
            epochs, ...), set by `set_params` before ``on_train_begin``.
        model: The model being trained, set by `set_model`. Use only what
            `hookfit.hooks.host.Host` declares, so that any host can run
            the plugin.
        validation_data: ``[x_val, y_val]`` during `fit` when validating,
            else None.
        writes: Class attribute: set it to True in a plugin that writes
            files, the terminal or the network. Under MPI
            (`hookfit.distributed`) such a plugin runs on rank 0 only; the
            others run on every rank, with the same logs everywhere.

    Example:
        >>> class LossHistory(Callback):
        ...     def on_train_begin(self, logs={}):
        ...         self.losses = []
        ...     def on_batch_end(self, batch, logs={}):
        ...         self.losses.append(logs.get('loss'))
    """

    # Class-level defaults, so that subclasses that do not call
    # super().__init__() (the Keras documentation's examples do not) still have them.
    model: Any = None
    params: dict[str, Any] = {}  # noqa: RUF012 - replaced, never mutated
    validation_data: Any = None
    # True for a plugin that writes files, the terminal or the network: in a
    # data-parallel run (hookfit.distributed) it runs on rank 0 only.
    writes: bool = False

    def __init__(self) -> None:
        self.model = None
        self.params = {}
        self.validation_data = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # Checked here, not in a wrapped __init__, so that a warning an
        # __init__ raises with stacklevel=2 still points at the caller.
        if args or kwargs:
            check_call(cls, args, kwargs)
        return super().__new__(cls)

    def needs_hook(self, hook: str) -> bool:
        """Whether this instance needs its ``hook`` method called.

        Asked once per run, when the run is set up (before ``set_params``),
        for each hook the class overrides. The default is True. Override it
        to return False for a hook this instance has nothing to do in, so
        that the hook costs nothing: a batch hook that no plugin needs
        spares the trainer building the batch logs.

        Example:
            >>> class Saver(Callback):
            ...     def __init__(self, every="epoch"):
            ...         self.every = every
            ...     def needs_hook(self, hook):
            ...         return hook != "on_batch_end" or self.every != "epoch"
            ...     def on_batch_end(self, batch, logs=None):
            ...         ...

        Args:
            hook: A hook name the class overrides, e.g. ``"on_batch_end"``.
        """
        return True

    def state_dict(self) -> dict[str, Any]:
        """The plugin's state that a resumed run needs, JSON-able.

        The base class has none (an empty dict). Override it together with
        `load_state_dict` to make a plugin resumable.
        """
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Take back what `state_dict` returned, before the resumed run's
        first epoch (after ``on_train_begin``)."""

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
    """Return the hook names that ``callback`` overrides and needs.

    A hook counts as overridden when the class redefines the method or the
    instance has its own attribute of that name (Keras's LambdaCallback
    assigns its functions so); `Callback.needs_hook` then drops those the
    instance does not need.

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
        and callback.needs_hook(name)
    ]
    for k3, k2 in (
        ("on_train_batch_begin", "on_batch_begin"),
        ("on_train_batch_end", "on_batch_end"),
    ):
        if k3 in names and k2 in names:
            names.remove(k2)
    return names


def resumable(plugins: Mapping[str, Any]) -> dict[str, Any]:
    """The plugins among ``plugins`` whose state a resume must save.

    A `Callback` is resumable when its class overrides `Callback.state_dict`;
    any other plugin object when it has callable ``state_dict`` and
    ``load_state_dict`` methods.
    """
    found = {}
    for name, obj in plugins.items():
        if isinstance(obj, Callback):
            if type(obj).state_dict is not Callback.state_dict:
                found[name] = obj
        elif callable(getattr(obj, "state_dict", None)) and callable(
            getattr(obj, "load_state_dict", None)
        ):
            found[name] = obj
    return found
