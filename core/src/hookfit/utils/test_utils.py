"""Keras 2's ``keras.utils.test_utils``: the helpers Keras 2.2.4's own
tests import (``get_test_data``, ``keras_test``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .. import backend as K

F = TypeVar("F", bound=Callable[..., Any])
Split = tuple[np.ndarray, np.ndarray]


def get_test_data(
    num_train: int = 1000,
    num_test: int = 500,
    input_shape: tuple[int, ...] = (10,),
    output_shape: tuple[int, ...] = (2,),
    classification: bool = True,
    num_classes: int = 2,
) -> tuple[Split, Split]:
    """Random data to train a model on, drawn from numpy's global state as
    Keras 2.2.4 draws it (so ``np.random.seed`` gives Keras's very arrays).

    With ``classification``, ``y`` holds integer classes in
    ``[0, num_classes)`` (``output_shape`` is ignored) and each ``x`` is
    normal around its class; otherwise ``x`` and ``y`` (of
    ``output_shape``) are normal around a common random location.

    Args:
        num_train: Training samples.
        num_test: Test samples.
        input_shape: The shape of one ``x`` sample.
        output_shape: The shape of one ``y`` sample, for regression.
        classification: Integer classes rather than float targets.
        num_classes: The number of classes.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``, ``x`` in float32.
    """
    samples = num_train + num_test
    x = np.zeros((samples, *input_shape), dtype=np.float32)
    if classification:
        y = np.random.randint(0, num_classes, size=(samples,))
        for i in range(samples):
            x[i] = np.random.normal(loc=y[i], scale=0.7, size=input_shape)
    else:
        center = np.random.random((samples,))
        y = np.zeros((samples, *output_shape), dtype=np.float32)
        for i in range(samples):
            x[i] = np.random.normal(loc=center[i], scale=0.7, size=input_shape)
            y[i] = np.random.normal(loc=center[i], scale=0.7, size=output_shape)
    return (x[:num_train], y[:num_train]), (x[num_train:], y[num_train:])


def keras_test(func: F) -> F:
    """Run the test, then ``K.clear_session()`` (so the next test's layers
    are numbered from 1 again), as Keras 2's decorator does.

    The session is cleared only when the test returns, as in Keras: a
    failing test leaves it for the next one.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        output = func(*args, **kwargs)
        K.clear_session()
        return output

    return wrapper  # type: ignore[return-value]


__all__ = ["get_test_data", "keras_test"]
