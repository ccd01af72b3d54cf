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

Array = np.ndarray
Batch = tuple[Array, Array]
# One epoch's (x, y) batches: a fresh iterable on every call.
Epoch = Callable[[], Iterable[Batch]]


def array_batches(model: Model, x: Array, y: Array, batch_size: int, shuffle: bool) -> Epoch:
    """`fit`'s batches of ``x`` and ``y``, in a new order every epoch when
    ``shuffle`` (drawn from ``model.rng`` as the epoch's first batch is
    taken, after ``on_epoch_begin``)."""
    n = len(x)
    starts = range(0, n, batch_size)

    def epoch() -> Iterator[Batch]:
        if not shuffle:
            for start in starts:
                yield x[start : start + batch_size], y[start : start + batch_size]
            return
        order = model.rng.permutation(n)
        gather = model._gather
        for start in starts:
            index = order[start : start + batch_size]
            yield gather(x, index), gather(y, index)

    return epoch


def slices(x: Array, y: Array, batch_size: int) -> Iterator[Batch]:
    """``x`` and ``y`` in order, ``batch_size`` samples at a time."""
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]


def train(model: Model, run: Run, batches: Epoch, validate: Epoch | None, epochs: int) -> None:
    """`fit`'s epochs and batches: Keras's hook calls and Keras's logs.

    The trainer owns the logs: each batch's ``loss`` (and ``acc``), and at
    each epoch's end their sample-weighted means and the ``val_`` results
    (from the batches of ``validate``), whatever plugins run.
    ``on_train_end`` runs also after an error.
    """
    fire = run.fire
    on_batch_begin, on_batch_end = run.on_batch_begin, run.on_batch_end
    with_acc = model._acc_kind is not None
    last_logs: dict[str, Any] = {}
    model.stop_training = model.interrupted = False
    try:
        if run.on_train_begin:
            fire(run.on_train_begin, {})
        # read after on_train_begin: a plugin may resume from a later epoch
        for epoch in range(model.initial_epoch, epochs):
            if model.stop_training:
                break
            if run.on_epoch_begin:
                fire(run.on_epoch_begin, epoch, {})
            seen = 0
            total_loss = total_acc = 0.0
            for batch, (xb, yb) in enumerate(batches()):
                size = len(xb)
                if on_batch_begin:
                    fire(on_batch_begin, batch, {"batch": batch, "size": size})
                loss, acc = model._step(xb, yb)
                seen += size
                total_loss += loss * size
                if with_acc:
                    total_acc += cast(float, acc) * size
                if on_batch_end:
                    logs: dict[str, Any] = {"batch": batch, "size": size, "loss": loss}
                    if with_acc:
                        logs["acc"] = acc
                    fire(on_batch_end, batch, logs)
                if model.stop_training:
                    break
            # Keras's epoch logs: the sample-weighted means over the batches
            epoch_logs: dict[str, Any] = {"loss": total_loss / seen} if seen else {}
            if with_acc and seen:
                epoch_logs["acc"] = total_acc / seen
            if validate is not None:
                results = test(model, run, validate())
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
                fire(run.on_train_end, {})
            except Exception as second:
                exc.add_note(f"hookfit: on_train_end then failed too: {second!r}")
        raise
    if run.on_train_end:
        fire(run.on_train_end, dict(last_logs))


def test(model: Model, run: Run, batches: Iterable[Batch]) -> dict[str, float]:
    """`evaluate`'s batches, and the validation inside `fit`: the test hooks,
    and the sample-weighted means of ``loss`` (and ``acc``). ``batches``
    holds at least one sample."""
    fire = run.fire
    if run.on_test_begin:
        fire(run.on_test_begin, {})
    seen = 0
    total_loss = total_acc = 0.0
    for batch, (xb, yb) in enumerate(batches):
        size = len(xb)
        seen += size
        if run.on_test_batch_begin:
            fire(run.on_test_batch_begin, batch, {"batch": batch, "size": size})
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
        fire(run.on_test_end, dict(results))
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
        fire(run.on_predict_end, {})
    return out if n is not None else np.concatenate(parts)
