"""The trainer's side of data-parallel training (`hookfit.distributed`).

Every rank holds the same data and the same model. Each step, a rank
computes the gradient of its share of the global batch and one
``Allreduce`` sums, in one float32 message: the gradients, then the batch's
``score * size`` for each score, ``size`` and a stop flag. Every rank then
holds the global batch's mean gradient and scores, applies the same
update and fires its hooks with the same logs. The stop flag is any rank's
``model.stop_training`` after the previous batch's hooks: a stop asked on
one rank ends every rank before the same batch.

At the start of `fit` (after ``on_train_begin``, where BackupAndRestore may
have restored a run on rank 0) rank 0's weights, optimizer state, random
generator, starting epoch and resumable plugin states go to every rank. At
every epoch's start the ranks agree on stopping and take rank 0's generator,
so the shuffle order is the same everywhere; the ranks keep drawing the
same numbers: each draws the whole batch's dropout mask and keeps the rows
of its share (`hookfit.trainer.network.Network.share`), so N ranks drop
what one process would and reach its weights.

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
from ..errors import ConfigError, TrainingError
from ..hooks.callback import resumable
from . import optimizers
from .numerics import Scores
from .steps import Batch, Means, size

if TYPE_CHECKING:
    from .steps import Trainable

Array = np.ndarray


# Longer lists of weight shapes are named by their count, size and checksum.
SHAPES_SHOWN = 120


def for_model(model: Trainable, what: str, batch_size: int, **given: Any) -> MPIStep | None:
    """The model's data-parallel step, or None in a world of one.

    Under MPI the ranks first check (one small ``allgather``) that each was
    given the same ``given`` arguments (arrays by shape and dtype) and the
    same optimizer, loss, metrics and weight shapes.

    Raises:
        ConfigError: On every rank, when they differ (`hookfit.distributed.agree`).
    """
    if dist.size() == 1:
        return None
    facts = {"batch_size": repr(batch_size), **{k: _describe(v) for k, v in given.items()}}
    dist.agree(what, {**facts, **_model_facts(model)})
    data = given.get("data")
    samples = 0 if data is None else size(data)
    synced = [layer.name for layer in model.layers if hasattr(layer, "sync")]
    if synced and what == "fit":
        smallest = min(batch_size, samples % batch_size or batch_size)
        if smallest < dist.size():
            raise ConfigError(
                f"{what}: {synced[0]} (BatchNormalization) shares each batch's statistics over "
                f"the {dist.size()} ranks, so every rank needs a sample of every batch; this fit "
                f"has a batch of {smallest}. Use a batch_size and a sample count that leave at "
                f"least {dist.size()} samples in every batch."
            )
    return MPIStep(model, batch_size, samples)


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
    if isinstance(value, (list, tuple)):
        return f"({', '.join(map(_describe, value))})"
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
        "metrics": repr(model.metrics_names),
        "weights": shapes,
    }


class MPIStep:
    """The data-parallel step over the MPI world (`hookfit.trainer.steps.Step`).

    Args:
        model: A built, compiled model (the same on every rank).
        batch_size: The global batch's size.
        samples: The training samples (with ``batch_size``, where each
            batch and this rank's share of it start).

    Attributes:
        part: ``(rank, size)``: which share of each batch this rank takes.
    """

    def __init__(self, model: Trainable, batch_size: int, samples: int = 0) -> None:
        self.model = model
        self.rank, self.size = dist.rank(), dist.size()
        self.part = (self.rank, self.size)
        self.global_batch = batch_size
        count = len(model.metrics_names)
        tail = count + 2
        grads = model.flat_gradients
        base = grads[0].base if len(grads) == 1 else None
        if base is not None and base.ndim == 1 and base.size == grads[0].size + tail:
            self.wire, self.packed = base, True  # the gradients are in place: no copy
        else:  # gradients of several dtypes: one float32 message all the same
            self.wire = np.zeros(sum(g.size for g in grads) + tail, dtype=np.float32)
            self.packed = False
        self.tail = self.wire[-tail:]
        self.count = count
        self.reduced: Scores = np.zeros(count)
        self.samples = samples
        for layer in model.layers:  # BatchNormalization: the global batch's statistics
            if hasattr(layer, "sync"):
                layer.sync = dist.total
        self._batch = 0

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
        self._batch = 0

    def batch_size(self, batch: Batch, stop: bool) -> int | None:
        """This rank's share of one batch, reduced over every rank: the
        gradients then hold the global batch's mean gradient.

        Returns:
            The global batch's size (its scores are `reduced`); None when a
            rank asked to stop (no update then).
        """
        model, n = self.model, size(batch)
        # where this share lies in the whole batch: dropout draws the whole batch's mask
        whole = min(self.global_batch, self.samples - self._batch * self.global_batch)
        self._batch += 1
        share = Means(self.count)
        weights = self._global_weights(batch[2], n)
        if n:
            start = self.rank * whole // self.size
            model.share((start, start + n, whole))
            # the gradient of the share's summed loss; divided by the global size below
            share.add(n, model.compute_gradients(batch[0], batch[1], float(n), weights))
            model.share(None)
        else:  # a batch smaller than the world: nothing from this rank
            for g in model.flat_gradients:
                g.fill(0)
        if not self.packed:
            self._pack()
        self.tail[:-1] = share.sums()
        self.tail[-1] = float(stop)
        dist.allreduce(self.wire)
        sums, stops = self.tail[:-1].astype(np.float64), float(self.tail[-1])
        if stops:
            return None
        total = float(sums[-1])
        scale = np.float32(1.0 / total)
        if self.packed:
            self.wire[: -len(self.tail)] *= scale
        else:
            self._unpack(scale)
        self.reduced = Means(self.count, sums).scores()
        return int(total)

    def update(self, batch: Batch) -> Scores:
        """Apply the reduced gradient (every rank the same update); the
        global batch's scores."""
        model = self.model
        cast(optimizers.Optimizer, model.optimizer).apply(model.flat_weights, model.flat_gradients)
        return self.reduced

    def stops_now(self, stop: bool) -> bool:
        """Never: a stop is agreed at the next batch's reduction."""
        return False

    def test_size(self, batch: Batch) -> int:
        """This rank's share of one test batch: the global size (the global
        scores are `reduced`)."""
        n = size(batch)
        share = Means(self.count)
        weights = self._global_weights(batch[2], n)
        if n:
            x, y, _ = batch
            share.add(n, self.model.score(y, self.model.forward(x, training=False), weights))
        whole = Means(self.count, dist.total(np.array(share.sums(), dtype=np.float64)))
        self.reduced = whole.scores()
        return int(whole.seen)

    def measure(self, batch: Batch) -> Scores:
        """The global scores `test_size` reduced."""
        return self.reduced

    def _global_weights(self, sample_weight: Any, n: int) -> Any:
        """``sample_weight`` rescaled so that a share's weighted mean divides
        by the whole batch's share of non-zero weights, as one process's
        (Keras 2's rule: ``mean(loss * w) / mean(w != 0)`` over the batch):
        one small ``Allreduce`` of the counts, for weighted batches only."""
        if sample_weight is None:
            return None
        weights = sample_weight if isinstance(sample_weight, list) else [sample_weight]
        counts = np.array([*(np.count_nonzero(w) for w in weights), n], dtype=np.float64)
        total = dist.total(counts)
        scaled = [
            w * np.float32((mine / n) / (every / total[-1])) if mine else w
            for w, mine, every in zip(weights, counts[:-1], total[:-1], strict=False)
        ]
        return scaled if isinstance(sample_weight, list) else scaled[0]

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
