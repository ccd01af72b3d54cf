"""The start of a run, written once: `fit`, `fit_generator` and
`hookfit.testing.MinimalHost` check their arguments, make the run's
``params``, get its plugins as a `hookfit.hooks.Run` and set the host up for
training here, so that every host starts its plugins the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from .. import distributed
from ..errors import ConfigError
from ..hooks.callback import Callback
from ..hooks.dispatch import Run, plugins_for
from . import inputs, threads


class Host(threads.Layered, Protocol):
    """What starting a fit uses of its host: its layers (for the thread
    policy) and what it sets."""

    history: Any
    initial_epoch: int


@dataclass(frozen=True)
class FitArguments:
    """`fit`'s loop arguments, checked (`fit_arguments`)."""

    epochs: int
    initial_epoch: int
    verbose: int
    shuffle: bool
    threads: int | None


def fit_arguments(
    what: str, epochs: Any, initial_epoch: Any, verbose: Any, shuffle: Any, thread_count: Any
) -> FitArguments:
    """Check the arguments every fit takes, before anything else runs.

    Raises:
        ConfigError: One of them, naming ``what`` (``'fit_generator'``).
    """
    checked_threads = threads.checked(thread_count, what)
    epochs = inputs.count("epochs", epochs, what)
    initial_epoch = inputs.count("initial_epoch", initial_epoch, what)
    verbose = inputs.verbose(verbose)
    if not isinstance(shuffle, bool):
        raise ConfigError(f"{what}: shuffle must be True or False, got {shuffle!r}.")
    return FitArguments(epochs, initial_epoch, verbose, shuffle, checked_threads)


def open_run(host: Any, callbacks: Any, config: Any, verbose: int, params: dict[str, Any]) -> Run:
    """The run's plugins, checked and ready, for any call (`fit`,
    `evaluate`, `predict`): everything that can be refused is refused here,
    before the first hook."""
    plugins = plugins_for(callbacks, config=config, verbose=verbose)
    return Run(plugins, host, params, rank=distributed.rank())


@dataclass
class Fit:
    """A started fit: its run, arguments and thread policy.

    Attributes:
        run: The run's plugins (`open_run`).
        args: The checked arguments.
        policy: The BLAS threads of the fit (`hookfit.trainer.threads`).
        validation: The validation arrays plugins see as ``validation_data``.
    """

    run: Run
    args: FitArguments
    policy: threads.Policy
    validation: list[Any] | None

    @contextmanager
    def running(self, host: Host) -> Iterator[Run]:
        """Set ``host`` up for the loops, within its thread policy: plugins
        get the validation arrays, ``history`` is cleared (History sets it
        in ``on_train_begin``, as Keras's does) and ``initial_epoch`` set."""
        if self.validation is not None:
            for plugin in self.run.plugins.values():
                if isinstance(plugin, Callback):
                    plugin.validation_data = self.validation
        host.history = None
        host.initial_epoch = self.args.initial_epoch
        with self.policy.limited():
            yield self.run


def start_fit(
    host: Host,
    args: FitArguments,
    *,
    callbacks: Any,
    config: Any,
    steps: int,
    batch_size: int,
    metrics: Sequence[str],
    samples: int | None = None,
    validation: list[Any] | None = None,
    validates: bool | None = None,
) -> Fit:
    """Start a fit: its ``params``, its plugins and its thread policy.

    Args:
        host: The model.
        args: The checked arguments.
        callbacks: As `fit` takes them.
        config: As `fit` takes it.
        steps: Batches per epoch.
        batch_size: Samples per batch (of arrays; a generator's first batch).
        metrics: The model's metric names (``['loss', 'acc']``).
        samples: The training samples, for arrays (then ``params`` holds
            ``batch_size`` and ``samples``, as in Keras).
        validation: The validation arrays, given to plugins.
        validates: Whether the fit validates, when not from ``validation``
            (a generator's batches).
    """
    validates = validation is not None if validates is None else validates
    # Keras's keys, in Keras's order; batch_size and samples for arrays only
    params: dict[str, Any] = {} if samples is None else {"batch_size": batch_size}
    params.update(epochs=args.epochs, steps=steps)
    if samples is not None:
        params["samples"] = samples
    params.update(
        verbose=args.verbose,
        do_validation=validates,
        metrics=[*metrics, *(f"val_{m}" for m in metrics)] if validates else list(metrics),
    )
    run = open_run(host, callbacks, config, args.verbose, params)
    return Fit(run, args, threads.Policy(host, batch_size, args.threads), validation)
