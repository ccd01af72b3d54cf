"""Small helpers with Keras names: seeding and one-hot encoding."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

_seeds = np.random.SeedSequence()


def set_random_seed(seed: int) -> None:
    """Make every model created from now on reproducible.

    Each new model takes its own generator (weights, shuffling, dropout)
    from a seed sequence started at ``seed``, so the same script with the
    same seed trains to the same weights.

    Raises:
        ConfigError: ``seed`` is not a non-negative integer.
    """
    global _seeds
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"set_random_seed: seed must be an integer >= 0, got {seed!r}.")
    _seeds = np.random.SeedSequence(int(seed))


def new_generator() -> np.random.Generator:
    """Return a generator for a new model, from the current seed sequence."""
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
    out = np.zeros((len(labels), classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


__all__ = [
    "new_generator",
    "set_random_seed",
    "to_categorical",
]
