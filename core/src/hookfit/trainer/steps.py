"""The seams between the loops and what they train.

- `Trainable`: what the loops, the steps, the threads policy and saving use
  of a model (`hookfit.trainer.network.Network` implements it).
- `Step`: how the loops train and measure one batch. `LocalStep` is one
  process's step; `hookfit.trainer.parallel.MPIStep` shares each batch
  over the MPI ranks. Another way to step (another engine, a model of
  another shape) is another class with these methods, not a branch in the
  loops.
- `Means`: the sample-weighted sums of ``loss`` and ``acc``, the one place
  they are written (train, test and the MPI step use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from .network import Scores

Array = np.ndarray


class Trainable(Protocol):
    """What the trainer's loops, steps and saving use of a model."""

    name: str
    layers: Any
    optimizer: Any
    loss: Any
    metrics: list[str]
    rng: np.random.Generator
    stop_training: bool
    interrupted: bool
    initial_epoch: int
    accuracy_kind: str | None

    @property
    def output_dim(self) -> int | None: ...
    @property
    def plugins(self) -> dict[str, Any]: ...
    @property
    def flat_weights(self) -> list[Array]: ...
    @property
    def flat_gradients(self) -> list[Array]: ...
    def get_weights(self) -> list[Array]: ...
    def set_weights(self, weights: Sequence[Array]) -> None: ...
    def forward(self, x: Array, training: bool) -> Array: ...
    def score(self, y: Array, out: Array) -> Scores: ...
    def fit_batch(self, x: Array, y: Array) -> Scores: ...
    def compute_gradients(self, x: Array, y: Array, scale: float = 1.0) -> Scores: ...
    def gather(self, data: Array, index: Array) -> Array: ...


class Step(Protocol):
    """How the loops (`hookfit.trainer.loops`) train and measure batches.

    A batch's hooks get the whole batch's size and scores, so a step that
    shares batches out (`part`) gives them for the whole batch.

    Attributes:
        model: The model it trains.
        part: ``(index, count)``: which share of each batch this step takes.
    """

    model: Trainable
    part: tuple[int, int]

    def begin(self) -> None:
        """After ``on_train_begin``: the training state is final."""

    def epoch_start(self) -> None:
        """Before an epoch (and its stop check): agree on ``stop_training``."""

    def batch_size(self, x: Array, y: Array, stop: bool) -> int | None:
        """The whole batch's size, before ``on_batch_begin``; None to stop
        before this batch (``stop``: a stop was asked after the last one)."""

    def update(self, x: Array, y: Array) -> Scores:
        """The update, after ``on_batch_begin``; returns the batch's scores."""

    def stops_now(self, stop: bool) -> bool:
        """After ``on_batch_end``: whether ``stop`` ends the epoch now
        (else `batch_size` stops before the next batch)."""

    def agreed(self, flag: bool) -> bool:
        """``flag`` as every part agrees (any of them)."""

    def test_size(self, x: Array, y: Array) -> int:
        """A test batch's whole size, before ``on_test_batch_begin``."""

    def measure(self, x: Array, y: Array) -> Scores:
        """A test batch's scores, after ``on_test_batch_begin``."""


class LocalStep:
    """The step of one process: the whole batch, here.

    Args:
        model: The model.
    """

    part = (0, 1)

    def __init__(self, model: Trainable) -> None:
        self.model = model

    def begin(self) -> None:
        """Nothing to share."""

    def epoch_start(self) -> None:
        """Nothing to agree on."""

    def batch_size(self, x: Array, y: Array, stop: bool) -> int | None:
        """``len(x)``; None on ``stop``."""
        return None if stop else len(x)

    def update(self, x: Array, y: Array) -> Scores:
        """One optimizer step."""
        return self.model.fit_batch(x, y)

    def stops_now(self, stop: bool) -> bool:
        """A stop ends the epoch at once."""
        return stop

    def agreed(self, flag: bool) -> bool:
        """``flag``."""
        return flag

    def test_size(self, x: Array, y: Array) -> int:
        """``len(x)``."""
        return len(x)

    def measure(self, x: Array, y: Array) -> Scores:
        """The scores of the outputs, without dropout."""
        model = self.model
        return model.score(y, model.forward(x, training=False))


class Means:
    """Sample-weighted sums of a run of batches' ``loss`` and ``acc``.

    Args:
        loss: The sum of ``loss * size``.
        acc: The sum of ``acc * size``.
        seen: Samples so far (the order of `sums`).
    """

    __slots__ = ("acc", "loss", "seen")

    def __init__(self, loss: float = 0.0, acc: float = 0.0, seen: float = 0) -> None:
        self.loss, self.acc, self.seen = loss, acc, seen

    def add(self, size: float, loss: float, acc: float | None) -> None:
        """Add a batch of ``size`` samples and its mean scores."""
        self.seen += size
        self.loss += loss * size
        if acc is not None:
            self.acc += acc * size

    def sums(self) -> tuple[float, float, float]:
        """``(loss sum, acc sum, samples)``: what ranks add up."""
        return self.loss, self.acc, self.seen

    def logs(self, with_acc: bool) -> dict[str, float]:
        """The means, Keras's logs: ``loss`` (and ``acc``); empty before
        any sample."""
        if not self.seen:
            return {}
        logs = {"loss": self.loss / self.seen}
        if with_acc:
            logs["acc"] = self.acc / self.seen
        return logs

    def scores(self, with_acc: bool) -> Scores:
        """The means as a batch's scores (at least one sample seen)."""
        return self.loss / self.seen, self.acc / self.seen if with_acc else None
