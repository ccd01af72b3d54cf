"""Keras's `keras.optimizers` import path. Defined in `hookfit.trainer.optimizers`
and, for Adadelta, Adamax and Nadam, `hookfit.trainer.adaptive`."""

from .errors import missing_names
from .trainer.adaptive import Adadelta, Adamax, Nadam
from .trainer.optimizers import SGD, Adagrad, Adam, Optimizer, RMSprop, get

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Adamax", "Nadam", "Optimizer", "RMSprop", "get"]

__getattr__ = missing_names("hookfit.optimizers", __all__)
