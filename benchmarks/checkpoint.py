"""Benchmark 5: checkpoint cost per epoch for the MLP of benchmark 2.

ModelCheckpoint saving the 784-512-512-10 MLP (2.7 MB of weights, plus the
RMSprop slots) every epoch, against the same fit without it; and one save
by hand: hookfit's ``model.save`` (Keras's HDF5 layout, with the optimizer
state) against ``torch.save`` of the same network's and optimizer's
``state_dict`` (PyTorch's own checkpoint format), in one process.

    python benchmarks/checkpoint.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common
import numpy as np
from mlp import BATCH, hookfit_mlp, torch_mlp

STEPS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    import torch

    from hookfit.callbacks import ModelCheckpoint

    common.use_threads()
    x, labels, one_hot = common.synthetic(BATCH * STEPS, 784, 10)
    model = hookfit_mlp()
    net, optimizer = torch_mlp()
    loss = torch.nn.functional.cross_entropy(
        net(torch.from_numpy(x[:BATCH])), torch.from_numpy(labels[:BATCH])
    )
    loss.backward()
    optimizer.step()  # so that its state exists
    off = common.NO_PLUGINS
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def fit(plugins):
            return lambda: model.fit(
                x, one_hot, batch_size=BATCH, epochs=2, verbose=0, callbacks=plugins(), config=off
            )

        cases = {
            "fit": fit(list),
            "fit_with_checkpoint": fit(lambda: [ModelCheckpoint(str(folder / "w.{epoch:02d}.h5"))]),
            "hookfit_save": lambda: model.save(folder / "m.h5"),
            "torch_save": lambda: torch.save(
                {"model": net.state_dict(), "optimizer": optimizer.state_dict()}, folder / "m.pt"
            ),
        }
        times = common.interleaved(cases, args.rounds)
        sizes = {
            "hookfit_bytes": (folder / "m.h5").stat().st_size,
            "torch_bytes": (folder / "m.pt").stat().st_size,
        }
    stats = common.summary(times)
    per_epoch = (
        (common.paired(times["fit_with_checkpoint"], times["fit"]) - 1) * stats["fit"]["median"] / 2
    )
    common.emit(
        {
            "benchmark": "checkpoint",
            "weights": int(sum(np.size(w) for w in model.get_weights())),
            "checkpoint_ms_per_epoch": per_epoch * 1e3,
            "epoch_ms": stats["fit"]["median"] / 2 * 1e3,
            "save_ms": {
                "hookfit": stats["hookfit_save"]["median"] * 1e3,
                "torch": stats["torch_save"]["median"] * 1e3,
            },
            "hookfit_save_over_torch_save": common.paired(
                times["hookfit_save"], times["torch_save"]
            ),
            **sizes,
            "raw_seconds": stats,
        }
    )


if __name__ == "__main__":
    main()
