"""Data-parallel training over MPI: the MLP 784-512-512-10 on 1 and 2 ranks.

Time per epoch (global batch 128, RMSprop, shuffled, no validation) for one
process with one BLAS thread, one process with two, and two ranks under
``mpiexec -n 2`` with one thread each; the scaling efficiency; the time the
ranks spend in the gradient's ``Allreduce`` (during training, which includes
waiting for the slower rank, and alone after a barrier); and a paper
estimate for 8 and 64 nodes from the message size and a ring allreduce
model. The cases alternate round by round, as in the other benchmarks.

    python benchmarks/distributed.py [--rounds 3] [--epochs 4] [--samples 12800]

Needs ``hookfit[mpi]`` (mpiexec beside the running Python or on PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import common

BATCH = 128
HERE = Path(__file__).resolve().parent

# Networks for the paper estimate: (name, bandwidth in bytes/s, latency in s).
NETWORKS = [
    ("100 Gb/s InfiniBand (12.5 GB/s, 2 us)", 12.5e9, 2e-6),
    ("10 Gb/s Ethernet (1.25 GB/s, 30 us)", 1.25e9, 30e-6),
]


def worker(args: argparse.Namespace) -> None:
    """One rank's run: fit, then time the Allreduce alone. Rank 0 prints JSON."""
    import hookfit
    import hookfit.distributed as dist

    dist.initialize()
    import mlp

    x, _, y = common.synthetic(args.samples, 784, 10)
    model = mlp.hookfit_mlp()

    class EpochTimes(hookfit.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    clock = EpochTimes()
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=args.epochs,
        verbose=0,
        callbacks=[clock],
        config=common.NO_PLUGINS,
        threads=args.threads,
    )
    t = dist.timings
    result = {
        "ranks": dist.size(),
        "threads": args.threads,
        "epochs": clock.times[1:],  # the first epoch warms up
        "steps_per_epoch": -(-args.samples // BATCH),
        "allreduce_seconds": t.allreduce_seconds,
        "allreduce_calls": t.allreduce_calls,
        "message_bytes": t.allreduce_bytes,
    }
    if dist.size() > 1:
        result["allreduce_alone"] = _allreduce_alone(t.allreduce_bytes // 4)
    if dist.rank() == 0:
        print(json.dumps(result))


def _allreduce_alone(values: int, repeats: int = 100) -> float:
    """The median time of one Allreduce of ``values`` float32, every rank
    entering together (after a barrier): the communication's own cost."""
    import numpy as np
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    buffer = np.ones(values, dtype=np.float32)
    times = []
    for _ in range(repeats):
        comm.Barrier()
        start = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        times.append(time.perf_counter() - start)
    return statistics.median(comm.allreduce(times[i], op=MPI.MAX) for i in range(repeats))


def launch(ranks: int, threads: int, args: argparse.Namespace) -> dict:
    """One case in fresh processes: plain Python for one rank, mpiexec for more."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--threads",
        str(threads),
        "--epochs",
        str(args.epochs),
        "--samples",
        str(args.samples),
    ]
    if ranks > 1:
        search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        launcher = shutil.which("mpiexec", path=search)
        if launcher is None:
            sys.exit('mpiexec not found: pip install "hookfit[mpi]"')
        command = [launcher, "-n", str(ranks), *command]
    done = subprocess.run(
        command, cwd=HERE, capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def ring(p: int, size: float, bandwidth: float, latency: float) -> float:
    """Ring allreduce of ``size`` bytes over ``p`` nodes: reduce-scatter then
    allgather, 2(p-1) messages of size/p each."""
    return 2 * (p - 1) * latency + 2 * (p - 1) / p * size / bandwidth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples", type=int, default=12800)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    cases = {"1 rank, 1 thread": (1, 1), "1 rank, 2 threads": (1, 2), "2 ranks x 1 thread": (2, 1)}
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, (ranks, threads) in cases.items():
            runs[name].append(launch(ranks, threads, args))
    epoch = {n: statistics.median(t for r in rs for t in r["epochs"]) for n, rs in runs.items()}
    # the least disturbed epoch: other work on the machine only ever adds time
    fastest = {n: min(t for r in rs for t in r["epochs"]) for n, rs in runs.items()}
    two = runs["2 ranks x 1 thread"]
    steps = two[0]["steps_per_epoch"]
    size = two[0]["message_bytes"]
    in_training = statistics.median(r["allreduce_seconds"] / r["allreduce_calls"] for r in two)
    alone = statistics.median(r["allreduce_alone"] for r in two)
    one = epoch["1 rank, 1 thread"]
    step_one = one / steps  # one rank's compute for the whole global batch
    result = {
        "samples": args.samples,
        "global_batch": BATCH,
        # runnable threads, a 1-minute average: above 2, other work shared the 2 CPUs
        "load_average": [load_before, os.getloadavg()[0]],
        "steps_per_epoch": steps,
        "epoch_seconds": epoch,
        "fastest_epoch_seconds": fastest,
        "efficiency_fastest": fastest["1 rank, 1 thread"] / (2 * fastest["2 ranks x 1 thread"]),
        "speedup_vs_1_thread": one / epoch["2 ranks x 1 thread"],
        "efficiency_vs_1_thread": one / (2 * epoch["2 ranks x 1 thread"]),
        "speedup_vs_2_threads": epoch["1 rank, 2 threads"] / epoch["2 ranks x 1 thread"],
        "message_bytes": size,
        "allreduce_in_training_s": in_training,
        "allreduce_share_of_epoch": in_training * steps / epoch["2 ranks x 1 thread"],
        "allreduce_alone_s": alone,
        "shared_memory_bandwidth": size / alone,  # p=2 ring: 2(p-1)/p = 1
        "estimate": {},
    }
    measured = (f"as measured here ({size / alone / 1e9:.1f} GB/s, 2 us)", size / alone, 2e-6)
    for name, bandwidth, latency in [measured, *NETWORKS]:
        for p in (8, 64):
            comm = ring(p, size, bandwidth, latency)
            strong = step_one / p  # global batch 128 split p ways, compute taken as linear
            weak = step_one  # 128 samples per node: global batch 128 p
            result["estimate"][f"{name}, {p} nodes"] = {
                "allreduce_s": comm,
                "strong_efficiency": strong / (strong + comm),
                "weak_efficiency": weak / (weak + comm),
            }
    common.emit(result)
    print(markdown(result), file=sys.stderr)


def markdown(r: dict) -> str:
    """The RESULTS.md section."""
    e = r["epoch_seconds"]
    lines = [
        "## Distributed (MPI)",
        "",
        f"`benchmarks/distributed.py`: the MLP 784-512-512-10, RMSprop, global batch "
        f"{r['global_batch']}, {r['samples']:,} samples ({r['steps_per_epoch']} steps per "
        "epoch), median epoch time over the rounds (first epoch of each run left out). "
        f"{os.cpu_count()} logical CPUs, shared with other work while measured (load average "
        f"{r['load_average'][0]:.1f} before, {r['load_average'][1]:.1f} after): two ranks need "
        "both CPUs at once, and a rank that waits for a descheduled one spins in MPI.",
        "",
        "| case | time per epoch (median) | fastest epoch |",
        "| --- | --- | --- |",
        *(
            f"| {name} | {seconds:.3f} s | {r['fastest_epoch_seconds'][name]:.3f} s |"
            for name, seconds in e.items()
        ),
        "",
        f"- Speed-up of 2 ranks over 1 rank with 1 thread: {r['speedup_vs_1_thread']:.2f}x, "
        f"scaling efficiency {r['efficiency_vs_1_thread']:.0%}; over 1 rank with 2 BLAS "
        f"threads: {r['speedup_vs_2_threads']:.2f}x. From the fastest epochs (the least "
        f"disturbed), the efficiency is {r['efficiency_fastest']:.0%}.",
        f"- One Allreduce per step of {r['message_bytes']:,} bytes (the float32 gradients and "
        "4 values: loss, accuracy, batch size, stop flag): "
        f"{r['allreduce_in_training_s'] * 1e3:.2f} ms per step during training "
        f"({r['allreduce_share_of_epoch']:.0%} of the epoch; "
        "this includes waiting for the slower rank), "
        f"{r['allreduce_alone_s'] * 1e3:.2f} ms alone after a barrier "
        f"({r['shared_memory_bandwidth'] / 1e9:.1f} GB/s through shared memory).",
        "",
        "Paper estimate for p nodes, one rank per node: a ring allreduce takes "
        "2(p-1)·α + 2(p-1)/p · S/β for S bytes, latency α and bandwidth β (reduction "
        "arithmetic left out); β is the bandwidth measured here (S over the 2-rank "
        "Allreduce alone, where the ring's factor is 1), then two common networks. "
        "Compute per step is the measured one-rank step "
        f"({e['1 rank, 1 thread'] / r['steps_per_epoch'] * 1e3:.1f} ms for 128 samples); "
        "strong scaling keeps the global batch at 128 (compute taken as falling as 1/p: "
        "optimistic, since every rank applies the whole optimizer update and 2 samples a "
        "node use BLAS poorly), weak scaling gives each node 128 samples.",
        "",
        "| network, nodes | Allreduce | efficiency, strong (batch 128) | efficiency, weak "
        "(128 a node) |",
        "| --- | --- | --- | --- |",
    ]
    for name, v in r["estimate"].items():
        lines.append(
            f"| {name} | {v['allreduce_s'] * 1e3:.2f} ms | {v['strong_efficiency']:.0%} | "
            f"{v['weak_efficiency']:.0%} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
