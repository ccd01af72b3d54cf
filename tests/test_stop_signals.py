"""Ctrl-C and SIGTERM: real signals sent to real processes.

``hookfit train`` stops after the current batch: the unfinished epoch has no
epoch end, on_train_end runs with model.interrupted true, BackupAndRestore
keeps its backup (the next run resumes from it), and the exit status is 130
(SIGINT) or 143 (SIGTERM); a second signal aborts at once with one line. In
a script, KeyboardInterrupt gives the same on_train_end and backup.

A probe plugin says on stdout where training is and waits on stdin, so the
test sends each signal at a known batch, without sleeping.
"""

import os
import signal
import subprocess
import sys

import pytest

pytest.importorskip("hookfit_backup_and_restore")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

PROBE = """
import select
import sys
from hookfit import Callback


def say(text):
    print(text, flush=True)


def hold():
    # Until the test writes a line. Python runs signal handlers in the main
    # thread, and a signal that another thread (a BLAS or I/O thread)
    # received does not interrupt a blocking read: wake up every 50 ms.
    while not select.select([sys.stdin], [], [], 0.05)[0]:
        pass
    sys.stdin.readline()


class Probe(Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        say(f"begin {epoch}")

    def on_epoch_end(self, epoch, logs=None):
        say(f"end {epoch}")

    def on_batch_end(self, batch, logs=None):
        # the first run only (epochs > 3): hold the 3rd batch of epoch 1
        if self.params["epochs"] > 3 and self.epoch == 1 and batch == 2:
            say("mid-epoch")
            hold()  # until the test has sent its signal

    def on_train_end(self, logs=None):
        say(f"train end, interrupted {self.model.interrupted}")
        if self.params["epochs"] > 3 and sys.argv[-1:] != ["--no-hold"]:
            hold()
"""

CONFIG = """
[hookfit]
disable = ["progbar_logger"]

[fit]
epochs = {epochs}
batch_size = 64

[callbacks.backup_and_restore]
backup_dir = "bk"

[callbacks.probe]
"""

SCRIPT = """
import sys
import numpy as np
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit_backup_and_restore import BackupAndRestore
from probe_plugin import Probe

rng = np.random.default_rng(0)
x = rng.normal(size=(640, 8)).astype(np.float32)
y = np.eye(2, dtype=np.float32)[(x[:, 0] > 0).astype(int)]
model = Sequential([Dense(2, activation="softmax", input_dim=8)])
model.compile(optimizer="sgd", loss="categorical_crossentropy")
model.fit(x, y, epochs=10, batch_size=64, verbose=0,
          callbacks=[BackupAndRestore("bk"), Probe()])
"""


@pytest.fixture
def probe(hookfit_site, tmp_path):
    """The environment of a subprocess that has the probe plugin installed."""
    hookfit_site.add("hookfit-probe", {"probe": "probe_plugin:Probe"}, {"probe_plugin.py": PROBE})
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    return {**env, "PYTHONPATH": str(hookfit_site.root)}


def ctrl_c_as_in_a_terminal():
    # A shell's background job (`tox &`) ignores SIGINT, and children keep
    # that: the child must meet Ctrl-C as a user's terminal delivers it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args, env, cwd):
    return subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )


def read_until(stream, wanted):
    """The lines of ``stream`` up to the one that starts with ``wanted``."""
    lines = []
    for line in stream:
        lines.append(line.rstrip("\n"))
        if line.startswith(wanted):
            return lines
    raise AssertionError(f"{wanted!r} never came; got {lines}")


def train(tmp_path, env, epochs):
    (tmp_path / "hookfit.toml").write_text(CONFIG.format(epochs=epochs))
    return start([sys.executable, "-m", "hookfit", "train"], env, tmp_path)


def stopped_mid_epoch(child, signum):
    """Send ``signum`` while the probe holds the 3rd batch of epoch 0; the
    stdout lines up to on_train_end."""
    before = read_until(child.stdout, "mid-epoch")
    child.send_signal(signum)
    # the handler has run once it says so; then the batch may end
    read_until(child.stderr, f"hookfit: {NAMES[signum]}: stopping after this batch (again")
    child.stdin.write("\n")
    child.stdin.flush()
    return before + read_until(child.stdout, "train end")


NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


@pytest.mark.parametrize(
    ("signum", "name", "status"),
    [(signal.SIGINT, "Ctrl-C", 130), (signal.SIGTERM, "SIGTERM", 143)],
    ids=["sigint", "sigterm"],
)
def test_a_stop_signal_ends_the_batch_keeps_the_backup_and_the_run_resumes(
    signum, name, status, probe, tmp_path
):
    child = train(tmp_path, probe, epochs=6)
    # epoch 0 ends (a backup is written), then the signal in epoch 1
    read_until(child.stdout, "end 0")
    lines = stopped_mid_epoch(child, signum)
    assert lines[-2:] == ["mid-epoch", "train end, interrupted True"]  # no "end 1"
    child.stdin.write("\n")
    child.stdin.flush()
    out, err = child.communicate(timeout=60)
    assert child.returncode == status, err
    assert f"hookfit: stopped by {name} after the current batch; files are complete." in err
    assert "Traceback" not in err
    assert (tmp_path / "bk" / "backup.h5").is_file()
    # the next run resumes after the last finished epoch: epoch 1 is redone
    again = train(tmp_path, probe, epochs=3)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert [line for line in out.splitlines() if line.startswith("begin")] == [
        "begin 1",
        "begin 2",
    ]
    assert not (tmp_path / "bk").exists()  # finished: the backup is deleted


def test_a_second_signal_aborts_at_once_with_one_line(probe, tmp_path):
    child = train(tmp_path, probe, epochs=6)
    read_until(child.stdout, "end 0")
    stopped_mid_epoch(child, signal.SIGTERM)  # on_train_end now holds the run
    child.send_signal(signal.SIGINT)
    # read before communicate() closes stdin, which would let on_train_end
    # return and the run end before the signal is handled
    lines = read_until(child.stderr, "hookfit: Ctrl-C again")
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 130
    assert lines[-1] == "hookfit: Ctrl-C again: aborted at once."
    assert err == ""  # nothing after that one line
    assert "Traceback" not in "\n".join(lines)
    assert (tmp_path / "bk" / "backup.h5").is_file()


def test_keyboard_interrupt_in_a_script_keeps_the_backup(probe, tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    child = start([sys.executable, "script.py", "--no-hold"], probe, tmp_path)
    read_until(child.stdout, "end 0")
    read_until(child.stdout, "mid-epoch")
    child.send_signal(signal.SIGINT)  # Python's own handler: KeyboardInterrupt
    out, err = child.communicate(timeout=60)
    assert out.splitlines()[-1] == "train end, interrupted True"
    assert "end 1" not in out.splitlines()
    assert err.splitlines()[-1] == "KeyboardInterrupt"
    assert (tmp_path / "bk" / "backup.h5").is_file()
