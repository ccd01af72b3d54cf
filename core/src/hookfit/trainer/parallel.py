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
from .network import TAIL, Scores
from .steps import Means

if TYPE_CHECKING:
    from .steps import Trainable

Array = np.ndarray


# Longer lists of weight shapes are named by their count, size and checksum.
SHAPES_SHOWN = 120


def for_model(model: Trainable, what: str, **given: Any) -> MPIStep | None:
    """The model's data-parallel step, or None in a world of one.

    Under MPI the ranks first check (one small ``allgather``) that each was
    given the same ``given`` arguments (arrays by shape and dtype) and the
    same optimizer, loss, metrics and weight shapes.

    Raises:
        ConfigError: On every rank, when they differ (`hookfit.distributed.agree`).
    """
    if dist.size() == 1:
        return None
    dist.agree(what, {**{k: _describe(v) for k, v in given.items()}, **_model_facts(model)})
    return MPIStep(model)


@contextmanager
def together(step: MPIStep | None, what: str = "fit") -> Iterator[None]:
    """Run a data-parallel ``what`` that every rank leaves together
    (`hookfit.distributed.together`); when it ends normally, check that
    every rank holds the same weights (one small ``allgather``).

    Raises:
        TrainingError: On every rank, when a rank's weights differ: something
            changed the model on some ranks only.
    """
    if step is None:
        yield
        return
    with dist.together(what):
        yield
        step.check_weights(what)


def _describe(value: Any) -> str:
    """A short description to compare across ranks: an array's shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    return "None" if value is None else repr(value)


def _model_facts(model: Trainable) -> dict[str, str]:
    """What every rank's compiled model must share to take the same steps."""
    optimizer = model.optimizer
    weights = [w for layer in model.layers for w in layer.weights]
    shapes = ", ".join(map(_describe, weights))
    if len(shapes) > SHAPES_SHOWN:
        digest = zlib.crc32(shapes.encode())
        shapes = f"{len(weights)} arrays of {sum(w.size for w in weights)} values #{digest:08x}"
    return {
        "optimizer": repr(optimizer.get_config() if optimizer else None),  # with its name
        "loss": str(getattr(model.loss, "name", model.loss)),
        "metrics": repr(model.metrics),
        "weights": shapes,
    }


class MPIStep:
    """The data-parallel step over the MPI world (`hookfit.trainer.steps.Step`).

    Args:
        model: A built, compiled model (the same on every rank).

    Attributes:
        part: ``(rank, size)``: which share of each batch this rank takes.
    """

    def __init__(self, model: Trainable) -> None:
        self.model = model
        self.rank, self.size = dist.rank(), dist.size()
        self.part = (self.rank, self.size)
        grads = model.flat_gradients
        base = grads[0].base if len(grads) == 1 else None
        if base is not None and base.ndim == 1 and base.size == grads[0].size + TAIL:
            self.wire, self.packed = base, True  # the gradients are in place: no copy
        else:  # gradients of several dtypes: one float32 message all the same
            self.wire = np.zeros(sum(g.size for g in grads) + TAIL, dtype=np.float32)
            self.packed = False
        self.tail = self.wire[-TAIL:]
        self.with_acc = model.accuracy_kind is not None
        self.reduced: Scores = (0.0, None)
        self._shuffled = True

    def begin(self) -> None:
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
            opt.build(model.flat_weights)
            for name, arrays in state["slots"].items():
                for mine, theirs in zip(opt.slots[name], arrays, strict=True):
                    mine[...] = theirs
        model.rng.bit_generator.state = state["rng"]
        plugins = resumable(model.plugins)
        for name, saved in state["plugins"].items():
            if name in plugins:
                plugins[name].load_state_dict(saved)

    def agreed(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on any rank."""
        return dist.any_rank(flag)

    def epoch_start(self) -> None:
        """Stop if any rank asked to; take rank 0's generator, so every rank
        shuffles the same way."""
        model = self.model
        model.stop_training = dist.any_rank(model.stop_training)
        model.rng.bit_generator.state = dist.broadcast(model.rng.bit_generator.state)
        self._shuffled = False

    def batch_size(self, x: Array, y: Array, stop: bool) -> int | None:
        """This rank's share of one batch, reduced over every rank: the
        gradients then hold the global batch's mean gradient.

        Returns:
            The global batch's size (its scores are `reduced`); None when a
            rank asked to stop (no update then).
        """
        model, n = self.model, len(x)
        if not self._shuffled:
            # the epoch's order is drawn: this rank's own stream for dropout
            self._shuffled = True
            if self.rank:
                generator: Any = model.rng.bit_generator  # PCG64: jumped() is a stream apart
                generator.state = generator.jumped(self.rank).state
        share = Means()
        if n:
            # the gradient of the share's summed loss; divided by the global size below
            share.add(n, *model.compute_gradients(x, y, float(n)))
        else:  # a batch smaller than the world: nothing from this rank
            for g in model.flat_gradients:
                g.fill(0)
        if not self.packed:
            self._pack()
        self.tail[:] = (*share.sums(), float(stop))
        dist.allreduce(self.wire)
        loss_sum, acc_sum, size, stops = (float(v) for v in self.tail)
        if stops:
            return None
        scale = np.float32(1.0 / size)
        if self.packed:
            self.wire[: -len(self.tail)] *= scale
        else:
            self._unpack(scale)
        self.reduced = Means(loss_sum, acc_sum, size).scores(self.with_acc)
        return int(size)

    def update(self, x: Array, y: Array) -> Scores:
        """Apply the reduced gradient (every rank the same update); the
        global batch's scores."""
        model = self.model
        cast(optimizers.Optimizer, model.optimizer).apply(model.flat_weights, model.flat_gradients)
        return self.reduced

    def stops_now(self, stop: bool) -> bool:
        """Never: a stop is agreed at the next batch's reduction."""
        return False

    def test_size(self, x: Array, y: Array) -> int:
        """This rank's share of one test batch: the global size (the global
        scores are `reduced`)."""
        n = len(x)
        share = Means()
        if n:
            share.add(n, *self.model.score(y, self.model.forward(x, training=False)))
        whole = Means(*dist.total(np.array(share.sums(), dtype=np.float64)))
        self.reduced = whole.scores(self.with_acc)
        return int(whole.seen)

    def measure(self, x: Array, y: Array) -> Scores:
        """The global scores `test_size` reduced."""
        return self.reduced

    def check_weights(self, what: str) -> None:
        """Check that every rank holds the same weights (a checksum each).

        Raises:
            TrainingError: On every rank, when they differ.
        """
        digest = 0
        for weight in self.model.flat_weights:
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
        for g in self.model.flat_gradients:
            self.wire[start : start + g.size] = g.reshape(-1)
            start += g.size

    def _unpack(self, scale: Any) -> None:
        start = 0
        for g in self.model.flat_gradients:
            g[...] = (self.wire[start : start + g.size] * scale).reshape(g.shape)
            start += g.size
