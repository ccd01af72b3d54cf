"""Keras's `keras.layers` import path. Defined in `hookfit.trainer.layers`;
Keras 2's submodules (`hookfit.layers.core`, `.convolutional`, `.pooling`,
`.normalization`, `.embeddings`, `.merge`) hold the same classes."""

from ..errors import missing_names
from ..trainer.layers import *  # noqa: F403
from ..trainer.layers import __all__ as __all__

__getattr__ = missing_names("hookfit.layers", __all__)
