"""Keras 2's legacy training API on `hookfit.models.Model`: the generator
methods (`hookfit.trainer.generators` prepares their batches) and
``predict_proba`` / ``predict_classes``, kept in one place so that the rest
of the model holds the current API."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import HookfitWarning
from . import generators, legacy, loops
from .steps import LocalStep
from .training import TrainingMethods

Array = np.ndarray


class Keras2Methods(TrainingMethods):
    """`hookfit.models.Model`'s Keras 2 methods that later Keras dropped,
    with Keras 2's signatures."""

    def predict_proba(self, x: Any, batch_size: int = 32, verbose: int = 0) -> Array:
        """Keras 2's `predict`, warning when outputs are not probabilities."""
        proba = self.predict(x, batch_size, verbose)
        if proba.size and (proba.min() < 0.0 or proba.max() > 1.0):
            warnings.warn(
                f"predict_proba: the model's outputs span {proba.min():.4g}..{proba.max():.4g}, "
                "outside [0, 1]; end the model with a softmax or sigmoid for probabilities.",
                HookfitWarning,
                stacklevel=2,
            )
        return proba

    def predict_classes(self, x: Any, batch_size: int = 32, verbose: int = 0) -> Array:
        """Keras 2's class predictions: the argmax of each output row, or
        ``output > 0.5`` (an ``(n, 1)`` int32 array) for one output unit."""
        proba = self.predict(x, batch_size, verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    @legacy.keras1_method
    def fit_generator(
        self,
        generator: Any,
        steps_per_epoch: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Iterable[Any] | None = None,
        validation_data: Any = None,
        validation_steps: int | None = None,
        class_weight: Any = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        shuffle: bool = True,
        initial_epoch: int = 0,
        config: Any = None,
        threads: int | None = None,
    ) -> Any:
        """Train on batches from a generator, calling the hooks as `fit` does.

        Args:
            generator: Yields ``(x, y)`` batches forever; or a
                `hookfit.utils.Sequence`.
            steps_per_epoch: Batches per epoch; required for a generator, a
                Sequence's length by default.
            epochs: The epoch to stop at.
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: Plugins for this run, as in `fit`.
            validation_data: ``(x_val, y_val)``, or a generator (then
                ``validation_steps`` is required) or Sequence of batches.
            validation_steps: Validation batches per epoch.
            class_weight: ``{class: weight}`` scaling each sample's loss by
                its class, as in `fit`.
            max_queue_size: Accepted for Keras 2; batches are drawn in the
                training thread.
            workers: As ``max_queue_size``.
            use_multiprocessing: As ``max_queue_size``.
            shuffle: Visit a Sequence's batches in a new order each epoch
                (a generator decides its own order).
            initial_epoch: The epoch to start from.
            config: Plugin settings, as in `fit`.
            threads: BLAS threads for this fit, as in `fit`.

        Returns:
            The History plugin of this run, unless switched off by name.

        Raises:
            ModelError: The model is not compiled.
            ConfigError: Bad arguments, or a first batch that does not fit,
                before any hook runs; a later batch that does not fit, or a
                generator that stops, when it comes.
        """
        self._require_compiled("fit_generator")
        fit, batches, validate = generators.start_fit(
            self,
            generator,
            steps_per_epoch,
            epochs,
            verbose,
            callbacks,
            validation_data,
            validation_steps,
            class_weight,
            shuffle,
            initial_epoch,
            config,
            threads,
        )
        return self._train(fit, LocalStep(self), batches, validate)

    @legacy.keras1_method
    def evaluate_generator(
        self,
        generator: Any,
        steps: int | None = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        verbose: int = 0,
        callbacks: Iterable[Any] | None = None,
        config: Any = None,
    ) -> float | list[float]:
        """`evaluate` on ``steps`` ``(x, y)`` batches of a generator or
        Sequence (``steps`` required for a generator); the other arguments
        as in `fit_generator`.

        Returns:
            The loss, or ``[loss, acc]`` when compiled with accuracy.
        """
        self._require_compiled("evaluate_generator")
        run, source = generators.start_evaluate(self, generator, steps, verbose, callbacks, config)
        return loops.scores(loops.test(LocalStep(self), run, source.batches()))

    @legacy.keras1_method
    def predict_generator(
        self,
        generator: Any,
        steps: int | None = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        verbose: int = 0,
        callbacks: Iterable[Any] | None = None,
        config: Any = None,
    ) -> Array:
        """`predict` on ``steps`` batches of a generator or Sequence, each
        ``x`` or a tuple ``(x, y)`` whose ``y`` is ignored; the other
        arguments as in `evaluate_generator`.

        Returns:
            The outputs of every batch, stacked.
        """
        return generators.predict(self, generator, steps, verbose, callbacks, config)
