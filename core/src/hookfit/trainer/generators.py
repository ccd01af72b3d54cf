"""Keras 2's generator methods: `fit_generator`, `evaluate_generator` and
`predict_generator` run the loops of `hookfit.trainer.loops` on batches from
a Python generator (or a `Sequence`) instead of arrays.

A Keras generator yields ``(x, y)`` batches forever; ``steps_per_epoch``
says how many make an epoch, and each epoch continues where the last one
stopped. Everything that can be refused is refused before the first hook:
the arguments, and the first batch of every generator, which is taken early
to be checked and then handed to the loop as its first batch. Later batches
are checked as they come (a generator's batches cost a Python call each
anyway), and a generator that stops early is refused by name.

Batches are drawn in the training thread: ``workers``,
``max_queue_size`` and ``use_multiprocessing`` are accepted so that Keras 2
calls run unchanged, and change nothing.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import distributed
from ..errors import ConfigError
from ..hooks.dispatch import Run
from . import inputs, loops, preamble

if TYPE_CHECKING:
    from .network import Network

Array = np.ndarray


class Sequence(ABC):
    """Keras's ``keras.utils.Sequence``: a data set that gives its batches by
    index, so an epoch can visit them in a new order (``shuffle=True``).

    Subclasses implement ``__getitem__`` (batch ``index`` as ``(x, y)``) and
    ``__len__`` (the number of batches); `on_epoch_end` runs after every
    training epoch.
    """

    @abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Batch number ``index``: ``(x, y)``, or ``x`` for predicting."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of batches."""

    def on_epoch_end(self) -> None:  # noqa: B027 - optional, as in Keras
        """Called after each epoch of `fit_generator` (to reshuffle, ...)."""


def _describe(value: Any) -> str:
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"{type(value).__name__} {value!r:.60}"


class Source:
    """The checked batches of one argument: a generator or a `Sequence`.

    Args:
        model: The model the batches must fit (built from the first batch
            if it is not built yet).
        data: The generator (any iterator) or `Sequence`.
        steps: Batches per pass (per epoch); None takes a Sequence's length.
        call: The method, for messages (``'fit_generator'``).
        argument: The argument ``data`` came in (``'generator'``).
        steps_name: The argument ``steps`` came in (``'steps_per_epoch'``).
        targets: True if batches are ``(x, y)``; False for predicting,
            where a batch is ``x`` (or a tuple whose first item is ``x``).

    Attributes:
        steps: The batches per pass.
        batch_size: The size of the first batch.

    Raises:
        ConfigError: Not a generator or Sequence, no or bad steps, an
            exhausted generator, or a first batch that does not fit.
    """

    def __init__(
        self,
        model: Network,
        data: Any,
        steps: Any,
        *,
        call: str,
        argument: str,
        steps_name: str,
        targets: bool = True,
        class_weight: Any = None,
    ) -> None:
        self.model, self.call, self.argument = model, call, argument
        self.targets = targets
        self.class_weight = class_weight
        self._sequence = data if isinstance(data, Sequence) else None
        if self._sequence is None and not isinstance(data, Iterator):
            raise ConfigError(
                f"{call}: {argument} must be a generator yielding batches forever, or a "
                f"hookfit.utils.Sequence; got {_describe(data)}. For arrays use "
                f"{call.removesuffix('_generator')}()."
            )
        self._iterator = data
        length = len(self._sequence) if self._sequence is not None else None
        if length is not None and length < 1:
            raise ConfigError(
                f"{call}: {argument} is a Sequence of length {length}; it has no batch."
            )
        self.steps = self._steps(steps, steps_name, length)
        self._pulled = 0
        self._ahead: list[Any] = []
        first = self.check(self._sequence[0] if self._sequence is not None else self._next(), 0)
        if self._sequence is None:  # a generator's batch is used, not drawn again
            self._ahead.append(first)
        self.batch_size = inputs.samples(first[0] if targets else first)

    def _steps(self, value: Any, name: str, length: int | None) -> int:
        if value is None:
            if length is None:
                raise ConfigError(
                    f"{self.call}: {name} is required when {self.argument} is a generator: it "
                    f"yields batches forever, so {name} says how many to take. Pass e.g. "
                    f"{name}=len(x) // batch_size."
                )
            return length
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(f"{self.call}: {name} must be a positive integer, got {value!r}.")
        return int(value)

    def _next(self) -> Any:
        try:
            item = next(self._iterator)
        except StopIteration:
            raise ConfigError(
                f"{self.call}: {self.argument} is exhausted after {self._pulled} batches, but "
                f"{self.steps} per pass were asked for. A Keras generator yields batches "
                "forever: put its yield in a `while True:` loop."
            ) from None
        self._pulled += 1
        return item

    def check(self, item: Any, step: int) -> Any:
        """One batch as the loops take it: ``(x, y, sample_weight)``, or
        ``x`` for predicting.

        Raises:
            ConfigError: Not ``(x, y)`` or ``(x, y, sample_weight)`` (not
                ``x``), or arrays that do not fit the model.
        """
        where = f"{self.call}({self.argument}) batch {step}"
        if not self.targets:
            if isinstance(item, tuple):
                if len(item) not in (2, 3):
                    raise ConfigError(
                        f"{where} is {_describe(item)}; yield x, or (x, y) whose y is ignored."
                    )
                item = item[0]
            return inputs.prepare_x(self.model, item, where)
        if not isinstance(item, tuple) or len(item) not in (2, 3):
            raise ConfigError(
                f"{where} is {_describe(item)}; {self.argument} must yield (x, y) or (x, y, "
                "sample_weight) tuples, e.g. `yield x[i:j], y[i:j]`."
            )
        x = inputs.prepare_x(self.model, item[0], where)
        y = inputs.prepare_y(self.model, item[1], inputs.samples(x), where)
        weight = item[2] if len(item) == 3 else None
        return x, y, inputs.sample_weights(self.model, y, weight, self.class_weight, where)

    def batches(self, shuffle: bool = False, epoch_end: bool = False) -> Iterator[Any]:
        """One pass of `steps` batches. A generator continues where the last
        pass stopped; a Sequence starts over, in a new order when
        ``shuffle``, and runs its ``on_epoch_end`` after it if ``epoch_end``."""
        check = self.check
        sequence = self._sequence
        if sequence is None:
            for step in range(self.steps):
                yield check(self._next(), step) if not self._ahead else self._ahead.pop()
            return
        n = len(sequence)
        order = self.model.rng.permutation(n) if shuffle else range(n)
        for step in range(self.steps):
            yield check(sequence[int(order[step % n])], step)
        if epoch_end:
            sequence.on_epoch_end()


