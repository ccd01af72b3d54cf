"""The seams between the loops and what they train.

- `Trainable`: what the loops, the steps, the threads policy and saving use
  of a model (`hookfit.trainer.network.Network` implements it).
- `Step`: how the loops train and measure one batch. `LocalStep` is one
  process's step; `hookfit.trainer.parallel.MPIStep` shares each batch
  over the MPI ranks. Another way to step (another engine, a model of
  another shape) is another class with these methods, not a branch in the
  loops.
- `Means`: the sample-weighted sums of a batch's scores, the one place
  they are added up (train, test and the MPI step use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from .numerics import Scores

Array = np.ndarray
Batch = tuple[Any, Any, Any]
"""A batch: ``(x, y, sample_weight)``; each an array, or a list per input
or output; ``sample_weight`` may be None."""


def size(batch: Batch) -> int:
    """The number of samples in ``batch``."""
    x = batch[0]
    return len(x[0] if isinstance(x, list) else x)


class Trainable(Protocol):
    """What the trainer's loops, steps and saving use of a model."""

    name: str
    layers: Any
    optimizer: Any
    loss: Any
    rng: np.random.Generator
    stop_training: bool
    interrupted: bool
    initial_epoch: int

    @property
    def metrics_names(self) -> list[str]: ...
    @property
    def stateful_metrics(self) -> list[int]: ...
    def reset_metrics(self) -> None: ...
    @property
    def output_shapes(self) -> list[Any]: ...
    @property
    def plugins(self) -> dict[str, Any]: ...
    @property
    def flat_weights(self) -> list[Array]: ...
    @property
    def flat_gradients(self) -> list[Array]: ...
    def get_weights(self) -> list[Array]: ...
    def set_weights(self, weights: Sequence[Array]) -> None: ...
    def forward(self, x: Any, training: bool) -> Any: ...
    def score(self, y: Any, out: Any, sample_weight: Any = None) -> Scores: ...
    def fit_batch(self, x: Any, y: Any, sample_weight: Any = None) -> Scores: ...
    def compute_gradients(
        self, x: Any, y: Any, scale: float = 1.0, sample_weight: Any = None
    ) -> Scores: ...
    def gather(self, data: Any, index: Array) -> Any: ...
    def share(self, rows: tuple[int, int, int] | None) -> None: ...


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

    def batch_size(self, batch: Batch, stop: bool) -> int | None:
        """The whole batch's size, before ``on_batch_begin``; None to stop
        before this batch (``stop``: a stop was asked after the last one)."""

    def update(self, batch: Batch) -> Scores:
        """The update, after ``on_batch_begin``; returns the batch's scores."""

    def stops_now(self, stop: bool) -> bool:
        """After ``on_batch_end``: whether ``stop`` ends the epoch now
        (else `batch_size` stops before the next batch)."""

    def agreed(self, flag: bool) -> bool:
        """``flag`` as every part agrees (any of them)."""

    def test_size(self, batch: Batch) -> int:
        """A test batch's whole size, before ``on_test_batch_begin``."""

    def measure(self, batch: Batch) -> Scores:
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

    def batch_size(self, batch: Batch, stop: bool) -> int | None:
        """The batch's samples; None on ``stop``."""
        return None if stop else size(batch)

    def update(self, batch: Batch) -> Scores:
        """One optimizer step."""
        return self.model.fit_batch(*batch)

    def stops_now(self, stop: bool) -> bool:
        """A stop ends the epoch at once."""
        return stop

    def agreed(self, flag: bool) -> bool:
        """``flag``."""
        return flag

    def test_size(self, batch: Batch) -> int:
        """The batch's samples."""
        return size(batch)

    def measure(self, batch: Batch) -> Scores:
        """The scores of the outputs, without dropout."""
        x, y, sample_weight = batch
        model = self.model
        return model.score(y, model.forward(x, training=False), sample_weight)


class Means:
    """Sample-weighted sums of a run of batches' scores (`metrics_names`
    order).

    Args:
        count: How many scores a batch has.
        sums: The sums of ``score * size`` and, last, the samples: what
            ranks add up (`sums`).
        stateful: The positions of scores reported as their last value
            (stateful metrics keep their own running value).
    """

    __slots__ = ("last", "stateful", "totals")

    def __init__(
        self, count: int, sums: Array | None = None, stateful: list[int] | None = None
    ) -> None:
        self.totals = np.zeros(count + 1) if sums is None else np.asarray(sums, dtype=np.float64)
        self.stateful = stateful or []
        self.last: Array | None = None

    @property
    def seen(self) -> float:
        """Samples so far."""
        return float(self.totals[-1])

    def add(self, size: float, scores: Array) -> None:
        """Add a batch of ``size`` samples and its mean scores."""
        self.totals[:-1] += scores * size
        self.totals[-1] += size
        if self.stateful:
            self.last = scores

    def sums(self) -> Array:
        """The score sums, then the samples: what ranks add up."""
        return self.totals

    def logs(self, names: list[str]) -> dict[str, float]:
        """The means as Keras's logs by ``names``; empty before any sample."""
        if not self.seen:
            return {}
        return dict(zip(names, (float(v) for v in self.scores()), strict=True))

    def scores(self) -> Array:
        """The means as a batch's scores (at least one sample seen)."""
        means = self.totals[:-1] / self.totals[-1]
        if self.stateful and self.last is not None:
            means[self.stateful] = self.last[self.stateful]
        return means
