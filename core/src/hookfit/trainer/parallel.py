"""The trainer's side of data-parallel training (`hookfit.distributed`).

Every rank holds the same data and the same model. Each step, a rank
computes the gradient of its share of the global batch and one
``Allreduce`` sums, in one float32 message: the gradients, then the batch's
``loss * size``, ``acc * size``, ``size`` and a stop flag. Every rank then
holds the global batch's mean gradient, loss and accuracy, applies the same
update and fires its hooks with the same logs. The stop flag is any rank's
``model.stop_training`` after the previous batch's hooks: a stop asked on
one rank ends every rank before the same batch.

At the start of `fit` (after ``on_train_begin``, where BackupAndRestore may
have restored a run on rank 0) rank 0's weights, optimizer state, random
generator, starting epoch and resumable plugin states go to every rank. At
every epoch's start the ranks agree on stopping and take rank 0's generator,
so the shuffle order is the same everywhere; each rank then moves its
generator to a stream of its own for the epoch's dropout masks.

That only works when every rank runs the same steps: before anything else,
`for_model` has the ranks check they were given the same data shapes,
arguments, optimizer, loss and weight shapes (else every rank would wait
for the others in a different step, forever). `together` ends a fit with
every rank checking it holds the same weights.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .. import distributed as dist
from ..errors import TrainingError
from ..hooks.callback import resumable
from . import optimizers

if TYPE_CHECKING:
    from .layers import Layer
    from .models import Model

Array = np.ndarray
TAIL = 4
"""Spare float32 values after the flat gradient buffer (see `flatten`)."""


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
    # TAIL spare values after the gradients: a data-parallel step sends the
    # batch's loss, accuracy, size and stop flag in the gradient's message
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


# Longer lists of weight shapes are named by their count, size and checksum.
SHAPES_SHOWN = 120


def for_model(model: Model, what: str, **given: Any) -> DataParallel | None:
    """The model's data-parallel helper, or None in a world of one.

    Under MPI the ranks first check (one small ``allgather``) that each was
    given the same ``given`` arguments (arrays by shape and dtype) and the
    same optimizer, loss, metrics and weight shapes.

    Raises:
        ConfigError: On every rank, when they differ (`hookfit.distributed.agree`).
    """
    if dist.size() == 1:
        return None
    dist.agree(what, {**{k: _describe(v) for k, v in given.items()}, **_model_facts(model)})
    return DataParallel(model)


@contextmanager
def together(shared: DataParallel | None, what: str = "fit") -> Iterator[None]:
    """Run a data-parallel ``what`` that every rank leaves together
    (`hookfit.distributed.together`); when it ends normally, check that
    every rank holds the same weights (one small ``allgather``).

    Raises:
        TrainingError: On every rank, when a rank's weights differ: something
            changed the model on some ranks only.
    """
    if shared is None:
        yield
        return
    with dist.together(what):
        yield
        shared.check_weights(what)


def _describe(value: Any) -> str:
    """A short description to compare across ranks: an array's shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    return "None" if value is None else repr(value)


def _model_facts(model: Model) -> dict[str, str]:
    """What every rank's compiled model must share to take the same steps."""
    optimizer = model.optimizer
    weights = [w for layer in model.layers for w in layer.weights]
    shown = ", ".join(map(_describe, weights))
    if len(shown) > SHAPES_SHOWN:
        digest = zlib.crc32(shown.encode())
        shown = f"{len(weights)} arrays of {sum(w.size for w in weights)} values #{digest:08x}"
    return {
        "optimizer": repr(optimizer.get_config() if optimizer else None),  # with its name
        "loss": str(getattr(model.loss, "name", model.loss)),
        "metrics": repr(model.metrics),
        "weights": shown,
    }


