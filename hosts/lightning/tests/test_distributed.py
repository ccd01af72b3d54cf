"""Lightning DDP (CPU, gloo, 2 processes launched by Lightning itself)."""

import json
import subprocess
import sys
from pathlib import Path

from hookfit.testing.processes import run_bounded

SCRIPT = Path(__file__).with_name("ddp_script.py")


def run_ddp(folder: Path, timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
    """Run the DDP script; a run still going after ``timeout`` is a hang."""
    return run_bounded([sys.executable, str(SCRIPT), str(folder)], cwd=folder, timeout=timeout)


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
