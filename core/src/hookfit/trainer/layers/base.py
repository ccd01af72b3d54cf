"""The base `Layer`: its declared input shape, weights and their checks,
and the call that makes a layer a node of a functional model (the names
and arguments it is given are checked in `checks`).

A layer works on float arrays ``(batch, *sample_shape)``. Shapes in this
package are sample shapes, without the batch axis. ``forward`` returns an
array the layer owns and may reuse for the next batch of the same size, so
the trainer copies what it keeps. ``backward`` takes d(loss)/d(output), may
overwrite it, writes the weight gradients into ``grads`` and returns
d(loss)/d(input).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import ConfigError, ModelError, nearest
from ...hooks.arguments import closed
from .. import utils
from .checks import auto_name, check_name, positive_int, sample_shape, snake
from .keras1 import layer_init

Array = np.ndarray
Shape = tuple[int, ...]


class Layer:
    """Base class of the layers.

    Args:
        name: The layer's name; ``dense_1``-style by default.
        input_dim: The number of input features, for a first layer taking
            rows of features.
        input_shape: The shape of one sample, e.g. ``(28, 28, 1)``.
        batch_input_shape: ``(batch, *input_shape)``; the batch size is ignored.
        batch_size: Accepted as Keras does; hookfit takes any batch size.
        dtype: The float type of the weights and outputs.
        trainable: Whether `fit` updates the weights.
        weights: Initial weights, in `get_weights` order.
    """

    class_name = "Layer"
    weight_names: tuple[str, ...] = ()
    """Every weight's name, in Keras's order; trainable weights first (the
    first ``len(grads)`` weights have gradients)."""
    inputs_count = 1
    """How many inputs the layer takes (0: any number, as a list)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Keras 2's own layers take Keras 1's arguments too, with its warning
        super().__init_subclass__(**kwargs)
        layer_init(cls)

    @closed
    def __init__(
        self,
        name: str | None = None,
        input_dim: int | None = None,
        input_shape: Sequence[int] | None = None,
        batch_input_shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        dtype: str | None = None,
        trainable: bool = True,
        weights: Sequence[Array] | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            self._refuse_unknown(unknown)
        self.name = auto_name(snake(type(self).__name__)) if name is None or name == "" else name
        check_name(self.name)
        declared: Shape | None = None
        if batch_input_shape is not None:
            declared = sample_shape(self.name, "batch_input_shape", tuple(batch_input_shape)[1:])
        elif input_shape is not None:
            declared = sample_shape(self.name, "input_shape", input_shape)
        elif input_dim is not None:
            declared = (positive_int(self.name, "input_dim", input_dim),)
        self.declared_shape: Shape | None = declared
        """The sample shape given to the constructor, if any."""
        self.dtype = np.dtype(dtype or "float32")
        self.trainable = trainable
        self.weights: list[Array] = []
        self.grads: list[Array] = []
        self.regularizers: list[tuple[int, Any]] = []
        """``(weight index, regularizer)``: penalties added to the loss."""
        self.built = False
        self.in_shape: Shape | Any = None
        self.out_shape: Shape | Any = None
        self._initial = weights
        self._buffers: dict[tuple[Any, ...], Array] = {}

    def _refuse_unknown(self, unknown: dict[str, Any]) -> None:
        from ...hooks.arguments import parameters

        accepted: set[str] = set()
        for klass in type(self).__mro__:
            if "__init__" in vars(klass) and issubclass(klass, Layer):
                accepted |= set(parameters(klass)[0])
        key = next(iter(unknown))
        raise ConfigError(
            f"{self.class_name}: unknown argument {key!r}{nearest(key, accepted)}. "
            f"{self.class_name} takes: {', '.join(sorted(accepted))}."
        )

    # -- shapes ------------------------------------------------------------------

    @property
    def batch_input_shape(self) -> tuple[int | None, ...] | None:
        """``(None, *declared_shape)``, or None when not declared."""
        return None if self.declared_shape is None else (None, *self.declared_shape)

    @property
    def input_shape(self) -> Any:
        """Keras's ``(None, *sample_shape)`` of the input, once built."""
        return _batch(self.in_shape if self.built else self.declared_shape)

    @property
    def output_shape(self) -> Any:
        """Keras's ``(None, *sample_shape)`` of the output, once built."""
        return _batch(self.out_shape)

    @property
    def input_dim(self) -> int | None:
        """The size of the input's last axis, once known."""
        shape = self.in_shape if self.built else self.declared_shape
        return shape[-1] if isinstance(shape, tuple) and shape else None

    @property
    def output_dim(self) -> int | None:
        """The size of the output's last axis, once known (a Dense layer's
        ``units`` before)."""
        if isinstance(self.out_shape, tuple) and self.out_shape:
            return self.out_shape[-1]
        return getattr(self, "units", None)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output's sample shape for ``input_shape`` (the identity here).

        Raises:
            ConfigError: An input shape the layer cannot take.
        """
        return input_shape

    def weight_shapes(self, input_shape: Any) -> list[Shape]:
        """The shapes `build` gives the weights for ``input_shape``, in
        `weight_names` order (a loader compares a file against them before
        anything is allocated)."""
        return []

    def check_budget(self, input_shape: Any, before: int = 0) -> int:
        """Refuse weights for ``input_shape`` that would take the model's
        weights (``before`` bytes without this layer's) over the memory
        budget (`hookfit.trainer.utils.check_budget`); nothing is
        allocated. Returns the model's weight bytes with this layer's.

        Raises:
            ConfigError: Over the budget, naming the layer and the sizes.
        """
        shapes = self.weight_shapes(input_shape)
        total = before + sum(math.prod(s) for s in shapes) * self.dtype.itemsize
        if shapes:
            declared = ", ".join(
                f"{n} {s}" for n, s in zip(self.weight_names, shapes, strict=False)
            )
            utils.check_budget(
                f"Layer {self.name} ({self.class_name}) declares {declared} of {self.dtype.name}, "
                "which take the model's weights to",
                total,
            )
        return total

    def build(self, input_shape: Any, rng: np.random.Generator) -> None:
        """Create the weights for ``input_shape`` (subclasses create theirs,
        then call this), and set initial ``weights`` given to the constructor."""
        self.in_shape = input_shape
        self.out_shape = self.compute_output_shape(input_shape)
        self.built = True
        if self._initial is not None:
            initial, self._initial = self._initial, None
            self.set_weights(initial)

    # -- numerics ----------------------------------------------------------------

    def forward(self, x: Any, training: bool) -> Any:
        """Return the layer's output for the batch ``x``.

        Raises:
            ModelError: A subclass that does not say (Keras 2 code
                subclasses Layer for other uses too, such as stateful
                metrics, so it is not abstract).
        """
        raise ModelError(
            f"Layer {self.name} ({type(self).__name__}) has no forward(); a layer in a model "
            "needs forward(x, training) and backward(dy, need_dx) on numpy arrays."
        )

    def backward(self, dy: Any, need_dx: bool = True) -> Any:
        """Return d(loss)/d(input) from ``dy``; fill ``grads`` (see `forward`)."""
        raise ModelError(
            f"Layer {self.name} ({type(self).__name__}) has no backward(); a layer in a model "
            "needs forward(x, training) and backward(dy, need_dx) on numpy arrays."
        )

    def _buffer(self, key: str, *shape: int) -> Array:
        buf = self._buffers.get((key, *shape))
        if buf is None:
            buf = self._buffers[(key, *shape)] = np.empty(shape, dtype=self.dtype)
        return buf

    # -- weights -----------------------------------------------------------------

    @property
    def trainable_weights(self) -> list[Array]:
        """The weights `fit` updates (none when not ``trainable``)."""
        return self.weights[: len(self.grads)] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Array]:
        """The other weights (a BatchNormalization's moving statistics)."""
        return self.weights[len(self.trainable_weights) :]

    def get_weights(self) -> list[Array]:
        """Return copies of the weights, in `weight_names` order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Array]) -> None:
        """Replace the weights by copies of ``weights`` (same shapes).

        Raises:
            ConfigError: A different number of arrays, a shape mismatch, or
                values that are not real numbers; nothing is changed then.
        """
        for target, value in zip(self.weights, self.checked_weights(weights), strict=True):
            target[...] = value

    def checked_weights(self, weights: Sequence[Any], first: int | None = None) -> list[Array]:
        """``weights`` as arrays that `set_weights` can copy, checked
        against the layer's weights; ``first`` is the index of the first
        one in the model's list, for messages.

        Raises:
            ConfigError: A different number of arrays, a shape mismatch, or
                values that are not real numbers (strings, objects, complex).
        """
        if len(weights) != len(self.weights):
            raise ConfigError(
                f"Layer {self.name} has {len(self.weights)} weights "
                f"({', '.join(self.weight_names) or 'none'}), got {len(weights)} arrays."
            )
        out = []
        for i, (target, value, wname) in enumerate(
            zip(self.weights, weights, self.weight_names, strict=True)
        ):
            where = f"Layer {self.name}: {wname}" + (
                "" if first is None else f" (weights[{first + i}])"
            )
            try:
                value = np.asarray(value)
            except ValueError:  # ragged nested lists
                raise ConfigError(
                    f"{where} must be an array of shape {target.shape}, got ragged nested lists."
                ) from None
            if value.dtype.kind not in "biuf":
                raise ConfigError(
                    f"{where} must hold real numbers, got dtype {value.dtype}; pass arrays "
                    "of floats like those get_weights() returns."
                )
            if value.shape != target.shape:
                raise ConfigError(f"{where} has shape {target.shape}, got {value.shape}.")
            out.append(value)
        return out

    def count_params(self) -> int:
        """The number of weight values."""
        return int(sum(w.size for w in self.weights))

    def get_config(self) -> dict[str, Any]:
        """The Keras layer config."""
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype.name,
        }
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    # -- the functional API --------------------------------------------------------

    @property
    def input(self) -> Any:
        """The tensor(s) the layer was called on (the functional API).

        Raises:
            NotConnected: The layer was not called on tensors.
        """
        node = self._node("input")
        return node.inputs if node.as_list else node.inputs[0]

    @property
    def output(self) -> Any:
        """The tensor(s) the layer's call gave (the functional API), e.g. to
        build a model of a trained model's first layers:
        ``Model(model.input, model.get_layer('dense_1').output)``.

        Raises:
            NotConnected: The layer was not called on tensors.
        """
        node = self._node("output")
        return node.outputs if len(node.outputs) > 1 else node.outputs[0]

    def _node(self, what: str) -> Any:
        node = getattr(self, "node", None)
        if node is None:
            raise NotConnected(
                f"Layer {self.name} has no {what} tensor: only a layer called on tensors of the "
                "functional API (hookfit.layers.Input) has one; a Sequential's layers have none. "
                "Build the model with Input() and Model(inputs, outputs) to use it."
            )
        return node

    def __call__(self, inputs: Any) -> Any:
        """Apply the layer to symbolic tensors (`hookfit.layers.Input`), as
        Keras's functional API does; returns the output tensor.

        Raises:
            ConfigError: Not tensors, or shapes the layer cannot take.
        """
        from .graph import call

        return call(self, inputs)

    def __repr__(self) -> str:
        return f"<{self.class_name} {self.name}>"


def _batch(shape: Any) -> Any:
    if shape is None:
        return None
    if isinstance(shape, list):
        return [(None, *s) for s in shape]
    return (None, *shape)


class NotConnected(ConfigError, AttributeError):
    """A layer's or model's ``input``/``output`` asked for outside the
    functional API (an AttributeError too, so that ``hasattr`` says False)."""


def not_built(layer: Layer) -> ModelError:
    """The error of a layer asked for its backward before its forward."""
    return ModelError(f"Layer {layer.name}: backward() before forward().")
