"""Keras 2's `keras.layers.merge` import path. Defined in
`hookfit.trainer.layers.merge`."""

from ..trainer.layers.merge import *  # noqa: F403
from ..trainer.layers.merge import __all__ as __all__
