"""Keras's `keras.initializers` import path. Defined in `hookfit.trainer.initializers`."""

from .trainer.initializers import *  # noqa: F403
from .trainer.initializers import __all__ as __all__
