"""The hook specifications: the contract between the trainer and plugins.

Each hook mirrors a Keras callback method and keeps its argument names. Every
hook also offers ``model`` (the model being trained, evaluated or used for
prediction) and ``params`` (the run's parameters: ``batch_size``, ``epochs``,
``steps``, ``samples``, ``verbose``, ``do_validation``, ``metrics``). A hook
implementation asks for any subset of the arguments, in any order, by naming
them::

    @hookfit.hookimpl
    def on_epoch_end(epoch, logs):
        ...

The ``logs`` dict is a fresh dict for each call, shared by all plugins of that
call in plugin order: BaseLogger first, the plugins you named in the order
given, then History, ProgbarLogger last. The trainer puts the epoch's means
in the epoch logs; a plugin may add or replace keys that later plugins see
(BaseLogger reports a stateful metric's last batch value; ReduceLROnPlateau
adds ``lr``). Return values are ignored.

``on_batch_begin``/``on_batch_end`` and ``on_train_batch_begin``/
``on_train_batch_end`` fire at the same moment with the same ``logs`` dict:
the first pair is the Keras 2 spelling, the second the Keras 3 one.
"""

from __future__ import annotations

import inspect
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("hookfit")
hookimpl = pluggy.HookimplMarker("hookfit")
"""Marks a function or method as a hook implementation (``tryfirst``,
``trylast`` and ``specname`` are honoured)."""

Logs = dict[str, Any]
"""The type of the ``logs`` argument."""

# Hook names grouped by the positional arguments the trainer passes; the
# argument names themselves are read from the signatures below (`OFFERED`).
TRAIN_HOOKS = ("on_train_begin", "on_train_end")
EPOCH_HOOKS = ("on_epoch_begin", "on_epoch_end")
BATCH_HOOKS = (
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)
RUN_HOOKS = (*TRAIN_HOOKS, "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end")
ALL_HOOKS = RUN_HOOKS + EPOCH_HOOKS + BATCH_HOOKS


