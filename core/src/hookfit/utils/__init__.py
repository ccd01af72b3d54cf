"""Keras's `keras.utils` import path. Defined in `hookfit.trainer.utils`
(seeding, `to_categorical`) and `hookfit.trainer.generators` (`Sequence`);
`hookfit.utils.np_utils` is Keras 2's `keras.utils.np_utils`."""

from ..trainer.generators import Sequence
from ..trainer.utils import *  # noqa: F403
from ..trainer.utils import __all__ as _trainer_all
from . import np_utils

__all__ = [*_trainer_all, "Sequence", "np_utils"]
