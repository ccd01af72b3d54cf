"""The loops that call the hooks: `fit`'s epochs and batches, `evaluate`'s
and `predict`'s batches. A hook that no plugin implements is an empty list,
tested before its ``logs`` dict is even built, so it costs nothing per batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..hooks.dispatch import Run

if TYPE_CHECKING:
    from .models import Model

Array = np.ndarray


def train(
    model: Model,
    run: Run,
    x: Array,
    y: Array,
    validation: tuple[Array | None, Array | None],
    batch_size: int,
    epochs: int,
    shuffle: bool,
) -> None:
    """`fit`'s epochs and batches: Keras's hook calls and Keras's logs.

    The trainer owns the logs: each batch's ``loss`` (and ``acc``), and at
    each epoch's end their sample-weighted means and the ``val_`` results,
    whatever plugins run. ``on_train_end`` runs also after an error.
    """
    x_val, y_val = validation
    fire = run.fire
    on_batch_begin, on_batch_end = run.on_batch_begin, run.on_batch_end
    n = len(x)
    starts = range(0, n, batch_size)
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
            order = model.rng.permutation(n) if shuffle else None
            seen = 0
            total_loss = total_acc = 0.0
            for batch, start in enumerate(starts):
                stop = min(start + batch_size, n)
                if order is None:
                    xb, yb = x[start:stop], y[start:stop]
                else:
                    index = order[start:stop]
                    xb, yb = model._gather(x, index), model._gather(y, index)
                size = stop - start
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
            if x_val is not None and y_val is not None:
                results = test(model, run, x_val, y_val, batch_size)
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


def test(model: Model, run: Run, x: Array, y: Array, batch_size: int) -> dict[str, float]:
    """`evaluate`'s batches, and the validation inside `fit`: the test hooks,
    and the sample-weighted means of ``loss`` (and ``acc``)."""
    fire = run.fire
    if run.on_test_begin:
        fire(run.on_test_begin, {})
    total_loss = total_acc = 0.0
    for batch, start in enumerate(range(0, len(x), batch_size)):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        size = len(xb)
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
    results = {"loss": total_loss / len(x)}
    if model._acc_kind:
        results["acc"] = total_acc / len(x)
    if run.on_test_end:
        fire(run.on_test_end, dict(results))
    return results


def predict(model: Model, run: Run, x: Array, batch_size: int) -> Array:
    """`predict`'s batches and the predict hooks; returns the outputs."""
    fire = run.fire
    out = np.empty((len(x), model.output_dim or 0), dtype=np.float32)
    if run.on_predict_begin:
        fire(run.on_predict_begin, {})
    for batch, start in enumerate(range(0, len(x), batch_size)):
        xb = x[start : start + batch_size]
        if run.on_predict_batch_begin:
            fire(run.on_predict_batch_begin, batch, {"batch": batch, "size": len(xb)})
        chunk = out[start : start + len(xb)]
        chunk[...] = model._forward(xb, training=False)
        if run.on_predict_batch_end:
            logs = {"batch": batch, "size": len(xb), "outputs": chunk.copy()}
            fire(run.on_predict_batch_end, batch, logs)
    if run.on_predict_end:
        fire(run.on_predict_end, {})
    return out