@hookspec
def on_train_begin(logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called once at the start of `fit`, before the first epoch.

    ``model.stop_training`` has just been reset to False; a plugin may set it
    here to train no epoch at all.

    Args:
        logs: An empty dict.
        model: The model being trained.
        params: The run's parameters.
    """


@hookspec
def on_train_end(logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called once at the end of `fit`, also when training stopped early or a
    plugin raised.

    Args:
        logs: The logs of the last finished epoch, or an empty dict.
        model: The model that was trained.
        params: The run's parameters.
    """


@hookspec
def on_epoch_begin(epoch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called at the start of every epoch.

    Args:
        epoch: The 0-based index of the epoch.
        logs: An empty dict.
        model: The model being trained.
        params: The run's parameters.
    """


@hookspec
def on_epoch_end(epoch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called at the end of every epoch, after validation.

    Args:
        epoch: The 0-based index of the epoch.
        logs: The epoch's sample-weighted means of ``loss`` (and ``acc``
            when the model was compiled with ``metrics=['accuracy']``), and
            ``val_loss`` (and ``val_acc``) when validating. BaseLogger, which
            runs first, replaces a stateful metric's mean with its last batch
            value. Plugins may add keys (``lr``) for the ones after them.
        model: The model being trained.
        params: The run's parameters.
    """


@hookspec
def on_batch_begin(batch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called before each training batch (Keras 2 name).

    Args:
        batch: The 0-based index of the batch within the epoch.
        logs: ``batch`` and ``size`` (the number of samples in the batch).
        model: The model being trained.
        params: The run's parameters.
    """


@hookspec
def on_batch_end(batch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called after each training batch (Keras 2 name).

    ``model.stop_training`` is checked after this hook: setting it stops the
    epoch after this batch (validation still runs).

    Args:
        batch: The 0-based index of the batch within the epoch.
        logs: ``batch``, ``size``, the batch's ``loss`` and, when compiled
            with ``metrics=['accuracy']``, its ``acc``.
        model: The model being trained.
        params: The run's parameters.
    """


@hookspec
def on_train_batch_begin(batch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Keras 3 name of `on_batch_begin`; fires with it, with the same logs.

    Args:
        batch: The 0-based index of the batch within the epoch.
        logs: ``batch`` and ``size``.
        model: The model being trained.
        params: The run's parameters.
    """


@hookspec
def on_train_batch_end(batch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Keras 3 name of `on_batch_end`; fires with it, with the same logs.

    Args:
        batch: The 0-based index of the batch within the epoch.
        logs: ``batch``, ``size``, ``loss`` and, when compiled with
            accuracy, ``acc``.
        model: The model being trained.
        params: The run's parameters.
    """


@hookspec
def on_test_begin(logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called at the start of `evaluate`, and of the validation inside `fit`.

    Args:
        logs: An empty dict.
        model: The model being evaluated.
        params: The parameters of the run (fit's, during validation).
    """


@hookspec
def on_test_end(logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called at the end of `evaluate`, and of the validation inside `fit`.

    Args:
        logs: The results: ``loss`` and, with accuracy, ``acc``.
        model: The model being evaluated.
        params: The parameters of the run.
    """


@hookspec
def on_test_batch_begin(batch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called before each evaluation batch.

    Args:
        batch: The 0-based index of the batch.
        logs: ``batch`` and ``size``.
        model: The model being evaluated.
        params: The parameters of the run.
    """


@hookspec
def on_test_batch_end(batch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called after each evaluation batch.

    Args:
        batch: The 0-based index of the batch.
        logs: ``batch``, ``size``, the batch's ``loss`` and, with accuracy,
            ``acc``.
        model: The model being evaluated.
        params: The parameters of the run.
    """


@hookspec
def on_predict_begin(logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called at the start of `predict`.

    Args:
        logs: An empty dict.
        model: The model predicting.
        params: The parameters of the run.
    """


@hookspec
def on_predict_end(logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called at the end of `predict`.

    Args:
        logs: An empty dict.
        model: The model predicting.
        params: The parameters of the run.
    """


@hookspec
def on_predict_batch_begin(batch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called before each prediction batch.

    Args:
        batch: The 0-based index of the batch.
        logs: ``batch`` and ``size``.
        model: The model predicting.
        params: The parameters of the run.
    """


@hookspec
def on_predict_batch_end(batch: int, logs: Logs, model: Any, params: dict[str, Any]) -> None:
    """Called after each prediction batch.

    Args:
        batch: The 0-based index of the batch.
        logs: ``batch``, ``size`` and ``outputs`` (the batch's predictions).
        model: The model predicting.
        params: The parameters of the run.
    """


FIXED = ("model", "params")
"""The arguments that stay the same for a whole run: bound once, not passed
on every call."""

OFFERED: dict[str, tuple[str, ...]] = {
    name: tuple(inspect.signature(globals()[name]).parameters) for name in ALL_HOOKS
}
"""Every argument each hook offers, by hook name, as the hookspecs above
declare them: the one place the argument names are written."""

POSITIONAL: dict[str, tuple[str, ...]] = {
    name: tuple(arg for arg in offered if arg not in FIXED) for name, offered in OFFERED.items()
}
"""What the trainer passes positionally to each hook (`OFFERED` without
`FIXED`): ``("logs",)``, ``("epoch", "logs")`` or ``("batch", "logs")``."""


# -- the command line -----------------------------------------------------------
# Not a training hook: a distribution implements it in the module that its
# ``hookfit.commands`` entry point names, and `hookfit` calls it while it builds
# its parser (CONTRIBUTING.md, "Adding a command").


@hookspec
def register_commands(commands: Any) -> None:
    """Add subcommands to the ``hookfit`` command, as llm's and datasette's
    hook of the same name does.

    Called only when the command line may need plugin commands (``hookfit
    --help``, or a command that is not built in), so keep the module light:
    import what a command needs inside the function that runs it.

    Args:
        commands: ``commands.add(name, help, run)`` adds ``hookfit NAME`` and
            returns its `argparse.ArgumentParser`, for the command's own
            arguments. ``run(args)`` receives the parsed `argparse.Namespace`
            and returns the exit status. A name that is built in or that
            another plugin already added is refused.
    """
