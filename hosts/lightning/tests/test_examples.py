"""The Lightning example, run as a user runs it: a plain script, unchanged,
given hookfit's plugins by ``HOOKFIT_CONFIG`` alone."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def run_example(folder: Path, config: Path | None, epochs: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    if config is not None:
        env["HOOKFIT_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "lightning_script.py"), str(epochs)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_lightning_example_runs_the_configured_plugins_from_hookfit_config(tmp_path):
    done = run_example(tmp_path, EXAMPLES / "lightning.toml", 4)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    callbacks = next(line for line in lines if line.startswith("callbacks: "))
    assert "Plugins" in callbacks.removeprefix("callbacks: ").split(", ")
    assert lines[-1] == "stopped after epoch 4"
    # CSVLogger, from the config file: one row per epoch, under the names the module logged
    with open(tmp_path / "lightning_run" / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "acc", "loss", "val_acc", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    assert all(0 < float(r["val_loss"]) < 5 and 0 <= float(r["acc"]) <= 1 for r in rows)


def test_without_hookfit_config_the_example_gets_no_plugins(tmp_path):
    done = run_example(tmp_path, None, 1)
    assert done.returncode == 0, done.stderr
    callbacks = next(line for line in done.stdout.splitlines() if line.startswith("callbacks: "))
    assert "Plugins" not in callbacks and not (tmp_path / "lightning_run").exists()
