"""The event files of one training run, written on hookfit's I/O thread.

The training thread hands over plain numbers and weight copies; building
the summary protos and writing them happen in the background, so an epoch
does not wait for protobuf or the disk. Imported when training begins.
"""

from __future__ import annotations

import os
from typing import Any

from hookfit.background import Lane

from . import _summaries as tb

Numbers = list[tuple[str, float]]
Weights = list[tuple[str, str, Any]]


class Events:
    """One event file writer per run folder (``train``, ``validation``),
    each opened when it is first needed, so no run folder is left empty.

    Args:
        log_dir: The log folder.
    """

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self._writers: dict[str, Any] = {}
        self._jobs = Lane("TensorBoard")

    def open(self, runs: list[str]) -> None:
        """Open the writers of ``runs`` in the background: opening takes
        milliseconds, better spent while the first epoch runs."""
        self._jobs.submit(lambda: [self._writer(run) for run in runs])

    def graph(self, config: dict[str, Any]) -> None:
        """Write the Keras model config as the graph, at step 0."""
        self._jobs.submit(self._write, "train", 0, [tb.keras_model("keras", config)])

    def scalars(self, run: str, step: int, numbers: Numbers) -> None:
        """Write ``numbers`` (tag, value) to ``run`` at ``step``."""
        self._jobs.submit(self._scalars, run, step, numbers)

    def epoch(self, epoch: int, train: Numbers, val: Numbers, weights: Weights | None) -> None:
        """Write an epoch's scalars and weights (kind, tag, array), then flush."""
        self._jobs.submit(self._epoch, epoch, train, val, weights)

    def close(self) -> None:
        """Wait for the writes, then close every file (also after an error).

        Raises:
            Exception: The first error of a background write.
        """
        try:
            self._jobs.wait()
        finally:
            writers, self._writers = self._writers, {}
            for writer in writers.values():
                writer.close()

    def _writer(self, run: str) -> Any:
        if run not in self._writers:
            self._writers[run] = tb.EventFileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _write(self, run: str, step: int, values: list[Any]) -> None:
        if values:
            self._writer(run).add_event(tb.event(step, values))

    def _scalars(self, run: str, step: int, numbers: Numbers) -> None:
        self._write(run, step, [tb.scalar(tag, number) for tag, number in numbers])

    def _epoch(self, epoch: int, train: Numbers, val: Numbers, weights: Weights | None) -> None:
        self._scalars("train", epoch, train)
        self._scalars("validation", epoch, val)
        if weights is not None:
            summaries = [getattr(tb, kind)(tag, array) for kind, tag, array in weights]
            self._write("train", epoch, summaries)
        for writer in self._writers.values():
            writer.flush()