def start_fit(
    model: Network,
    generator: Any,
    steps_per_epoch: Any,
    epochs: int,
    verbose: int,
    callbacks: Iterable[Any] | None,
    validation_data: Any,
    validation_steps: Any,
    class_weight: Any,
    shuffle: bool,
    initial_epoch: int,
    config: Any,
    threads: int | None = None,
) -> tuple[preamble.Fit, loops.Epoch, loops.Epoch | None]:
    """`Model.fit_generator`'s checks and start (see there): the started
    fit, its batches and its validation batches."""
    if distributed.size() > 1:
        raise ConfigError(
            f"fit_generator: not data-parallel under MPI ({distributed.size()} processes). "
            "Give every rank the same arrays with fit(x, y, batch_size=GLOBAL_BATCH), "
            "or train with fit_generator without mpiexec."
        )
    args = preamble.fit_arguments("fit_generator", epochs, initial_epoch, verbose, shuffle, threads)
    train = Source(
        model,
        generator,
        steps_per_epoch,
        call="fit_generator",
        argument="generator",
        steps_name="steps_per_epoch",
        class_weight=class_weight,
    )
    # array validation data goes in batches of the generator's size, as in Keras
    validate, arrays = _validation(model, validation_data, validation_steps, train.batch_size)
    fit = preamble.start_fit(
        model,
        args,
        callbacks=callbacks,
        config=config,
        steps=train.steps,
        batch_size=train.batch_size,
        metrics=model.metrics_names,
        validation=arrays,
        validates=validate is not None,
    )
    return fit, functools.partial(train.batches, args.shuffle, True), validate


def _validation(
    model: Network, data: Any, steps: Any, batch_size: int
) -> tuple[loops.Epoch | None, list[Any] | None]:
    """``validation_data`` as one pass of batches, and the arrays that
    plugins see as ``validation_data`` (for arrays only, as in Keras)."""
    if data is None:
        return None, None
    if isinstance(data, tuple | list):
        if len(data) not in (2, 3):
            raise ConfigError(
                f"fit_generator: validation_data is {_describe(data)}; give (x_val, y_val), "
                "(x_val, y_val, sample_weight) or a generator of such batches."
            )
        val = inputs.validation(model, data, "fit_generator(validation_data)")
        return functools.partial(loops.slices, val, batch_size), inputs.validation_triple(val)
    source = Source(
        model,
        data,
        steps,
        call="fit_generator",
        argument="validation_data",
        steps_name="validation_steps",
    )
    return source.batches, None


def start_evaluate(
    model: Network,
    generator: Any,
    steps: Any,
    verbose: int,
    callbacks: Iterable[Any] | None,
    config: Any,
) -> tuple[Run, Source]:
    """`Model.evaluate_generator`'s checks and run (see there), and its batches."""
    verbose = inputs.verbose(verbose)
    source = Source(
        model, generator, steps, call="evaluate_generator", argument="generator", steps_name="steps"
    )
    params = {"steps": source.steps, "verbose": verbose, "metrics": model.metrics_names}
    return preamble.open_run(model, callbacks, config, verbose, params), source


def predict(
    model: Network,
    generator: Any,
    steps: Any,
    verbose: int,
    callbacks: Iterable[Any] | None,
    config: Any,
) -> Array:
    """`Model.predict_generator` (see there)."""
    verbose = inputs.verbose(verbose)
    source = Source(
        model,
        generator,
        steps,
        call="predict_generator",
        argument="generator",
        steps_name="steps",
        targets=False,
    )
    params = {"steps": source.steps, "verbose": verbose}
    run = preamble.open_run(model, callbacks, config, verbose, params)
    return loops.predict(model, run, source.batches())


__all__ = ["Sequence", "Source"]
