"""What ``compile(metrics=[...])`` holds, as a model's metrics: `get`
turns each entry into a `Metric` whose ``name`` is the key Keras 2.2.4
logs (``'accuracy'`` logs as ``'acc'``, ``'mse'`` as
``'mean_squared_error'``, a function under its ``__name__``), whose
``values`` give one score per sample (what sample weights weigh) and whose
call gives the batch mean; `per_output` and `logged_name` give each output
its metrics and their keys. The functions themselves are
`hookfit.trainer.metrics`.

A stateful metric (Keras 2.2.4: an object with ``stateful = True``,
``reset_states()`` and ``__call__(y_true, y_pred)`` returning a running
value) becomes a `Stateful`: the loops reset it at each epoch's start and
before each evaluation, and log its last value instead of a mean over
batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, ModelError, nearest, unknown_name
from . import losses
from .losses import Loss, per_sample
from .metrics import (
    binary_accuracy,
    categorical_accuracy,
    cosine_proximity,
    hinge,
    kullback_leibler_divergence,
    logcosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    squared_hinge,
    top_k_categorical_accuracy,
)

Array = np.ndarray


class Metric:
    """A stateless metric: one score per sample, logged as their batch mean.

    Attributes:
        name: The key Keras 2.2.4 logs it under.
        stateful: False; see `Stateful`.
    """

    stateful = False

    def __init__(self, name: str, fn: Callable[[Array, Array], Any]) -> None:
        self.name = name
        self._fn = fn

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """Per-sample scores, shape ``(n,)``.

        Raises:
            ConfigError: A user function returned something that is neither a
                scalar nor one value (or row) per sample.
        """
        result = self._result(y_true, y_pred)
        if result.ndim == 0:
            return np.full(len(y_pred), float(result))
        if len(result) != len(y_pred):
            raise ConfigError(
                f"The metric {self.name!r} returned shape {result.shape} for a batch of "
                f"{len(y_pred)} samples; return one value per sample (shape "
                f"({len(y_pred)},)) or a scalar."
            )
        return per_sample(result)

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        """The batch's mean score (Keras 2: the mean of all the function returns)."""
        return float(np.mean(self._result(y_true, y_pred)))

    def reset_states(self) -> None:
        """Nothing to reset: a stateless metric keeps no state."""

    def _result(self, y_true: Array, y_pred: Array) -> Array:
        result = self._fn(y_true, y_pred)
        try:
            return np.asarray(result, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(
                f"The metric {self.name!r} returned {type(result).__name__} "
                f"{str(result)[:60]!r}; a metric returns numbers: one per sample or a scalar."
            ) from None

    def __repr__(self) -> str:
        return f"<metric {self.name}>"


class Stateful(Metric):
    """A stateful metric: each call updates its state and returns the running
    value, which the loops log as it is (the last call's value), not averaged.

    The loops call `reset_states` at the start of each epoch and before each
    evaluation (validation included), as Keras 2.2.4's do.
    """

    stateful = True

    def __init__(self, name: str, metric: Any) -> None:
        super().__init__(name, metric)
        self._metric = metric

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """Refused: a running value is not one score per sample.

        Raises:
            ModelError: Always; weigh stateful metrics inside the metric.
        """
        raise ModelError(
            f"The stateful metric {self.name!r} keeps a running value, not one score per "
            "sample, so sample weights cannot weigh it; list it in metrics, not "
            "weighted_metrics."
        )

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        """Update the state with this batch and return the running value."""
        return float(np.mean(self._result(y_true, y_pred)))

    def reset_states(self) -> None:
        """Reset the wrapped metric's state."""
        self._metric.reset_states()


# Keras 2.2.4's metric names that hookfit computes. Each loss logs under its
# function's name: 'mse' as 'mean_squared_error'.
_FUNCTIONS: dict[str, Callable[..., Array]] = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "logcosh": logcosh,
    "kullback_leibler_divergence": kullback_leibler_divergence,
    "poisson": poisson,
    "cosine_proximity": cosine_proximity,
    "cosine": cosine_proximity,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
}
_LOSSES: dict[str, Loss] = {
    "mse": losses.mean_squared_error,
    "MSE": losses.mean_squared_error,
    "mean_squared_error": losses.mean_squared_error,
    "mae": losses.mean_absolute_error,
    "MAE": losses.mean_absolute_error,
    "mean_absolute_error": losses.mean_absolute_error,
    "binary_crossentropy": losses.binary_crossentropy,
    "categorical_crossentropy": losses.categorical_crossentropy,
    "sparse_categorical_crossentropy": losses.sparse_categorical_crossentropy,
}
# Keras 2.2.4 picks these by the loss and the output's size; they log as 'acc' and 'ce'.
_BY_LOSS = {"accuracy": "acc", "acc": "acc", "crossentropy": "ce", "ce": "ce"}
_PICKED = {
    "acc": {
        "binary": "binary_accuracy",
        "sparse_categorical": "sparse_categorical_accuracy",
        "categorical": "categorical_accuracy",
    },
    "ce": {
        "binary": "binary_crossentropy",
        "sparse_categorical": "sparse_categorical_crossentropy",
        "categorical": "categorical_crossentropy",
    },
}
NAMES = (*_BY_LOSS, *_FUNCTIONS, *_LOSSES)


