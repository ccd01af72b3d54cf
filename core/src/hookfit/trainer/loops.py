"""The loops that call the hooks: `fit`'s epochs and batches, `evaluate`'s
and `predict`'s batches. A hook that no plugin implements is an empty list,
tested before its ``logs`` dict is even built, so it costs nothing per batch.

The loops take their batches from iterables, so arrays (`array_batches`,
`slices`) and Keras 2's generators (`hookfit.trainer.generators`) share
them; for arrays that costs one generator step per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..hooks.dispatch import Run
from .inputs import rows
from .steps import Batch, Means, size

if TYPE_CHECKING:
    from .steps import Step, Trainable

Array = np.ndarray
# One epoch's (x, y, sample_weight) batches: a fresh iterable on every call.
Epoch = Callable[[], Iterable[Batch]]


def array_batches(
    model: Trainable,
    data: Batch,
    batch_size: int,
    shuffle: bool,
    part: tuple[int, int] = (0, 1),
) -> Epoch:
    """`fit`'s batches of ``data`` (``(x, y, sample_weight)``), in a new
    order every epoch when ``shuffle`` (drawn from ``model.rng`` as the
    epoch's first batch is taken, after ``on_epoch_begin``). With ``part``
    ``(rank, ranks)``, only this rank's share of each batch
    (`hookfit.trainer.parallel`)."""
    n = size(data)
    starts = range(0, n, batch_size)
    rank, ranks = part

    def epoch() -> Iterator[Batch]:
        if not shuffle:
            for start in starts:
                mine = _share(start, min(n, start + batch_size), rank, ranks)
                yield rows(data[0], mine), rows(data[1], mine), rows(data[2], mine)
            return
        order = model.rng.permutation(n)
        gather = model.gather
        for start in starts:
            index = order[_share(start, min(n, start + batch_size), rank, ranks)]
            yield tuple(None if d is None else gather(d, index) for d in data)  # type: ignore[misc]

    return epoch


def slices(data: Batch, batch_size: int, part: tuple[int, int] = (0, 1)) -> Iterator[Batch]:
    """``data`` in order, ``batch_size`` samples at a time (this rank's
    share of each, with ``part`` as in `array_batches`)."""
    n = size(data)
    for start in range(0, n, batch_size):
        mine = _share(start, min(n, start + batch_size), *part)
        yield rows(data[0], mine), rows(data[1], mine), rows(data[2], mine)


def _share(start: int, stop: int, rank: int, ranks: int) -> slice:
    """Rank ``rank``'s rows of the batch ``start:stop`` split over ``ranks``."""
    count = stop - start
    return slice(start + rank * count // ranks, start + (rank + 1) * count // ranks)


def train(
    step: Step,
    run: Run,
    batches: Epoch,
    validate: Epoch | None,
    epochs: int,
    each_epoch: Callable[[], None] = lambda: None,
) -> None:
    """`fit`'s epochs: Keras's hook calls and Keras's logs, whatever plugins
    run. The epoch logs are the batches' sample-weighted means and the
    ``val_`` results of ``validate``'s batches. ``each_epoch`` runs before
    every epoch (the thread policy looks at the machine again);
    ``on_train_end`` runs also after an error. ``step`` trains each batch
    (`hookfit.trainer.steps.Step`)."""
    model, fire = step.model, run.fire
    names = model.metrics_names
    last_logs: dict[str, Any] = {}
    model.stop_training = model.interrupted = False
    try:
        if run.on_train_begin:
            fire(run.on_train_begin, {})
        step.begin()
        # read after on_train_begin: a plugin may resume from a later epoch
        for epoch in range(model.initial_epoch, epochs):
            step.epoch_start()
            if model.stop_training:
                break
            each_epoch()
            if run.on_epoch_begin:
                fire(run.on_epoch_begin, epoch, {})
            model.reset_metrics()
            means = _batches(step, run, batches(), names)
            # a stop signal (hookfit train's Ctrl-C or SIGTERM) may reach the parts at
            # different batches; the epoch is unfinished, so it has no epoch end (a backup
            # keeps the last finished epoch, and a resume redoes it)
            model.interrupted = step.agreed(model.interrupted)
            if model.interrupted:
                break
            epoch_logs: dict[str, Any] = means.logs(names)
            if validate is not None:
                results = test(step, run, validate())
                epoch_logs.update((f"val_{k}", v) for k, v in results.items())
            if run.on_epoch_end:
                fire(run.on_epoch_end, epoch, epoch_logs)
            last_logs = epoch_logs
    except BaseException as exc:
        _end_after(exc, run, model)
        raise
    if run.on_train_end:
        run.fire_all(run.on_train_end, dict(last_logs))


def _batches(step: Step, run: Run, batches: Iterable[Batch], names: list[str]) -> Means:
    """One epoch's batches and their hooks; returns their sums. The logs are
    the whole batch's, and a stop the step agrees on ends every part at the
    same batch."""
    model, fire = step.model, run.fire
    on_batch_begin, on_batch_end = run.on_batch_begin, run.on_batch_end
    means = Means(len(names), stateful=model.stateful_metrics)
    for batch, data in enumerate(batches):
        count = step.batch_size(data, batch > 0 and model.stop_training)
        if count is None:
            model.stop_training = True
            break
        if on_batch_begin:
            fire(on_batch_begin, batch, {"batch": batch, "size": count})
        scores = step.update(data)
        means.add(count, scores)
        if on_batch_end:
            logs: dict[str, Any] = {"batch": batch, "size": count}
            logs.update(zip(names, (float(v) for v in scores), strict=True))
            fire(on_batch_end, batch, logs)
        if step.stops_now(model.stop_training):
            break
    return means


def _end_after(exc: BaseException, run: Run, model: Trainable) -> None:
    """``on_train_end`` after ``exc``, so plugins close their files; ``exc``
    stays the one the caller sees, with a note if a hook failed too."""
    model.interrupted = True
    if run.on_train_end:
        try:
            run.fire_all(run.on_train_end, {})
        except Exception as second:
            notes = "".join(f" ({note})" for note in getattr(second, "__notes__", ()))
            exc.add_note(f"hookfit: on_train_end then failed too: {second!r}{notes}")


def test(step: Step, run: Run, batches: Iterable[Batch]) -> dict[str, float]:
    """`evaluate`'s batches, and the validation inside `fit`: the test hooks,
    and the sample-weighted means of ``loss`` (and ``acc``). ``batches``
    holds at least one sample (``step``'s share of each batch; the logs
    are the whole batch's)."""
    fire = run.fire
    if run.on_test_begin:
        fire(run.on_test_begin, {})
    names = step.model.metrics_names
    step.model.reset_metrics()
    means = Means(len(names), stateful=step.model.stateful_metrics)
    for batch, data in enumerate(batches):
        count = step.test_size(data)
        if run.on_test_batch_begin:
            fire(run.on_test_batch_begin, batch, {"batch": batch, "size": count})
        scores = step.measure(data)
        means.add(count, scores)
        if run.on_test_batch_end:
            logs: dict[str, Any] = {"batch": batch, "size": count}
            logs.update(zip(names, (float(v) for v in scores), strict=True))
            fire(run.on_test_batch_end, batch, logs)
    results = means.logs(names)
    if run.on_test_end:
        run.fire_all(run.on_test_end, dict(results))
    return results


def scores(results: dict[str, float]) -> float | list[float]:
    """`evaluate`'s result: the loss, or every score in `metrics_names` order."""
    return results["loss"] if len(results) == 1 else list(results.values())


def predict(model: Trainable, run: Run, batches: Iterable[Any], n: int | None = None) -> Any:
    """`predict`'s batches and the predict hooks; returns the outputs (a
    list of arrays for several).

    With ``n``, the number of samples, the outputs go straight into arrays
    of that size; without (a generator's batches), they are joined at the end.
    """
    fire = run.fire
    shapes = [tuple(s or ()) for s in model.output_shapes]
    outs = [np.empty((n or 0, *s), dtype=np.float32) for s in shapes]
    parts: list[list[Array]] = []
    if run.on_predict_begin:
        fire(run.on_predict_begin, {})
    start = 0
    for batch, xb in enumerate(batches):
        count = len(xb[0] if isinstance(xb, list) else xb)
        if run.on_predict_batch_begin:
            fire(run.on_predict_batch_begin, batch, {"batch": batch, "size": count})
        result = model.forward(xb, training=False)
        results = result if isinstance(result, list) else [result]
        if n is None:
            chunks = [np.array(r, dtype=np.float32) for r in results]
            parts.append(chunks)
        else:
            chunks = [out[start : start + count] for out in outs]
            for chunk, r in zip(chunks, results, strict=True):
                chunk[...] = r
        start += count
        if run.on_predict_batch_end:
            copies = [c.copy() for c in chunks]
            logs = {
                "batch": batch,
                "size": count,
                "outputs": copies if len(copies) > 1 else copies[0],
            }
            fire(run.on_predict_batch_end, batch, logs)
    if run.on_predict_end:
        run.fire_all(run.on_predict_end, {})
    if n is None:
        outs = (
            [np.concatenate([p[k] for p in parts]) for k in range(len(shapes))] if parts else outs
        )
    return outs if len(outs) > 1 else outs[0]
