"""Benchmark 7: start-up and all, ``hookfit train`` on its bundled example
(the whole command, as a user types it) against a Keras 3 script doing the
same work (``keras_digits.py``, torch backend).

Each run is a process of its own in a fresh folder; the two commands
alternate, after one round that warms the page cache. Reported: the median
wall time of each and the median of the paired ratios.

    python benchmarks/train_command.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import common

HERE = Path(__file__).resolve().parent


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=cwd, env=env, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    hookfit = shutil.which("hookfit", path=str(Path(sys.executable).parent)) or "hookfit"
    digits = str(resources.files("hookfit.datasets").joinpath("digits.npz"))
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    env = {k: v for k, v in env.items() if not k.startswith("HOOKFIT_")}
    times: dict[str, list[float]] = {"hookfit": [], "keras": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.runs + 1):
            folder = Path(tmp, str(round_))
            folder.mkdir()
            pair = {
                "hookfit": timed([hookfit, "train"], folder, env),
                "keras": timed(
                    [sys.executable, str(HERE / "keras_digits.py"), str(folder / "run"), digits],
                    folder,
                    env,
                ),
            }
            if round_:  # the first round warms the page cache
                for name, seconds in pair.items():
                    times[name].append(seconds)
    common.emit(
        {
            "benchmark": "train_command",
            "hookfit_s": statistics.median(times["hookfit"]),
            "keras_s": statistics.median(times["keras"]),
            "keras_over_hookfit": common.paired(times["keras"], times["hookfit"]),
            "runs": args.runs,
        }
    )


if __name__ == "__main__":
    main()
