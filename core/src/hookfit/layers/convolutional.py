"""Keras 2's `keras.layers.convolutional` import path. Defined in
`hookfit.trainer.layers.convolutional`."""

from ..trainer.layers.convolutional import *  # noqa: F403
from ..trainer.layers.convolutional import __all__ as __all__
