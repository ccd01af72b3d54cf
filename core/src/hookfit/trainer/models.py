"""Keras's models: `Model` (the functional API, ``Model(inputs, outputs)``)
and `Sequential`: structure, weights, files and compile.

Everything is float32 numpy, vectorised over the batch. The model's layers,
weights, compile and batch numerics are in `hookfit.trainer.network`;
Keras's training API (`fit`, `evaluate`, `predict`, ...) in
`hookfit.trainer.training`, Keras 2's legacy methods in
`hookfit.trainer.keras2`; this module adds the files. Saving is imported
where it is used, so that importing the model does not load it.

`Model` implements `hookfit.hooks.host.ResumableHost`: that, and nothing
else, is what plugins use of it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, ModelError, nearest
from .keras2 import Keras2Methods
from .layers import Layer, graph


class Model(Keras2Methods):
    """A model of the functional API, with Keras's training API.

    Args:
        inputs: The `hookfit.layers.Input` tensor(s) the model takes.
        outputs: The tensor(s) it gives, from layer calls on ``inputs``.
        name: The model's name.

    Raises:
        ConfigError: Tensors that are not connected, or weights over the
            memory budget.

    Example:
        >>> a = Input(shape=(784,))
        >>> b = Dense(10, activation='softmax')(Dense(64, activation='relu')(a))
        >>> model = Model(inputs=a, outputs=b)

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

    def __init__(
        self,
        inputs: Any = None,
        outputs: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        # Keras 2.0's names for the two tensors
        inputs = kwargs.pop("input", inputs)
        outputs = kwargs.pop("output", outputs)
        if kwargs:
            key = next(iter(kwargs))
            raise ConfigError(
                f"Model: unknown argument {key!r}{nearest(key, ['inputs', 'outputs', 'name'])}. "
                "Model takes inputs, outputs and name."
            )
        super().__init__(name)
        if type(self) is Model or inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ConfigError(
                    "Model needs inputs and outputs: Model(inputs=Input(shape=...), "
                    "outputs=the last layer's call). For a stack of layers use Sequential."
                )
            self._build_graph(graph.graph(inputs, outputs))
            self.inputs, self.outputs = inputs, outputs

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
            jobs: A `hookfit.background.Lane`: the state is copied now and
                the file written on its thread.
        """
        from ..saving import hdf5

        hdf5.save_model(
            self._built_for("save"), filepath, overwrite, include_optimizer, metadata, jobs
        )

    def save_weights(
        self, filepath: str | os.PathLike[str], overwrite: bool = True, *, jobs: Any = None
    ) -> None:
        """Save the weights only, in Keras 2's ``save_weights`` layout
        (``jobs`` as in `save`)."""
        from ..saving import hdf5

        hdf5.save_weights(self._built_for("save_weights"), filepath, overwrite, jobs)

    def restore(self, filepath: str | os.PathLike[str]) -> dict[str, Any]:
        """Load weights, optimizer state and random generators that `save`
        wrote into this model, built and compiled like the saved one, and
        return the saved ``metadata`` (BackupAndRestore resumes this way).

        Raises:
            FormatError: The file is unreadable or belongs to another model.
        """
        from ..saving import hdf5

        return hdf5.restore(self._built_for("restore"), filepath)

    def load_weights(self, filepath: str | os.PathLike[str]) -> None:
        """Load weights saved by `save_weights` or `save` (layers with weights
        are matched in order, as Keras does).

        Raises:
            FormatError: The file does not fit the model, or is unreadable.
        """
        from ..saving import hdf5

        hdf5.load_weights(self._built_for("load_weights"), filepath)

    def get_config(self) -> dict[str, Any]:
        """Keras's Sequential config: the model's ``name`` and its ``layers``.

        Raises:
            ModelError: The model is not built.
        """
        from ..saving import keras_config

        config: dict[str, Any] = keras_config.model_config(self._built_for("get_config"))["config"]
        return config

    def to_json(self, **kwargs: Any) -> str:
        """The model's architecture as Keras's JSON, which `model_from_json`
        (or Keras) rebuilds; ``kwargs`` go to `json.dumps` (``indent=2``).

        Raises:
            ModelError: The model is not built.
        """
        from ..saving import keras_config

        return keras_config.to_json(self._built_for("to_json"), **kwargs)

    def _built_for(self, what: str) -> Model:
        if not self.built:
            raise ModelError(
                f"{what}() needs a built model: give the first layer input_dim, or fit once."
            )
        return self


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
        super().__init__(name=name)
        for layer in layers or ():
            self._check_new(layer)
            self._ignore_later_shape(layer)
            self.layers.append(layer)
            self._names.add(layer.name)
        # built once, after every layer is checked, so that a model over the
        # memory budget is refused before any of its weights exist
        if self.layers and self.layers[0].declared_shape is not None:
            self.build(self.layers[0].declared_shape)

    def add(self, layer: Layer) -> None:
        """Append a layer; the first one may fix the input size. On a built
        model only the new layer is built.

        Raises:
            ConfigError: Not a layer, a name already used in the model, an
                input size the layer before does not give, or weights over
                the memory budget (the model is then left as it was).
        """
        self._check_new(layer)
        self._ignore_later_shape(layer)
        start = layer.declared_shape if not self.layers else self._stack_shape
        if start is not None:
            self._stack_shape, self._declared = self._build([layer], start, self._declared)
        self.layers.append(layer)
        self._names.add(layer.name)

    def _check_new(self, layer: Any) -> None:
        if not isinstance(layer, Layer) or isinstance(layer, graph.InputLayer):
            raise ConfigError(f"Sequential.add takes a layer such as Dense(10), got {layer!r}.")
        if len(self._names) != len(self.layers):  # the list was changed directly
            self._names = {existing.name for existing in self.layers}
        if layer.name in self._names:
            raise ConfigError(f"Model {self.name} already has a layer named {layer.name!r}.")

    def _ignore_later_shape(self, layer: Layer) -> None:
        # Keras 2 ignores input_dim/input_shape on every layer but the first
        # (scripts repeat them in loops of adds)
        if self.layers and not layer.built:
            layer.declared_shape = None

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise ModelError(f"Model {self.name} has no layers to pop.")
        layer = self.layers.pop()
        self._names.discard(layer.name)
        self._declared -= sum(w.nbytes for w in layer.weights)
        if not self.layers:
            self._stack_shape = None
        elif self._stack_shape is not None:
            self._stack_shape = self.layers[-1].out_shape
        self._flat = None
        return layer


def model_from_json(json_string: str | bytes, custom_objects: Any = None) -> Model:
    """Rebuild a model, with new weights, from `Model.to_json`'s (or Keras
    2's) JSON. Only hookfit's layers load: nothing in the string runs as code.

    Args:
        json_string: The JSON.
        custom_objects: Must be empty: hookfit loads no custom layers.

    Raises:
        ConfigError: ``custom_objects`` is given.
        FormatError: Not JSON, not a Sequential or functional model of
            hookfit's layers, or weights over the memory budget
            (`hookfit.trainer.utils.memory_budget`).
    """
    from ..saving import blueprints

    blueprint = blueprints.parse_json(json_string, custom_objects)
    blueprint.expected("model_from_json")
    return blueprint.build("model_from_json")


def load_model(filepath: str | os.PathLike[str], compile: bool = True) -> Model:
    """Rebuild a model saved by `Model.save` (or by Keras 2 / tf.keras).
    Needs ``hookfit[h5]``.

    Raises:
        FormatError: The file is not a model this loader accepts, with why.
    """
    from ..saving import hdf5

    return hdf5.load_model(filepath, compile)


__all__ = ["Model", "Sequential", "load_model", "model_from_json"]
