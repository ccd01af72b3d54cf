"""The host protocol (`hookfit.hooks.host.ResumableHost`) over a
LightningModule and its Trainer: all plugins ever see of Lightning."""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from hookfit.errors import FormatError, ModelError
from hookfit.saving.atomic import atomic_file

from ._framework import pl

METADATA = "hookfit_metadata"  # the checkpoint key `save` puts plugins' metadata under


class Optimizer:
    """A torch optimizer as plugins see it: ``lr`` reads the first param
    group's learning rate and sets every group's."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.torch = optimizer

    @property
    def lr(self) -> float:
        return float(self.torch.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.torch.param_groups:
            group["lr"] = float(value)


class Layer:
    """A submodule that holds parameters of its own, as plugins see it
    (`hookfit.hooks.host.NamedWeights`).

    Attributes:
        name: Its qualified name in the LightningModule (``"net.0"``).
        weight_names: Its parameters' names (``("weight", "bias")``).
    """

    def __init__(self, name: str, module: torch.nn.Module) -> None:
        self.name = name
        self.module = module
        self.weight_names = tuple(n for n, _ in module.named_parameters(recurse=False))

    def parameters(self) -> list[torch.nn.Parameter]:
        """Its own parameters, in order."""
        return list(self.module.parameters(recurse=False))

    def get_weights(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy().copy() for p in self.parameters()]


def layers_of(module: torch.nn.Module) -> list[Layer]:
    """The submodules with parameters of their own, in `named_modules` order."""
    return [
        Layer(name or type(module).__name__, sub)
        for name, sub in module.named_modules()
        if next(sub.parameters(recurse=False), None) is not None
    ]


class LightningHost:
    """A LightningModule (and, during a run, its Trainer) as a hookfit host.

    ``stop_training`` is the Trainer's ``should_stop`` (under DDP, see
    `hookfit_lightning.Plugins`); ``optimizer`` the first optimizer; the
    weights are the module's parameters as numpy arrays; `save` writes a
    Lightning checkpoint atomically.

    Args:
        module: The LightningModule.
        trainer: Its Trainer, once one runs it (`attach`).
    """

    def __init__(self, module: Any, trainer: Any = None) -> None:
        self.module = module
        self.trainer = trainer
        self.history: Any = None
        self.interrupted = False
        self.plugins: Mapping[str, Any] = {}
        self._initial_epoch = 0
        self._stop = False
        self._local_stop = False  # a stop asked on this rank, not yet agreed (DDP)
        self._metadata: dict[str, Any] | None = None
        self._layers: list[Layer] | None = None

    def attach(self, trainer: Any) -> None:
        """Run with ``trainer`` from now on."""
        self.trainer = trainer
        self._local_stop = False

    # -- stopping -----------------------------------------------------------------

    @property
    def distributed(self) -> bool:
        """True when the Trainer runs more than one process."""
        return self.trainer is not None and self.trainer.world_size > 1

    @property
    def stop_training(self) -> bool:
        if self.trainer is None:
            return self._stop
        return bool(self.trainer.should_stop) or self._local_stop

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        if self.trainer is None:
            self._stop = bool(value)
        elif self.distributed:
            # kept local until the ranks agree (Plugins.agree): a should_stop
            # set on one rank only would leave the others waiting in their
            # next collective call, a hang
            self._local_stop = bool(value)
        else:
            self.trainer.should_stop = bool(value)

    def agree(self) -> None:
        """Make every rank stop if any rank asked to: a collective call that
        every rank must make at the same point of the run.

        Any, not rank 0's decision: ranks may see different metrics (a
        module may log a rank-local ``val_loss``), and a stop asked on any
        rank (a plateau, a NaN) must be honoured, not lost.
        """
        asked = bool(self.trainer.should_stop) or self._local_stop
        self.trainer.should_stop = self.trainer.strategy.reduce_boolean_decision(asked, all=False)
        self._local_stop = False

    # -- the optimizer and the weights -----------------------------------------------

    @property
    def optimizer(self) -> Optimizer | None:
        optimizers = self.trainer.optimizers if self.trainer is not None else []
        return Optimizer(optimizers[0]) if optimizers else None

    @property
    def layers(self) -> Sequence[Layer]:
        # made once: a name a plugin or user gives a layer stays
        if self._layers is None:
            self._layers = layers_of(self.module)
        return self._layers

    def get_weights(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy().copy() for p in self.module.parameters()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        params = list(self.module.parameters())
        if len(weights) != len(params):
            raise ModelError(
                f"set_weights: got {len(weights)} arrays, and {type(self.module).__name__} has "
                f"{len(params)} parameters. Pass a list like get_weights() returns."
            )
        for i, (param, value) in enumerate(zip(params, weights, strict=True)):
            if tuple(np.shape(value)) != tuple(param.shape):
                raise ModelError(
                    f"set_weights: array {i} has shape {tuple(np.shape(value))}, and its "
                    f"parameter {tuple(param.shape)}. Pass a list like get_weights() returns."
                )
        with torch.no_grad():
            for param, value in zip(params, weights, strict=True):
                param.copy_(torch.as_tensor(np.asarray(value), dtype=param.dtype))

    # -- files -------------------------------------------------------------------------

    def save(
        self,
        filepath: str | os.PathLike[str],
        overwrite: bool = True,
        include_optimizer: bool = True,
        *,
        metadata: Mapping[str, Any] | None = None,
        jobs: Any = None,
    ) -> None:
        """Write a Lightning checkpoint (``Trainer(...).fit(ckpt_path=...)``
        and ``load_from_checkpoint`` read it) atomically, at once."""
        self._write(filepath, overwrite, not include_optimizer, dict(metadata or {}))

    def save_weights(
        self, filepath: str | os.PathLike[str], overwrite: bool = True, *, jobs: Any = None
    ) -> None:
        """Write a weights-only Lightning checkpoint atomically, at once."""
        self._write(filepath, overwrite, True, {})

    def _write(
        self,
        filepath: str | os.PathLike[str],
        overwrite: bool,
        weights_only: bool,
        metadata: dict[str, Any],
    ) -> None:
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(filepath)
        self._metadata = metadata
        try:
            if self.trainer is not None and self.trainer.lightning_module is self.module:
                # Not trainer.save_checkpoint: it ends in a barrier of all
                # ranks, and writing plugins run on rank 0 only.
                checkpoint = self.trainer._checkpoint_connector.dump_checkpoint(weights_only)
            else:  # no run yet: what load_from_checkpoint needs
                checkpoint = {"state_dict": self.module.state_dict(), METADATA: metadata}
                checkpoint["pytorch-lightning_version"] = pl.__version__
        finally:
            self._metadata = None
        with atomic_file(filepath) as temp:
            torch.save(checkpoint, temp)

    def add_metadata(self, checkpoint: dict[str, Any]) -> None:
        """Put the metadata of the `save` in progress into ``checkpoint``."""
        if self._metadata is not None:
            checkpoint[METADATA] = self._metadata

    def restore(self, filepath: str | os.PathLike[str]) -> dict[str, Any]:
        """Load the weights and optimizer state a `save` wrote; return its metadata.

        Raises:
            FormatError: Not a checkpoint of this module.
        """
        try:
            checkpoint = torch.load(filepath, map_location="cpu", weights_only=False)
            self.module.load_state_dict(checkpoint["state_dict"])
        except (
            OSError,
            RuntimeError,
            KeyError,
            TypeError,
            EOFError,
            pickle.UnpicklingError,
        ) as exc:
            raise FormatError(
                f"{os.fspath(filepath)}: not a Lightning checkpoint of "
                f"{type(self.module).__name__} ({type(exc).__name__}: {exc})."
            ) from None
        optimizers = self.trainer.optimizers if self.trainer is not None else []
        # weights-only checkpoints hold no optimizer state: the optimizers keep theirs
        for optimizer, state in zip(
            optimizers, checkpoint.get("optimizer_states", ()), strict=False
        ):
            optimizer.load_state_dict(state)
        return dict(checkpoint.get(METADATA) or {})

    # -- resuming ----------------------------------------------------------------------

    @property
    def initial_epoch(self) -> int:
        return self._initial_epoch

    @initial_epoch.setter
    def initial_epoch(self, epoch: int) -> None:
        self._initial_epoch = int(epoch)
        if self.trainer is not None:
            start_at(self.trainer, int(epoch))


def start_at(trainer: Any, epoch: int) -> None:
    """Make ``trainer``'s fit loop continue at ``epoch`` (from
    ``on_train_start``, before the first epoch begins): its epoch counters
    are what Lightning's own resume from a checkpoint sets."""
    current = trainer.fit_loop.epoch_progress.current
    current.ready = current.started = current.processed = current.completed = epoch
