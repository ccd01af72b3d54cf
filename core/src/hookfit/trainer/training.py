"""Keras's training API on `hookfit.models.Model`: `fit`, `evaluate`,
`predict` and the ``*_on_batch`` methods.

They check their inputs (`hookfit.trainer.inputs`), start the run
(`hookfit.trainer.preamble`: the checks, ``params`` and plugins every fit
shares), and hand the run and a step (`hookfit.trainer.steps`: one
process's, or under MPI the data-parallel one of `hookfit.trainer.parallel`)
to the loops that call the hooks and compute Keras's logs
(`hookfit.trainer.loops`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import numpy as np

from . import inputs, loops, parallel, preamble
from .network import Network
from .steps import LocalStep, Step

Array = np.ndarray


class TrainingMethods(Network):
    """`hookfit.models.Model`'s methods that train, test and predict (on
    the layers, weights and numerics of `Network`)."""

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Iterable[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[Any, Any] | None = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        config: Any = None,
        threads: int | None = None,
    ) -> Any:
        """Train the model, calling the plugins' hooks.

        Args:
            x: Inputs, ``(samples, features)``.
            y: Targets: one-hot rows, or class indices for the sparse loss.
            batch_size: Samples per update (default 32). Under MPI
                (`hookfit.distributed`) the global batch: each rank takes
                its share of every batch of the same ``x`` and ``y``.
            epochs: The epoch to stop at (0-based count, as in Keras).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: Plugins for this run: objects, or entry-point names.
            validation_split: Fraction in [0, 1) of the data (taken from the
                end, before shuffling) to validate on after each epoch.
            validation_data: ``(x_val, y_val)``; overrides the split.
            shuffle: Shuffle the training samples every epoch.
            initial_epoch: The epoch to start from (to resume).
            config: Plugin settings: a path to a config file or a dict in
                the config file's form. None (the default) reads no file:
                the run has the plugins passed in ``callbacks`` and those on
                by default (the environment's autoload switches apply to
                these, as in pytest).
            threads: BLAS threads for this fit. None: the cores other
                processes leave idle, checked at every epoch (one for a tiny
                step, and one per rank under MPI; `hookfit.trainer.threads`).
                The caller's setting is back when `fit` returns.

        Returns:
            The History plugin of this run, unless switched off by name.

        Raises:
            ModelError: The model is not compiled.
            ConfigError: Bad arguments or data, before any hook runs.
        """
        self._require_compiled("fit")
        batch_size = inputs.batch_size(batch_size)
        args = preamble.fit_arguments("fit", epochs, initial_epoch, verbose, shuffle, threads)
        x, y, x_val, y_val = inputs.fit_data(self, x, y, validation_split, validation_data)
        fit = preamble.start_fit(
            self,
            args,
            callbacks=callbacks,
            config=config,
            steps=-(-len(x) // batch_size),
            batch_size=batch_size,
            metrics=self.metrics_names,
            samples=len(x),
            validation=None if x_val is None else [x_val, y_val],
        )
        # under MPI: batch_size is the global batch, once the ranks agree on what they train
        mpi = parallel.for_model(
            self,
            "fit",
            x=x,
            y=y,
            x_val=x_val,
            y_val=y_val,
            batch_size=batch_size,
            epochs=args.epochs,
            initial_epoch=args.initial_epoch,
            shuffle=args.shuffle,
        )
        step: Step = mpi or LocalStep(self)
        validate = None
        if x_val is not None and y_val is not None:
            validate = functools.partial(loops.slices, x_val, y_val, batch_size, step.part)
        batches = loops.array_batches(self, x, y, batch_size, args.shuffle, step.part)
        with parallel.together(mpi, "fit"):  # under MPI: no rank leaves it alone
            return self._train(fit, step, batches, validate)

    def _train(
        self, fit: preamble.Fit, step: Step, batches: loops.Epoch, validate: loops.Epoch | None
    ) -> Any:
        """Train through ``fit``'s run (`fit` and `fit_generator`); return the History."""
        with fit.running(self) as run:
            self._run = run
            try:
                loops.train(step, run, batches, validate, fit.args.epochs, fit.policy.update)
            finally:
                self._run = None
        return self.history

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int = 1,
        callbacks: Iterable[Any] | None = None,
        config: Any = None,
    ) -> float | list[float]:
        """Return the loss (and accuracy) on ``x``/``y``, calling the test hooks.

        Returns:
            The loss, or ``[loss, acc]`` when compiled with accuracy.
        """
        self._require_compiled("evaluate")
        batch_size = inputs.batch_size(batch_size)
        verbose = inputs.verbose(verbose)
        x = inputs.prepare_x(self, x, "evaluate")
        y = inputs.prepare_y(self, y, len(x), "evaluate")
        params = {
            "batch_size": batch_size,
            "steps": -(-len(x) // batch_size),
            "samples": len(x),
            "verbose": verbose,
            "metrics": self.metrics_names,
        }
        run = preamble.open_run(self, callbacks, config, verbose, params)
        # under MPI: each rank a share of each batch, once the ranks agree on what they test
        step: Step = parallel.for_model(self, "evaluate", x=x, y=y, batch_size=batch_size) or (
            LocalStep(self)
        )
        return loops.scores(loops.test(step, run, loops.slices(x, y, batch_size, step.part)))

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int = 0,
        callbacks: Iterable[Any] | None = None,
        config: Any = None,
    ) -> Array:
        """Return the model's outputs for ``x``, calling the predict hooks."""
        batch_size = inputs.batch_size(batch_size)
        verbose = inputs.verbose(verbose)
        x = inputs.prepare_x(self, x, "predict")
        params = {
            "batch_size": batch_size,
            "steps": -(-len(x) // batch_size),
            "samples": len(x),
            "verbose": verbose,
        }
        run = preamble.open_run(self, callbacks, config, verbose, params)
        batches = (x[i : i + batch_size] for i in range(0, len(x), batch_size))
        return loops.predict(self, run, batches, len(x))

    def train_on_batch(self, x: Any, y: Any) -> float | list[float]:
        """One update on one batch, without hooks; returns its loss (and acc)."""
        self._require_compiled("train_on_batch")
        x = inputs.prepare_x(self, x, "train_on_batch")
        y = inputs.prepare_y(self, y, len(x), "train_on_batch")
        loss, acc = self.fit_batch(x, y)
        return loss if acc is None else [loss, acc]

    def test_on_batch(self, x: Any, y: Any) -> float | list[float]:
        """The loss (and acc) on one batch, without hooks or updates."""
        self._require_compiled("test_on_batch")
        x = inputs.prepare_x(self, x, "test_on_batch")
        y = inputs.prepare_y(self, y, len(x), "test_on_batch")
        loss, acc = self.score(y, self.forward(x, training=False))
        return loss if acc is None else [loss, acc]

    def predict_on_batch(self, x: Any) -> Array:
        """The outputs for one batch, without hooks."""
        x = inputs.prepare_x(self, x, "predict_on_batch")
        return self.forward(x, training=False).copy()