def get(identifier: Any, loss: Loss, output_shape: Sequence[int | None]) -> Metric:
    """The metric for one entry of ``compile(metrics=[...])``, for one output.

    Args:
        identifier: A Keras name (``'accuracy'``, ``'mse'``, ...), a `Loss`, a
            `Metric`, a stateful metric object (``stateful = True``,
            ``reset_states()``, ``__call__``), or a function
            ``f(y_true, y_pred)`` on numpy arrays returning one value per
            sample or a scalar.
        loss: The output's loss, which picks the accuracy for ``'accuracy'``.
        output_shape: The output's shape (with or without the batch axis);
            its last size picks binary accuracy when it is 1.

    Raises:
        ConfigError: An unknown name (the message names the nearest valid
            one), a stateful metric without ``reset_states``, or something
            that is not a metric.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_LOSS:
            short = _BY_LOSS[identifier]
            kind = losses.accuracy_for(loss, int(output_shape[-1] or 0))
            return _named(_PICKED[short][kind], short)
        if identifier in _FUNCTIONS or identifier in _LOSSES:
            _check_targets(identifier, loss)
            return _named(identifier)
        raise _unknown(identifier)
    if isinstance(identifier, Loss):
        return Metric(identifier.name, identifier.values)
    if getattr(identifier, "stateful", False):
        name = _name_of(identifier)
        if not callable(getattr(identifier, "reset_states", None)):
            raise ConfigError(
                f"The stateful metric {name!r} has no reset_states() method; give it one "
                "that clears its state (the loops call it at each epoch's start)."
            )
        return Stateful(name, identifier)
    if callable(identifier):
        return Metric(_name_of(identifier), identifier)
    raise _unknown(identifier)


def _check_targets(name: str, loss: Loss) -> None:
    """Refuse a metric that reads one-hot targets with a loss that takes
    class ids (and the reverse): the targets cannot suit both.

    Raises:
        ConfigError: Naming the metric that suits the loss.
    """
    sparse = name.startswith("sparse_")
    if name.endswith("categorical_accuracy") and sparse != loss.sparse:
        other = name.removeprefix("sparse_") if sparse else f"sparse_{name}"
        kind = "integer class ids" if loss.sparse else "one-hot rows"
        raise ConfigError(
            f"metric {name!r} does not suit loss {loss.name!r}, whose targets are {kind}; "
            f"use {other!r}."
        )


def _unknown(identifier: object) -> ConfigError:
    error = unknown_name("metric", "metrics", identifier, NAMES)
    return ConfigError(f"{error} Or pass a function f(y_true, y_pred) of numpy arrays.")


def _named(keras_name: str, log_name: str | None = None) -> Metric:
    if keras_name in _LOSSES:
        loss = _LOSSES[keras_name]
        return Metric(log_name or loss.name, loss.values)
    fn = _FUNCTIONS[keras_name]
    return Metric(log_name or fn.__name__, fn)


def _name_of(metric: Any) -> str:
    """Keras 2.2.4's name for a metric object: its ``name``, else ``__name__``."""
    name = getattr(metric, "name", None)
    if isinstance(name, str):
        return name
    return str(getattr(metric, "__name__", type(metric).__name__))


def per_output(metrics: Any, output_names: Sequence[str]) -> list[list[Any]]:
    """``compile``'s ``metrics`` per output, as Keras 2.2.4 maps them.

    A list applies to every output; a dict maps output names to one metric
    or a list of them (outputs it leaves out get none).

    Raises:
        ConfigError: A dict key that names no output (Keras 2.2.4 ignored it
            silently), or ``metrics`` neither a list nor a dict.
    """
    if not metrics:
        return [[] for _ in output_names]
    if isinstance(metrics, Mapping):
        for key in metrics:
            if key not in output_names:
                raise ConfigError(
                    f"metrics has the key {key!r}{nearest(str(key), output_names)}, which "
                    f"names no output; the model's outputs: {', '.join(output_names)}."
                )
        return [_as_list(metrics.get(name, [])) for name in output_names]
    if isinstance(metrics, (list, tuple)):
        return [list(metrics) for _ in output_names]
    raise ConfigError(
        f"metrics must be a list of metrics, or a dict of them by output name; "
        f"received {type(metrics).__name__}. For example metrics=['accuracy']."
    )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def logged_name(
    name: str, output_name: str, taken: Sequence[str], multi_output: bool, weighted: bool = False
) -> str:
    """The key a metric is logged under in ``metrics_names``, as Keras 2.2.4
    builds it: ``weighted_`` for a weighted metric, the output's name first
    when the model has several, and ``_1``, ``_2``, ... against duplicates.

    Args:
        name: The metric's `Metric.name`.
        output_name: The output it measures.
        taken: The names already in ``metrics_names`` (``'loss'`` and the
            ``<output>_loss`` keys included).
        multi_output: Whether the model has more than one output.
        weighted: Whether it is one of ``weighted_metrics``.
    """
    key = ("weighted_" if weighted else "") + name
    if multi_output:
        key = f"{output_name}_{key}"
    unique, count = key, 1
    while unique in taken:
        unique = f"{key}_{count}"
        count += 1
    return unique


__all__ = ["NAMES", "Metric", "Stateful", "get", "logged_name", "per_output"]
