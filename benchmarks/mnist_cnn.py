"""Keras 2's ``examples/mnist_cnn.py`` model: time per training step and
memory, hookfit against a hand-written PyTorch eager loop.

The model: Conv2D 32 3x3 relu on 28x28x1, Conv2D 64 3x3 relu,
MaxPooling2D 2, Dropout 0.25, Flatten, Dense 128 relu, Dropout 0.5,
Dense 10 softmax; categorical cross-entropy, Adadelta (Keras's lr 1.0,
rho 0.95, epsilon 1e-7 on both sides), batch 128, synthetic 28x28 data.
hookfit trains with ``fit`` (no plugins) and PyTorch with the usual
zero_grad / forward / backward / step loop, both on ``os.cpu_count()``
threads; each case runs in a process of its own, a new one every round,
and the rounds alternate the cases.

Memory, per process, after the data exists: the growth of the peak
resident set (``ru_maxrss``) over a warm-up epoch and the timed epochs,
both frameworks alike; for hookfit also tracemalloc's peak of numpy's
allocations during its first epoch (every reused buffer is allocated
there) and during a later epoch (what a step allocates and frees). They are
set against the arrays the step needs in any framework: weights, their
gradients, Adadelta's two accumulators, and one batch's input and layer
outputs.

``--layers`` also times each hookfit layer's forward and backward on the
real shapes (perf_counter, the minimum and median over rounds).

    python benchmarks/mnist_cnn.py [--rounds 5] [--steps 10] [--layers] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

import common
import numpy as np

BATCH = 128
CLASSES = 10
SHAPE = (28, 28, 1)
CASES = ("hookfit", "pytorch")


def data(steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images in [0, 1) and their labels, ``steps`` batches."""
    rng = np.random.default_rng(seed)
    x = rng.random((steps * BATCH, *SHAPE), dtype=np.float32)
    return x, rng.integers(0, CLASSES, len(x))


def hookfit_model() -> Any:
    """The mnist_cnn model as Keras 2's example writes it."""
    from hookfit.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from hookfit.models import Sequential
    from hookfit.optimizers import Adadelta
    from hookfit.utils import set_random_seed

    set_random_seed(0)
    model = Sequential(
        [
            Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=SHAPE),
            Conv2D(64, (3, 3), activation="relu"),
            MaxPooling2D(pool_size=(2, 2)),
            Dropout(0.25),
            Flatten(),
            Dense(128, activation="relu"),
            Dropout(0.5),
            Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer=Adadelta(), metrics=["accuracy"])
    return model


def torch_model() -> tuple[Any, Any]:
    """The same model in PyTorch (NCHW, its native layout) and Adadelta."""
    import torch

    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(9216, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, CLASSES),
    )
    return model, torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)


def hookfit_epoch(steps: int) -> Any:
    model = hookfit_model()
    x, labels = data(steps)
    one_hot = np.eye(CLASSES, dtype=np.float32)[labels]
    off = common.NO_PLUGINS
    return model, lambda: model.fit(
        x, one_hot, batch_size=BATCH, epochs=1, verbose=0, config=off, threads=common.THREADS
    )


def torch_epoch(steps: int) -> Any:
    import torch

    common.use_threads()
    model, optimizer = torch_model()
    x, labels = data(steps)
    xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))
    yt = torch.from_numpy(labels)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)

    def epoch() -> None:
        order = torch.randperm(len(xt), generator=generator)
        for start in range(0, len(xt), BATCH):
            index = order[start : start + BATCH]
            optimizer.zero_grad()
            loss_fn(model(xt[index]), yt[index]).backward()
            optimizer.step()

    return model, epoch


