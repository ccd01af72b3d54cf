"""Keras 2's `Embedding`: integer ids to rows of a learned matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import ConfigError
from .. import initializers
from .base import Array, Layer, Shape, not_built
from .checks import positive_int
from .kernels import init_config, regularizer, regularizer_config
from .normalization import no_constraint


class Embedding(Layer):
    """Turns ids ``0 .. input_dim - 1`` into rows of ``embeddings``, as
    Keras 2.2.4 does: ``(batch, *ids_shape)`` -> ``(batch, *ids_shape, output_dim)``.

    The ids may be integers or floats holding integers (cast toward zero,
    as Keras casts them); ids outside ``[0, input_dim)`` are refused.

    Args:
        input_dim: The vocabulary size, largest id + 1 (unlike other
            layers' ``input_dim``, not the number of input features).
        output_dim: The size of each embedding vector.
        embeddings_initializer: Initializer of the ``(input_dim,
            output_dim)`` matrix.
        embeddings_regularizer: A penalty on ``embeddings`` (`hookfit.regularizers`).
        activity_regularizer: Must be None: hookfit penalizes weights only.
        embeddings_constraint: Must be None: hookfit has no constraints.
        mask_zero: Must be False: hookfit has no masks.
        input_length: The length of the id sequences (an int, or a tuple
            for ids of more axes); sets the input shape of a first layer.
        **kwargs: `Layer` arguments (``input_shape``, ``name``, ...).
    """

    class_name = "Embedding"
    weight_names = ("embeddings",)

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: str | initializers.Initializer = "uniform",
        embeddings_regularizer: Any = None,
        activity_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        input_length: int | tuple[int, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        # the base's input_dim counts input features: the vocabulary size is
        # this layer's own, and never reaches the base
        if input_length is not None and not {"input_shape", "batch_input_shape"} & set(kwargs):
            lengths = input_length if isinstance(input_length, (tuple, list)) else (input_length,)
            kwargs["input_shape"] = tuple(lengths)
        super().__init__(**kwargs)
        self.vocabulary = positive_int(self.name, "input_dim", input_dim)
        self._width = positive_int(self.name, "output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizer(embeddings_regularizer)
        self.regularizers = (
            [(0, self.embeddings_regularizer)] if self.embeddings_regularizer else []
        )
        if activity_regularizer is not None:
            raise ConfigError(
                f"{self.name}: activity_regularizer={activity_regularizer!r}: hookfit "
                "penalizes weights only; use embeddings_regularizer, or pass None."
            )
        no_constraint(self.name, "embeddings_constraint", embeddings_constraint)
        if mask_zero:
            raise ConfigError(
                f"{self.name}: mask_zero=True needs masks, which hookfit's layers do not "
                "carry; pass mask_zero=False and keep id 0 as an ordinary id."
            )
        self.mask_zero = False
        self.input_length = input_length
        # refused now, not at build: the matrix does not depend on the input
        self.check_budget(())
        self._ids: Array | None = None

    @property
    def input_dim(self) -> int:
        """The vocabulary size, as Keras's ``Embedding.input_dim``."""
        return self.vocabulary

    @property
    def output_dim(self) -> int:
        """The size of each embedding vector."""
        return self._width

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape: Shape = tuple(input_shape)
        if self.input_length is not None:
            lengths = (
                tuple(self.input_length)
                if isinstance(self.input_length, (tuple, list))
                else (self.input_length,)
            )
            if len(lengths) != len(shape) or any(
                want is not None and want != got for want, got in zip(lengths, shape, strict=False)
            ):
                raise ConfigError(
                    f"{self.name}: input_length is {self.input_length!r}, but the input has "
                    f"shape (batch, {', '.join(map(str, shape))}); make input_length match "
                    "the id sequences' shape, or leave it None."
                )
        return (*shape, self._width)

    def weight_shapes(self, input_shape: Any) -> list[Shape]:
        return [(self.vocabulary, self._width)]

    def build(self, input_shape: Any, rng: np.random.Generator) -> None:
        matrix = self.embeddings_initializer((self.vocabulary, self._width), rng, self.dtype)
        self.weights = [np.ascontiguousarray(matrix)]
        self.grads = [np.zeros_like(self.weights[0])]
        super().build(input_shape, rng)

    def forward(self, x: Array, training: bool) -> Array:
        """Look up the rows of the ids ``x``.

        Raises:
            ConfigError: Ids that are not numbers, or outside ``[0, input_dim)``
                (NaN and infinities included).
        """
        x = np.asarray(x)
        if x.dtype.kind not in "iuf":
            raise ConfigError(
                f"{self.name}: ids must be integers (or floats holding integers), got an array "
                f"of {x.dtype}."
            )
        if x.size:
            # two reductions, not a check per id; floats cast toward zero, as
            # Keras casts them, so -0.5 is id 0
            low, high = x.min(), x.max()
            if not (low > -1 and high < self.vocabulary):
                bad = (low if not low > -1 else high).item()
                raise ConfigError(
                    f"{self.name}: id {bad!r} is out of range for input_dim={self.vocabulary}; "
                    f"ids must be in [0, {self.vocabulary - 1}]. Raise input_dim to the "
                    "vocabulary size (largest id + 1), or map the ids into range."
                )
        ids = x.astype(np.intp, copy=False)
        y = self._buffer("y", *x.shape, self._width)
        np.take(self.weights[0], ids, axis=0, out=y)
        self._ids = ids
        return y

    def backward(self, dy: Array, need_dx: bool = True) -> None:
        """Sum ``dy`` into the rows of the ids seen by `forward` (repeated ids
        add up); ids have no gradient, so this returns None."""
        if self._ids is None:
            raise not_built(self)
        ids = self._ids.ravel()
        rows = dy.reshape(len(ids), self._width)
        grad = self.grads[0]
        if self.vocabulary <= 4 * len(ids):
            # one bincount over (id, column) cells: 2-5x faster than add.at
            # when the matrix is not much larger than dy
            cells = (ids[:, None] * self._width + np.arange(self._width)).ravel()
            counts = np.bincount(cells, weights=rows.ravel(), minlength=grad.size)
            grad[...] = counts.reshape(grad.shape)
        else:
            # a large vocabulary: touch only the rows seen
            grad.fill(0)
            np.add.at(grad, ids, rows)
        return None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # Keras declares a (None,) input when no length is given
        config.setdefault("batch_input_shape", [None, self.input_length])
        return {
            **config,
            "input_dim": self.vocabulary,
            "output_dim": self._width,
            "embeddings_initializer": init_config(self.embeddings_initializer),
            "embeddings_regularizer": regularizer_config(self.embeddings_regularizer),
            "activity_regularizer": None,
            "embeddings_constraint": None,
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }


__all__ = ["Embedding"]
