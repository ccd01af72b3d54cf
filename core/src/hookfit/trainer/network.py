"""The model's core: its layers and their graph, shapes, weights and
compile. The numerics of one batch are `hookfit.trainer.numerics`'s;
`hookfit.models.Model` adds Keras's training API (`training`, `keras2`)
and its files (`models`) on top.

A model runs a list of layer calls over numbered values (`Call`): a
`Sequential` is a chain of them, a functional model (`Model(inputs,
outputs)`) the graph `hookfit.trainer.layers.graph` finds. Data of one
input or output is an array; of several, a list of arrays.

The public names are what the loops, the steps, the threads policy and
saving use of a model (`hookfit.trainer.steps.Trainable` declares them):
nothing outside the model reads its private attributes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from ..errors import ConfigError, ModelError, nearest
from ..hooks.dispatch import Run
from . import losses, optimizers, utils
from .layers import Layer
from .layers.base import NotConnected
from .layers.graph import Graph
from .numerics import BatchNumerics, Flat, nth
from .objective import Objective

Array = np.ndarray
Shape = tuple[int, ...]

_model_counter = itertools.count(1)


class Network(BatchNumerics):
    """A model's layers, weights, compile and batch numerics (see the module).

    Args:
        name: The model's name.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"{type(self).__name__.lower()}_{next(_model_counter)}"
        self.layers: list[Layer] = []
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: Any = None
        self.loss_weights: Any = None
        self.metrics: list[Any] = []
        self.objective: Objective | None = None
        self.stop_training = False
        self.history: Any = None
        self.initial_epoch = 0
        self.interrupted = False
        self.rng = utils.new_generator()
        self._run: Run | None = None
        self._names: set[str] = set()
        self._graph: Graph | None = None
        # A Sequential's output shape once built (None until then) and its
        # weights' bytes: `Sequential.add` builds one layer from them.
        self._stack_shape: Shape | None = None
        self._declared = 0
        self._flat: Flat | None = None

    # -- structure -----------------------------------------------------------

    @property
    def plugins(self) -> dict[str, Any]:
        """The plugins of the run in progress, by name (empty between runs)."""
        return dict(self._run.plugins) if self._run is not None else {}

    @property
    def graph(self) -> Graph | None:
        """A functional model's structure (`hookfit.trainer.layers.graph`);
        None for a Sequential."""
        return self._graph

    @property
    def built(self) -> bool:
        """True once every layer has its weights."""
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_shapes(self) -> list[Shape | None]:
        """Each input's sample shape, once known."""
        if self._graph is not None:
            return [layer.declared_shape for layer in self._graph.input_layers]
        if not self.layers:
            return [None]
        first = self.layers[0]
        return [first.in_shape if first.built else first.declared_shape]

    @property
    def output_shapes(self) -> list[Shape | None]:
        """Each output's sample shape, once built."""
        if self._graph is not None:
            return [nth(layer.out_shape, i) for layer, i in self._graph.output_layers]
        return [self._stack_shape if self.built else None]

    @property
    def input_names(self) -> list[str]:
        """The names of the input layers (Keras's; a Sequential's is its
        first layer's name with ``_input``)."""
        if self._graph is not None:
            return [layer.name for layer in self._graph.input_layers]
        return [f"{self.layers[0].name}_input"] if self.layers else ["input"]

    @property
    def output_names(self) -> list[str]:
        """The names of the layers that give the outputs (Keras's)."""
        if self._graph is not None:
            return [layer.name for layer, _ in self._graph.output_layers]
        return [self.layers[-1].name] if self.layers else []

    @property
    def input(self) -> Any:
        """A functional model's input tensor (a list for several).

        Raises:
            NotConnected: A Sequential (it has no tensors).
        """
        return self._tensors(
            "input", self._graph and [ly.output for ly in self._graph.input_layers]
        )

    @property
    def output(self) -> Any:
        """A functional model's output tensor (a list for several).

        Raises:
            NotConnected: A Sequential (it has no tensors).
        """
        return self._tensors(
            "output", self._graph and [nth(ly.output, i) for ly, i in self._graph.output_layers]
        )

    def _tensors(self, what: str, tensors: Any) -> Any:
        if not tensors:
            raise NotConnected(
                f"Model {self.name} has no {what} tensor: only a functional model "
                "(Model(inputs, outputs)) has them; a Sequential has none."
            )
        return tensors if len(tensors) > 1 else tensors[0]

    @property
    def input_shape(self) -> Any:
        """Keras's ``(None, *shape)`` of the input (a list for several)."""
        return _keras_shapes(self.input_shapes)

    @property
    def output_shape(self) -> Any:
        """Keras's ``(None, *shape)`` of the output (a list for several).

        Raises:
            ModelError: The model is not built.
        """
        if not self.built:
            raise ModelError(
                f"Model {self.name} is not built, so it has no output shape yet: give the "
                "first layer input_shape, or fit once."
            )
        return _keras_shapes(self.output_shapes)

    @property
    def input_dim(self) -> int | None:
        """The size of the (first) input's last axis, once known."""
        shape = self.input_shapes[0]
        return shape[-1] if shape else None

    @property
    def output_dim(self) -> int | None:
        """The size of the (first) output's last axis, once known."""
        shape = self.output_shapes[0]
        if shape:
            return shape[-1]
        for layer in reversed(self.layers):
            if layer.output_dim is not None:
                return layer.output_dim
        return None

    def build(self, input_shape: Shape | int) -> None:
        """Create every layer's weights for samples of ``input_shape`` (an
        int: that many features).

        Every layer's input shape and the weights' total size (against
        `hookfit.trainer.utils.memory_budget`) are checked before any
        weight is allocated.

        Raises:
            ConfigError: A layer cannot take the shape it gets, or the
                weights go over the memory budget.
        """
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        self._stack_shape, self._declared = self._build(self.layers, shape, 0)

    def _build(self, layers: Sequence[Layer], shape: Shape, declared: int) -> tuple[Shape, int]:
        """Build ``layers`` on a stack giving samples of ``shape`` whose
        weights take ``declared`` bytes; return the new output shape and
        bytes. One pass to check, one to allocate: linear in the layers."""
        shapes = []
        for layer in layers:
            if layer.built and layer.in_shape != shape:
                raise ConfigError(
                    f"Layer {layer.name} takes samples of shape {layer.in_shape} but the layer "
                    f"before gives {shape}."
                )
            if layer.declared_shape is not None and layer.declared_shape != shape:
                raise ConfigError(
                    f"Layer {layer.name} was given input_shape={layer.declared_shape} but the "
                    f"layer before gives {shape}."
                )
            declared = layer.check_budget(shape, declared)
            shapes.append(shape)
            shape = layer.compute_output_shape(shape)
        for layer, layer_shape in zip(layers, shapes, strict=True):
            if not layer.built:
                layer.build(layer_shape, self.rng)
        self._flat = None
        return shape, declared

    def _build_graph(self, graph: Graph) -> None:
        """Check the weights' total size, then build every layer of ``graph``."""
        declared = 0
        for call in graph.calls:
            declared = call.layer.check_budget(call.layer.call_shape, declared)  # type: ignore[attr-defined]
        for call in graph.calls:
            if not call.layer.built:
                call.layer.build(call.layer.call_shape, self.rng)  # type: ignore[attr-defined]
        self._graph, self.layers = graph, graph.layers
        self._declared = declared
        self._flat = None

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

    def __call__(self, inputs: Any) -> Any:
        """Keras's model-as-a-layer call, which hookfit does not have.

        Raises:
            ConfigError: Always, saying how to build one model instead.
        """
        raise ConfigError(
            f"Model {self.name} cannot be called on tensors: hookfit does not nest models. "
            "Call its layers on the tensors instead (one model of all the layers), e.g. "
            "for layer in model.layers: x = layer(x)."
        )

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` of `layers`.

        Raises:
            ConfigError: No such layer (naming the nearest), or neither or
                both given.
        """
        if (name is None) == (index is None):
            raise ConfigError("get_layer takes a name or an index, e.g. get_layer('dense_1').")
        if index is not None:
            if not isinstance(index, int) or not -len(self.layers) <= index < len(self.layers):
                raise ConfigError(
                    f"get_layer: index {index!r} is outside the model's {len(self.layers)} layers."
                )
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = [layer.name for layer in self.layers]
        raise ConfigError(
            f"get_layer: model {self.name} has no layer {name!r}{nearest(str(name), names)}; "
            f"its layers: {', '.join(names)}."
        )

    def summary(
        self, line_length: int | None = None, positions: Any = None, print_fn: Any = print
    ) -> None:
        """Print Keras 2's table of the layers, their output shapes and
        parameter counts (and, for a functional model, what each is
        connected to): `hookfit.trainer.summary.print_summary`."""
        from .summary import print_summary

        print_summary(self, line_length, positions, print_fn)

    # -- compile -------------------------------------------------------------

    def compile(
        self,
        optimizer: str | optimizers.Optimizer = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        sample_weight_mode: Any = None,
        weighted_metrics: Any = None,
    ) -> None:
        """Choose the optimizer, the loss(es) and the metrics.

        Args:
            optimizer: A Keras name (``'sgd'``, ``'adam'``, ...) or an
                optimizer object.
            loss: A Keras loss name or `Loss`; for several outputs, a list
                or a dict by output name.
            metrics: Metrics for every output (``['accuracy']``, logged as
                ``acc``), or per output as a list of lists or a dict.
            loss_weights: Each output's weight in the total loss (list or dict).
            sample_weight_mode: None (one weight per sample), as Keras 2.
            weighted_metrics: Must be None; hookfit weighs only the loss.

        Raises:
            ConfigError: An unknown optimizer, loss or metric, or lists that
                do not match the outputs.
            ModelError: The model has no layers.
        """
        if not self.layers:
            raise ModelError(f"Model {self.name} has no layers; add() some before compile().")
        if loss is None:
            raise ConfigError(
                "compile() needs a loss, e.g. loss='categorical_crossentropy'. "
                "Valid losses: " + ", ".join(losses._REGISTRY) + "."
            )
        for name, value in (
            ("sample_weight_mode", sample_weight_mode),
            ("weighted_metrics", weighted_metrics),
        ):
            if value:
                raise ConfigError(
                    f"compile: {name}={value!r} is not supported; hookfit weighs each sample's "
                    "loss (fit's sample_weight and class_weight). Leave it None."
                )
        outputs = self._output_layers()
        objective = Objective(outputs, loss, loss_weights, metrics, self.layers)
        self.optimizer = optimizers.get(optimizer)
        self.objective, self.loss_weights = objective, loss_weights
        self.loss = objective.losses[0] if len(objective.losses) == 1 else objective.losses
        self.metrics = list(metrics) if isinstance(metrics, (list, tuple)) else metrics or []
        self._flat = None

    def _output_layers(self) -> list[tuple[str, Layer, Shape]]:
        if self._graph is not None:
            return [
                (layer.name, layer, cast(Shape, nth(layer.out_shape, i)))
                for layer, i in self._graph.output_layers
            ]
        last = self.layers[-1]
        shape = self._stack_shape if self.built else (last.output_dim or 0,)
        return [(last.name, last, cast(Shape, shape))]

    @property
    def metrics_names(self) -> list[str]:
        """Keras 2's names of the scores: ``['loss', 'acc']``, or for two
        outputs ``['loss', 'a_loss', 'b_loss', 'a_acc', 'b_acc']``."""
        return self.objective.names if self.objective is not None else ["loss"]

    def reset_metrics(self) -> None:
        """Reset the stateful metrics (the loops call it at each epoch's
        start and before each test)."""
        if self.objective is not None:
            self.objective.reset()

    @property
    def stateful_metrics(self) -> list[int]:
        """The positions in `metrics_names` of stateful metrics."""
        return self.objective.stateful if self.objective is not None else []

    @property
    def losses_list(self) -> list[losses.Loss]:
        """The loss of each output, once compiled."""
        return self.objective.losses if self.objective is not None else []

    def _require_compiled(self, what: str) -> None:
        if self.objective is None or self.optimizer is None:
            raise ModelError(
                f"{what}() needs a compiled model: call model.compile(optimizer=..., loss=...) "
                "first."
            )


def _keras_shapes(shapes: list[Any]) -> Any:
    out = [None if s is None else (None, *s) for s in shapes]
    return out if len(out) > 1 else out[0]
