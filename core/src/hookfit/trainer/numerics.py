"""The numerics of one batch: the trainer's protocol of a model
(`hookfit.trainer.steps.Trainable`). `BatchNumerics` runs the layer calls
forward, starts the loss's gradient (`hookfit.trainer.objective`) and runs
them backward, into one flat buffer of gradients the optimizer (or a
data-parallel step) reads; `hookfit.trainer.network.Network` holds the
layers, their graph and the compiled objective it works on."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from . import optimizers
from .layers import Layer
from .layers.graph import Call, Graph
from .objective import Objective

Array = np.ndarray
Scores = np.ndarray
"""A batch's scores, float64, in ``metrics_names`` order."""


def as_list(data: Any) -> list[Any]:
    """Data of one input or output as a one-entry list; a list as it is."""
    return data if isinstance(data, list) else [data]


class BatchNumerics:
    """A model's forward and backward passes over its layer calls.

    Attributes:
        layers: The layers (a Sequential's run in order).
        objective: The compiled losses and metrics.
        optimizer: The compiled optimizer.
    """

    layers: list[Layer]
    objective: Objective | None
    optimizer: optimizers.Optimizer | None
    _graph: Graph | None
    _flat: Flat | None

    @property
    def metrics_names(self) -> list[str]:
        """The names of the scores (`hookfit.trainer.network.Network`)."""
        raise NotImplementedError

    def _calls(self) -> list[Call]:
        if self._graph is not None:
            return self._graph.calls
        return [Call(layer, (i,), False, (i + 1,)) for i, layer in enumerate(self.layers)]

    def _flatten(self) -> Flat:
        # Made on first use after the layers change, not at every `add`:
        # flattening copies every weight, and n adds would copy n times.
        # Made again when another model flattened a layer they share (a layer
        # in two models, as Keras allows): the weights are then views of the
        # other model's buffer, and this model's updates must reach them.
        if self._flat is None or not self._flat.current():
            self._flat = Flat(self._calls(), len(self.metrics_names) + 2)
        return self._flat

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

    def forward(self, x: Any, training: bool) -> Any:
        """The outputs for the batch ``x`` (an array, or a list per input);
        an array, or a list per output. ``training``: dropout on."""
        if self._graph is None:  # a chain: no bookkeeping of values
            for layer in self.layers:
                x = layer.forward(x, training)
            return x
        graph = self._graph
        values: list[Any] = [None] * graph.slots
        for slot, data in zip(graph.inputs, as_list(x), strict=True):
            values[slot] = data
        for call in graph.calls:
            args = [values[s] for s in call.inputs] if call.as_list else values[call.inputs[0]]
            out = call.layer.forward(args, training)
            if len(call.outputs) == 1:
                values[call.outputs[0]] = out
            else:
                for slot, value in zip(call.outputs, out, strict=True):
                    values[slot] = value
        outs = [values[s] for s in graph.outputs]
        return outs if len(outs) > 1 else outs[0]

    def score(self, y: Any, out: Any, sample_weight: Any = None) -> Scores:
        """The batch's scores (`metrics_names`) of the outputs ``out``."""
        objective = cast(Objective, self.objective)
        return objective.scores(as_list(y), as_list(out), _weights(sample_weight, y))

    def fit_batch(self, x: Any, y: Any, sample_weight: Any = None) -> Scores:
        """One optimizer step on checked arrays; returns the batch's scores."""
        result = self.compute_gradients(x, y, 1.0, sample_weight)
        flat = cast(Flat, self._flat)  # current: compute_gradients just checked it
        cast(optimizers.Optimizer, self.optimizer).apply(flat.weights, flat.grads)
        return result

    def compute_gradients(
        self, x: Any, y: Any, scale: float = 1.0, sample_weight: Any = None
    ) -> Scores:
        """Fill `flat_gradients` with the gradients of the batch's loss,
        times ``scale`` (a data-parallel rank's share:
        `hookfit.trainer.parallel`); returns the batch's scores."""
        objective = cast(Objective, self.objective)
        flat = self._flatten()
        out = self.forward(x, training=True)
        ys, outs, sws = as_list(y), as_list(out), _weights(sample_weight, y)
        result = objective.scores(ys, outs, sws)
        grads = objective.output_gradients(ys, outs, sws, scale)
        if self._graph is None:
            grad, layers, need_dx = grads[0], self.layers, flat.need_dx
            for i in range(len(layers) - 1, -1, -1):
                if i == len(layers) - 1 and objective.fused[0]:
                    grad = layers[i].backward(grad, need_dx[i], pre_activation=True)  # type: ignore[call-arg]
                else:
                    grad = layers[i].backward(grad, need_dx[i])
                if not need_dx[i]:  # nothing before this layer learns
                    break
        else:
            self._backward_graph(grads, flat, objective.fused)
        if objective.penalised:
            objective.add_penalty_gradients(scale)
        return result

    def _backward_graph(self, grads: list[Array], flat: Flat, fused: list[bool]) -> None:
        graph = cast(Graph, self._graph)
        pending: dict[int, Any] = {}
        fused_slots = set()
        for slot, grad, is_fused in zip(graph.outputs, grads, fused, strict=True):
            _accumulate(pending, slot, grad)
            if is_fused:
                fused_slots.add(slot)
        for call, need_dx in zip(reversed(graph.calls), reversed(flat.need_dx), strict=True):
            dys = [pending.pop(s, None) for s in call.outputs]
            if all(d is None for d in dys):
                for g in call.layer.grads:  # it does not reach the loss
                    g.fill(0)
                continue
            if len(dys) == 1:
                dy: Any = dys[0]
            else:
                dy = [
                    d if d is not None else np.zeros_like(_nth_value(call, i))
                    for i, d in enumerate(dys)
                ]
            if call.outputs[0] in fused_slots:
                dx = call.layer.backward(dy, need_dx, pre_activation=True)  # type: ignore[call-arg]
            else:
                dx = call.layer.backward(dy, need_dx)
            if not need_dx or dx is None:
                continue
            parts = dx if call.as_list else [dx]
            for slot, part in zip(call.inputs, parts, strict=True):
                _accumulate(pending, slot, part)

    def gather(self, data: Any, index: Array) -> Any:
        """The rows ``index`` of ``data`` (an array or a list of them), in
        new arrays (a shuffled batch)."""
        # not into a reused buffer (out=): numpy takes a slower path for it
        if isinstance(data, list):
            return [np.take(d, index, axis=0) for d in data]
        return np.take(data, index, axis=0)

    def share(self, rows: tuple[int, int, int] | None) -> None:
        """Take rows ``start:stop`` of each batch of ``whole`` rows
        (``rows``), or whole batches (None): a data-parallel rank's dropout
        draws the whole batch's mask and keeps its rows."""
        for layer in self.layers:
            if hasattr(layer, "share"):
                layer.share = rows


