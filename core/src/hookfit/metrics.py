"""Keras's `keras.metrics` import path: the metric functions of
`hookfit.trainer.metrics` and `get` of `hookfit.trainer.compile_metrics`."""

from .errors import missing_names
from .trainer.compile_metrics import Metric, get
from .trainer.metrics import *  # noqa: F403
from .trainer.metrics import __all__ as _functions

__all__ = [*_functions, "Metric", "get"]

__getattr__ = missing_names("hookfit.metrics", __all__)
