"""Benchmark 2: a 784-512-512-10 ReLU MLP, time per training step.

hookfit against a hand-written PyTorch CPU loop (RMSprop, batch 128,
shuffled, no validation), and hookfit's achieved GFLOP/s against the
machine's single-precision matmul rate measured in the same run, two ways:
a large square sgemm (2048^3, the machine's peak as numpy sees it) and the
exact matrix products of one training step of this MLP (what the step could
reach if nothing but its matmuls took time).

Each case runs in a process of its own, a new one every round.

    python benchmarks/mlp.py [--rounds 7] [--steps 100]
"""

from __future__ import annotations

import argparse
import itertools

import common
import numpy as np

LAYERS = (784, 512, 512, 10)
BATCH = 128


def step_flops() -> float:
    """Matmul FLOPs of one training step: forward, weight gradients, and the
    input gradients of every layer but the first."""
    pairs = list(itertools.pairwise(LAYERS))
    forward = sum(2 * BATCH * a * b for a, b in pairs)
    input_grads = sum(2 * BATCH * a * b for a, b in pairs[1:])
    return 2 * forward + input_grads


def hookfit_mlp():
    """The MLP in hookfit, compiled with RMSprop (also benchmark 5's model)."""
    from hookfit.layers import Dense
    from hookfit.models import Sequential
    from hookfit.utils import set_random_seed

    set_random_seed(0)
    model = Sequential(
        [
            Dense(512, activation="relu", input_dim=784),
            Dense(512, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    return model


def torch_mlp():
    """The same MLP in PyTorch and its RMSprop (Keras's rho and epsilon)."""
    import torch

    layers = []
    for a, b in itertools.pairwise(LAYERS):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    return model, torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)


def hookfit_case(x, one_hot, steps):
    model = hookfit_mlp()
    off = common.NO_PLUGINS  # steps only: no plugins
    return lambda: model.fit(x, one_hot, batch_size=BATCH, epochs=1, verbose=0, config=off)


def torch_case(x, labels, steps):
    import torch

    model, optimizer = torch_mlp()
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    generator = torch.Generator().manual_seed(0)

    def epoch():
        order = torch.randperm(len(xt), generator=generator)
        for start in range(0, len(xt), BATCH):
            index = order[start : start + BATCH]
            optimizer.zero_grad()
            loss_fn(model(xt[index]), yt[index]).backward()
            optimizer.step()

    return epoch


def gemm_cases(rng):
    big = [rng.normal(size=(2048, 2048)).astype(np.float32) for _ in range(2)]
    shapes = []  # the products of one step: forward, dW, dX (not for layer 1)
    for i, (a, b) in enumerate(itertools.pairwise(LAYERS)):
        shapes.append(((BATCH, a), (a, b)))
        shapes.append(((a, BATCH), (BATCH, b)))
        if i:
            shapes.append(((BATCH, b), (b, a)))
    operands = [
        (rng.normal(size=s).astype(np.float32), rng.normal(size=t).astype(np.float32))
        for s, t in shapes
    ]
    outputs = [np.empty((s[0], t[1]), np.float32) for s, t in shapes]

    def square():
        np.matmul(big[0], big[1])

    def step_products():
        for (a, b), out in zip(operands, outputs, strict=True):
            np.matmul(a, b, out=out)

    return square, step_products


CASES = ("hookfit", "pytorch", "sgemm_2048", "step_matmuls")


def case(name: str, steps: int):
    """The case ``name``, built in this process."""
    x, labels, one_hot = common.synthetic(BATCH * steps, 784, 10)
    if name == "hookfit":
        return hookfit_case(x, one_hot, steps)
    if name == "pytorch":
        common.use_threads()
        return torch_case(x, labels, steps)
    square, products = gemm_cases(np.random.default_rng(1))
    return square if name == "sgemm_2048" else products


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--case", choices=CASES, help="run one case in this process")
    args = parser.parse_args()
    if args.case:
        common.time_case(case(args.case, args.steps))
        return
    times = common.in_processes(__file__, list(CASES), args.rounds, ["--steps", str(args.steps)])
    stats = common.summary(times)
    hookfit_step = stats["hookfit"]["median"] / args.steps
    torch_step = stats["pytorch"]["median"] / args.steps
    flops = step_flops()
    achieved = flops / hookfit_step / 1e9
    peak = 2 * 2048**3 / stats["sgemm_2048"]["median"] / 1e9
    same_shapes = flops / stats["step_matmuls"]["median"] / 1e9
    common.emit(
        {
            "benchmark": "mlp",
            "step_ms": {"hookfit": hookfit_step * 1e3, "pytorch": torch_step * 1e3},
            "hookfit_over_pytorch": common.paired(times["hookfit"], times["pytorch"]),
            "step_gflop": flops / 1e9,
            "hookfit_gflops": achieved,
            "pytorch_gflops": flops / torch_step / 1e9,
            "sgemm_2048_gflops": peak,
            "step_matmuls_gflops": same_shapes,
            "hookfit_of_sgemm": achieved / peak,
            "hookfit_of_step_matmuls": achieved / same_shapes,
            "raw_seconds": stats,
        }
    )


if __name__ == "__main__":
    main()
