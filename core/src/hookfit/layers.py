"""Keras's `keras.layers` import path. Defined in `hookfit.trainer.layers`."""

from .trainer.layers import *  # noqa: F403
from .trainer.layers import __all__ as __all__
