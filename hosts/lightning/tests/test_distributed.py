"""Lightning DDP (CPU, gloo, 2 processes launched by Lightning itself)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("ddp_script.py")


def run_ddp(folder: Path, timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
    """Run the DDP script; a run still going after ``timeout`` is a hang:
    its whole process group is killed and the test fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    with subprocess.Popen(
        [sys.executable, str(SCRIPT), str(folder)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            pytest.fail(f"DDP run still going after {timeout} s (a hang):\n{err[-3000:]}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_a_plateau_on_one_rank_stops_both_ranks_at_the_same_epoch(tmp_path):
    done = run_ddp(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    # rank 0's val_loss improves every epoch: only rank 1's plateau
    # (patience 1) can stop it, after epoch 1, and both stop there
    assert ranks[0]["ended"] == ranks[1]["ended"] == [0, 1]
    # CSVLogger writes: rank 0 only; EarlyStopping runs on both ranks
    assert ranks[0]["plugins"] == ["csv_logger", "early_stopping"]
    assert ranks[1]["plugins"] == ["early_stopping"]
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows] == ["epoch", "0", "1"]
    # rank 0's own val_loss: ranks are not assumed to see the same metrics
    assert [float(row.split(",")[-1]) for row in rows[1:]] == [1.0, 0.5]
