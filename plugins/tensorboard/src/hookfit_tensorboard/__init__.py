"""Keras's TensorBoard callback: logs that TensorBoard shows, written without TensorFlow."""

from __future__ import annotations

import os
import warnings
from typing import Any, Literal

from hookfit import Callback, HookfitWarning
from hookfit.background import Jobs

from ._arguments import checked


class TensorBoard(Callback):
    """Write event files (and projector files) for TensorBoard.

    Keras 3's layout: ``log_dir/train/`` holds the training scalars
    (``epoch_loss``, ``epoch_acc``, ``epoch_lr``, ... at step = epoch, and
    ``batch_<key>`` at step = global batch count), the weight histograms and
    images, and the model graph; ``log_dir/validation/`` holds the ``val_``
    scalars with the prefix stripped (``epoch_loss``). A run folder is made
    only when something is written to it. Every writer makes a new file
    (named with the time, host, process id and a counter), so runs never
    overwrite each other. Files are flushed every epoch and closed when
    training ends, also after an error.

    Args:
        log_dir: The folder of the logs; point ``tensorboard --logdir`` at it.
        histogram_freq: Every how many epochs (epoch % histogram_freq == 0) to
            write a histogram of every layer weight; 0 writes none.
        batch_size: Accepted for Keras 2 compatibility; unused, since no
            validation data is run through the model for histograms.
        write_graph: Write the model config for TensorBoard's Graphs tab.
        write_grads: With the weight histograms, also write histograms of the
            gradients of the epoch's last batch. Needs ``histogram_freq``.
        write_images: With the weight histograms, also write every 1-D or 2-D
            weight as a grayscale image. Needs ``histogram_freq``.
        embeddings_freq: Every how many epochs to write the kernels of the
            embedding layers for TensorBoard's Projector; 0 writes none.
        embeddings_layer_names: The Dense layers whose kernels to write (each
            row is a point); None or empty: every Dense layer.
        embeddings_metadata: One label file for every embedding layer, or a
            dict of layer name to label file. A relative name is looked up
            in ``log_dir`` first, then in the current folder.
        update_freq: ``'epoch'``; ``'batch'`` to also write the batch logs
            after every batch; an integer N to write them every N batches.

    Attributes:
        log_dir: The folder, as a string. The other arguments are kept under
            their names (``embeddings_layer_names`` as a list or None).

    Raises:
        ConfigError: A bad argument (named in the message); at
            ``on_train_begin``, an embeddings layer or metadata file that
            the model or the disk does not have.

    Example:
        >>> tensorboard = TensorBoard(log_dir="./logs", histogram_freq=1)
        >>> model.fit(x, y, validation_split=0.2, callbacks=[tensorboard])  # doctest: +SKIP
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "./logs",
        histogram_freq: int = 0,
        batch_size: int = 32,
        write_graph: bool = True,
        write_grads: bool = False,
        write_images: bool = False,
        embeddings_freq: int = 0,
        embeddings_layer_names: str | list[str] | None = None,
        embeddings_metadata: str | os.PathLike[str] | dict[str, str] | None = None,
        update_freq: Literal["epoch", "batch"] | int = "epoch",
    ) -> None:
        super().__init__()
        self.log_dir, names, metadata, every = checked(
            log_dir,
            histogram_freq,
            batch_size,
            write_graph,
            write_grads,
            write_images,
            embeddings_freq,
            embeddings_layer_names,
            embeddings_metadata,
            update_freq,
        )
        self.histogram_freq = histogram_freq
        self.batch_size = batch_size
        self.write_graph = write_graph
        self.write_grads = write_grads
        self.write_images = write_images
        self.embeddings_freq = embeddings_freq
        self.embeddings_layer_names = names
        self.embeddings_metadata = metadata
        self.update_freq = update_freq
        self._every = every
        if every:
            # Registered only when needed: a batch hook makes the trainer
            # build batch logs, which costs time on every batch.
            self.on_batch_end = self._on_batch_end  # type: ignore[method-assign]
        self._tb: Any = None
        self._writers: dict[str, Any] = {}
        self._jobs = Jobs("TensorBoard")
        self._embedded: list[tuple[Any, str | None]] = []
        self._batches_before = 0
        self._skipped: set[str] = set()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._close()
        self._skipped = set()
        from . import _summaries  # imports tensorboard: only when training with it

        self._tb = _summaries
        if self.embeddings_freq:
            self._embedded = _summaries.embedding_layers(
                self.model, self.embeddings_layer_names, self.embeddings_metadata, self.log_dir
            )
        # Opening a writer takes milliseconds: open the ones that will surely
        # be written while the first epoch runs (no empty run folders).
        runs = ["train"] if self.write_graph else []
        self._jobs.submit(
            self._open, runs + ["validation"] * bool(self.params.get("do_validation"))
        )
        if self.write_graph:
            from hookfit.saving import model_config

            graph = model_config(self.model)
            self._jobs.submit(
                lambda: self._write("train", 0, [self._tb.keras_model("keras", graph)])
            )

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        # Counting from the epoch keeps a resumed run's batch steps in line.
        self._batches_before = epoch * int(self.params.get("steps") or 0)

    # The training thread only reads the numbers (and copies the weights);
    # building the summaries and writing the events happen on hookfit's I/O
    # thread, so an epoch does not wait for protobuf or the disk.

    def _on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        step = self._batches_before + batch + 1
        if step % self._every == 0:
            items = (item for item in (logs or {}).items() if item[0] not in ("batch", "size"))
            self._jobs.submit(self._write_scalars, "train", step, self._numbers("batch_", items))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        if "lr" not in logs and getattr(self.model.optimizer, "lr", None) is not None:
            logs["lr"] = self.model.optimizer.lr
        train = self._numbers("epoch_", [(k, v) for k, v in logs.items() if k[:4] != "val_"])
        val = self._numbers("epoch_", [(k[4:], v) for k, v in logs.items() if k[:4] == "val_"])
        weights = None
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            weights = self._weights()
        self._jobs.submit(self._write_epoch, epoch, train, val, weights)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._tb.write_projector(self.log_dir, self._embedded)

    def _write_epoch(self, epoch: int, train: Any, val: Any, weights: Any) -> None:
        self._write_scalars("train", epoch, train)
        self._write_scalars("validation", epoch, val)
        if weights is not None:
            self._write("train", epoch, self._summaries(weights))
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def _open(self, runs: list[str]) -> None:
        for run in runs:
            if run not in self._writers:
                self._writers[run] = self._tb.EventFileWriter(os.path.join(self.log_dir, run))

    def _write(self, run: str, step: int, values: list[Any]) -> None:
        if not values:
            return
        if run not in self._writers:
            self._writers[run] = self._tb.EventFileWriter(os.path.join(self.log_dir, run))
        self._writers[run].add_event(self._tb.event(step, values))

    def _close(self) -> None:
        self._jobs.wait()
        writers, self._writers = self._writers, {}
        for writer in writers.values():
            writer.close()

    def _write_scalars(self, run: str, step: int, numbers: list[tuple[str, float]]) -> None:
        self._write(run, step, [self._tb.scalar(tag, number) for tag, number in numbers])

    def _numbers(self, prefix: str, items: Any) -> list[tuple[str, float]]:
        values = []
        for key, value in items:
            number = self._tb.number(value)
            if number is not None:
                values.append((prefix + key, number))
            elif key not in self._skipped:
                self._skipped.add(key)
                warnings.warn(
                    f"TensorBoard: log {key!r} is not a number ({value!r}); it is not written.",
                    HookfitWarning,
                    stacklevel=2,
                )
        return values

    def _weights(self) -> list[tuple[str, str, Any]]:
        """Copies of what the histograms and images show: (kind, tag, array)."""
        found = []
        for layer in self.model.layers:
            grads = layer.grads if len(layer.grads) == len(layer.weights) else []
            for i, (name, weight) in enumerate(zip(layer.weight_names, layer.weights, strict=True)):
                tag = f"{layer.name}/{name}"
                found.append(("histogram", f"{tag}/histogram", weight.copy()))
                if self.write_grads and grads:
                    found.append(("histogram", f"{tag}_grad/histogram", grads[i].copy()))
                if self.write_images and weight.ndim in (1, 2):
                    found.append(("image", f"{tag}/image", weight.copy()))
        return found

    def _summaries(self, weights: list[tuple[str, str, Any]]) -> list[Any]:
        return [getattr(self._tb, kind)(tag, array) for kind, tag, array in weights]
