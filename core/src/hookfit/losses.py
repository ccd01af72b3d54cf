"""Keras's `keras.losses` import path. Defined in `hookfit.trainer.losses`."""

from .errors import missing_names
from .trainer.losses import *  # noqa: F403
from .trainer.losses import __all__ as __all__

__getattr__ = missing_names("hookfit.losses", __all__)
