"""A Keras 3 model as hookfit's plugins see it: `hookfit.hooks.host.ResumableHost`
and `DescribedHost`, and nothing else of Keras."""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import keras
import numpy as np

from . import _files


@contextmanager
def quiet() -> Iterator[None]:
    """Keras on torch with numpy 2 warns on every weight read (torch's
    ``__array__`` takes no ``copy``): not the user's doing, nor a plugin's."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "__array__ implementation", DeprecationWarning, module=r"keras\."
        )
        yield


def numpy(value: Any) -> np.ndarray:
    """A Keras variable or tensor as a numpy array, quietly."""
    with quiet():
        return np.asarray(keras.ops.convert_to_numpy(value))


class Layer:
    """One Keras layer: its name, its weights as numpy, and their names."""

    def __init__(self, layer: Any) -> None:
        self._layer = layer
        self.name: str = layer.name

    @property
    def weight_names(self) -> list[str]:
        """``kernel``, ``bias``, ... in the order of `get_weights`."""
        return [w.name for w in self._layer.weights]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the layer's weights."""
        return [numpy(w) for w in self._layer.weights]


_LAST_SET: weakref.WeakKeyDictionary[Any, tuple[float, float]] = weakref.WeakKeyDictionary()
"""Per Keras optimizer: the rate ``lr`` was last set to, and what its float32
variable then held (shared by every `Optimizer` view of it)."""


class Optimizer:
    """The Keras optimizer's ``learning_rate`` variable as ``lr``."""

    def __init__(self, optimizer: Any) -> None:
        self._optimizer = optimizer

    @property
    def lr(self) -> float:
        """The current learning rate (of the schedule, if the optimizer has one).

        The variable holds float32: while it still holds what ``lr`` was
        last set to, that value is returned as it was given, so that a
        plugin's arithmetic on it is the same on every host.
        """
        held = float(numpy(self._optimizer.learning_rate))
        given = _LAST_SET.get(self._optimizer)
        if given is not None and given[1] == held:
            return given[0]
        return held

    @lr.setter
    def lr(self, value: float) -> None:
        # Keras assigns the variable; a schedule refuses with its own message
        self._optimizer.learning_rate = float(value)
        _LAST_SET[self._optimizer] = (float(value), float(numpy(self._optimizer.learning_rate)))


class KerasHost:
    """The host protocol over one Keras model.

    Args:
        model: The ``keras.Model`` being trained (None until Keras sets it).

    Attributes:
        interrupted: Always False while plugins run: Keras calls no
            ``on_train_end`` after an error.
        plugins: The plugins of the run, by name (set by `hookfit_keras.Plugins`).
    """

    # the files save/save_weights write, by name ending (hookfit.hooks.host.FileFormats)
    model_formats = _files.MODEL
    weights_formats = (*_files.WEIGHTS, *_files.HDF5)

    def __init__(self, model: Any = None) -> None:
        self.keras_model = model
        self.interrupted = False
        self.plugins: Mapping[str, Any] = {}
        self.fit_initial_epoch = 0
        self._optimizer: tuple[Any, Optimizer] | None = None
        self._resumed = False

    @property
    def stop_training(self) -> bool:
        """The Keras model's ``stop_training``: Keras stops after the batch."""
        return bool(self.keras_model.stop_training)

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self.keras_model.stop_training = bool(value)

    @property
    def history(self) -> Any:
        """Keras's History of the run (``epoch`` and ``history``), or None."""
        return getattr(self.keras_model, "history", None)

    @history.setter
    def history(self, value: Any) -> None:
        # Keras's CallbackList sets its own History; hookfit's is not run
        pass

    @property
    def initial_epoch(self) -> int:
        """The epoch Keras's ``fit`` starts from; set in ``on_train_begin``
        it becomes Keras's own resume epoch (what Keras's BackupAndRestore sets)."""
        resumed = getattr(self.keras_model, "_initial_epoch", None)
        return int(resumed) if resumed else self.fit_initial_epoch

    @initial_epoch.setter
    def initial_epoch(self, value: int) -> None:
        self.keras_model._initial_epoch = int(value)
        self._resumed = True

    def end_resume(self) -> None:
        """Forget the resume epoch set through `initial_epoch`: Keras would
        start every later ``fit`` of the model from it."""
        if self._resumed:
            self.keras_model._initial_epoch = None
            self._resumed = False

    @property
    def optimizer(self) -> Optimizer | None:
        """The optimizer, with ``lr`` (None before compile)."""
        optimizer = getattr(self.keras_model, "optimizer", None)
        if optimizer is None:
            return None
        if self._optimizer is None or self._optimizer[0] is not optimizer:
            self._optimizer = (optimizer, Optimizer(optimizer))
        return self._optimizer[1]

    @property
    def layers(self) -> Sequence[Layer]:
        """The model's layers, in order."""
        return [Layer(layer) for layer in self.keras_model.layers]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every weight, as numpy arrays."""
        return [numpy(w) for w in self.keras_model.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set every weight from numpy arrays."""
        with quiet():
            self.keras_model.set_weights([np.asarray(w) for w in weights])

    def save(
        self,
        filepath: str | os.PathLike[str],
        overwrite: bool = True,
        include_optimizer: bool = True,
        *,
        metadata: Mapping[str, Any] | None = None,
        jobs: Any = None,
    ) -> None:
        """Save the model in Keras's format for the extension (``.keras``,
        ``.h5``), atomically, at once (``jobs`` is not used)."""
        with quiet():
            _files.write(
                self.keras_model,
                filepath,
                overwrite=overwrite,
                weights_only=False,
                include_optimizer=include_optimizer,
                metadata=metadata,
            )

    def save_weights(
        self, filepath: str | os.PathLike[str], overwrite: bool = True, *, jobs: Any = None
    ) -> None:
        """Save the weights (``.weights.h5``, or Keras 2's layout for ``.h5``), atomically."""
        with quiet():
            _files.write(
                self.keras_model,
                filepath,
                overwrite=overwrite,
                weights_only=True,
                include_optimizer=False,
                metadata=None,
            )

    def restore(self, filepath: str | os.PathLike[str]) -> dict[str, Any]:
        """Load what `save` wrote, optimizer state included; return its metadata."""
        with quiet():
            return _files.restore(self.keras_model, filepath)

    def to_json(self, **kwargs: Any) -> str:
        """Keras's own model JSON (TensorBoard's graph)."""
        return str(self.keras_model.to_json(**kwargs))
