"""Keras 2's `keras.layers.pooling` import path. Defined in
`hookfit.trainer.layers.pooling`."""

from ..trainer.layers.pooling import *  # noqa: F403
from ..trainer.layers.pooling import __all__ as __all__
