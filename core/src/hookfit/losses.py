"""Keras's `keras.losses` import path. Defined in `hookfit.trainer.losses`."""

from .trainer.losses import *  # noqa: F403
from .trainer.losses import __all__ as __all__
