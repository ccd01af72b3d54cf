"""The model's core: its layers, weights and compile, and the numerics of one
batch. `hookfit.models.Model` adds Keras's training API (`training`,
`keras2`) and its files (`models`) on top.

The public names under "the trainer's protocol" are what the loops, the
steps, the threads policy and saving use of a model
(`hookfit.trainer.steps.Trainable` declares them): nothing outside the
model reads its private attributes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from ..errors import ConfigError, ModelError
from ..hooks.dispatch import Run
from . import activations, losses, optimizers, utils
from .layers import Layer

Array = np.ndarray
Scores = tuple[float, float | None]
"""A batch's ``(loss, acc)``; ``acc`` is None without the accuracy metric."""

_ACCURACY = ("accuracy", "acc")
_model_counter = itertools.count(1)

TAIL = 4
"""Spare float32 values after the flat gradient buffer: a data-parallel
step sends the batch's loss, accuracy, size and stop flag in the gradient's
own message (`hookfit.trainer.parallel`)."""


class Network:
    """A model's layers, weights, compile and batch numerics (see the module).

    Args:
        name: The model's name.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"{type(self).__name__.lower()}_{next(_model_counter)}"
        self.layers: list[Layer] = []
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: losses.Loss | None = None
        self.metrics: list[str] = []
        self.stop_training = False
        self.history: Any = None
        self.initial_epoch = 0
        self.interrupted = False
        self.rng = utils.new_generator()
        self.accuracy_kind: str | None = None
        """How `score` measures accuracy (`hookfit.trainer.losses.accuracy`);
        None without the accuracy metric."""
        self._run: Run | None = None
        self._fused = False
        self._names: set[str] = set()
        # The output size of the built stack (None until built) and its
        # weights' bytes: `Sequential.add` builds one layer from them.
        self._stack_dim: int | None = None
        self._declared = 0
        self._flat: _Flat | None = None

    # -- structure -----------------------------------------------------------

    @property
    def plugins(self) -> dict[str, Any]:
        """The plugins of the run in progress, by name (empty between runs)."""
        return dict(self._run.plugins) if self._run is not None else {}

    @property
    def built(self) -> bool:
        """True once every layer has its weights."""
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_dim(self) -> int | None:
        """The number of input features, once known."""
        return self.layers[0].input_dim if self.layers else None

    @property
    def output_dim(self) -> int | None:
        """The number of outputs, once known."""
        for layer in reversed(self.layers):
            if layer.output_dim is not None:
                return layer.output_dim
        return None

    def build(self, input_dim: int) -> None:
        """Create every layer's weights for ``input_dim`` input features.

        Every layer's input size and the weights' total size (against
        `hookfit.trainer.utils.memory_budget`) are checked before any
        weight is allocated.

        Raises:
            ConfigError: A built layer takes another input size, or the
                weights go over the memory budget.
        """
        self._stack_dim, self._declared = self._build(self.layers, input_dim, 0)

    def _build(self, layers: Sequence[Layer], dim: int, declared: int) -> tuple[int, int]:
        """Build ``layers`` on a stack giving ``dim`` outputs whose weights
        take ``declared`` bytes; return the new output size and bytes.
        One pass to check, one to allocate: linear in the layers."""
        dims = []
        for layer in layers:
            if layer.built and layer.input_dim != dim:
                raise ConfigError(
                    f"Layer {layer.name} expects {layer.input_dim} inputs but the layer "
                    f"before gives {dim}."
                )
            declared = layer.check_budget(dim, declared)
            dims.append(dim)
            dim = layer.output_dim or dim
        for layer, layer_dim in zip(layers, dims, strict=True):
            if not layer.built:
                layer.build(layer_dim, self.rng)
        self._flat = None
        return dim, declared

    def _flatten(self) -> _Flat:
        # Made on first use after the layers change, not at every `add`:
        # flattening copies every weight, and n adds would copy n times.
        if self._flat is None:
            self._flat = _Flat(self.layers)
        return self._flat

    def get_weights(self) -> list[Array]:
        """Return copies of all weights, layer by layer."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[Array]) -> None:
        """Set all weights from a list like `get_weights` returns.

        Raises:
            ConfigError: The count or a shape does not match the model.
        """
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ConfigError(
                f"Model {self.name} has {expected} weight arrays, got {len(weights)}."
            )
        # every array is checked before any layer changes
        checked, position = [], 0
        for layer in self.layers:
            count = len(layer.weights)
            checked.append(layer.checked_weights(weights[position : position + count], position))
            position += count
        for layer, arrays in zip(self.layers, checked, strict=True):
            for target, value in zip(layer.weights, arrays, strict=True):
                target[...] = value

    def count_params(self) -> int:
        """The number of weight values."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn: Any = print) -> None:
        """Print a table of the layers, their output shapes and sizes."""
        rule = "_" * 65
        print_fn(f'Model: "{self.name}"')
        print_fn(rule)
        print_fn(f"{'Layer (type)':<29}{'Output Shape':<26}Param #")
        print_fn("=" * 65)
        for layer in self.layers:
            shape = f"(None, {layer.output_dim})" if layer.output_dim else "?"
            print_fn(
                f"{layer.name + ' (' + layer.class_name + ')':<29}{shape:<26}{layer.count_params()}"
            )
        print_fn("=" * 65)
        print_fn(f"Total params: {self.count_params()}")
        print_fn(rule)

    # -- compile -------------------------------------------------------------

    def compile(
        self,
        optimizer: str | optimizers.Optimizer = "rmsprop",
        loss: str | losses.Loss | None = None,
        metrics: Sequence[str] | None = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics.

        Args:
            optimizer: A Keras name (``'sgd'``, ``'rmsprop'``, ``'adam'``,
                ``'adagrad'``) or an optimizer object.
            loss: A Keras loss name or `Loss`.
            metrics: ``['accuracy']`` (logged as ``acc``/``val_acc``) or None.

        Raises:
            ConfigError: An unknown optimizer, loss or metric.
            ModelError: The model has no layers.
        """
        if not self.layers:
            raise ModelError(f"Model {self.name} has no layers; add() some before compile().")
        if loss is None:
            raise ConfigError(
                "compile() needs a loss, e.g. loss='categorical_crossentropy'. "
                "Valid losses: " + ", ".join(losses._REGISTRY) + "."
            )
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        self.metrics = []
        for metric in metrics or ():
            if metric not in _ACCURACY:
                raise ConfigError(
                    f"Unknown metric {metric!r}; hookfit computes 'accuracy' (logged as 'acc')."
                )
            self.metrics = ["acc"]
        last = getattr(self.layers[-1], "activation", None)
        self._fused = self.loss.fuses_with is not None and last is activations.get(
            self.loss.fuses_with
        )
        units = self.output_dim
        self.accuracy_kind = losses.accuracy_for(self.loss, units or 0) if self.metrics else None

    @property
    def metrics_names(self) -> list[str]:
        """``['loss']`` plus ``'acc'`` when compiled with accuracy."""
        return ["loss", *self.metrics]

    def _require_compiled(self, what: str) -> None:
        if self.loss is None or self.optimizer is None:
            raise ModelError(
                f"{what}() needs a compiled model: call model.compile(optimizer=..., loss=...) "
                "first."
            )

    # -- the trainer's protocol (hookfit.trainer.steps.Trainable) -------------

    @property
    def flat_weights(self) -> list[Array]:
        """The trainable weights as the optimizer updates them: one flat
        buffer (the layers hold views of it), or one array per weight when
        the layers' dtypes differ."""
        return self._flatten().weights

    @property
    def flat_gradients(self) -> list[Array]:
        """The gradients of `flat_weights`, laid out the same way."""
        return self._flatten().grads

    def forward(self, x: Array, training: bool) -> Array:
        """The outputs for the batch ``x`` (``training``: dropout on)."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def score(self, y: Array, out: Array) -> Scores:
        """The batch's mean loss (and accuracy) of the outputs ``out``."""
        function = cast(losses.Loss, self.loss)
        loss = function.fused_value(y, out) if self._fused else function(y, out)
        acc = losses.accuracy(self.accuracy_kind, y, out) if self.accuracy_kind else None
        return loss, acc

    def fit_batch(self, x: Array, y: Array) -> Scores:
        """One optimizer step on checked arrays; returns the batch's scores."""
        result = self.compute_gradients(x, y)
        cast(optimizers.Optimizer, self.optimizer).apply(self.flat_weights, self.flat_gradients)
        return result

    def compute_gradients(self, x: Array, y: Array, scale: float = 1.0) -> Scores:
        """Fill `flat_gradients` with the gradients of the batch's mean loss,
        times ``scale`` (a data-parallel rank's share: `hookfit.trainer.parallel`);
        returns the batch's scores."""
        loss = cast(losses.Loss, self.loss)
        out = self.forward(x, training=True)
        result = self.score(y, out)
        grad: Any = loss.fused_gradient(y, out) if self._fused else loss.gradient(y, out)
        if scale != 1.0:  # on the output's gradient: the weights' follow, at no cost
            grad = grad * np.float32(scale)
        layers, need_dx = self.layers, self._flatten().need_dx
        last = len(layers) - 1
        for i in range(last, -1, -1):
            if i == last and self._fused:
                grad = layers[i].backward(grad, need_dx[i], pre_activation=True)  # type: ignore[call-arg]
            else:
                grad = layers[i].backward(grad, need_dx[i])
            if not need_dx[i]:  # nothing before this layer learns
                break
        return result

    def gather(self, data: Array, index: Array) -> Array:
        """The rows ``index`` of ``data``, in a new array (a shuffled batch)."""
        # not into a reused buffer (out=): numpy takes a slower path for it
        return np.take(data, index, axis=0)


