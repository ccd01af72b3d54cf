"""Benchmark 3: the cost of the plugins on the Keras documentation model's epoch.

The Keras documentation model of benchmark 1 trained with no plugin at all against the
same model with every built-in plugin on: History, BaseLogger,
ProgbarLogger (verbose 0: its hooks run, it prints nothing), LambdaCallback,
TerminateOnNaN, EarlyStopping, ReduceLROnPlateau, LearningRateScheduler,
CSVLogger, ModelCheckpoint (every epoch), BackupAndRestore, RemoteMonitor
(posting to a server on 127.0.0.1 in a process of its own, so that its
work is not counted as the plugins') and TensorBoard (no histograms).
Measured for one-epoch fits (set-up and tear-down of every plugin included)
and per epoch of three-epoch fits; also the two plugins a plain ``fit``
turns on (History, BaseLogger), whose cost is that of logging every batch.

    python benchmarks/hooks.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import common

from hookfit.callbacks import (
    BackupAndRestore,
    BaseLogger,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    RemoteMonitor,
    TensorBoard,
    TerminateOnNaN,
)

N, BATCH = 60_000, 128


# Answers every POST with 200; prints its port, then serves until stdin closes.
RECEIVER = """
import http.server, sys, threading
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
print(server.server_port, flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
"""


def every_plugin(folder: Path, url: str) -> list:
    """A new instance of every built-in plugin (made for each fit, as a user would)."""
    return [
        BaseLogger(),
        LambdaCallback(on_epoch_end=lambda epoch, logs: None),
        TerminateOnNaN(),
        EarlyStopping(patience=100),
        ReduceLROnPlateau(patience=100),
        LearningRateScheduler(lambda epoch, lr: lr),
        CSVLogger(folder / "log.csv"),
        ModelCheckpoint(str(folder / "weights.h5")),
        BackupAndRestore(folder / "backup"),
        RemoteMonitor(root=url),
        TensorBoard(log_dir=str(folder / "tb")),
        History(),
        ProgbarLogger(),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    from hookfit.layers import Activation, Dense
    from hookfit.models import Sequential

    x, _, one_hot = common.synthetic(N, 784, 10)
    model = Sequential(
        [Dense(10, input_dim=784, kernel_initializer="uniform"), Activation("softmax")]
    )
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{receiver.stdout.readline().strip()}"  # type: ignore[union-attr]
    off = common.NO_PLUGINS
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def fit(epochs, plugins):
            return lambda: model.fit(
                x,
                one_hot,
                batch_size=BATCH,
                epochs=epochs,
                verbose=0,
                validation_split=0.1,
                callbacks=plugins(),
                config=off,
            )

        def no_files() -> list:
            writers = (ModelCheckpoint, BackupAndRestore)
            return [p for p in every_plugin(folder, url) if not isinstance(p, writers)]

        cases = {
            "none_1": fit(1, list),
            "all_1": fit(1, lambda: every_plugin(folder, url)),
            "none_3": fit(3, list),
            "all_3": fit(3, lambda: every_plugin(folder, url)),
            "no_h5_3": fit(3, no_files),
            "defaults_3": fit(3, lambda: [History(), BaseLogger()]),
        }
        try:
            times = common.interleaved(cases, args.rounds)
        finally:
            receiver.communicate()  # closes its stdin: it exits
    stats = common.summary(times)
    med = {name: s["median"] for name, s in stats.items()}
    common.emit(
        {
            "benchmark": "hooks",
            "plugins": 13,
            "one_epoch_seconds": {"none": med["none_1"], "all": med["all_1"]},
            "per_epoch_seconds": {"none": med["none_3"] / 3, "all": med["all_3"] / 3},
            # medians of round-by-round ratios: each pair ran back to back
            "overhead_one_epoch": common.paired(times["all_1"], times["none_1"]) - 1,
            "overhead_per_epoch": common.paired(times["all_3"], times["none_3"]) - 1,
            # the 11 plugins that write no HDF5 file (ModelCheckpoint and
            # BackupAndRestore each write one every epoch)
            "overhead_per_epoch_without_h5_writers": common.paired(
                times["no_h5_3"], times["none_3"]
            )
            - 1,
            "overhead_per_epoch_defaults": common.paired(times["defaults_3"], times["none_3"]) - 1,
            "raw_seconds": stats,
        }
    )


if __name__ == "__main__":
    main()
