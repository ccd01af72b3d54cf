"""Keras's backend functions (``keras.backend``, imported as ``K``) that
callbacks and scripts use, on a trainer without tensors.

A Keras 2 callback reads and changes the learning rate through the backend:
``K.get_value(self.model.optimizer.lr)`` and
``K.set_value(self.model.optimizer.lr, 0.5)``. hookfit's ``optimizer.lr``
stays a plain ``float`` (plugins, logs and files rely on that), so
`set_value` finds where the float it is given came from: an owner that
called `track` stores a float object of its own (`own_float`) in each
tracked attribute, and the float handed to `set_value` *is* that object
(the same object, not an equal number) exactly when it was read from there.
`variable` makes a free-standing `Variable` for Keras's other variable
idioms.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import ConfigError

Array = np.ndarray


class Variable:
    """A Keras variable: a numpy array that `set_value` changes in place.

    Args:
        value: The initial value (a number or an array).
        dtype: The dtype; `floatx` (``'float32'``) by default.
        name: The variable's name.
    """

    def __init__(self, value: Any, dtype: str | None = None, name: str | None = None) -> None:
        self._value = np.array(value, dtype=dtype or floatx())
        self.name = name or "variable"

    @property
    def dtype(self) -> str:
        """The dtype's name, as Keras gives it."""
        return self._value.dtype.name

    @property
    def shape(self) -> tuple[int, ...]:
        """The value's shape."""
        return tuple(self._value.shape)

    def numpy(self) -> Array:
        """A copy of the value."""
        return self._value.copy()

    def assign(self, value: Any) -> None:
        """Set the value (tf.keras's ``variable.assign``).

        Raises:
            ConfigError: ``value`` has another shape than the variable.
        """
        new = np.asarray(value, dtype=self._value.dtype)
        if new.shape != self._value.shape:
            raise ConfigError(
                f"set_value: variable {self.name!r} has shape {self._value.shape}, got a value "
                f"of shape {new.shape}; give a value of the variable's shape."
            )
        self._value[...] = new

    def __float__(self) -> float:
        return float(self._value)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Array:
        return self._value.astype(dtype) if dtype is not None else self._value.copy()

    def __repr__(self) -> str:
        return f"<Variable {self.name!r} shape={self.shape} dtype={self.dtype} value={self._value}>"


# The objects whose float attributes `set_value` may write, with the names.
_tracked: weakref.WeakKeyDictionary[Any, tuple[str, ...]] = weakref.WeakKeyDictionary()


def track(owner: Any, *attributes: str) -> None:
    """Let `set_value` write ``owner.<attribute>`` when it is given the float
    read from it. The owner stores `own_float` values in those attributes
    and returns the stored object when they are read."""
    _tracked[owner] = attributes


def own_float(value: float) -> float:
    """A float equal to ``value`` that is a new object, held by nobody else:
    ``float(x)`` of a float is ``x`` itself, which a caller may also have
    handed to another owner."""
    return value + 0.0


def _owner_of(x: float) -> tuple[Any, str] | None:
    for owner, attributes in list(_tracked.items()):
        for attribute in attributes:
            if getattr(owner, attribute, None) is x:
                return owner, attribute
    return None


def variable(value: Any, dtype: str | None = None, name: str | None = None) -> Variable:
    """Return a `Variable` holding ``value`` (Keras's ``K.variable``)."""
    return Variable(value, dtype, name)


def get_value(x: Any) -> Any:
    """The value of a variable: an array for a `Variable`; a number (such as
    ``optimizer.lr``) or an array is returned as it is.

    Raises:
        ConfigError: ``x`` is none of these.
    """
    if isinstance(x, Variable):
        return x.numpy()
    if isinstance(x, int | float | np.number | np.ndarray) and not isinstance(x, bool):
        return x
    raise ConfigError(
        f"get_value: expected a variable (model.optimizer.lr, K.variable(...)), a number or an "
        f"array; got {type(x).__name__} {x!r}."
    )


def eval(x: Any) -> Any:
    """The value of ``x``, as `get_value` gives it (hookfit has no tensors
    to evaluate)."""
    return get_value(x)


def set_value(x: Any, value: Any) -> None:
    """Set a variable's value: ``K.set_value(model.optimizer.lr, 0.5)`` sets
    the optimizer's learning rate.

    Raises:
        ConfigError: ``x`` is not a variable (a plain number cannot be
            changed in place), or the value does not fit it.
    """
    if isinstance(x, Variable):
        x.assign(value)
        return
    found = _owner_of(x) if isinstance(x, float) else None
    if found is None:
        raise ConfigError(
            f"set_value: expected a variable such as model.optimizer.lr or K.variable(...); got "
            f"{type(x).__name__} {x!r}, which is not read from one (read optimizer.lr again "
            "if it changed since). Or set the attribute itself, e.g. optimizer.lr = value."
        )
    owner, attribute = found
    setattr(owner, attribute, value)  # the owner checks the value


def batch_get_value(xs: Iterable[Any]) -> list[Any]:
    """`get_value` of each of ``xs``."""
    return [get_value(x) for x in xs]


def batch_set_value(tuples: Iterable[tuple[Any, Any]]) -> None:
    """`set_value` for each ``(variable, value)`` pair."""
    for x, value in tuples:
        set_value(x, value)


def floatx() -> str:
    """The default float type: hookfit trains in ``'float32'``."""
    return "float32"


def epsilon() -> float:
    """Keras's fuzz factor, 1e-7."""
    return 1e-7


def image_data_format() -> str:
    """``'channels_last'``, Keras's default."""
    return "channels_last"


def backend() -> str:
    """The backend's name: ``'numpy'``."""
    return "numpy"


def clear_session() -> None:
    """Number layers from 1 again (``dense_1``), as Keras 2's does; hookfit
    keeps no global graph to clear."""
    from .layers.checks import reset_names

    reset_names()


__all__ = [
    "Variable",
    "backend",
    "batch_get_value",
    "batch_set_value",
    "clear_session",
    "epsilon",
    "eval",
    "floatx",
    "get_value",
    "image_data_format",
    "own_float",
    "set_value",
    "track",
    "variable",
]
