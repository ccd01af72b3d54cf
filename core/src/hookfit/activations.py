"""Keras's `keras.activations` import path. Defined in `hookfit.trainer.activations`."""

from .errors import missing_names
from .trainer.activations import *  # noqa: F403
from .trainer.activations import __all__ as __all__

__getattr__ = missing_names("hookfit.activations", __all__)
