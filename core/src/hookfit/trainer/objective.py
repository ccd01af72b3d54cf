"""What a compiled model minimises and reports: a loss, a loss weight and
metrics per output, the layers' weight penalties, and Keras 2's names for
the scores (``metrics_names``). `Objective.scores` is the one place a
batch's scores are computed, and `Objective.output_gradients` the one place
the loss's gradient starts.

Keras 2.2.4's rules: the total loss is the loss weights' sum of each
output's loss, plus the penalties; each output's loss is its samples'
weighted mean (`hookfit.trainer.losses.weighted_mean`); metrics are not
weighted. Names: ``loss``, then ``<output>_loss`` per output when there
are several, then each output's metrics (``acc``, or ``<output>_acc``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, nearest
from . import activations, compile_metrics, losses

Array = np.ndarray


def per_output(value: Any, names: Sequence[str], what: str, default: Any) -> list[Any]:
    """``value`` given for all outputs, as a list, or as a dict by output
    name, as one entry per output (``default`` for outputs a dict leaves out).

    Raises:
        ConfigError: A list of the wrong length, or a dict naming an output
            the model lacks.
    """
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ConfigError(
                f"compile: {what} names {unknown[0]!r}{nearest(str(unknown[0]), names)}, which "
                f"is not an output; the outputs are {', '.join(names)}."
            )
        return [value.get(n, default) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ConfigError(
                f"compile: {what} has {len(value)} entries for {len(names)} outputs "
                f"({', '.join(names)}); give one per output, or a dict by output name."
            )
        return list(value)
    return [value] * len(names)


class Objective:
    """A compiled model's losses, loss weights and metrics, per output.

    Args:
        outputs: Each output's name, layer and sample shape.
        loss: A loss for all outputs, a list, or a dict by output name.
        loss_weights: None (1 each), a list, or a dict by output name.
        metrics: Metrics for all outputs, a list of lists, or a dict.
        penalised: The layers whose weight penalties join the loss.

    Raises:
        ConfigError: An unknown loss or metric, or lists that do not match
            the outputs.
    """

    def __init__(
        self,
        outputs: Sequence[tuple[str, Any, tuple[int, ...]]],
        loss: Any,
        loss_weights: Any = None,
        metrics_: Any = None,
        penalised: Sequence[Any] = (),
    ) -> None:
        names = [name for name, _, _ in outputs]
        self.output_names = names
        self.losses = [losses.get(x) for x in per_output(loss, names, "loss", None)]
        weights = per_output(
            1.0 if loss_weights is None else loss_weights, names, "loss_weights", 1.0
        )
        for name, w in zip(names, weights, strict=True):
            if isinstance(w, bool) or not isinstance(w, (int, float)):
                raise ConfigError(f"compile: loss_weights for {name} must be a number, got {w!r}.")
        self.loss_weights = [float(w) for w in weights]
        self.metrics = [
            [compile_metrics.get(m, loss_k, shape) for m in (wanted or [])]
            for wanted, loss_k, (_, _, shape) in zip(
                compile_metrics.per_output(metrics_, names), self.losses, outputs, strict=True
            )
        ]
        self.fused = [
            loss_k.fuses_with is not None
            and getattr(layer, "activation", None) is activations.get(loss_k.fuses_with)
            for loss_k, (_, layer, _) in zip(self.losses, outputs, strict=True)
        ]
        self.penalised = [layer for layer in penalised if layer.regularizers]
        many = len(names) > 1
        self.names = ["loss"]
        if many:
            self.names += [f"{n}_loss" for n in names]
        self.stateful: list[int] = []
        """The positions of stateful metrics in `names`: reported as their
        running value, not averaged."""
        for name, ms in zip(names, self.metrics, strict=True):
            for m in ms:
                if m.stateful:
                    self.stateful.append(len(self.names))
                self.names.append(compile_metrics.logged_name(m.name, name, self.names, many))

    def reset(self) -> None:
        """Reset the stateful metrics (at each epoch's start and each test's)."""
        for ms in self.metrics:
            for m in ms:
                if m.stateful:
                    m.reset_states()

    def penalty(self) -> float:
        """The weight penalties' sum (Keras adds it to the loss)."""
        return float(
            sum(reg(layer.weights[i]) for layer in self.penalised for i, reg in layer.regularizers)
        )

    def scores(self, ys: Sequence[Array], outs: Sequence[Array], sws: Sequence[Any]) -> Array:
        """The batch's scores, in `names` order; ``sws`` holds each
        output's sample weights, or None."""
        values = np.empty(len(self.names), dtype=np.float64)
        many = len(self.losses) > 1
        total, at = self.penalty(), 1 + (len(self.losses) if many else 0)
        for k, (loss, y, out, sw) in enumerate(zip(self.losses, ys, outs, sws, strict=True)):
            value = loss(y, out) if sw is None else losses.weighted_mean(loss.values(y, out), sw)
            total += self.loss_weights[k] * value
            if many:
                values[1 + k] = value
            for metric in self.metrics[k]:
                values[at] = metric(y, out)
                at += 1
        values[0] = total
        return values

    def output_gradients(
        self, ys: Sequence[Array], outs: Sequence[Array], sws: Sequence[Any], scale: float
    ) -> list[Array]:
        """d(total loss)/d(output) per output (d/d(pre-activation) for the
        `fused` ones), times ``scale``."""
        grads = []
        for k, (loss, y, out, sw) in enumerate(zip(self.losses, ys, outs, sws, strict=True)):
            grad = loss.fused_gradient(y, out) if self.fused[k] else loss.gradient(y, out)
            factor = np.float32(scale * self.loss_weights[k])
            if sw is not None:
                rows = losses.gradient_scale(sw).astype(grad.dtype, copy=False)
                grad = grad * rows.reshape(-1, *([1] * (grad.ndim - 1)))
            if factor != 1:
                grad = grad * factor
            grads.append(grad)
        return grads

    def add_penalty_gradients(self, scale: float) -> None:
        """Add the penalties' gradients (times ``scale``) to the layers' gradients."""
        for layer in self.penalised:
            for i, reg in layer.regularizers:
                if i < len(layer.grads):
                    layer.grads[i] += np.float32(scale) * reg.gradient(layer.weights[i])
