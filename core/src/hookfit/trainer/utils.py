"""Small helpers: seeding and one-hot encoding (with Keras names), and the
memory budget that every declared size is checked against."""

from __future__ import annotations

import os
import re
from decimal import Decimal

import numpy as np

from ..errors import ConfigError

# Set by `set_random_seed`; None: models draw their seeds from numpy's global state.
_seeds: np.random.SeedSequence | None = None

BUDGET_ENV = "HOOKFIT_MEMORY_BUDGET"
"""The environment variable that sets `memory_budget`."""
DEFAULT_BUDGET = 4 << 30
_UNITS = {"": 1, "B": 1, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]iB|B)?", re.IGNORECASE)
_BUDGET_HELP = "a number of bytes, or of KiB, MiB, GiB or TiB such as 16GiB"


def memory_budget() -> int:
    """The most bytes that sizes declared by a model or its data may take:
    a model's weights (whether built in code, from JSON or from an HDF5
    file) and `to_categorical`'s result. 4 GiB unless ``HOOKFIT_MEMORY_BUDGET``
    says otherwise (training takes a few times the weights' size: gradients
    and optimizer slots).

    Raises:
        ConfigError: ``HOOKFIT_MEMORY_BUDGET`` is not a size.
    """
    value = os.environ.get(BUDGET_ENV, "").strip()
    if not value:
        return DEFAULT_BUDGET
    match = _AMOUNT.fullmatch(value)
    if match is None:
        raise ConfigError(f"{BUDGET_ENV} must be {_BUDGET_HELP}, got {value!r}.")
    return int(Decimal(match[1]) * _UNITS[(match[2] or "").upper()])


def size_text(nbytes: int) -> str:
    """``nbytes`` for a message: ``3.6 GiB``."""
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        scale = _UNITS[unit.upper()]
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"


def check_budget(what: str, nbytes: int) -> None:
    """Refuse ``nbytes`` over `memory_budget`, before they are allocated.

    Args:
        what: What takes the bytes, for the message; it reads on with
            "N GiB (N bytes), over hookfit's memory budget".
        nbytes: The declared size.

    Raises:
        ConfigError: Over the budget; the message says how to raise it.
    """
    budget = memory_budget()
    if nbytes > budget:
        raise ConfigError(
            f"{what} {size_text(nbytes)} ({nbytes} bytes), over hookfit's memory budget of "
            f"{size_text(budget)}. If that size is intended, raise the budget: "
            f"{BUDGET_ENV}={-(-nbytes // (1 << 30))}GiB ({_BUDGET_HELP})."
        )


def set_random_seed(seed: int) -> None:
    """Make every model created from now on reproducible.

    Each new model takes its own generator (weights, shuffling, dropout)
    from a seed sequence started at ``seed``, so the same script with the
    same seed trains to the same weights. It takes precedence over
    ``np.random.seed`` (see `new_generator`) for the rest of the process.

    Raises:
        ConfigError: ``seed`` is not a non-negative integer.
    """
    global _seeds
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"set_random_seed: seed must be an integer >= 0, got {seed!r}.")
    _seeds = np.random.SeedSequence(int(seed))


def new_generator() -> np.random.Generator:
    """Return a generator for a new model (its weights, shuffling and
    dropout masks).

    After `set_random_seed`: the next child of its seed sequence. Otherwise
    the seed is drawn from numpy's global state, so that Keras 2's
    ``np.random.seed(1337)`` before building a model repeats the run, and a
    script that seeds nothing still differs from run to run (numpy seeds its
    global state from the operating system). Drawing advances that state, so
    two models made one after the other still start differently.
    """
    if _seeds is None:
        entropy = np.random.randint(0, 1 << 32, size=4, dtype=np.uint64)
        return np.random.default_rng(np.random.SeedSequence([int(e) for e in entropy]))
    return np.random.default_rng(_seeds.spawn(1)[0])


def to_categorical(
    y: np.ndarray, num_classes: int | None = None, dtype: str = "float32"
) -> np.ndarray:
    """Convert integer class labels to one-hot rows, as Keras does.

    Args:
        y: Integer labels, shape ``(n,)`` or ``(n, 1)``.
        num_classes: The number of classes; defaults to ``max(y) + 1``.
        dtype: The result's dtype.

    Raises:
        ConfigError: Labels that are not non-negative integers below
            ``num_classes``.
    """
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or (labels.size and not np.all(np.equal(np.mod(labels, 1), 0))):
        raise ConfigError(
            f"to_categorical: expected integer labels of shape (n,), got shape {labels.shape} "
            f"and dtype {labels.dtype}."
        )
    labels = labels.astype(np.int64)
    classes = int(labels.max()) + 1 if num_classes is None and labels.size else num_classes or 0
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ConfigError(
            f"to_categorical: labels must be in [0, {classes}), got {labels.min()}..{labels.max()}."
        )
    shape = (len(labels), classes)
    check_budget(
        f"to_categorical: {classes} classes make a one-hot array of shape {shape} and dtype "
        f"{np.dtype(dtype).name}:",
        len(labels) * classes * np.dtype(dtype).itemsize,
    )
    out = np.zeros(shape, dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


__all__ = [
    "BUDGET_ENV",
    "check_budget",
    "memory_budget",
    "new_generator",
    "set_random_seed",
    "size_text",
    "to_categorical",
]
