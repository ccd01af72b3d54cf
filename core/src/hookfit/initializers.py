"""Keras's `keras.initializers` import path. Defined in `hookfit.trainer.initializers`."""

from .errors import missing_names
from .trainer.initializers import *  # noqa: F403
from .trainer.initializers import __all__ as __all__

__getattr__ = missing_names("hookfit.initializers", __all__)
