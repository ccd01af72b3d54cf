"""Benchmark 6: two trainings at once on this machine, each against its
time alone: hookfit with its thread policy, hookfit with every core (what
OpenBLAS does by itself), and the PyTorch loops of benchmarks 1 and 2 with
PyTorch's own threads.

Each training is a process of its own (``--worker``): the MLP 784-512-512-10
for 2 epochs of 6,400 samples at batch 128, and the Keras documentation
model (Dense 10 on 784 inputs, softmax) for 3 epochs of 60,000. Rounds
alternate the cases; a case's figure is the median over rounds of its
processes' median time, and the slowdown is the median of the paired
together / alone ratios.

    python benchmarks/together.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import common

WORKLOADS = {"mlp": (6_400, 2), "docs_model": (60_000, 3)}  # samples, epochs


CASES = {"policy": None, "all_cores": common.THREADS, "torch": None}
"""Each case's hookfit ``threads`` (PyTorch keeps its own)."""


def torch_worker(workload: str) -> None:
    """The PyTorch loop of benchmark 1 or 2, timed; prints its seconds."""
    import docs_model
    import mlp

    n, epochs = WORKLOADS[workload]
    x, labels, _ = common.synthetic(n, 784, 10)
    epoch = mlp.torch_case(x, labels, 0) if workload == "mlp" else docs_model.torch_case(x, labels)
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    print(time.perf_counter() - start)


def worker(workload: str, case: str) -> None:
    """One training, timed; prints its seconds."""
    if case == "torch":
        torch_worker(workload)
        return
    from mlp import hookfit_mlp

    from hookfit.layers import Dense
    from hookfit.models import Sequential

    n, epochs = WORKLOADS[workload]
    x, _, one_hot = common.synthetic(n, 784, 10)
    if workload == "mlp":
        model = hookfit_mlp()
    else:
        model = Sequential([Dense(10, input_dim=784, activation="softmax")])
        model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    start = time.perf_counter()
    model.fit(
        x, one_hot, batch_size=128, epochs=epochs, verbose=0, threads=CASES[case],
        config=common.NO_PLUGINS,
    )  # fmt: skip
    print(time.perf_counter() - start)


def run(workload: str, case: str, together: int) -> float:
    """Start ``together`` workers at once; the median of their times."""
    command = [sys.executable, __file__, "--worker", workload, "--case", case]
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(together)
    ]
    times = [float(child.communicate()[0]) for child in children]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker")
    parser.add_argument("--case", choices=CASES)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.case)
        return
    times: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for workload in WORKLOADS:
            for case in CASES:
                for together in (1, 2):
                    key = f"{workload}:{case}:{'together' if together == 2 else 'alone'}"
                    times.setdefault(key, []).append(run(workload, case, together))
    result: dict[str, object] = {"benchmark": "together"}
    for workload in WORKLOADS:
        for policy in CASES:
            alone = times[f"{workload}:{policy}:alone"]
            together = times[f"{workload}:{policy}:together"]
            result[f"{workload}:{policy}"] = {
                "alone_s": statistics.median(alone),
                "together_s": statistics.median(together),
                "slowdown": common.paired(together, alone),
            }
    common.emit(result)


if __name__ == "__main__":
    main()
