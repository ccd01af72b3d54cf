"""`Plugins`: hookfit's plugins as one Lightning callback."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

import hookfit
from hookfit.errors import ConfigError
from hookfit.hooks.dispatch import Run, hooks_of

from ._framework import pl
from .host import LightningHost, start_at

# hookfit's defaults that Lightning replaces with its own (its logged
# metrics, its progress bar): not run unless named in code.
REPLACED = ("history", "base_logger", "progbar_logger")
_BATCH_HOOKS = {"on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end"}


class Plugins(pl.Callback):
    """hookfit's plugins as a Lightning ``Callback``.

    Resolves ``hookfit.plan(callbacks, config=config)`` at once, so that a
    bad name, argument or config file is refused here, before any training,
    with hookfit's message; History, BaseLogger and ProgbarLogger are left
    out (Lightning has its own) unless ``callbacks`` names them. Plugins see
    the module and trainer only through `hookfit_lightning.LightningHost`.

    Epoch logs are ``trainer.callback_metrics`` after validation, as floats,
    under the names the module logged; batch logs hold ``batch``, ``size``
    and the step's ``loss``. Under DDP, plugins that declare ``writes =
    True`` run on rank 0 only, and a stop asked on any rank stops every rank
    at the same epoch.

    Args:
        callbacks: Plugin objects or installed plugin names, as hookfit's
            ``fit(callbacks=...)`` takes them.
        config: A config file's path or a dict in its form (only its
            ``[callbacks]`` and ``[hookfit]`` tables apply to Lightning).

    Raises:
        ConfigError: A bad argument or setting; PluginNotFoundError,
            PluginLoadError as `hookfit.plan` raises them.

    Example:
        >>> trainer = pl.Trainer(max_epochs=20, callbacks=[Plugins(["early_stopping"])])
    """

    def __init__(self, callbacks: Iterable[Any] = (), *, config: Any = None) -> None:
        super().__init__()
        if isinstance(callbacks, str | bytes) or not isinstance(callbacks, Iterable):
            raise ConfigError(
                f"Plugins: callbacks must be a list of plugin objects or names, got "
                f"{callbacks!r}. Wrap one plugin in a list: Plugins(['early_stopping'])."
            )
        plan = hookfit.plan(callbacks, config=config, verbose=0)
        self.config = config
        self.source = "code"  # "HOOKFIT_CONFIG" when the factory made it
        self.entries = [p for p in plan.plugins if p.name not in REPLACED or p.why == "code"]
        self.host: LightningHost | None = None
        self.run: Run | None = None
        self._stage: str | None = None
        self._logs: dict[str, float] = {}
        self._pending: dict[str, Any] = {}
        # From every plugin, not this rank's: all ranks must agree on when
        # they make the collective call that agrees on a stop.
        self._batch_stops = any(_BATCH_HOOKS & set(hooks_of(p.obj)) for p in self.entries)

    @property
    def state_key(self) -> str:
        """The key of this callback's state in a Lightning checkpoint: its
        resumable plugins' names (and where it comes from), so that a resume
        with other, stateless plugins still finds the state, and two Plugins
        in one Trainer (one from HOOKFIT_CONFIG) keep theirs apart."""
        names = sorted(hookfit.resumable(self.plugins))
        return self._generate_state_key(resumable=names, source=self.source)

    @property
    def plugins(self) -> Mapping[str, Any]:
        """The plugins, by name (on every rank, writing ones included)."""
        return {p.name: p.obj for p in self.entries}

    # -- opening and closing runs ---------------------------------------------------

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if self.host is None or self.host.module is not pl_module:
            self.host = LightningHost(pl_module)
        self.host.attach(trainer)

    def _open(self, trainer: Any, stage: str, params: dict[str, Any]) -> Run:
        host = self._host()
        self.run = run = Run(self.entries, host, params, rank=trainer.global_rank)
        self._stage = stage
        host.plugins, host.interrupted = run.plugins, False
        return run

    def _close(self) -> Run:
        run, self.run, self._stage = self.run, None, None
        self._host().plugins = {}
        assert run is not None  # every end hook follows its start hook
        return run

    def _host(self) -> LightningHost:
        assert self.host is not None  # setup() runs before every other hook
        return self.host

    # -- fit ---------------------------------------------------------------------------

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        validates = trainer.limit_val_batches != 0 and _overridden("validation_step", pl_module)
        params = {
            "epochs": trainer.max_epochs,
            "steps": trainer.num_training_batches,
            "verbose": 0,
            "do_validation": bool(validates),
        }
        host = self._host()
        host.history = None
        host._initial_epoch = start = trainer.current_epoch
        run = self._open(trainer, "fit", params)
        run.fire(run.on_train_begin, {})
        # Lightning's own resume (ckpt_path) loaded the plugins' state before
        # on_train_begin, which resets it: give it back now.
        for name, state in self._pending.items():
            if name in run.plugins:
                run.plugins[name].load_state_dict(state)
        self._pending = {}
        if host.distributed:
            self._share_resume(trainer, pl_module, start)
            host.agree()

    def _share_resume(self, trainer: Any, pl_module: Any, start: int) -> None:
        # A resume (BackupAndRestore) writes, so it ran on rank 0 only: its
        # epoch, weights and optimizer state go to every rank.
        epoch = trainer.strategy.broadcast(trainer.current_epoch, src=0)
        if epoch == start:
            return
        state = trainer.strategy.broadcast(
            (pl_module.state_dict(), [o.state_dict() for o in trainer.optimizers]), src=0
        )
        pl_module.load_state_dict(state[0])
        for optimizer, saved in zip(trainer.optimizers, state[1], strict=True):
            optimizer.load_state_dict(saved)
        self._host()._initial_epoch = epoch
        start_at(trainer, epoch)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if self.run is not None and self.run.on_epoch_begin:
            self.run.fire(self.run.on_epoch_begin, trainer.current_epoch, {})

    def on_train_batch_start(
        self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int
    ) -> None:
        run = self.run
        if run is not None and run.on_batch_begin:
            run.fire(run.on_batch_begin, batch_idx, {"batch": batch_idx, "size": _size(batch)})

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        run = self.run
        if run is None:
            return
        if run.on_batch_end:
            logs = {"batch": batch_idx, "size": _size(batch), **_loss(outputs)}
            run.fire(run.on_batch_end, batch_idx, logs)
        if self._batch_stops and self._host().distributed:
            self._host().agree()

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.run is None:
            return
        self._logs = logs = metrics(trainer)
        self.run.fire(self.run.on_epoch_end, trainer.current_epoch, logs)
        if self._host().distributed:
            self._host().agree()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self._stage == "fit":
            run = self._close()
            run.fire_all(run.on_train_end, dict(self._logs))

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        if self._stage == "fit":
            self._host().interrupted = True
            run = self._close()
            run.fire_all(run.on_train_end, {})

    # -- validation, test and predict ----------------------------------------------------

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        if self._stage is None:  # trainer.validate(): an evaluation of its own
            self._open(trainer, "validate", _eval_params(trainer.num_val_batches))
        self._test_begin()

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        self._open(trainer, "test", _eval_params(trainer.num_test_batches))
        self._test_begin()

    def _test_begin(self) -> None:
        run = self.run
        if run is not None:
            run.fire(run.on_test_begin, {})

    def on_validation_batch_start(
        self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        self._test_batch(trainer, "on_test_batch_begin", batch, batch_idx, None)

    def on_validation_batch_end(
        self,
        trainer: Any,
        pl_module: Any,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._test_batch(trainer, "on_test_batch_end", batch, batch_idx, outputs)

    # trainer.test's batches fire the same test hooks as validation's
    on_test_batch_start = on_validation_batch_start
    on_test_batch_end = on_validation_batch_end

    def _test_batch(self, trainer: Any, hook: str, batch: Any, index: int, outputs: Any) -> None:
        entries = getattr(self.run, hook) if self.run is not None else None
        if entries and not trainer.sanity_checking:
            logs = {"batch": index, "size": _size(batch), **_loss(outputs)}
            Run.fire(entries, index, logs)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self.run is None or trainer.sanity_checking:
            return
        run = self._close() if self._stage == "validate" else self.run
        run.fire_all(run.on_test_end, metrics(trainer))

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        if self._stage == "test":
            run = self._close()
            run.fire_all(run.on_test_end, metrics(trainer))

    def on_predict_start(self, trainer: Any, pl_module: Any) -> None:
        run = self._open(trainer, "predict", _eval_params(trainer.num_predict_batches))
        run.fire(run.on_predict_begin, {})

    def on_predict_batch_start(
        self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        if self.run is not None and self.run.on_predict_batch_begin:
            logs = {"batch": batch_idx, "size": _size(batch)}
            self.run.fire(self.run.on_predict_batch_begin, batch_idx, logs)

    def on_predict_batch_end(
        self,
        trainer: Any,
        pl_module: Any,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.run is not None and self.run.on_predict_batch_end:
            logs = {"batch": batch_idx, "size": _size(batch), "outputs": _numpy(outputs)}
            self.run.fire(self.run.on_predict_batch_end, batch_idx, logs)

    def on_predict_end(self, trainer: Any, pl_module: Any) -> None:
        if self._stage == "predict":
            run = self._close()
            run.fire_all(run.on_predict_end, {})

    # -- checkpoints ---------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The state of every resumable plugin (`hookfit.resumable`), by name."""
        return {name: p.state_dict() for name, p in hookfit.resumable(self.plugins).items()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Keep the plugins' state until the next ``on_train_begin`` has run."""
        self._pending = dict(state_dict)

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> None:
        if self.host is not None:
            self.host.add_metadata(checkpoint)


def metrics(trainer: Any) -> dict[str, float]:
    """``trainer.callback_metrics`` as floats, under the names the module
    logged; the training ones first, then the ``val_`` ones, as in Keras."""
    out = {}
    items = sorted(trainer.callback_metrics.items(), key=lambda kv: kv[0].startswith("val_"))
    for key, value in items:
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            out[key] = float(value.item())
        elif isinstance(value, int | float):
            out[key] = float(value)
    return out


def _eval_params(batches: Any) -> dict[str, Any]:
    steps = sum(batches) if isinstance(batches, list | tuple) else batches
    return {"steps": int(steps) if steps != float("inf") else None, "verbose": 0}


def _overridden(method: str, module: Any) -> bool:
    return getattr(type(module), method, None) is not getattr(pl.LightningModule, method, None)


def _size(batch: Any) -> int:
    """The samples in a batch: the length of its first tensor."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, Mapping):
        batch = list(batch.values())
    if isinstance(batch, list | tuple):
        for item in batch:
            if isinstance(item, torch.Tensor | list | tuple | Mapping):
                return _size(item)
    return 1


def _loss(outputs: Any) -> dict[str, float]:
    """The step's ``loss`` from what a step returned (a tensor or a dict)."""
    if isinstance(outputs, Mapping):
        outputs = outputs.get("loss")
    if isinstance(outputs, torch.Tensor) and outputs.numel() == 1:
        return {"loss": float(outputs.detach().item())}
    return {}


def _numpy(outputs: Any) -> Any:
    return outputs.detach().cpu().numpy() if isinstance(outputs, torch.Tensor) else outputs