class DataParallel:
    """One model's data-parallel steps over the MPI world.

    Args:
        model: A built, compiled model (the same on every rank).

    Attributes:
        part: ``(rank, size)``: which share of each batch this rank takes.
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.rank, self.size = dist.rank(), dist.size()
        self.part = (self.rank, self.size)
        grads = model._grads
        base = grads[0].base if len(grads) == 1 else None
        if base is not None and base.ndim == 1 and base.size == grads[0].size + TAIL:
            self.wire, self.packed = base, True  # the gradients are in place: no copy
        else:  # gradients of several dtypes: one float32 message all the same
            self.wire = np.zeros(sum(g.size for g in grads) + TAIL, dtype=np.float32)
            self.packed = False
        self.tail = self.wire[-TAIL:]
        self.with_acc = model._acc_kind is not None
        self._shuffled = True

    def start(self) -> None:
        """Give every rank rank 0's training state (after ``on_train_begin``)."""
        model = self.model
        opt = cast(optimizers.Optimizer, model.optimizer)
        state = None
        if self.rank == 0:
            state = {
                "initial_epoch": model.initial_epoch,
                "stop_training": model.stop_training,
                "weights": model.get_weights(),
                "lr": float(opt.lr),
                "iterations": opt.iterations,
                "slots": opt.slots,
                "rng": model.rng.bit_generator.state,
                "plugins": {k: p.state_dict() for k, p in resumable(model.plugins).items()},
            }
        state = dist.broadcast(state)
        if self.rank == 0:
            return
        model.initial_epoch = state["initial_epoch"]
        model.stop_training = state["stop_training"] or model.stop_training
        model.set_weights(state["weights"])
        opt.lr = state["lr"]
        opt.iterations = state["iterations"]
        if state["slots"]:
            opt.build(model._weights)
            for name, arrays in state["slots"].items():
                for mine, theirs in zip(opt.slots[name], arrays, strict=True):
                    mine[...] = theirs
        model.rng.bit_generator.state = state["rng"]
        plugins = resumable(model.plugins)
        for name, saved in state["plugins"].items():
            if name in plugins:
                plugins[name].load_state_dict(saved)

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on any rank."""
        return dist.any_rank(flag)

    def epoch(self) -> None:
        """At an epoch's start: stop if any rank asked to; rank 0's generator."""
        model = self.model
        model.stop_training = dist.any_rank(model.stop_training)
        model.rng.bit_generator.state = dist.broadcast(model.rng.bit_generator.state)
        self._shuffled = False

    def step(self, x: Array, y: Array, stop: bool) -> tuple[int, float, float | None] | None:
        """This rank's share of one batch, reduced over every rank.

        Returns:
            The global batch's (size, mean loss, mean acc), the gradients
            holding its mean gradient; None when a rank asked to stop (no
            update then).
        """
        model, n = self.model, len(x)
        if not self._shuffled:
            # the epoch's order is drawn: this rank's own stream for dropout
            self._shuffled = True
            if self.rank:
                generator: Any = model.rng.bit_generator  # PCG64: jumped() is a stream apart
                generator.state = generator.jumped(self.rank).state
        loss = acc = 0.0
        if n:
            # the gradient of the share's summed loss; divided by the global size below
            loss, rate = model._gradients(x, y, float(n))
            acc = rate or 0.0
        else:  # a batch smaller than the world: nothing from this rank
            for g in model._grads:
                g.fill(0)
        if not self.packed:
            self._pack()
        self.tail[:] = (loss * n, acc * n, n, float(stop))
        dist.allreduce(self.wire)
        loss_sum, acc_sum, size, stops = (float(v) for v in self.tail)
        if stops:
            return None
        scale = np.float32(1.0 / size)
        if self.packed:
            self.wire[: -len(self.tail)] *= scale
        else:
            self._unpack(scale)
        return int(size), loss_sum / size, acc_sum / size if self.with_acc else None

    def apply(self) -> None:
        """Apply the reduced gradient (every rank the same update)."""
        model = self.model
        cast(optimizers.Optimizer, model.optimizer).apply(model._weights, model._grads)

    def evaluate(self, x: Array, y: Array) -> tuple[int, float, float | None]:
        """This rank's share of one test batch: the global (size, loss, acc)."""
        n = len(x)
        loss = acc = 0.0
        if n:
            loss, rate = self.model._metrics(y, self.model._forward(x, training=False))
            acc = rate or 0.0
        sums = dist.total(np.array([loss * n, acc * n, n], dtype=np.float64))
        size = float(sums[2])
        return int(size), sums[0] / size, sums[1] / size if self.with_acc else None

    def check_weights(self, what: str) -> None:
        """Check that every rank holds the same weights (a checksum each).

        Raises:
            TrainingError: On every rank, when they differ.
        """
        digest = 0
        for weight in self.model._weights:
            digest = zlib.crc32(np.ascontiguousarray(weight).data, digest)
        every = dist.allgather(digest)
        if len(set(every)) > 1:
            sums = ", ".join(f"rank {r} #{d:08x}" for r, d in enumerate(every))
            raise TrainingError(
                f"{what}: the MPI ranks ended with different weights ({sums}); every rank "
                "applies the same updates, so something changed the model on some ranks only "
                "(a plugin that sets weights on one rank?). Change the weights in a hook that "
                "runs on every rank, or only before fit."
            )

    def _pack(self) -> None:
        start = 0
        for g in self.model._grads:
            self.wire[start : start + g.size] = g.reshape(-1)
            start += g.size

    def _unpack(self, scale: Any) -> None:
        start = 0
        for g in self.model._grads:
            g[...] = (self.wire[start : start + g.size] * scale).reshape(g.shape)
            start += g.size


def share(count: int, part: tuple[int, int]) -> slice:
    """Rank ``part[0]``'s rows of ``count`` rows split over ``part[1]`` ranks."""
    rank, size = part
    return slice(rank * count // size, (rank + 1) * count // size)
