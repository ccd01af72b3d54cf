"""25 SIGKILLs of a training with ModelCheckpoint (top-k, and every 7
batches), CSVLogger (append) and BackupAndRestore, many inside a write;
after each, every file loads and the CSV holds whole lines; then the run
resumes to the end, equal bit for bit to one never killed.

``python tests/test_sigkill_resume.py [KILLS]`` runs the loop alone and
prints what it saw.
"""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("hookfit_backup_and_restore")
pytest.importorskip("hookfit_csv_logger")
pytest.importorskip("hookfit_model_checkpoint")
pytest.importorskip("h5py")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

EPOCHS = 40
CHILD = """
import os, sys
import numpy as np
from hookfit import Callback
from hookfit.layers import Dense, Dropout
from hookfit.models import Sequential
from hookfit.testing.faults import announce_writes
from hookfit.utils import set_random_seed
from hookfit_backup_and_restore import BackupAndRestore
from hookfit_csv_logger import CSVLogger
from hookfit_model_checkpoint import ModelCheckpoint

folder, epochs = sys.argv[1], int(sys.argv[2])


class Epochs(Callback):
    def on_epoch_end(self, epoch, logs=None):
        print(f"epoch {epoch}", flush=True)


announce_writes()  # lines from inside each write, for the parent to kill right after
set_random_seed(3)
rng = np.random.default_rng(3)
x = rng.normal(size=(128, 32)).astype(np.float32)
y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 128)]
model = Sequential([Dense(128, activation="relu", input_dim=32), Dropout(0.2),
                    Dense(4, activation="softmax")])
model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
ck = os.path.join(folder, "ck")
model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=[
    ModelCheckpoint(os.path.join(ck, "top-{epoch:03d}-{loss:.4f}.h5"), monitor="loss",
                    save_top_k=3),
    ModelCheckpoint(os.path.join(ck, "every-{epoch:03d}-{batch:02d}.h5"), monitor="loss",
                    save_freq=7, save_top_k=2),
    CSVLogger(os.path.join(folder, "log.csv"), append=True),
    BackupAndRestore(os.path.join(folder, "bk")),
    Epochs(),
])
np.save(os.path.join(folder, "final.npy"), np.concatenate([w.ravel() for w in model.get_weights()]))
"""


def run_child(script, folder, kill_after=None, kill_on=""):
    """Run the child; with ``kill_after``, SIGKILL it right after that many
    event lines (write, fsync, epoch end) that start with ``kill_on``.
    Returns the lines it printed and its pid."""
    child = subprocess.Popen(
        [sys.executable, "-u", str(script), str(folder), str(EPOCHS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines, seen = [], 0
    for line in child.stdout:
        lines.append(line.strip())
        seen += line.startswith(kill_on)
        if kill_after is not None and seen >= kill_after:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.stdout.close()
    err = child.stderr.read()
    child.stderr.close()
    child.wait()
    if kill_after is None:
        assert child.returncode == 0, err
    else:
        assert child.returncode in (-signal.SIGKILL, 0), err
    return lines, child.pid


def check_files(folder, verified, pid):
    """Every file the run left loads; the CSV holds whole rows only (a row
    torn by the kill may end it). Returns whether the killed process ``pid``
    left a temporary file (the kill landed inside a write)."""
    from hookfit.models import load_model

    for path in sorted(folder.rglob("*.h5")):
        if ".tmp-" in path.name:
            continue
        stat = path.stat()
        key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key not in verified:
            model = load_model(path)
            assert all(np.isfinite(w).all() for w in model.get_weights()), path
            verified.add(key)
    temp_left = any(f".tmp-{pid}-" in p.name for p in folder.rglob("*"))
    log = folder / "log.csv"
    if log.exists():
        text = log.read_text()
        rows = text.split("\n")
        whole = rows[:-1]  # after the last newline: empty, or a row torn by the kill
        fields = whole[0].count(",") if whole else 0
        assert all(row.count(",") == fields for row in whole), text
    return temp_left


def kill_loop(tmp_path, kills, seed=2026):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    folder, reference = tmp_path / "killed", tmp_path / "reference"
    folder.mkdir()
    reference.mkdir()
    chooser = random.Random(seed)
    verified: set = set()
    inside_writes = epochs_seen = 0
    for kill in range(kills):
        # every other kill right after a file is opened for writing: inside it
        if kill % 2:
            lines, pid = run_child(script, folder, chooser.randint(1, 5), kill_on="writing")
        else:
            lines, pid = run_child(script, folder, chooser.randint(1, 30))
        epochs_seen += sum(line.startswith("epoch") for line in lines)
        inside_writes += check_files(folder, verified, pid)
    run_child(script, folder)  # resumes to the end
    run_child(script, reference)  # never killed
    return folder, reference, inside_writes, epochs_seen


def test_killed_25_times_then_resumed_equals_a_run_never_killed(tmp_path):
    folder, reference, inside_writes, _ = kill_loop(tmp_path, kills=25)
    assert inside_writes >= 1  # kills landed inside writes, not only between them (4 to 15 of 25)
    np.testing.assert_array_equal(np.load(folder / "final.npy"), np.load(reference / "final.npy"))
    # Every epoch once, with the values of the run never killed; before them,
    # the rows of runs killed before their first backup landed, which
    # started afresh (so appended, as in Keras): the same first epochs.
    header, *rows = (reference / "log.csv").read_text().splitlines()
    got_header, *got = (folder / "log.csv").read_text().splitlines()
    assert got_header == header and got[len(got) - len(rows) :] == rows
    for chunk in "\n".join(got[: len(got) - len(rows)]).split(rows[0])[1:]:
        restarted = [rows[0], *chunk.strip("\n").splitlines()]
        assert restarted == rows[: len(restarted)]
    assert sorted(p.name for p in (folder / "ck").iterdir()) == sorted(
        p.name for p in (reference / "ck").iterdir()
    )
    assert not (folder / "bk").exists()


if __name__ == "__main__":
    import tempfile
    import time

    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    with tempfile.TemporaryDirectory() as tmp:
        start = time.monotonic()
        folder, reference, inside, epochs = kill_loop(Path(tmp), kills)
        same = np.array_equal(np.load(folder / "final.npy"), np.load(reference / "final.npy"))
        ref_rows = (reference / "log.csv").read_text().splitlines()
        csv_same = (folder / "log.csv").read_text().splitlines()[-len(ref_rows) + 1 :] == (
            ref_rows[1:]
        )
        print(
            f"{kills} kills ({inside} left a temporary file: inside a write), {epochs} epoch "
            f"ends seen before the kills; every file loaded after each kill; resumed to "
            f"{EPOCHS} epochs: weights bit-identical {same}, last {EPOCHS} CSV rows identical "
            f"{csv_same}; "
            f"{time.monotonic() - start:.1f} s"
        )