def maxrss() -> int:
    """The process's peak resident set in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def worker(name: str, steps: int, repeats: int) -> dict[str, Any]:
    """One case in this process: a warm-up epoch, then ``repeats`` timed ones."""
    build = hookfit_epoch if name == "hookfit" else torch_epoch
    _, epoch = build(steps)
    before = maxrss()
    epoch()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        epoch()
        seconds.append(time.perf_counter() - start)
    result = {"step_s": statistics.median(seconds) / steps, "maxrss_growth": maxrss() - before}
    if name == "hookfit":
        result.update(hookfit_memory(steps))
    return result


def hookfit_memory(steps: int) -> dict[str, int]:
    """tracemalloc's peaks of a fresh model's first epoch and of a later one
    (numpy reports its array allocations to tracemalloc)."""
    _, epoch = hookfit_epoch(steps)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    epoch()
    first = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.reset_peak()
    held = tracemalloc.get_traced_memory()[0]
    epoch()
    later = tracemalloc.get_traced_memory()[1] - held
    tracemalloc.stop()
    return {"tracemalloc_first_epoch": first, "tracemalloc_later_epoch": later, "held": held - base}


def own_arrays() -> dict[str, int]:
    """Bytes of the arrays a step cannot do without, in any framework."""
    model = hookfit_model()
    weights = sum(w.nbytes for w in model.get_weights())
    outputs = 0
    shape = SHAPE
    for layer in model.layers:
        shape = layer.compute_output_shape(shape)
        if layer.class_name != "Flatten":  # a view of the previous output
            outputs += math.prod(shape) * BATCH * 4
    return {
        "weights": weights,
        "gradients": weights,
        "adadelta_state": 2 * weights,
        "batch_input": math.prod(SHAPE) * BATCH * 4,
        "layer_outputs": outputs,
    }


def layer_table(rounds: int) -> list[dict[str, Any]]:
    """Each layer's forward and backward on the real shapes, in milliseconds."""
    from hookfit.trainer.threads import _blas

    model = hookfit_model()
    layers = model.layers
    x, labels = data(1)
    one_hot = np.eye(CLASSES, dtype=np.float32)[labels]
    times: dict[str, dict[str, list[float]]] = {
        layer.name: {"forward": [], "backward": []} for layer in layers
    }
    with _blas().limit(limits=common.THREADS, user_api="blas"):
        for i in range(rounds + 1):
            out = x
            for layer in layers:
                start = time.perf_counter()
                out = layer.forward(out, True)
                if i:
                    times[layer.name]["forward"].append(time.perf_counter() - start)
            dy = (out - one_hot) / BATCH  # softmax + cross-entropy, fused
            for j in range(len(layers) - 1, -1, -1):
                layer = layers[j]
                start = time.perf_counter()
                if j == len(layers) - 1:
                    dy = layer.backward(dy, pre_activation=True)
                else:
                    dy = layer.backward(dy, need_dx=j > 0)
                if i:
                    times[layer.name]["backward"].append(time.perf_counter() - start)
    return [
        {
            "layer": f"{layer.name} ({layer.class_name})",
            **{
                f"{d}_{k}_ms": f(times[layer.name][d]) * 1e3
                for d in ("forward", "backward")
                for k, f in (("min", min), ("median", statistics.median))
            },
        }
        for layer in layers
    ]