def nth(shape: Any, i: int) -> Any:
    """Output ``i``'s shape of a layer whose outputs have ``shape`` (a list
    for several)."""
    return shape[i] if isinstance(shape, list) else shape


def _nth_value(call: Call, i: int) -> Any:
    shape = nth(call.layer.out_shape, i)
    return np.zeros((1, *shape), dtype=np.float32)


def _weights(sample_weight: Any, y: Any) -> list[Any]:
    if sample_weight is None:
        return [None] * len(as_list(y))
    return as_list(sample_weight)


def _accumulate(pending: dict[int, Any], slot: int, grad: Any) -> None:
    if slot in pending:
        # a value used twice: the sum, in a new array (layers may write into theirs)
        pending[slot] = pending[slot] + grad
    else:
        pending[slot] = grad


def flatten(layers: list[Layer], tail: int) -> tuple[list[Array], list[Array]]:
    """Put every trainable weight (and its gradient) in one buffer.

    The layers keep working on views of it, while the optimizer updates one
    array per step instead of two per layer. Layers of another dtype than
    the first keep arrays of their own. The gradient buffer has ``tail``
    spare values after it: a data-parallel step sends the batch's scores,
    size and stop flag in the gradient's own message
    (`hookfit.trainer.parallel`).
    """
    weights = [w for ly in layers for w in ly.trainable_weights]
    if not weights or any(w.dtype != weights[0].dtype for w in weights):
        return weights, [g for ly in layers for g in ly.grads[: len(ly.trainable_weights)]]
    flat_w = np.empty(sum(w.size for w in weights), dtype=weights[0].dtype)
    flat_g = np.zeros(flat_w.size + tail, dtype=flat_w.dtype)[: flat_w.size]
    start = 0
    for layer in layers:
        for i, w in enumerate(layer.trainable_weights):
            view = flat_w[start : start + w.size].reshape(w.shape)
            view[...] = w
            layer.weights[i] = view
            layer.grads[i] = flat_g[start : start + w.size].reshape(w.shape)
            start += w.size
    return [flat_w], [flat_g]


class Flat:
    """What a step needs of the layers, made in one pass: the trainable
    weights and gradients in one buffer each (`flatten`) and which calls
    need d(loss)/d(input) (those after a layer with weights)."""

    def __init__(self, calls: list[Call], tail: int) -> None:
        layers = [call.layer for call in calls]
        self.tail = tail
        trained = [ly for ly in layers if ly.trainable and ly.weights]
        self.weights, self.grads = flatten(trained, tail)
        self._firsts = [(ly, ly.weights[0]) for ly in trained]
        self.need_dx: list[bool] = []
        learns: set[int] = set()  # the values that depend on a weight
        for call in calls:
            needs = any(s in learns for s in call.inputs)
            self.need_dx.append(needs)
            if needs or call.layer.weights:
                learns.update(call.outputs)

    def current(self) -> bool:
        """Whether the layers still work on these buffers (no other model
        sharing a layer has flattened it since)."""
        return all(layer.weights and layer.weights[0] is first for layer, first in self._firsts)
