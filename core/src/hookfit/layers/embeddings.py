"""Keras 2's `keras.layers.embeddings` import path. Defined in
`hookfit.trainer.layers.embeddings`."""

from ..trainer.layers.embeddings import *  # noqa: F403
from ..trainer.layers.embeddings import __all__ as __all__
