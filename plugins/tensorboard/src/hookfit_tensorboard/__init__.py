"""Keras's TensorBoard callback: logs that TensorBoard shows, written without TensorFlow."""

from __future__ import annotations

import os
import warnings
from typing import Annotated, Any, Literal

from hookfit import Callback, Check, HookfitWarning, Range
from hookfit.hooks.arguments import ArgumentError, shown
from hookfit.saving.atomic import check_writable

# What embeddings_metadata takes: one label file for every layer, or one per layer.
LabelFiles = str | os.PathLike[str] | dict[str, str | os.PathLike[str]]


def _folder_path(value: str | os.PathLike[str]) -> bool:
    return bool(os.fspath(value))


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

    It reads its model through the plugin protocol only, so it runs on any
    host; the graph is written for a host that can describe itself
    (`hookfit.hooks.host.DescribedHost`, as hookfit's `Model` does).

    Args:
        log_dir: The folder of the logs; point ``tensorboard --logdir`` at it.
        histogram_freq: Every how many epochs (epoch % histogram_freq == 0) to
            write a histogram of every layer weight; 0 writes none.
        batch_size: Accepted for Keras 2 compatibility; unused, since no
            validation data is run through the model for histograms.
        write_graph: Write the Keras model config for TensorBoard's Graphs
            tab, for a host that offers one (`DescribedHost`: hookfit's
            models do; a host that does not gets everything else).
        write_grads: Accepted for Keras 2 compatibility and ignored with a
            warning, as tf.keras 2 does: a plugin sees weights, not gradients.
        write_images: With the weight histograms, also write every 1-D or 2-D
            weight as a grayscale image. As in Keras, nothing without
            ``histogram_freq`` (accepted, like Keras's tutorials write it).
        embeddings_freq: Every how many epochs to write the embedded weights
            for TensorBoard's Projector; 0 writes none.
        embeddings_layer_names: The layers to embed, each by its first 2-D
            weight (a Dense kernel: each row is a point); None or empty:
            every layer that has a 2-D weight. Names the model lacks are
            left out with a warning (Keras left them out silently).
        embeddings_metadata: One label file for every embedding layer, or a
            dict of layer name to label file. A relative name is looked up
            in ``log_dir`` first, then in the current folder.
        embeddings_data: Keras 2.2's samples to project through the embedded
            layers: accepted, and unused with a warning (running layers
            needs the model's graph: TensorFlow in Keras); the projector
            shows the layers' weights, as Keras 2.0 and 2.1 did.
        update_freq: ``'epoch'``; ``'batch'`` to also write the batch logs
            after every batch; an integer N to write them every N batches.

    Attributes:
        log_dir: The folder, as a string. The other arguments are kept under
            their names (``embeddings_layer_names`` as a list or None).

    Raises:
        ArgumentError: A bad argument (a `ConfigError` naming it); at
            ``on_train_begin``, a label file that the disk does not have.

    Example:
        >>> tensorboard = TensorBoard(log_dir="./logs", histogram_freq=1)
        >>> model.fit(x, y, validation_split=0.2, callbacks=[tensorboard])  # doctest: +SKIP
    """

    writes = True  # under MPI: rank 0 only (hookfit.distributed)

    def __init__(
        self,
        log_dir: Annotated[
            str | os.PathLike[str], Check(_folder_path, "a folder path (a non-empty string)")
        ] = "./logs",
        histogram_freq: Annotated[int, Range(ge=0)] = 0,
        batch_size: Annotated[int, Range(ge=1)] = 32,
        write_graph: bool = True,
        write_grads: bool = False,
        write_images: bool = False,
        embeddings_freq: Annotated[int, Range(ge=0)] = 0,
        embeddings_layer_names: str | list[str] | None = None,
        embeddings_metadata: LabelFiles | None = None,
        embeddings_data: Any = None,
        update_freq: Literal["epoch", "batch"] | Annotated[int, Range(ge=1)] = "epoch",
    ) -> None:
        super().__init__()
        # Types and ranges are checked from the hints; what they cannot say:
        self.log_dir = os.fspath(log_dir)
        if os.path.isfile(self.log_dir):
            raise ArgumentError(
                "TensorBoard", "log_dir", f"expected a folder, got the file {shown(self.log_dir)}"
            )
        if write_grads:
            warnings.warn(
                "TensorBoard: write_grads is ignored: plugins see the weights of a model, not "
                "its gradients (tf.keras 2 ignores it too, and Keras 3 dropped it).",
                HookfitWarning,
                stacklevel=2,
            )
        if embeddings_data is not None and embeddings_freq:
            warnings.warn(
                "TensorBoard: embeddings_data is not used: Keras 2.2 projects the outputs of the "
                "embedded layers on these samples, which needs TensorFlow to run the layers; "
                "the projector shows the layers' 2-D weights instead, as Keras 2.0 and 2.1 did.",
                HookfitWarning,
                stacklevel=2,
            )
        self.histogram_freq = histogram_freq
        self.batch_size = batch_size
        self.write_graph = write_graph
        self.write_grads = write_grads
        self.write_images = write_images
        self.embeddings_freq = embeddings_freq
        names = embeddings_layer_names
        self.embeddings_layer_names = (
            [names] if isinstance(names, str) else list(names or ()) or None
        )
        self.embeddings_metadata = _paths(embeddings_metadata)
        self.embeddings_data = embeddings_data
        self.update_freq = update_freq
        # every how many batches to write the batch logs; 0: never
        self._every = update_freq if isinstance(update_freq, int) else int(update_freq == "batch")
        self._events: Any = None  # an _events.Events while training
        self._embedded: list[Any] = []
        self._batches_before = 0
        self._skipped: set[str] = set()
        self._left_out_told = False  # the left-out embeddings are told once

    def needs_hook(self, hook: str) -> bool:
        """The batch hook only when writing batch logs: a batch hook makes
        the trainer build batch logs, which costs time on every batch."""
        return hook != "on_batch_end" or bool(self._every)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._close()  # a run that ended without on_train_end
        self._skipped = set()
        # imports tensorboard and numpy: only when training with the plugin
        from . import _events, _model

        if self.embeddings_freq:
            self._embedded, left_out = _model.embedding_layers(
                self.model, self.embeddings_layer_names, self.embeddings_metadata, self.log_dir
            )
            if left_out and not self._left_out_told:
                self._left_out_told = True
                warnings.warn(f"TensorBoard: {left_out}", HookfitWarning, stacklevel=2)
        graph = _model.graph(self.model) if self.write_graph else None
        # after the checks that create nothing, before the first batch
        check_writable(self.log_dir, owner="TensorBoard", key="log_dir")
        self._events = _events.Events(self.log_dir)
        # the runs that will surely be written to in the first epoch
        validation = bool(self.params.get("do_validation"))
        self._events.open(["train"] * (graph is not None) + ["validation"] * validation)
        if graph is not None:
            self._events.graph(graph)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        # Counting from the epoch keeps a resumed run's batch steps in line.
        self._batches_before = epoch * int(self.params.get("steps") or 0)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        step = self._batches_before + batch + 1
        if self._every and step % self._every == 0:
            items = (item for item in (logs or {}).items() if item[0] not in ("batch", "size"))
            self._events.scalars("train", step, self._numbers("batch_", items))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        from . import _model, _summaries  # already imported by on_train_begin

        logs = dict(logs or {})
        if "lr" not in logs and getattr(self.model.optimizer, "lr", None) is not None:
            logs["lr"] = self.model.optimizer.lr
        train = self._numbers("epoch_", [(k, v) for k, v in logs.items() if k[:4] != "val_"])
        val = self._numbers("epoch_", [(k[4:], v) for k, v in logs.items() if k[:4] == "val_"])
        weights = None
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            weights = _model.weights(self.model, self.write_images)
        self._events.epoch(epoch, train, val, weights)
        if self._embedded and epoch % self.embeddings_freq == 0:
            kernels = _model.kernels(self.model, self._embedded)
            _summaries.write_projector(self.log_dir, kernels)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def _close(self) -> None:
        events, self._events = self._events, None
        if events is not None:
            events.close()

    def _numbers(self, prefix: str, items: Any) -> list[tuple[str, float]]:
        from ._summaries import number

        values = []
        for key, value in items:
            found = number(value)
            if found is not None:
                values.append((prefix + key, found))
            elif key not in self._skipped:
                self._skipped.add(key)
                warnings.warn(
                    f"TensorBoard: log {key!r} is not a number ({value!r}); it is not written.",
                    HookfitWarning,
                    stacklevel=2,
                )
        return values


def _paths(metadata: Any) -> str | dict[str, str] | None:
    """The label files as strings (None stays None)."""
    if isinstance(metadata, dict):
        return {name: os.fspath(path) for name, path in metadata.items()}
    return None if metadata is None else os.fspath(metadata)
