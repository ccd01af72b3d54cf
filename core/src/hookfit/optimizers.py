"""Keras's `keras.optimizers` import path. Defined in `hookfit.trainer.optimizers`."""

from .trainer.optimizers import *  # noqa: F403
from .trainer.optimizers import __all__ as __all__
