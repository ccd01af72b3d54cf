"""Keras 2's `keras.layers.core` import path. Defined in
`hookfit.trainer.layers.core`."""

from ..trainer.layers.core import *  # noqa: F403
from ..trainer.layers.core import __all__ as __all__