def flatten(layers: list[Layer]) -> tuple[list[Array], list[Array]]:
    """Put every trainable weight (and its gradient) in one buffer.

    The layers keep working on views of it, while the optimizer updates one
    array per step instead of two per layer. Layers of another dtype than
    the first keep arrays of their own.
    """
    weights = [w for ly in layers for w in ly.weights]
    if not weights or any(w.dtype != weights[0].dtype for w in weights):
        return weights, [g for ly in layers for g in ly.grads]
    flat_w = np.empty(sum(w.size for w in weights), dtype=weights[0].dtype)
    flat_g = np.zeros(flat_w.size + TAIL, dtype=flat_w.dtype)[: flat_w.size]
    start = 0
    for layer in layers:
        for i, w in enumerate(layer.weights):
            view = flat_w[start : start + w.size].reshape(w.shape)
            view[...] = w
            layer.weights[i] = view
            layer.grads[i] = flat_g[start : start + w.size].reshape(w.shape)
            start += w.size
    return [flat_w], [flat_g]


class _Flat:
    """What a step needs of the layers, made in one pass: the trainable
    weights and gradients in one buffer each (`flatten`) and which layers
    need d(loss)/d(input) (those after a layer with weights)."""

    def __init__(self, layers: list[Layer]) -> None:
        trainable = [ly for ly in layers if ly.trainable and ly.weights]
        self.weights, self.grads = flatten(trainable)
        self.need_dx: list[bool] = []
        learns = False
        for layer in layers:
            self.need_dx.append(learns)
            learns = learns or bool(layer.weights)
