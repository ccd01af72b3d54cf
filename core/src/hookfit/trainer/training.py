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

from ..errors import ConfigError
from . import inputs, legacy, loops, parallel, preamble
from .network import Network
from .steps import LocalStep, Step

Array = np.ndarray


class TrainingMethods(Network):
    """`hookfit.models.Model`'s methods that train, test and predict (on
    the layers, weights and numerics of `Network`)."""

    @legacy.keras1_method
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
        class_weight: Any = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: None = None,
        validation_steps: None = None,
        config: Any = None,
        threads: int | None = None,
    ) -> Any:
        """Train the model, calling the plugins' hooks. Keras 2.0's renamed
        arguments (``nb_epoch``) are taken with Keras's warning
        (`hookfit.trainer.legacy`).

        Args:
            x: Inputs ``(samples, *input_shape)``; a list (or a dict by
                input name) for several inputs.
            y: Targets: one-hot rows, or class indices for the sparse loss;
                a list or dict for several outputs.
            batch_size: Samples per update (default 32). Under MPI
                (`hookfit.distributed`) the global batch: each rank takes
                its share of every batch of the same ``x`` and ``y``.
            epochs: The epoch to stop at (0-based count, as in Keras).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: Plugins for this run: objects, or entry-point names.
            validation_split: Fraction in [0, 1) of the data (taken from the
                end, before shuffling) to validate on after each epoch.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val,
                sample_weight)``; overrides the split.
            shuffle: Shuffle the training samples every epoch.
            class_weight: ``{class: weight}`` scaling each sample's loss by
                its class (a dict per output for several).
            sample_weight: One weight per sample scaling its loss (Keras
                2's rule: the weighted mean over the non-zero weights).
            initial_epoch: The epoch to start from (to resume).
            steps_per_epoch: Must be None (for tensors in Keras).
            validation_steps: Must be None, as ``steps_per_epoch``.
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
        for name, value in (
            ("steps_per_epoch", steps_per_epoch),
            ("validation_steps", validation_steps),
        ):
            if value is not None:
                raise ConfigError(
                    f"fit: {name} is for tensors, which hookfit does not have; leave it None "
                    "and give batch_size, or use fit_generator."
                )
        batch_size = inputs.batch_size(batch_size)
        args = preamble.fit_arguments("fit", epochs, initial_epoch, verbose, shuffle, threads)
        data, val = inputs.fit_data(
            self, x, y, validation_split, validation_data, sample_weight, class_weight
        )
        n = inputs.samples(data[0])
        fit = preamble.start_fit(
            self,
            args,
            callbacks=callbacks,
            config=config,
            steps=-(-n // batch_size),
            batch_size=batch_size,
            metrics=self.metrics_names,
            samples=n,
            validation=None if val is None else inputs.validation_triple(val),
        )
        # under MPI: batch_size is the global batch, once the ranks agree on what they train
        mpi = parallel.for_model(
            self,
            "fit",
            data=data,
            validation=val,
            batch_size=batch_size,
            epochs=args.epochs,
            initial_epoch=args.initial_epoch,
            shuffle=args.shuffle,
        )
        step: Step = mpi or LocalStep(self)
        validate = None
        if val is not None:
            validate = functools.partial(loops.slices, val, batch_size, step.part)
        batches = loops.array_batches(self, data, batch_size, args.shuffle, step.part)
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
        sample_weight: Any = None,
        steps: None = None,
        callbacks: Iterable[Any] | None = None,
        config: Any = None,
    ) -> float | list[float]:
        """Return the loss (and metrics) on ``x``/``y``, calling the test hooks.

        Returns:
            The loss, or every score in `metrics_names` order.
        """
        self._require_compiled("evaluate")
        if steps is not None:
            raise ConfigError(
                "evaluate: steps is for tensors, which hookfit does not have; leave it None."
            )
        batch_size = inputs.batch_size(batch_size)
        verbose = inputs.verbose(verbose)
        x = inputs.prepare_x(self, x, "evaluate")
        n = inputs.samples(x)
        y = inputs.prepare_y(self, y, n, "evaluate")
        data = (x, y, inputs.sample_weights(self, y, sample_weight, None, "evaluate"))
        params = {
            "batch_size": batch_size,
            "steps": -(-n // batch_size),
            "samples": n,
            "verbose": verbose,
            "metrics": self.metrics_names,
        }
        run = preamble.open_run(self, callbacks, config, verbose, params)
        # under MPI: each rank a share of each batch, once the ranks agree on what they test
        step: Step = parallel.for_model(self, "evaluate", data=data, batch_size=batch_size) or (
            LocalStep(self)
        )
        return loops.scores(loops.test(step, run, loops.slices(data, batch_size, step.part)))

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
        n = inputs.samples(x)
        params = {
            "batch_size": batch_size,
            "steps": -(-n // batch_size),
            "samples": n,
            "verbose": verbose,
        }
        run = preamble.open_run(self, callbacks, config, verbose, params)
        batches = (inputs.rows(x, slice(i, i + batch_size)) for i in range(0, n, batch_size))
        return loops.predict(self, run, batches, n)

    def train_on_batch(
        self, x: Any, y: Any, sample_weight: Any = None, class_weight: Any = None
    ) -> float | list[float]:
        """One update on one batch, without hooks; returns its scores
        (the loss alone when it is the only one)."""
        self._require_compiled("train_on_batch")
        x = inputs.prepare_x(self, x, "train_on_batch")
        y = inputs.prepare_y(self, y, inputs.samples(x), "train_on_batch")
        sw = inputs.sample_weights(self, y, sample_weight, class_weight, "train_on_batch")
        return loops.scores(dict(zip(self.metrics_names, self.fit_batch(x, y, sw), strict=True)))

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any = None) -> float | list[float]:
        """The scores on one batch, without hooks or updates."""
        self._require_compiled("test_on_batch")
        x = inputs.prepare_x(self, x, "test_on_batch")
        y = inputs.prepare_y(self, y, inputs.samples(x), "test_on_batch")
        sw = inputs.sample_weights(self, y, sample_weight, None, "test_on_batch")
        scores = self.score(y, self.forward(x, training=False), sw)
        return loops.scores(dict(zip(self.metrics_names, scores, strict=True)))

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch, without hooks."""
        x = inputs.prepare_x(self, x, "predict_on_batch")
        out = self.forward(x, training=False)
        return [o.copy() for o in out] if isinstance(out, list) else out.copy()
