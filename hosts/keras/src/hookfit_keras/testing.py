"""hookfit's test model on Keras 3 (entry point ``hookfit.test_hosts``).

``pytest --hookfit-host=keras`` makes ``hookfit_model`` build this: a real
Keras model trained by Keras's own ``fit``, with the plugins in `Plugins`,
so that every plugin's own tests show it works in Keras.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from . import Plugins
from ._host import KerasHost, quiet


class KerasTestModel(KerasHost):
    """hookfit's testing API over a compiled Keras model.

    The model is the ``hookfit_model`` fixture's: 8 inputs, 16 relu units, 3
    softmax units, categorical cross-entropy. Accuracy is logged as ``acc``
    (Keras's ``CategoricalAccuracy`` under that name), the key hookfit's
    tests read.
    """

    @property
    def name(self) -> str:
        """The Keras model's name (the root of its graph)."""
        return str(self.keras_model.name)

    def fit(
        self,
        x: Any,
        y: Any,
        batch_size: int = 32,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Any = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        config: Any = None,
    ) -> Any:
        """Keras's ``fit`` with ``Plugins(callbacks, config=config)``; Keras's History."""
        plugins = Plugins(callbacks or (), config=config)
        self.plugins = plugins.plugins
        try:
            with quiet():
                return self.keras_model.fit(
                    np.asarray(x),
                    np.asarray(y),
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=verbose,
                    callbacks=[plugins],
                    validation_split=validation_split,
                    validation_data=validation_data,
                    shuffle=shuffle,
                    initial_epoch=initial_epoch,
                )
        finally:
            self.plugins = {}

    def evaluate(
        self, x: Any, y: Any, batch_size: int = 32, verbose: int = 1, callbacks: Any = None
    ) -> Any:
        """Keras's ``evaluate`` with the plugins: ``[loss, acc]``."""
        with quiet():
            return self.keras_model.evaluate(
                np.asarray(x),
                np.asarray(y),
                batch_size=batch_size,
                verbose=verbose,
                callbacks=[Plugins(callbacks or ())],
            )

    def predict(
        self, x: Any, batch_size: int = 32, verbose: int = 0, callbacks: Any = None
    ) -> np.ndarray:
        """Keras's ``predict`` with the plugins."""
        with quiet():
            return np.asarray(
                self.keras_model.predict(
                    np.asarray(x),
                    batch_size=batch_size,
                    verbose=verbose,
                    callbacks=[Plugins(callbacks or ())],
                )
            )

    def load_weights(self, filepath: Any) -> None:
        """Keras's ``load_weights`` (any file `save` or `save_weights` wrote)."""
        self.keras_model.load_weights(filepath)


def make_model(
    optimizer: Any = "sgd", metrics: Sequence[Any] = ("accuracy",), seed: int = 0
) -> KerasTestModel:
    """A small compiled Keras model with hookfit's testing API.

    Args:
        optimizer: A Keras optimizer or its name.
        metrics: ``"accuracy"``/``"acc"`` log ``acc``; others go to Keras as given.
        seed: Seeds Keras's initializers.
    """
    if keras.backend.backend() == "torch":
        import torch

        # the models are tiny, and test workers run side by side
        torch.set_num_threads(1)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    wanted = [
        keras.metrics.CategoricalAccuracy(name="acc") if m in ("accuracy", "acc") else m
        for m in metrics
    ]
    model.compile(
        optimizer=_keras_optimizer(optimizer), loss="categorical_crossentropy", metrics=wanted
    )
    return KerasTestModel(model)


def _keras_optimizer(optimizer: Any) -> Any:
    """Keras's optimizer for a name, a Keras optimizer, or one of hookfit's
    (``hookfit.optimizers.SGD(lr=0.1)``, as hookfit's tests pass them)."""
    if isinstance(optimizer, str | keras.optimizers.Optimizer):
        return optimizer
    config = dict(optimizer.get_config())
    config["learning_rate"] = float(config.pop("lr", config.get("learning_rate", 0.01)))
    config.pop("decay", None)
    config.pop("name", None)
    return keras.optimizers.get({"class_name": type(optimizer).__name__, "config": config})
