"""Keras's `keras.utils` import path. Defined in `hookfit.trainer.utils`."""

from .trainer.utils import *  # noqa: F403
from .trainer.utils import __all__ as __all__
