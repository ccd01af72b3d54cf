"""Keras's `keras.metrics` import path. Defined in `hookfit.trainer.metrics`."""

from .errors import missing_names
from .trainer.metrics import *  # noqa: F403
from .trainer.metrics import __all__ as __all__

__getattr__ = missing_names("hookfit.metrics", __all__)