def run_case(name: str, steps: int, repeats: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--case",
            name,
            "--steps",
            str(steps),
            "--repeats",
            str(repeats),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(r: dict[str, Any]) -> str:
    """The RESULTS.md section."""
    s, mem, own = r["step_ms"], r["memory"], r["own_arrays"]
    mib = 1 << 20
    total = sum(own.values())
    lines = [
        "## 9. Keras 2's mnist_cnn model: one training step",
        "",
        "`benchmarks/mnist_cnn.py`: Conv2D 32 and 64 (3x3, relu), MaxPooling2D 2, Dropout,",
        "Dense 128, Dense 10; Adadelta, batch 128, 28x28x1 synthetic images. hookfit's `fit`",
        f"(no plugins, `threads={r['threads']}`) against a PyTorch {r['torch']} eager loop on "
        f"{r['threads']} threads, each in a new process every round, {r['rounds']} rounds of "
        f"{r['steps']} steps. Load average {r['load'][0]:.2f} before, {r['load'][1]:.2f} after.",
        "",
        "| | hookfit | PyTorch | hookfit / PyTorch |",
        "| --- | --- | --- | --- |",
        f"| step, median | {s['hookfit']['median']:.1f} ms | {s['pytorch']['median']:.1f} ms | "
        f"{r['ratio']['median']:.2f} (target <= 1.0 in one round: "
        f"{'met' if r['ratio']['min'] <= 1 else 'missed'}; min {r['ratio']['min']:.2f}) |",
        f"| step, fastest round | {s['hookfit']['min']:.1f} ms | {s['pytorch']['min']:.1f} ms | |",
        f"| peak RSS growth over training | {mem['hookfit_maxrss'] / mib:.0f} MiB | "
        f"{mem['pytorch_maxrss'] / mib:.0f} MiB | |",
        "| numpy arrays, first epoch (tracemalloc peak) | "
        f"{mem['tracemalloc_first'] / mib:.0f} MiB | | |",
        f"| numpy arrays allocated per later step (tracemalloc peak) | "
        f"{mem['tracemalloc_later'] / mib:.1f} MiB | | |",
        "",
        f"The step's own arrays: {total / mib:.1f} MiB (weights {own['weights'] / mib:.1f}, "
        f"gradients {own['gradients'] / mib:.1f}, Adadelta's accumulators "
        f"{own['adadelta_state'] / mib:.1f}, the batch {own['batch_input'] / mib:.1f} and the "
        f"layers' outputs {own['layer_outputs'] / mib:.1f} MiB).",
    ]
    if r.get("layers"):
        lines += [
            "",
            "hookfit's layers on these shapes (ms, min / median over the rounds; the first "
            "convolution computes no input gradient):",
            "",
            "| layer | forward | backward |",
            "| --- | --- | --- |",
            *(
                f"| {t['layer']} | {t['forward_min_ms']:.2f} / {t['forward_median_ms']:.2f} | "
                f"{t['backward_min_ms']:.2f} / {t['backward_median_ms']:.2f} |"
                for t in r["layers"]
            ),
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--layers", action="store_true", help="also time each hookfit layer")
    parser.add_argument("--markdown", action="store_true", help="print the RESULTS.md section")
    parser.add_argument("--case", choices=CASES, help="run one case in this process")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(worker(args.case, args.steps, args.repeats)))
        return
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name in CASES:
            runs[name].append(run_case(name, args.steps, args.repeats))
    step = {name: [r["step_s"] for r in runs[name]] for name in CASES}
    ratios = [h / p for h, p in zip(step["hookfit"], step["pytorch"], strict=True)]
    try:
        from importlib.metadata import version

        torch_version = version("torch")
    except ImportError:
        torch_version = "?"
    result: dict[str, Any] = {
        "benchmark": "mnist_cnn",
        "rounds": args.rounds,
        "steps": args.steps,
        "threads": common.THREADS,
        "torch": torch_version,
        "step_ms": {
            name: {k: v * 1e3 for k, v in common.summary({name: t})[name].items() if k != "runs"}
            for name, t in step.items()
        },
        "ratio": {"median": statistics.median(ratios), "min": min(ratios), "all": ratios},
        "memory": {
            "hookfit_maxrss": statistics.median(r["maxrss_growth"] for r in runs["hookfit"]),
            "pytorch_maxrss": statistics.median(r["maxrss_growth"] for r in runs["pytorch"]),
            "tracemalloc_first": statistics.median(
                r["tracemalloc_first_epoch"] for r in runs["hookfit"]
            ),
            "tracemalloc_later": statistics.median(
                r["tracemalloc_later_epoch"] for r in runs["hookfit"]
            ),
        },
        "own_arrays": own_arrays(),
        "layers": layer_table(max(args.rounds, 5)) if args.layers else None,
        "load": [load_before, os.getloadavg()[0]],
    }
    if args.markdown:
        print(markdown(result), file=sys.stderr)
    common.emit(result)


if __name__ == "__main__":
    main()
