"""Keras's training API on `hookfit.models.Model`: `fit`, `evaluate`,
`predict` and the ``*_on_batch`` methods.

They check their inputs (`hookfit.trainer.inputs`), get the run's plugins as
a `hookfit.hooks.Run`, and hand both to the loops that call the hooks and
compute Keras's logs (`hookfit.trainer.loops`), with the BLAS threads
`hookfit.trainer.threads` decides and, under MPI, the data-parallel step
of `hookfit.trainer.parallel`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import distributed
from ..errors import ConfigError
from ..hooks.callback import Callback
from ..hooks.dispatch import Run, plugins_for
from . import inputs, loops, parallel
from . import threads as blas
from .keras2 import cast_model

Array = np.ndarray


class TrainingMethods:
    """Mixed into `hookfit.models.Model`: the methods that train, test and
    predict (the model's own module holds its structure, files and compile)."""

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
        model = cast_model(self)
        model._require_compiled("fit")
        threads = blas.checked(threads, "fit")
        batch_size = inputs.batch_size(batch_size)
        epochs = inputs.count("epochs", epochs)
        initial_epoch = inputs.count("initial_epoch", initial_epoch)
        verbose = inputs.verbose(verbose)
        if not isinstance(shuffle, bool):
            raise ConfigError(f"fit: shuffle must be True or False, got {shuffle!r}.")
        x, y, x_val, y_val = inputs.fit_data(model, x, y, validation_split, validation_data)
        n = len(x)
        do_validation = x_val is not None
        names = model.metrics_names
        params = {
            "batch_size": batch_size,
            "epochs": epochs,
            "steps": -(-n // batch_size),
            "samples": n,
            "verbose": verbose,
            "do_validation": do_validation,
            "metrics": names + [f"val_{m}" for m in names] if do_validation else names,
        }
        run = model._start(callbacks, verbose, config, params)
        # under MPI: batch_size is the global batch, once the ranks agree on what they train
        shared = parallel.for_model(
            model,
            "fit",
            x=x,
            y=y,
            x_val=x_val,
            y_val=y_val,
            batch_size=batch_size,
            epochs=epochs,
            initial_epoch=initial_epoch,
            shuffle=shuffle,
        )
        part = shared.part if shared is not None else (0, 1)
        validate = None
        if x_val is not None and y_val is not None:
            validate = functools.partial(loops.slices, x_val, y_val, batch_size, part)
        batches = loops.array_batches(model, x, y, batch_size, shuffle, part)
        arrays = [x_val, y_val] if do_validation else None
        policy = blas.Policy(model, batch_size, threads)
        with parallel.together(shared, "fit"):  # under MPI: no rank leaves it alone
            history = model._fit(
                run, batches, validate, arrays, initial_epoch, epochs, policy, shared
            )
        return history

    def _fit(
        self,
        run: Run,
        batches: loops.Epoch,
        validate: loops.Epoch | None,
        validation_arrays: list[Any] | None,
        initial_epoch: int,
        epochs: int,
        threads: blas.Policy,
        shared: parallel.DataParallel | None = None,
    ) -> Any:
        """Train through ``run`` with the BLAS threads ``threads`` decides
        (`fit` and `fit_generator`); return the History."""
        model = cast_model(self)
        if validation_arrays is not None:
            for plugin in run.plugins.values():
                if isinstance(plugin, Callback):
                    plugin.validation_data = validation_arrays
        # History sets itself as model.history in on_train_begin, as Keras's does
        model.history = None
        model.initial_epoch = initial_epoch
        model._run = run
        try:
            with threads.limited():
                loops.train(model, run, batches, validate, epochs, threads.update, shared)
        finally:
            model._run = None
        return model.history

    def _start(self, callbacks: Any, verbose: int, config: Any, params: dict[str, Any]) -> Run:
        """The run's plugins, checked and ready: everything that can be
        refused is refused here, before the first hook."""
        model = cast_model(self)
        plugins = plugins_for(callbacks, config=config, verbose=verbose)
        return Run(plugins, model, params, rank=distributed.rank())

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
        model = cast_model(self)
        model._require_compiled("evaluate")
        batch_size = inputs.batch_size(batch_size)
        verbose = inputs.verbose(verbose)
        x = inputs.prepare_x(model, x, "evaluate")
        y = inputs.prepare_y(model, y, len(x), "evaluate")
        params = {
            "batch_size": batch_size,
            "steps": -(-len(x) // batch_size),
            "samples": len(x),
            "verbose": verbose,
            "metrics": model.metrics_names,
        }
        run = model._start(callbacks, verbose, config, params)
        # under MPI: each rank a share of each batch, once the ranks agree on what they test
        shared = parallel.for_model(model, "evaluate", x=x, y=y, batch_size=batch_size)
        part = shared.part if shared is not None else (0, 1)
        return model._scores(loops.test(model, run, loops.slices(x, y, batch_size, part), shared))

    def _scores(self, results: dict[str, float]) -> float | list[float]:
        """`evaluate`'s result: the loss, or ``[loss, acc]``."""
        model = cast_model(self)
        return results["loss"] if len(results) == 1 else [results[m] for m in model.metrics_names]

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int = 0,
        callbacks: Iterable[Any] | None = None,
        config: Any = None,
    ) -> Array:
        """Return the model's outputs for ``x``, calling the predict hooks."""
        model = cast_model(self)
        batch_size = inputs.batch_size(batch_size)
        verbose = inputs.verbose(verbose)
        x = inputs.prepare_x(model, x, "predict")
        params = {
            "batch_size": batch_size,
            "steps": -(-len(x) // batch_size),
            "samples": len(x),
            "verbose": verbose,
        }
        run = model._start(callbacks, verbose, config, params)
        batches = (x[start : start + batch_size] for start in range(0, len(x), batch_size))
        return loops.predict(model, run, batches, len(x))

    def train_on_batch(self, x: Any, y: Any) -> float | list[float]:
        """One update on one batch, without hooks; returns its loss (and acc)."""
        model = cast_model(self)
        model._require_compiled("train_on_batch")
        x = inputs.prepare_x(model, x, "train_on_batch")
        y = inputs.prepare_y(model, y, len(x), "train_on_batch")
        loss, acc = model._step(x, y)
        return loss if acc is None else [loss, acc]

    def test_on_batch(self, x: Any, y: Any) -> float | list[float]:
        """The loss (and acc) on one batch, without hooks or updates."""
        model = cast_model(self)
        model._require_compiled("test_on_batch")
        x = inputs.prepare_x(model, x, "test_on_batch")
        y = inputs.prepare_y(model, y, len(x), "test_on_batch")
        loss, acc = model._metrics(y, model._forward(x, training=False))
        return loss if acc is None else [loss, acc]

    def predict_on_batch(self, x: Any) -> Array:
        """The outputs for one batch, without hooks."""
        model = cast_model(self)
        x = inputs.prepare_x(model, x, "predict_on_batch")
        return model._forward(x, training=False).copy()
