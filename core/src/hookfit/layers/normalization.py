"""Keras 2's `keras.layers.normalization` import path. Defined in
`hookfit.trainer.layers.normalization`."""

from ..trainer.layers.normalization import *  # noqa: F403
from ..trainer.layers.normalization import __all__ as __all__
