"""The loops that call the hooks: `fit`'s epochs and batches, `evaluate`'s
and `predict`'s batches. A hook that no plugin implements is an empty list,
tested before its ``logs`` dict is even built, so it costs nothing per batch.

The loops take their batches from iterables, so arrays (`array_batches`,
`slices`) and Keras 2's generators (`hookfit.trainer.generators`) share
them; for arrays that costs one generator step per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..hooks.dispatch import Run

if TYPE_CHECKING:
    from .models import Model
    from .parallel import DataParallel

Array = np.ndarray
Batch = tuple[Array, Array]
# One epoch's (x, y) batches: a fresh iterable on every call.
Epoch = Callable[[], Iterable[Batch]]


def array_batches(
    model: Model, x: Array, y: Array, batch_size: int, shuffle: bool, part: tuple[int, int] = (0, 1)
) -> Epoch:
    """`fit`'s batches of ``x`` and ``y``, in a new order every epoch when
    ``shuffle`` (drawn from ``model.rng`` as the epoch's first batch is
    taken, after ``on_epoch_begin``). With ``part`` ``(rank, ranks)``, only
    this rank's share of each batch (`hookfit.trainer.parallel`)."""
    n = len(x)
    starts = range(0, n, batch_size)
    rank, ranks = part

    def epoch() -> Iterator[Batch]:
        if not shuffle:
            for start in starts:
                mine = _share(start, min(n, start + batch_size), rank, ranks)
                yield x[mine], y[mine]
            return
        order = model.rng.permutation(n)
        gather = model._gather
        for start in starts:
            index = order[_share(start, min(n, start + batch_size), rank, ranks)]
            yield gather(x, index), gather(y, index)

    return epoch


def slices(x: Array, y: Array, batch_size: int, part: tuple[int, int] = (0, 1)) -> Iterator[Batch]:
    """``x`` and ``y`` in order, ``batch_size`` samples at a time (this
    rank's share of each, with ``part`` as in `array_batches`)."""
    for start in range(0, len(x), batch_size):
        mine = _share(start, min(len(x), start + batch_size), *part)
        yield x[mine], y[mine]


