"""Keras 2's `keras.utils.np_utils` import path (``np_utils.to_categorical``).
Defined in `hookfit.trainer.utils`."""

from ..trainer.utils import to_categorical

__all__ = ["to_categorical"]
