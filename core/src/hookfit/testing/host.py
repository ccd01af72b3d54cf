"""A minimal host: a trainer that implements only the plugin protocol.

`MinimalHost` is not hookfit's `Model`: a softmax regression trained by
plain SGD, written from scratch on numpy, that starts its runs as every
host does (`hookfit.trainer.preamble`: the checks, ``params`` and plugins) and
calls the plugins through `hookfit.hooks.dispatch.Run`, in loops of its own.
Every built-in plugin's tests also run on it (pytest
``--hookfit-host=both``), which shows that plugins use nothing of their
host but `hookfit.hooks.host.ResumableHost`.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import FormatError
from ..hooks.dispatch import Run
from ..saving.atomic import atomic_file
from ..trainer import inputs, preamble


class _Layer:
    """The host's one layer, as plugins see it."""

    def __init__(self, name: str, weights: list[np.ndarray]) -> None:
        self.name = name
        self.weights = weights

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]


class _SGD:
    """Plain SGD; ``lr`` is all plugins see."""

    def __init__(self, lr: float) -> None:
        self.lr = lr


class MinimalHost:
    """A softmax regression with the Keras training API, hosting plugins
    through the protocol only.

    Args:
        input_dim: Features per sample.
        units: Classes (one-hot targets).
        lr: The SGD learning rate.
        seed: Seeds the weights and the shuffling.
        metrics: ``["accuracy"]`` to log ``acc``.
    """

    def __init__(
        self,
        input_dim: int,
        units: int,
        lr: float = 0.01,
        seed: int = 0,
        metrics: Sequence[str] = ("accuracy",),
    ) -> None:
        self.rng = np.random.default_rng(seed)
        kernel = self.rng.normal(0, 0.1, (input_dim, units)).astype(np.float32)
        self._layers = [_Layer("dense", [kernel, np.zeros(units, np.float32)])]
        self._optimizer = _SGD(lr)
        self.with_acc = bool(metrics)
        self.stop_training = False
        self.history: Any = None
        self.initial_epoch = 0
        self.interrupted = False
        self._run: Run | None = None

    # -- the protocol ------------------------------------------------------------

    @property
    def optimizer(self) -> _SGD:
        return self._optimizer

    @property
    def layers(self) -> Sequence[_Layer]:
        return self._layers

    @property
    def plugins(self) -> Mapping[str, Any]:
        return self._run.plugins if self._run is not None else {}

    def get_weights(self) -> list[np.ndarray]:
        return self._layers[0].get_weights()

    def set_weights(self, weights: Sequence[Any]) -> None:
        for own, new in zip(self._layers[0].weights, weights, strict=True):
            own[...] = new

    def save(
        self,
        filepath: str | os.PathLike[str],
        overwrite: bool = True,
        include_optimizer: bool = True,
        *,
        metadata: Mapping[str, Any] | None = None,
        jobs: Any = None,
    ) -> None:
        state = {"lr": self._optimizer.lr, "metadata": dict(metadata or {})}
        if include_optimizer:
            state["rng"] = self.rng.bit_generator.state
        self._write(filepath, overwrite, state)

    def save_weights(
        self, filepath: str | os.PathLike[str], overwrite: bool = True, *, jobs: Any = None
    ) -> None:
        self._write(filepath, overwrite, None)

    def restore(self, filepath: str | os.PathLike[str]) -> dict[str, Any]:
        try:
            with np.load(filepath, allow_pickle=False) as f:
                self.set_weights([f["kernel"], f["bias"]])
                state = json.loads(str(f["state"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise FormatError(f"{filepath}: not a MinimalHost file ({exc}).") from None
        self._optimizer.lr = state["lr"]
        if "rng" in state:
            self.rng.bit_generator.state = state["rng"]
        return dict(state["metadata"])

    def load_weights(self, filepath: str | os.PathLike[str]) -> None:
        """Load the weights `save` or `save_weights` wrote (for tests)."""
        with np.load(filepath, allow_pickle=False) as f:
            self.set_weights([f["kernel"], f["bias"]])

    def _write(
        self, filepath: str | os.PathLike[str], overwrite: bool, state: dict[str, Any] | None
    ) -> None:
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(filepath)
        kernel, bias = self.get_weights()
        with atomic_file(filepath) as temp, open(temp, "wb") as f:
            np.savez(f, kernel=kernel, bias=bias, state=json.dumps(state))

    # -- the Keras training API ----------------------------------------------------

    def fit(
        self,
        x: Any,
        y: Any,
        batch_size: int = 32,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Any = None,
        validation_split: float = 0.0,
        validation_data: tuple[Any, Any] | None = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        config: Any = None,
    ) -> Any:
        """Train, calling the plugins' hooks as Keras does; return the History."""
        batch_size = inputs.batch_size(batch_size)
        args = preamble.fit_arguments("fit", epochs, initial_epoch, verbose, shuffle, None)
        x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        val = validation_data
        if val is None and validation_split:
            (x, y), val = inputs.split_validation((x, y), validation_split)
        fit = preamble.start_fit(
            self,
            args,
            callbacks=callbacks,
            config=config,
            steps=-(-len(x) // batch_size),
            batch_size=batch_size,
            metrics=["loss", "acc"] if self.with_acc else ["loss"],
            samples=len(x),
            validation=None if val is None else list(val),
        )
        self.stop_training, self.interrupted = False, False
        logs: dict[str, Any] = {}
        with fit.running(self) as run:
            self._run = run
            try:
                try:
                    run.fire(run.on_train_begin, {})
                    for epoch in range(self.initial_epoch, args.epochs):
                        if self.stop_training:
                            break
                        fit.policy.update()
                        run.fire(run.on_epoch_begin, epoch, {})
                        logs = self._epoch(run, x, y, batch_size, args.shuffle)
                        if val is not None:
                            val_logs = self._evaluate(run, *val, batch_size)
                            logs.update((f"val_{k}", v) for k, v in val_logs.items())
                        run.fire(run.on_epoch_end, epoch, logs)
                except BaseException:
                    self.interrupted = True
                    run.fire_all(run.on_train_end, {})
                    raise
                run.fire_all(run.on_train_end, dict(logs))
            finally:
                self._run = None
        return self.history

    def evaluate(
        self, x: Any, y: Any, batch_size: int = 32, verbose: int = 1, callbacks: Any = None
    ) -> Any:
        """The loss (and accuracy), calling the test hooks."""
        x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        params = {"batch_size": batch_size, "samples": len(x), "verbose": verbose}
        params["steps"] = -(-len(x) // batch_size)
        logs = self._evaluate(self._start(callbacks, None, verbose, params), x, y, batch_size)
        return [logs["loss"], logs["acc"]] if self.with_acc else logs["loss"]

    def predict(
        self, x: Any, batch_size: int = 32, verbose: int = 0, callbacks: Any = None
    ) -> np.ndarray:
        """The class probabilities, calling the predict hooks."""
        x = np.asarray(x, np.float32)
        steps = -(-len(x) // batch_size)
        params = {"batch_size": batch_size, "samples": len(x), "verbose": verbose, "steps": steps}
        run = self._start(callbacks, None, verbose, params)
        run.fire(run.on_predict_begin, {})
        outputs = []
        for batch, start in enumerate(range(0, len(x), batch_size)):
            xb = x[start : start + batch_size]
            run.fire(run.on_predict_batch_begin, batch, {"batch": batch, "size": len(xb)})
            outputs.append(self._forward(xb))
            logs = {"batch": batch, "size": len(xb), "outputs": outputs[-1]}
            run.fire(run.on_predict_batch_end, batch, logs)
        run.fire_all(run.on_predict_end, {})
        return np.concatenate(outputs)

    # -- the numerics ----------------------------------------------------------------

    def _start(self, callbacks: Any, config: Any, verbose: int, params: dict[str, Any]) -> Run:
        return preamble.open_run(self, callbacks, config, verbose, params)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        kernel, bias = self._layers[0].weights
        z = x @ kernel + bias
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return np.asarray(z / z.sum(axis=1, keepdims=True))

    def _metrics(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        out = self._forward(x)
        logs = {"loss": float(-np.mean(np.sum(y * np.log(np.clip(out, 1e-7, 1)), axis=1)))}
        if self.with_acc:
            logs["acc"] = float(np.mean(out.argmax(1) == y.argmax(1)))
        return out, logs

    def _epoch(
        self, run: Run, x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool
    ) -> dict[str, Any]:
        order = self.rng.permutation(len(x)) if shuffle else np.arange(len(x))
        totals: dict[str, float] = {}
        for batch, start in enumerate(range(0, len(x), batch_size)):
            index = order[start : start + batch_size]
            xb, yb = x[index], y[index]
            run.fire(run.on_batch_begin, batch, {"batch": batch, "size": len(xb)})
            out, logs = self._metrics(xb, yb)
            kernel, bias = self._layers[0].weights
            grad = (out - yb) / len(xb)
            kernel -= np.float32(self._optimizer.lr) * (xb.T @ grad)
            bias -= np.float32(self._optimizer.lr) * grad.sum(axis=0)
            for key, value in logs.items():
                totals[key] = totals.get(key, 0.0) + value * len(xb)
            run.fire(run.on_batch_end, batch, {"batch": batch, "size": len(xb), **logs})
            if self.stop_training:
                break
        seen = min(len(x), (batch + 1) * batch_size)
        return {key: total / seen for key, total in totals.items()}

    def _evaluate(self, run: Run, x: Any, y: Any, batch_size: int) -> dict[str, float]:
        x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        run.fire(run.on_test_begin, {})
        totals: dict[str, float] = {}
        for batch, start in enumerate(range(0, len(x), batch_size)):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            run.fire(run.on_test_batch_begin, batch, {"batch": batch, "size": len(xb)})
            _, logs = self._metrics(xb, yb)
            for key, value in logs.items():
                totals[key] = totals.get(key, 0.0) + value * len(xb)
            run.fire(run.on_test_batch_end, batch, {"batch": batch, "size": len(xb), **logs})
        results = {key: total / len(x) for key, total in totals.items()}
        run.fire_all(run.on_test_end, dict(results))
        return results
