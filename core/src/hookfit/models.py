"""Keras's `keras.models` import path. Defined in `hookfit.trainer.models`."""

from .trainer.models import *  # noqa: F403
from .trainer.models import __all__ as __all__