def _share(start: int, stop: int, rank: int, ranks: int) -> slice:
    """Rank ``rank``'s rows of the batch ``start:stop`` split over ``ranks``."""
    count = stop - start
    return slice(start + rank * count // ranks, start + (rank + 1) * count // ranks)


def train(
    model: Model,
    run: Run,
    batches: Epoch,
    validate: Epoch | None,
    epochs: int,
    each_epoch: Callable[[], None] = lambda: None,
    parallel: DataParallel | None = None,
) -> None:
    """`fit`'s epochs and batches: Keras's hook calls and Keras's logs.

    The trainer owns the logs: each batch's ``loss`` (and ``acc``), and at
    each epoch's end their sample-weighted means and the ``val_`` results
    (from the batches of ``validate``), whatever plugins run.
    ``on_train_end`` runs also after an error. ``each_epoch`` runs before
    every epoch (the thread policy looks at the machine again).

    With ``parallel`` (under MPI), ``batches`` give this rank's share: each
    batch's gradient, logs and any rank's stop are reduced before its hooks
    fire, so every rank fires them with the global batch's logs and stops
    at the same batch (`hookfit.trainer.parallel`).
    """
    fire = run.fire
    on_batch_begin, on_batch_end = run.on_batch_begin, run.on_batch_end
    with_acc = model._acc_kind is not None
    last_logs: dict[str, Any] = {}
    model.stop_training = model.interrupted = False
    try:
        if run.on_train_begin:
            fire(run.on_train_begin, {})
        if parallel is not None:
            parallel.start()
        # read after on_train_begin: a plugin may resume from a later epoch
        for epoch in range(model.initial_epoch, epochs):
            if parallel is not None:
                parallel.epoch()
            if model.stop_training:
                break
            each_epoch()
            if run.on_epoch_begin:
                fire(run.on_epoch_begin, epoch, {})
            seen = 0
            total_loss = total_acc = 0.0
            for batch, (xb, yb) in enumerate(batches()):
                size = len(xb)
                if parallel is not None:
                    # a stop asked after the previous batch, on any rank
                    reduced = parallel.step(xb, yb, batch > 0 and model.stop_training)
                    if reduced is None:
                        model.stop_training = True
                        break
                    size, loss, acc = reduced
                if on_batch_begin:
                    fire(on_batch_begin, batch, {"batch": batch, "size": size})
                if parallel is None:
                    loss, acc = model._step(xb, yb)
                else:
                    parallel.apply()
                seen += size
                total_loss += loss * size
                if with_acc:
                    total_acc += cast(float, acc) * size
                if on_batch_end:
                    logs: dict[str, Any] = {"batch": batch, "size": size, "loss": loss}
                    if with_acc:
                        logs["acc"] = acc
                    fire(on_batch_end, batch, logs)
                if model.stop_training and parallel is None:  # else: at the next reduction
                    break
            if parallel is not None:  # a signal may reach the ranks at different batches
                model.interrupted = parallel.any(model.interrupted)
            if model.interrupted:
                # A stop signal (hookfit train's Ctrl-C or SIGTERM) after this
                # batch: the epoch is unfinished, so it has no epoch end (a
                # backup keeps the last finished epoch, and a resume redoes it).
                break
            # Keras's epoch logs: the sample-weighted means over the batches
            epoch_logs: dict[str, Any] = {"loss": total_loss / seen} if seen else {}
            if with_acc and seen:
                epoch_logs["acc"] = total_acc / seen
            if validate is not None:
                results = test(model, run, validate(), parallel)
                epoch_logs.update((f"val_{k}", v) for k, v in results.items())
            if run.on_epoch_end:
                fire(run.on_epoch_end, epoch, epoch_logs)
            last_logs = epoch_logs
    except BaseException as exc:
        # on_train_end still runs, so plugins close their files; the
        # original exception stays the one the caller sees.
        model.interrupted = True
        if run.on_train_end:
            try:
                run.fire_all(run.on_train_end, {})
            except Exception as second:
                notes = "".join(f" ({note})" for note in getattr(second, "__notes__", ()))
                exc.add_note(f"hookfit: on_train_end then failed too: {second!r}{notes}")
        raise
    if run.on_train_end:
        run.fire_all(run.on_train_end, dict(last_logs))


def test(
    model: Model, run: Run, batches: Iterable[Batch], parallel: DataParallel | None = None
) -> dict[str, float]:
    """`evaluate`'s batches, and the validation inside `fit`: the test hooks,
    and the sample-weighted means of ``loss`` (and ``acc``). ``batches``
    holds at least one sample (with ``parallel``: this rank's share of each
    batch; the logs are the whole batch's)."""
    fire = run.fire
    if run.on_test_begin:
        fire(run.on_test_begin, {})
    seen = 0
    total_loss = total_acc = 0.0
    for batch, (xb, yb) in enumerate(batches):
        size = len(xb)
        if parallel is not None:  # the whole batch's size and metrics, on every rank
            size, loss, acc = parallel.evaluate(xb, yb)
        seen += size
        if run.on_test_batch_begin:
            fire(run.on_test_batch_begin, batch, {"batch": batch, "size": size})
        if parallel is None:
            loss, acc = model._metrics(yb, model._forward(xb, training=False))
        total_loss += loss * size
        total_acc += (acc or 0.0) * size
        if run.on_test_batch_end:
            logs = {"batch": batch, "size": size, "loss": loss}
            if acc is not None:
                logs["acc"] = acc
            fire(run.on_test_batch_end, batch, logs)
    results = {"loss": total_loss / seen}
    if model._acc_kind:
        results["acc"] = total_acc / seen
    if run.on_test_end:
        run.fire_all(run.on_test_end, dict(results))
    return results


def predict(model: Model, run: Run, batches: Iterable[Array], n: int | None = None) -> Array:
    """`predict`'s batches and the predict hooks; returns the outputs.

    With ``n``, the number of samples, the outputs go straight into one
    array; without (a generator's batches), they are joined at the end.
    """
    fire = run.fire
    width = model.output_dim or 0
    out = np.empty((n or 0, width), dtype=np.float32)
    parts: list[Array] = []
    if run.on_predict_begin:
        fire(run.on_predict_begin, {})
    start = 0
    for batch, xb in enumerate(batches):
        size = len(xb)
        if run.on_predict_batch_begin:
            fire(run.on_predict_batch_begin, batch, {"batch": batch, "size": size})
        if n is None:
            chunk = np.empty((size, width), dtype=np.float32)
            parts.append(chunk)
        else:
            chunk = out[start : start + size]
        chunk[...] = model._forward(xb, training=False)
        start += size
        if run.on_predict_batch_end:
            logs = {"batch": batch, "size": size, "outputs": chunk.copy()}
            fire(run.on_predict_batch_end, batch, logs)
    if run.on_predict_end:
        run.fire_all(run.on_predict_end, {})
    return out if n is not None else np.concatenate(parts)
