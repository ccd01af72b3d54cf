"""Benchmark 1: the Keras documentation's model, one epoch, hookfit vs Keras 3 vs PyTorch.

Dense(10, input_dim=784) + softmax, categorical cross-entropy, RMSprop,
batch 128, 60,000 x 784 float32 synthetic samples, 10% validation. Each
case is a full epoch: shuffled training batches, then the validation pass.

- hookfit: ``model.fit(..., epochs=1, validation_split=0.1)`` with its
  default plugins (History, BaseLogger), as a user gets it.
- Keras 3 on its torch backend: the same ``fit`` call (warmed up first).
- PyTorch CPU: a hand-written loop (randperm, index, forward,
  cross-entropy on logits, backward, RMSprop step; then validation).

Each case runs in a process of its own, a new one every round.

    python benchmarks/docs_model.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import common

N, FEATURES, CLASSES, BATCH = 60_000, 784, 10, 128


def hookfit_case(x, one_hot):
    from hookfit.layers import Activation, Dense
    from hookfit.models import Sequential
    from hookfit.utils import set_random_seed

    set_random_seed(0)
    model = Sequential()
    model.add(Dense(10, input_dim=FEATURES, kernel_initializer="uniform"))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    return lambda: model.fit(
        x, one_hot, batch_size=BATCH, epochs=1, verbose=0, validation_split=0.1
    )


def keras_case(x, one_hot):
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(FEATURES,)),
            keras.layers.Dense(10, kernel_initializer="random_uniform"),
            keras.layers.Activation("softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    return lambda: model.fit(
        x, one_hot, batch_size=BATCH, epochs=1, verbose=0, validation_split=0.1
    )


def torch_case(x, labels):
    import torch

    split = int(N * 0.9)
    x_train, y_train = torch.from_numpy(x[:split]), torch.from_numpy(labels[:split])
    x_val, y_val = torch.from_numpy(x[split:]), torch.from_numpy(labels[split:])
    model = torch.nn.Linear(FEATURES, CLASSES)
    torch.nn.init.uniform_(model.weight, -0.05, 0.05)
    torch.nn.init.zeros_(model.bias)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)

    def epoch():
        model.train()
        order = torch.randperm(split, generator=generator)
        for start in range(0, split, BATCH):
            index = order[start : start + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            total = 0.0
            for start in range(0, len(x_val), BATCH):
                xb, yb = x_val[start : start + BATCH], y_val[start : start + BATCH]
                total += loss_fn(model(xb), yb).item() * len(xb)
        return total / len(x_val)

    return epoch


CASES = ("hookfit", "pytorch", "keras")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--case", choices=CASES, help="run one case in this process")
    args = parser.parse_args()
    if args.case:
        x, labels, one_hot = common.synthetic(N, FEATURES, CLASSES)
        if args.case == "pytorch":
            common.use_threads()
            common.time_case(torch_case(x, labels))
        else:
            build = hookfit_case if args.case == "hookfit" else keras_case
            common.time_case(build(x, one_hot))
        return
    times = common.in_processes(__file__, list(CASES), args.rounds)
    stats = common.summary(times)
    common.emit(
        {
            "benchmark": "docs_model",
            "epoch_seconds": stats,
            "keras_over_hookfit": common.paired(times["keras"], times["hookfit"]),
            "hookfit_over_pytorch": common.paired(times["hookfit"], times["pytorch"]),
        }
    )


if __name__ == "__main__":
    main()
