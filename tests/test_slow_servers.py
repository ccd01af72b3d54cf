"""RemoteMonitor and ModelCheckpoint together against servers that
misbehave (real ones on 127.0.0.1, `hookfit.testing.faults`): whatever the
server does, fit returns within the post deadline and the end wait, and
every checkpoint is on disk when it does.

Run ``python tests/test_slow_servers.py`` for the table of wall times with
the default timeouts.
"""

import socket
import sys
import time
import warnings

import numpy as np
import pytest

from hookfit import HookfitWarning
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit.testing.faults import HostileServer

RemoteMonitor = pytest.importorskip("hookfit_remote_monitor").RemoteMonitor
ModelCheckpoint = pytest.importorskip("hookfit_model_checkpoint").ModelCheckpoint

KINDS = ["trickle", "sleep", "huge", "redirect", "error", "down"]
EPOCHS = 5


def run(kind, folder, timeout, end_timeout):
    """fit 5 epochs with both plugins against a ``kind`` server; returns
    (wall seconds, checkpoints on disk when fit returned, warnings)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 20)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[(x[:, 0] > 0).astype(int)]
    model = Sequential([Dense(64, activation="relu", input_dim=20), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    elsewhere = HostileServer("ok")
    server = None if kind == "down" else HostileServer(kind, target=f"{elsewhere.root}/x")
    if server is None:
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            root = f"http://127.0.0.1:{sock.getsockname()[1]}"
    else:
        root = server.root
    monitor = RemoteMonitor(root, timeout=timeout, end_timeout=end_timeout)
    checkpoint = ModelCheckpoint(str(folder / "w.{epoch:02d}.h5"))
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            start = time.monotonic()
            model.fit(
                x,
                y,
                epochs=EPOCHS,
                verbose=0,
                callbacks=[monitor, checkpoint],
                config={"hookfit": {"autoload": False}},
            )
            wall = time.monotonic() - start
        on_disk = len(list(folder.glob("w.*.h5")))
    finally:
        for s in (server, elsewhere):
            if s is not None:
                s.close()
    assert elsewhere.requests == []  # no redirect left the origin
    return wall, on_disk, [str(w.message) for w in record if w.category is HookfitWarning]


@pytest.mark.parametrize("kind", KINDS)
def test_no_server_holds_fit_or_the_checkpoints(kind, tmp_path):
    wall, on_disk, messages = run(kind, tmp_path, timeout=1.0, end_timeout=0.5)
    # the trickle and the sleep would hold a post for 30 s or more
    assert wall < 10, f"{kind}: fit took {wall:.1f} s"
    assert on_disk == EPOCHS
    assert messages and messages[-1].startswith("RemoteMonitor: ")


if __name__ == "__main__":  # the report's table, with the default timeouts (5 s and 3 s)
    import tempfile
    from pathlib import Path

    print("| server | fit wall time (s) | checkpoints on disk at return |")
    print("|---|---|---|")
    for kind in KINDS:
        with tempfile.TemporaryDirectory() as folder:
            wall, on_disk, _ = run(kind, Path(folder), timeout=5.0, end_timeout=3.0)
        print(f"| {kind} | {wall:.2f} | {on_disk} of {EPOCHS} |", flush=True)
    sys.exit(0)
