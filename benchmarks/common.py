"""Shared pieces of the benchmarks: machine facts, data, interleaved timing.

A benchmark alternates its cases round by round (A B C A B C ...), so a
change in the machine's speed hits every case alike, and reports medians and
the ratios between cases. Cases of different frameworks each run in a
process of their own (`in_processes`): two frameworks in one process fight
over threads (PyTorch's OpenMP threads keep spinning after its last call,
while OpenBLAS's start).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

THREADS = os.cpu_count() or 1

NO_PLUGINS = {
    "hookfit": {"autoload": False, "disable": ["history", "base_logger", "progbar_logger"]}
}
"""A fit with no plugin at all: autoload off keeps the three defaults that
``pip install hookfit`` brings, so they are switched off by name."""


def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU, numpy and its BLAS, threads."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
    }
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas"] = [
            {k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for p in blas
        ]
    except ImportError:
        info["blas"] = "threadpoolctl is not installed"
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    else:  # PyTorch ran in processes of its own (`in_processes`), with THREADS
        try:
            from importlib.metadata import version

            info["torch"], info["torch_threads"] = version("torch"), THREADS
        except ImportError:
            pass
    return info


def use_threads() -> None:
    """Give PyTorch the same number of threads as numpy's BLAS."""
    import torch

    torch.set_num_threads(THREADS)


def synthetic(n: int, features: int, classes: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Learnable float32 data: labels from a random linear teacher.

    Returns ``(x, labels, one_hot)``.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    teacher = rng.normal(size=(features, classes)).astype(np.float32)
    labels = (x @ teacher).argmax(axis=1)
    return x, labels, np.eye(classes, dtype=np.float32)[labels]


def interleaved(
    cases: dict[str, Callable[[], Any]], rounds: int, warmup: int = 1, clock: str = "wall"
) -> dict[str, list[float]]:
    """Time each case ``rounds`` times, alternating; ``warmup`` rounds first.

    ``clock`` is ``"wall"`` (elapsed time), ``"thread"`` (CPU time of the
    calling thread: the training loop's own work, which time stolen by other
    virtual machines on the host does not inflate), or ``"both"`` (then the
    cases come back twice, suffixed ``:wall`` and ``:thread``).
    """
    clocks = {
        "wall": [time.perf_counter],
        "thread": [time.thread_time],
        "both": [time.perf_counter, time.thread_time],
    }[clock]
    suffixes = [""] if clock != "both" else [":wall", ":thread"]
    times: dict[str, list[float]] = {n + s: [] for n in cases for s in suffixes}
    for i in range(warmup + rounds):
        for name, run in cases.items():
            start = [c() for c in clocks]
            run()
            if i >= warmup:
                for c, s, t0 in zip(clocks, suffixes, start, strict=True):
                    times[name + s].append(c() - t0)
    return times


def in_processes(
    script: str, cases: list[str], rounds: int, args: list[str] | None = None
) -> dict[str, list[float]]:
    """Time each case ``rounds`` times, alternating, each time in a new
    process: ``python SCRIPT --case NAME ARGS`` builds the case, runs it once
    to warm up, and prints one line, its seconds (`time_case`)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name in cases:
            done = subprocess.run(
                [sys.executable, script, "--case", name, *(args or [])],
                check=True,
                capture_output=True,
                text=True,
            )
            times[name].append(float(done.stdout.strip().splitlines()[-1]))
    return times


def time_case(run: Callable[[], Any], repeats: int = 3) -> None:
    """A worker's side of `in_processes`: one warm-up run of ``run``, then
    print the median of ``repeats`` timed runs."""
    run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    print(statistics.median(seconds))


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Median, min and max of each case, in seconds."""
    return {
        name: {"median": statistics.median(t), "min": min(t), "max": max(t), "runs": len(t)}
        for name, t in times.items()
    }


def paired(a: list[float], b: list[float]) -> float:
    """The median of the round-by-round ratios a[i] / b[i] (cases that ran
    back to back share the machine's state of the moment)."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def emit(result: dict[str, Any]) -> None:
    """Print the result as one JSON line (run.py reads it)."""
    result["machine"] = machine()
    print(json.dumps(result))
