"""Benchmark 8: hookfit's plugins in a Keras 3 fit (``hookfit_keras.Plugins``,
torch backend) against Keras's own callbacks, on the same fit.

Three cases, each run in a new process every round, rounds interleaved: the
fit with no callback; with Keras's EarlyStopping, CSVLogger, ModelCheckpoint
(best only, ``.keras``) and ReduceLROnPlateau; and with hookfit's four,
same arguments, through one `Plugins`. Each process warms up with one fit,
then prints the median of three (`common.time_case`); every fit builds a
fresh, seeded model and writes into a fresh folder.

    python benchmarks/keras_host.py [--rounds 7] [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Any

import common

os.environ.setdefault("KERAS_BACKEND", "torch")

CASES = ("none", "keras", "hookfit")
SAMPLES, FEATURES, CLASSES, BATCH = 2048, 64, 10, 64
SETTINGS: dict[str, dict[str, Any]] = {
    "early_stopping": {"monitor": "val_loss", "patience": 3},
    "reduce_lr": {"monitor": "val_loss", "factor": 0.5, "patience": 1},
    "checkpoint": {"monitor": "val_loss", "save_best_only": True},
}


def callbacks(case: str, folder: str) -> list[Any]:
    """The case's callbacks, writing into ``folder``."""
    csv, best = os.path.join(folder, "log.csv"), os.path.join(folder, "best.keras")
    if case == "none":
        return []
    if case == "keras":
        import keras

        own = keras.callbacks
        return [
            own.EarlyStopping(**SETTINGS["early_stopping"]),
            own.CSVLogger(csv),
            own.ModelCheckpoint(best, **SETTINGS["checkpoint"]),
            own.ReduceLROnPlateau(**SETTINGS["reduce_lr"]),
        ]
    from hookfit_keras import Plugins

    from hookfit.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau

    plugins = [
        EarlyStopping(**SETTINGS["early_stopping"]),
        CSVLogger(csv),
        ModelCheckpoint(best, **SETTINGS["checkpoint"]),
        ReduceLROnPlateau(**SETTINGS["reduce_lr"]),
    ]
    # config={}: no hookfit.toml or HOOKFIT_* switch of the machine adds a plugin
    return [Plugins(plugins, config={})]


def worker(case: str, epochs: int) -> None:
    """One case in this process: `common.time_case` of a whole fit."""
    import keras

    common.use_threads()
    x, _, y = common.synthetic(SAMPLES, FEATURES, CLASSES)
    split = SAMPLES * 4 // 5

    def fit() -> None:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input(shape=(FEATURES,)),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(CLASSES, activation="softmax"),
            ]
        )
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
        with tempfile.TemporaryDirectory() as folder:
            model.fit(
                x[:split],
                y[:split],
                batch_size=BATCH,
                epochs=epochs,
                verbose=0,
                validation_data=(x[split:], y[split:]),
                callbacks=callbacks(case, folder),
            )

    common.time_case(fit)


def markdown(r: dict[str, Any]) -> str:
    """The RESULTS.md section."""
    s = r["seconds"]
    return "\n".join(
        [
            "## 8. hookfit's plugins in Keras 3 (`hookfit_keras.Plugins`)",
            "",
            f"`benchmarks/keras_host.py`: a Keras {r['keras']} fit on its torch backend "
            f"({r['samples']:,} samples of {FEATURES} features, Dense 64 relu and {CLASSES} "
            f"softmax, RMSprop, batch {BATCH}, {r['epochs']} epochs with validation on a fifth) "
            "with EarlyStopping, CSVLogger, ModelCheckpoint (best only, `.keras`) and "
            "ReduceLROnPlateau: Keras's own four against hookfit's four through one "
            f"`Plugins`, and the fit with no callback. {r['rounds']} rounds, each case in a new "
            "process every round (one warm-up fit, then the median of three).",
            "",
            "| case | median fit | min | max |",
            "| --- | --- | --- | --- |",
            *(
                f"| {label} | {s[name]['median']:.3f} s | {s[name]['min']:.3f} s | "
                f"{s[name]['max']:.3f} s |"
                for name, label in (
                    ("none", "no callback"),
                    ("keras", "Keras's four"),
                    ("hookfit", "hookfit's four (`Plugins`)"),
                )
            ),
            "",
            f"- hookfit / Keras: {r['hookfit_over_keras']:.3f} (median of the round-by-round "
            f"ratios; target <= 1.00: {'met' if r['hookfit_over_keras'] <= 1 else '**missed**'}).",
            f"- Over the fit with no callback: Keras's four {r['keras_over_none'] - 1:+.1%}, "
            f"hookfit's four {r['hookfit_over_none'] - 1:+.1%} (same medians of ratios).",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true", help="also print the RESULTS.md section")
    args = parser.parse_args()
    if args.case:
        worker(args.case, args.epochs)
        return
    from importlib.metadata import version

    times = common.in_processes(__file__, list(CASES), args.rounds, ["--epochs", str(args.epochs)])
    result = {
        "benchmark": "keras_host",
        "seconds": common.summary(times),
        "hookfit_over_keras": common.paired(times["hookfit"], times["keras"]),
        "keras_over_none": common.paired(times["keras"], times["none"]),
        "hookfit_over_none": common.paired(times["hookfit"], times["none"]),
        "rounds": args.rounds,
        "epochs": args.epochs,
        "samples": SAMPLES,
        "keras": version("keras"),
    }
    if args.markdown:
        print(markdown(result), file=sys.stderr)
    common.emit(result)


if __name__ == "__main__":
    main()
