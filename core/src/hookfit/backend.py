"""Keras's `keras.backend` import path (``from hookfit import backend as K``).
Defined in `hookfit.trainer.backend`."""

from .trainer.backend import *  # noqa: F403
from .trainer.backend import __all__ as __all__
