"""Keras's `keras.activations` import path. Defined in `hookfit.trainer.activations`."""

from .trainer.activations import *  # noqa: F403
from .trainer.activations import __all__ as __all__
