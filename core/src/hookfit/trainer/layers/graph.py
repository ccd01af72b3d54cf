"""Keras's functional API: `Input` makes a symbolic tensor, calling a layer
on tensors (`Layer.__call__`) records a node, and `graph` turns the
tensors between a model's inputs and outputs into the order its layers run
in, as Keras 2 orders them (by depth, then by discovery), so that weights
files match Keras's layer order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ConfigError
from .base import Array, Layer, Shape
from .checks import sample_shape


class Tensor:
    """A symbolic tensor of the functional API: what a layer's call returns.

    Attributes:
        node: The call that makes it.
        index: Which of the call's outputs it is.
        shape: Keras's ``(None, *sample_shape)``.
    """

    def __init__(self, node: Node, index: int, sample_shape: Shape) -> None:
        self.node, self.index, self.sample_shape = node, index, tuple(sample_shape)

    @property
    def shape(self) -> tuple[int | None, ...]:
        """``(None, *sample_shape)``."""
        return (None, *self.sample_shape)

    _keras_shape = shape

    @property
    def name(self) -> str:
        """``layer/output:index``, as Keras 2 names tensors."""
        return f"{self.node.layer.name}/output:{self.index}"

    def __repr__(self) -> str:
        return f"<Tensor {self.name} shape={self.shape}>"


@dataclass(eq=False)
class Node:
    """One layer call: its input tensors (``as_list``: given as a list) and
    output tensors."""

    layer: Layer
    inputs: list[Tensor]
    as_list: bool
    outputs: list[Tensor]


class InputLayer(Layer):
    """The layer behind `Input`: the identity, holding the input's shape.

    Args:
        input_shape: The sample shape.
        **kwargs: `Layer` arguments.
    """

    class_name = "InputLayer"
    inputs_count = 0

    def __init__(
        self, input_shape: Sequence[int] | None = None, sparse: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(input_shape=input_shape, **kwargs)
        if sparse:
            raise ConfigError(f"{self.name}: sparse inputs are not supported; pass dense arrays.")
        if self.declared_shape is None:
            raise ConfigError(
                f"{self.name}: Input needs the shape of one sample, e.g. Input(shape=(784,))."
            )
        node = Node(self, [], False, [])
        node.outputs.append(Tensor(node, 0, self.declared_shape))
        self.node = node
        self.in_shape = self.out_shape = self.declared_shape
        self.built = True

    def forward(self, x: Array, training: bool) -> Array:
        return x

    def backward(self, dy: Array, need_dx: bool = True) -> None:
        return None

    def get_config(self) -> dict[str, Any]:
        return {
            "batch_input_shape": list(self.batch_input_shape or ()),
            "dtype": self.dtype.name,
            "sparse": False,
            "name": self.name,
        }


def Input(
    shape: Sequence[int] | None = None,
    batch_shape: Sequence[int | None] | None = None,
    name: str | None = None,
    dtype: str | None = None,
    sparse: bool = False,
    tensor: Any = None,
) -> Tensor:
    """A symbolic input of the functional API, as Keras's ``Input``.

    Args:
        shape: The shape of one sample, e.g. ``(28, 28, 1)``.
        batch_shape: ``(batch, *shape)``; the batch size is ignored.
        name: The input layer's name (``input_1``-style by default).
        dtype: The float type.

    Raises:
        ConfigError: No shape, or an argument hookfit lacks.
    """
    if tensor is not None:
        raise ConfigError("Input: tensor= needs a backend tensor; hookfit has none. Pass shape=.")
    if batch_shape is not None:
        shape = sample_shape("Input", "batch_shape", tuple(batch_shape)[1:])
    layer = InputLayer(input_shape=shape, sparse=sparse, name=name or _input_name(), dtype=dtype)
    return layer.node.outputs[0]


def _input_name() -> str:
    from .checks import auto_name

    return auto_name("input")


def call(layer: Layer, inputs: Any) -> Any:
    """`Layer.__call__`: record the call of ``layer`` on ``inputs`` and
    return its output tensor(s); shapes are checked now, weights made when
    the model is.

    Raises:
        ConfigError: Inputs that are not tensors, a layer called twice, or
            shapes the layer cannot take.
    """
    as_list = isinstance(inputs, (list, tuple))
    tensors = list(inputs) if as_list else [inputs]
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise ConfigError(
            f"{layer.name}: call a layer on Input() tensors or other layers' outputs, got "
            f"{inputs!r}. For arrays use model.predict(x)."
        )
    if getattr(layer, "node", None) is not None:
        raise ConfigError(
            f"{layer.name} is already called in a model; hookfit does not share a layer between "
            "calls. Make a second layer of the same kind."
        )
    if layer.inputs_count == 1 and len(tensors) > 1:
        raise ConfigError(
            f"{layer.name} ({layer.class_name}) takes one input, got {len(tensors)} tensors."
        )
    if layer.inputs_count == 1:
        as_list = False
    shapes = [t.sample_shape for t in tensors]
    in_shape: Any = shapes if as_list else shapes[0]
    if layer.built and layer.in_shape != in_shape:
        raise ConfigError(f"{layer.name} takes samples of shape {layer.in_shape}, got {in_shape}.")
    if layer.declared_shape is not None and not as_list and layer.declared_shape != in_shape:
        raise ConfigError(
            f"{layer.name} was given input_shape={layer.declared_shape} but is called on "
            f"samples of shape {in_shape}."
        )
    out = layer.compute_output_shape(in_shape)
    node = Node(layer, tensors, as_list, [])
    outs = out if isinstance(out, list) else [out]
    node.outputs.extend(Tensor(node, i, s) for i, s in enumerate(outs))
    layer.node = node  # type: ignore[attr-defined]
    layer.call_shape = in_shape  # type: ignore[attr-defined]
    return node.outputs if isinstance(out, list) else node.outputs[0]


@dataclass
class Call:
    """One step of a model's forward pass: ``layer`` on the values in
    ``inputs`` (slots; a list when ``as_list``), writing ``outputs``."""

    layer: Layer
    inputs: tuple[int, ...]
    as_list: bool
    outputs: tuple[int, ...]


@dataclass
class Graph:
    """A functional model's structure, found from its tensors.

    Attributes:
        layers: In Keras's order (inputs first, by depth).
        calls: The forward pass, in an order that computes each value first.
        inputs: The slots of the model's inputs.
        outputs: The slots of the model's outputs.
        input_layers: The `InputLayer` of each input.
        output_layers: The layer of each output, with which of its outputs.
        slots: How many values the forward pass holds.
    """

    layers: list[Layer]
    calls: list[Call]
    inputs: list[int]
    outputs: list[int]
    input_layers: list[InputLayer]
    output_layers: list[tuple[Layer, int]]
    slots: int


def graph(inputs: Any, outputs: Any) -> Graph:
    """The structure between ``inputs`` and ``outputs`` (tensors or lists).

    Raises:
        ConfigError: Not tensors, an input that is not an `Input`, or an
            output that does not follow from the inputs.
    """
    ins = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    for what, tensors in (("inputs", ins), ("outputs", outs)):
        if not tensors or not all(isinstance(t, Tensor) for t in tensors):
            raise ConfigError(
                f"Model: {what} must be tensors from Input() and layer calls, got {tensors!r}."
            )
    for t in ins:
        if not isinstance(t.node.layer, InputLayer):
            raise ConfigError(
                f"Model: inputs must be Input() tensors; {t.name} comes from {t.node.layer.name}."
            )
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(t.node, False) for t in reversed(outs)]
    while stack:  # depth-first, post-order, without recursion (deep models)
        node, done = stack.pop()
        if done:
            if id(node) not in seen:
                seen.add(id(node))
                order.append(node)
            continue
        if id(node) in seen:
            continue
        stack.append((node, True))
        stack.extend((t.node, False) for t in reversed(node.inputs) if id(t.node) not in seen)
    input_nodes = {id(t.node) for t in ins}
    for node in order:
        if isinstance(node.layer, InputLayer) and id(node) not in input_nodes:
            raise ConfigError(
                f"Model: graph disconnected: the outputs need {node.layer.name}, which is not "
                f"among the inputs ({', '.join(t.node.layer.name for t in ins)})."
            )
    # Keras's depths: outputs 0, a node's inputs one deeper than it, at least
    depth: dict[int, int] = {}
    for node in reversed(order):
        d = depth.setdefault(id(node), 0)
        for t in node.inputs:
            depth[id(t.node)] = max(depth.get(id(t.node), 0), d + 1)
    index = {id(node): i for i, node in enumerate(order)}
    ranked = sorted(order, key=lambda n: (-depth[id(n)], index[id(n)]))
    slot: dict[int, int] = {}
    for i, t in enumerate(ins):
        slot[id(t)] = i
    calls = []
    for node in ranked:
        if isinstance(node.layer, InputLayer):
            continue
        for t in node.outputs:
            slot[id(t)] = len(slot)
        calls.append(
            Call(
                node.layer,
                tuple(slot[id(t)] for t in node.inputs),
                node.as_list,
                tuple(slot[id(t)] for t in node.outputs),
            )
        )
    return Graph(
        layers=[node.layer for node in ranked],
        calls=calls,
        inputs=[slot[id(t)] for t in ins],
        outputs=[slot[id(t)] for t in outs],
        input_layers=[t.node.layer for t in ins],
        output_layers=[(t.node.layer, t.index) for t in outs],
        slots=len(slot),
    )


def zeros_like(shape: Shape, rows: int, dtype: Any) -> Array:
    """A zero gradient for an output that does not reach the loss."""
    return np.zeros((rows, *shape), dtype=dtype)
