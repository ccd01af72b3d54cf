"""`Sequential` models: structure, weights, files and compile.

Everything is float32 numpy, vectorised over the batch. Keras's training
API (`fit`, `evaluate`, `predict`, ...) is mixed in from
`hookfit.trainer.training`, Keras 2's legacy methods from
`hookfit.trainer.keras2`.

`Model` implements `hookfit.hooks.host.ResumableHost`: that, and nothing
else, is what plugins use of it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from .. import saving
from ..errors import ConfigError, FormatError, ModelError
from ..hooks.dispatch import Run
from ..saving import keras_config
from . import activations, losses, optimizers, parallel, utils
from .keras2 import Keras2Methods
from .layers import Layer
from .training import TrainingMethods

Array = np.ndarray
_ACCURACY = ("accuracy", "acc")
_model_counter = itertools.count(1)


class Model(TrainingMethods, Keras2Methods):
    """The trainable model: layers applied in order, with Keras's training API.

    Attributes:
        layers: The layers, in order.
        optimizer: The optimizer, after `compile`.
        loss: The loss, after `compile`.
        stop_training: Set it (from a plugin) to stop `fit` after the
            current batch or epoch.
        history: The History of the last `fit`, when that plugin ran.
        initial_epoch: The epoch `fit` starts from; a plugin may raise it in
            ``on_train_begin`` to resume a run (BackupAndRestore does).
        interrupted: True while ``on_train_end`` runs after training ended
            with an error or was stopped from outside (Ctrl-C in ``hookfit
            train``); False when it ran to its end or a plugin stopped it.
            Plugins that clean up only after a finished run check it.
        plugins: The plugins of the run in progress, by name.
        rng: The generator behind weight initialisation, shuffling and
            dropout (seeded by `hookfit.utils.set_random_seed`).
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
        self._run: Run | None = None
        self.rng = utils.new_generator()
        self._acc_kind: str | None = None
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

    @property
    def _trainable(self) -> list[Layer]:
        return self._flatten().trainable

    @property
    def _weights(self) -> list[Array]:
        return self._flatten().weights

    @property
    def _grads(self) -> list[Array]:
        return self._flatten().grads

    @property
    def _need_dx(self) -> list[bool]:
        return self._flatten().need_dx

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

    # -- files ---------------------------------------------------------------

    def save(
        self,
        filepath: str | os.PathLike[str],
        overwrite: bool = True,
        include_optimizer: bool = True,
        *,
        metadata: dict[str, Any] | None = None,
        jobs: Any = None,
    ) -> None:
        """Save the model to an HDF5 file (tf.keras 2.x layout; Keras 3 loads
        it), with the optimizer state unless ``include_optimizer`` is False.

        The file is written to a temporary name and renamed into place, so a
        crash never leaves a half-written file. Needs ``hookfit[h5]``.

        Args:
            filepath: The ``.h5`` file.
            overwrite: False refuses an existing file.
            include_optimizer: Also save the optimizer state and the random
                generators (what an exact resume needs).
            metadata: JSON-able data stored in the same file; `restore`
                returns it.
            jobs: A `hookfit.background.Jobs`: the state is copied now and
                the file written on its thread.
        """
        saving.save_model(
            self._built_for("save"), filepath, overwrite, include_optimizer, metadata, jobs
        )

    def save_weights(
        self, filepath: str | os.PathLike[str], overwrite: bool = True, *, jobs: Any = None
    ) -> None:
        """Save the weights only, in Keras 2's ``save_weights`` layout
        (``jobs`` as in `save`)."""
        saving.save_weights(self._built_for("save_weights"), filepath, overwrite, jobs)

    def restore(self, filepath: str | os.PathLike[str]) -> dict[str, Any]:
        """Load weights, optimizer state and random generators that `save`
        wrote into this model, built and compiled like the saved one, and
        return the saved ``metadata`` (BackupAndRestore resumes this way).

        Raises:
            FormatError: The file is unreadable or belongs to another model.
        """
        return saving.restore(self._built_for("restore"), filepath)

    def load_weights(self, filepath: str | os.PathLike[str]) -> None:
        """Load weights saved by `save_weights` or `save` (layers with weights
        are matched in order, as Keras does).

        Raises:
            FormatError: The file does not fit the model, or is unreadable.
        """
        saving.load_weights(self._built_for("load_weights"), filepath)

    def get_config(self) -> dict[str, Any]:
        """Keras's Sequential config: the model's ``name`` and its ``layers``.

        Raises:
            ModelError: The model is not built.
        """
        config: dict[str, Any] = keras_config.model_config(self._built_for("get_config"))["config"]
        return config

    def to_json(self, **kwargs: Any) -> str:
        """The model's architecture as Keras's JSON, which `model_from_json`
        (or Keras) rebuilds; ``kwargs`` go to `json.dumps` (``indent=2``).

        Raises:
            ModelError: The model is not built.
        """
        return keras_config.to_json(self._built_for("to_json"), **kwargs)

    def _built_for(self, what: str) -> Model:
        if not self.built:
            raise ModelError(
                f"{what}() needs a built model: give the first layer input_dim, or fit once."
            )
        return self

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
        self._acc_kind = losses.accuracy_for(self.loss, units or 0) if self.metrics else None

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

    # -- steps ---------------------------------------------------------------

    def _forward(self, x: Array, training: bool) -> Array:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def _metrics(self, y: Array, out: Array) -> tuple[float, float | None]:
        function = cast(losses.Loss, self.loss)
        loss = function.fused_value(y, out) if self._fused else function(y, out)
        acc = losses.accuracy(self._acc_kind, y, out) if self._acc_kind else None
        return loss, acc

    def _step(self, x: Array, y: Array) -> tuple[float, float | None]:
        """One optimiser step; returns the batch's (loss, acc)."""
        result = self._gradients(x, y)
        cast(optimizers.Optimizer, self.optimizer).apply(self._weights, self._grads)
        return result

    def _gradients(self, x: Array, y: Array, scale: float = 1.0) -> tuple[float, float | None]:
        """Fill the gradients of the batch's mean loss, times ``scale``
        (a data-parallel rank's share: `hookfit.trainer.parallel`); returns
        the batch's (loss, acc)."""
        loss = cast(losses.Loss, self.loss)
        out = self._forward(x, training=True)
        result = self._metrics(y, out)
        grad: Any = loss.fused_gradient(y, out) if self._fused else loss.gradient(y, out)
        if scale != 1.0:  # on the output's gradient: the weights' follow, at no cost
            grad = grad * np.float32(scale)
        layers, need_dx = self.layers, self._need_dx
        last = len(layers) - 1
        for i in range(last, -1, -1):
            if i == last and self._fused:
                grad = layers[i].backward(grad, need_dx[i], pre_activation=True)  # type: ignore[call-arg]
            else:
                grad = layers[i].backward(grad, need_dx[i])
            if not need_dx[i]:  # nothing before this layer learns
                break
        return result

    def _gather(self, data: Array, index: Array) -> Array:
        # np.take into a fresh array measured faster than into a reused
        # buffer (out=), which takes numpy's slower path.
        return np.take(data, index, axis=0)


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: Layers to add, in order.
        name: The model's name.

    Example:
        >>> model = Sequential()
        >>> model.add(Dense(10, input_dim=784, kernel_initializer='uniform'))
        >>> model.add(Activation('softmax'))
        >>> model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
    """

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None) -> None:
        super().__init__(name)
        for layer in layers or ():
            self._check_new(layer)
            self.layers.append(layer)
            self._names.add(layer.name)
        # built once, after every layer is checked, so that a model over the
        # memory budget is refused before any of its weights exist
        if self.layers and self.layers[0].input_dim is not None:
            self.build(self.layers[0].input_dim)

    def add(self, layer: Layer) -> None:
        """Append a layer; the first one may fix the input size. On a built
        model only the new layer is built.

        Raises:
            ConfigError: Not a layer, a name already used in the model, an
                input size the layer before does not give, or weights over
                the memory budget (the model is then left as it was).
        """
        self._check_new(layer)
        start = layer.input_dim if not self.layers else self._stack_dim
        if start is not None:
            self._stack_dim, self._declared = self._build([layer], start, self._declared)
        self.layers.append(layer)
        self._names.add(layer.name)

    def _check_new(self, layer: Any) -> None:
        if not isinstance(layer, Layer):
            raise ConfigError(f"Sequential.add takes a layer such as Dense(10), got {layer!r}.")
        if len(self._names) != len(self.layers):  # the list was changed directly
            self._names = {existing.name for existing in self.layers}
        if layer.name in self._names:
            raise ConfigError(f"Model {self.name} already has a layer named {layer.name!r}.")

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise ModelError(f"Model {self.name} has no layers to pop.")
        layer = self.layers.pop()
        self._names.discard(layer.name)
        self._declared -= sum(w.nbytes for w in layer.weights)
        if not self.layers:
            self._stack_dim = None
        elif self._stack_dim is not None:
            self._stack_dim = self.layers[-1].output_dim
        self._flat = None
        return layer


def model_from_json(json_string: str | bytes, custom_objects: Any = None) -> Sequential:
    """Rebuild a model, with new weights, from `Model.to_json`'s (or Keras
    2's) JSON. Only hookfit's layers load: nothing in the string runs as code.

    Args:
        json_string: The JSON.
        custom_objects: Must be empty: hookfit loads no custom layers.

    Raises:
        ConfigError: ``custom_objects`` is given.
        FormatError: Not JSON, not a Sequential of hookfit's layers, or
            weights over the memory budget
            (`hookfit.trainer.utils.memory_budget`).
    """
    name, layers = keras_config.parse_json(json_string, custom_objects)
    try:
        return Sequential(layers, name=name)
    except ConfigError as exc:
        raise FormatError(f"model_from_json: {exc}") from None


class _Flat:
    """What a step needs of the layers, made in one pass: the trainable
    weights and gradients in one buffer each (`parallel.flatten`) and which
    layers need d(loss)/d(input) (those after a layer with weights)."""

    def __init__(self, layers: list[Layer]) -> None:
        self.trainable = [ly for ly in layers if ly.trainable and ly.weights]
        self.weights, self.grads = parallel.flatten(self.trainable)
        self.need_dx: list[bool] = []
        learns = False
        for layer in layers:
            self.need_dx.append(learns)
            learns = learns or bool(layer.weights)


load_model = saving.load_model

__all__ = ["Model", "Sequential", "load_model", "model_from_json"]
