"""``--hookfit-host=lightning``: hookfit's testing model, trained by Lightning.

`make_model` builds what the ``hookfit_model`` fixture builds on hookfit
(8 inputs -> 16 relu -> 3 softmax, categorical cross-entropy), as a real
LightningModule that logs hookfit's names (``loss``, ``acc``, ``val_loss``,
``val_acc``), inside an object with hookfit's training API whose `fit` runs
a real ``Trainer`` with `Plugins(callbacks, config=config)`. Plugin suites
then run unchanged on Lightning.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.nn import functional

import hookfit
from hookfit.errors import ConfigError
from hookfit.trainer import inputs, preamble

from ._framework import pl
from .host import LightningHost, Optimizer, start_at
from .plugins import Plugins

OPTIMIZERS = {"sgd": (torch.optim.SGD, 0.01), "adam": (torch.optim.Adam, 0.001)}


class TinyModule(pl.LightningModule):
    """8 -> 16 relu -> 3 softmax, with categorical cross-entropy on one-hot targets.

    Args:
        optimizer: ``"sgd"`` (lr 0.01), ``"adam"`` (lr 0.001), or an object
            with ``lr`` (hookfit's ``SGD(lr=0.5)``: SGD at that rate).
        metrics: ``("accuracy",)`` to log ``acc``; empty for the loss only.
        seed: Seeds the initial weights.
    """

    def __init__(
        self, optimizer: Any = "sgd", metrics: Sequence[str] = ("accuracy",), seed: int = 0
    ) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
        )
        self.with_acc = bool(metrics)
        if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
            kind, lr = OPTIMIZERS[optimizer.lower()]
        elif isinstance(getattr(optimizer, "lr", None), int | float):
            kind = torch.optim.Adam if type(optimizer).__name__ == "Adam" else torch.optim.SGD
            lr = float(optimizer.lr)
        else:
            raise ConfigError(
                f"make_model: optimizer {optimizer!r} is not known; use 'sgd', 'adam' or an "
                "optimizer object with an lr."
            )
        # one optimizer for every fit, as a compiled Keras model keeps its own
        self.optimizer = kind(self.parameters(), lr=lr)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)

    def _step(self, batch: Any, prefix: str) -> torch.Tensor:
        x, y = batch
        logits = self.net(x)
        loss = functional.cross_entropy(logits, y)
        self.log(f"{prefix}loss", loss, on_step=False, on_epoch=True, batch_size=len(x))
        if self.with_acc:
            acc = (logits.argmax(1) == y.argmax(1)).float().mean()
            self.log(f"{prefix}acc", acc, on_step=False, on_epoch=True, batch_size=len(x))
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "")

    def validation_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "val_")

    def test_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "")

    def predict_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self(batch[0])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.optimizer


class _StartAt(pl.Callback):
    """``fit(initial_epoch=N)``: Lightning has no such argument; this starts
    the fit loop at N before the plugins' ``on_train_begin``."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        start_at(trainer, self.epoch)


class LightningModel(LightningHost):
    """A `TinyModule` with hookfit's training API, trained by Lightning.

    Attributes:
        module: The LightningModule.
    """

    def __init__(self, module: TinyModule) -> None:
        super().__init__(module)

    @property
    def optimizer(self) -> Optimizer:
        return Optimizer(self.module.optimizer)

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
        """Train with a Lightning ``Trainer`` and `Plugins`; return the History."""
        batch_size = inputs.batch_size(batch_size)
        args = preamble.fit_arguments("fit", epochs, initial_epoch, verbose, shuffle, None)
        x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        val = validation_data
        if val is None and validation_split:
            (x, y), val = inputs.split_validation((x, y), validation_split)
        listed = list(callbacks or ())
        # hookfit's fit returns the History when the plan has it on; Plugins
        # leaves it out unless named in code, so it is named here
        planned = hookfit.plan(listed, config=config, verbose=0, build=False)
        if any(p.name == "history" and p.why != "code" for p in planned.plugins):
            listed.append("history")
        plugins = Plugins(listed, config=config)
        plugins.host = self
        trainer = _trainer(args.epochs, [_StartAt(args.initial_epoch), plugins])
        self.stop_training = False
        loader = _loader(x, y, batch_size, args.shuffle)
        with _quiet():
            trainer.fit(
                self.module, loader, None if val is None else _loader(*val, batch_size, False)
            )
        return self.history

    def evaluate(
        self, x: Any, y: Any, batch_size: int = 32, verbose: int = 1, callbacks: Any = None
    ) -> Any:
        """The loss (and accuracy) from ``trainer.test``, calling the test hooks."""
        plugins = Plugins(list(callbacks or ()))
        plugins.host = self
        trainer = _trainer(1, [plugins])
        with _quiet():
            (results,) = trainer.test(self.module, _loader(x, y, batch_size, False), verbose=False)
        return [results["loss"], results["acc"]] if self.module.with_acc else results["loss"]

    def predict(
        self, x: Any, batch_size: int = 32, verbose: int = 0, callbacks: Any = None
    ) -> np.ndarray:
        """The class probabilities from ``trainer.predict``, calling the predict hooks."""
        plugins = Plugins(list(callbacks or ()))
        plugins.host = self
        x = np.asarray(x, np.float32)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(x)), batch_size=batch_size
        )
        with _quiet():
            outputs = _trainer(1, [plugins]).predict(self.module, loader)
        return np.concatenate([o.numpy() for o in outputs or ()])

    def load_weights(self, filepath: Any) -> None:
        """Load the weights of a checkpoint `save` or `save_weights` wrote."""
        self.restore(filepath)


def _trainer(epochs: int, callbacks: list[Any]) -> Any:
    return pl.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )


class EpochShuffle(torch.utils.data.Sampler[int]):
    """Shuffles each epoch from ``(seed, epoch)`` alone, as Lightning's
    DistributedSampler does (Lightning calls ``set_epoch``): a run resumed at
    epoch N draws the order the uninterrupted run drew at N."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())

    def __len__(self) -> int:
        return self.size


def _loader(x: Any, y: Any, batch_size: int, shuffle: bool) -> Any:
    data = torch.utils.data.TensorDataset(
        torch.from_numpy(np.asarray(x, np.float32)), torch.from_numpy(np.asarray(y, np.float32))
    )
    sampler = EpochShuffle(len(data)) if shuffle else None
    return torch.utils.data.DataLoader(data, batch_size=batch_size, sampler=sampler)


@contextmanager
def _quiet() -> Iterator[None]:
    """Lightning's own warnings, none of them a plugin's doing: 2.6 on torch
    2.13 warns of its use of a deprecated torch API at every step, and of
    `TinyModule`'s ``validation_step`` in a fit without validation data
    (hookfit's ordinary case)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", r"`isinstance\(treespec, LeafSpec\)` is deprecated", FutureWarning
        )
        warnings.filterwarnings(
            "ignore", r"You defined a `validation_step` but have no `val_dataloader`"
        )
        yield


def make_model(
    optimizer: Any = "sgd", metrics: Sequence[str] = ("accuracy",), seed: int = 0
) -> LightningModel:
    """The ``hookfit_model`` fixture's model on Lightning (``--hookfit-host=lightning``).

    Torch uses one thread: the models are tiny, and test workers run side by side.
    """
    torch.set_num_threads(1)
    return LightningModel(TinyModule(optimizer, metrics, seed))
