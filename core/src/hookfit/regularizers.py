"""Keras's `keras.regularizers` import path. Defined in `hookfit.trainer.regularizers`."""

from .errors import missing_names
from .trainer.regularizers import *  # noqa: F403
from .trainer.regularizers import __all__ as __all__

__getattr__ = missing_names("hookfit.regularizers", __all__)
