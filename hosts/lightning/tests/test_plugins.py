"""hookfit_lightning.Plugins in a real Lightning Trainer: what plugins see."""

from pathlib import Path

import numpy as np
import pytest
import torch

import hookfit
from hookfit.errors import ConfigError, FormatError, ModelError, PluginNotFoundError
from hookfit.testing import Inject, Recorder
from hookfit_lightning import LightningHost, Plugins
from hookfit_lightning._framework import pl
from hookfit_lightning.testing import TinyModule, _loader, make_model


def trainer_for(plugins, epochs=2, **options):
    options = {
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
        **options,
    }
    return pl.Trainer(max_epochs=epochs, accelerator="cpu", callbacks=[plugins], **options)


def fit(data, callbacks, epochs=2, module=None, config=None, **options):
    x, y = data
    module = module or TinyModule()
    plugins = Plugins(callbacks, config=config)
    trainer = trainer_for(plugins, epochs, **options)
    trainer.fit(module, _loader(x, y, 16, False), _loader(x[:16], y[:16], 16, False))
    return trainer, plugins, module


class StopAt(hookfit.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.stop_training = True


def test_epoch_logs_are_the_callback_metrics_after_validation(hookfit_data):
    recorder = Recorder()
    trainer, _, _ = fit(hookfit_data, [recorder], epochs=1)
    ((_, (epoch, logs)),) = [c for c in recorder.calls if c[0] == "on_epoch_end"]
    assert epoch == 0
    assert set(logs) == {"loss", "acc", "val_loss", "val_acc"}
    assert logs == {k: float(v) for k, v in trainer.callback_metrics.items()}
    assert all(type(v) is float for v in logs.values())


def test_batch_logs_carry_the_steps_loss(hookfit_data):
    recorder = Recorder()
    fit(hookfit_data, [recorder], epochs=1)
    batches = [args[1] for hook, args in recorder.calls if hook == "on_batch_end"]
    assert len(batches) == 4  # 64 samples, batches of 16
    assert [b["batch"] for b in batches] == [0, 1, 2, 3]
    assert all(b["size"] == 16 and type(b["loss"]) is float for b in batches)


def test_history_base_logger_and_progbar_logger_are_not_run():
    plugins = Plugins(config={"hookfit": {"enable": ["progbar_logger"]}})
    assert not {"history", "base_logger", "progbar_logger"} & set(plugins.plugins)
    assert list(Plugins(["history"]).plugins) == ["history"]  # named in code: runs


def test_a_stop_asked_by_a_plugin_is_the_trainers_should_stop(hookfit_data):
    recorder = Recorder()
    trainer, _, _ = fit(hookfit_data, [StopAt(1), recorder], epochs=5)
    assert trainer.should_stop
    assert [a[0] for h, a in recorder.calls if h == "on_epoch_end"] == [0, 1]


def test_early_stopping_stops_lightning_at_the_plateau(hookfit_data):
    es = hookfit.callbacks.EarlyStopping(monitor="val_loss", patience=1)
    inject = Inject("val_loss", [1.0, 0.5, 0.6, 0.7, 0.8])
    fit(hookfit_data, [inject, es], epochs=5)
    assert inject.epochs == [0, 1, 2] and es.stopped_epoch == 2


def test_optimizer_lr_sets_every_param_group_of_the_first_optimizer(hookfit_data):
    module = TinyModule()
    first, second = list(module.net[0].parameters()), list(module.net[2].parameters())
    module.optimizer = torch.optim.SGD([{"params": first}, {"params": second, "lr": 0.5}], lr=0.1)
    seen = []

    class Halve(hookfit.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.optimizer.lr)
            self.model.optimizer.lr = self.model.optimizer.lr / 2

    fit(hookfit_data, [Halve()], epochs=2, module=module)
    assert seen == [0.1, 0.05]
    assert [g["lr"] for g in module.optimizer.param_groups] == [0.025, 0.025]


def test_weights_are_the_modules_parameters_as_numpy():
    module = TinyModule()
    host = LightningHost(module)
    weights = host.get_weights()
    assert [w.shape for w in weights] == [(16, 8), (16,), (3, 16), (3,)]
    assert all(isinstance(w, np.ndarray) for w in weights)
    assert [(layer.name, layer.weight_names) for layer in host.layers] == [
        ("net.0", ("weight", "bias")),
        ("net.2", ("weight", "bias")),
    ]
    host.set_weights([np.ones_like(w) for w in weights])
    assert all(bool((p == 1).all()) for p in module.parameters())


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([np.zeros((16, 8))], r"got 1 arrays, and TinyModule has 4 parameters"),
        ([np.zeros((8, 16)), np.zeros(16), np.zeros((3, 16)), np.zeros(3)], r"array 0 has shape"),
    ],
    ids=["count", "shape"],
)
def test_weights_that_do_not_fit_are_refused(weights, match):
    with pytest.raises(ModelError, match=match):
        LightningHost(TinyModule()).set_weights(weights)


def test_model_checkpoint_writes_a_lightning_checkpoint_atomically(hookfit_data, tmp_path):
    path = tmp_path / "best.h5"  # ModelCheckpoint takes Keras's extensions only
    checkpoint = hookfit.callbacks.ModelCheckpoint(str(path))
    _, _, module = fit(hookfit_data, [checkpoint], epochs=2)
    loaded = TinyModule.load_from_checkpoint(path, seed=5)
    for mine, theirs in zip(module.parameters(), loaded.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    assert [p.name for p in tmp_path.iterdir()] == ["best.h5"]  # no temporary file left
    state = torch.load(path, weights_only=False)
    assert state["epoch"] == 1 and state["optimizer_states"]


def test_save_metadata_comes_back_from_restore(hookfit_data, tmp_path):
    model = make_model()
    model.fit(*hookfit_data, epochs=1, verbose=0)
    model.save(tmp_path / "m.ckpt", metadata={"epoch": 3})
    other = make_model(seed=1)
    assert other.restore(tmp_path / "m.ckpt") == {"epoch": 3}
    for mine, theirs in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_file_that_is_no_checkpoint_is_refused_by_restore(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(FormatError, match=r"bad.ckpt: not a Lightning checkpoint of TinyModule"):
        LightningHost(TinyModule()).restore(bad)


def test_plugin_state_goes_through_lightnings_checkpoints(hookfit_data, tmp_path):
    es = hookfit.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    trainer, _, _ = fit(hookfit_data, [Inject("val_loss", [1.0, 2.0, 3.0]), es], 3)
    assert es.wait == 2
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    resumed = hookfit.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    seen = []

    class Wait(hookfit.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append((epoch, resumed.wait, resumed.best))

    x, y = hookfit_data
    plugins = Plugins([Inject("val_loss", [4.0]), resumed, Wait()])
    trainer_for(plugins, 4).fit(
        TinyModule(), _loader(x, y, 16, False), _loader(x, y, 16, False),
        ckpt_path=tmp_path / "last.ckpt",
    )  # fmt: skip
    assert seen == [(3, 2, 1.0)]  # restored after EarlyStopping's on_train_begin reset it
    assert resumed.wait == 3


def test_backup_and_restore_resumes_a_lightning_fit_after_its_last_backup(hookfit_data, tmp_path):
    backup = {"backup_dir": str(tmp_path / "backup"), "delete_checkpoint": False}
    first = make_model()
    first.fit(
        *hookfit_data, epochs=2, verbose=0, callbacks=[hookfit.callbacks.BackupAndRestore(**backup)]
    )
    recorder = Recorder()
    second = make_model(seed=1)
    second.fit(
        *hookfit_data, epochs=4, verbose=0,
        callbacks=[hookfit.callbacks.BackupAndRestore(**backup), recorder],
    )  # fmt: skip
    assert [a[0] for h, a in recorder.calls if h == "on_epoch_begin"] == [2, 3]


@pytest.mark.parametrize(
    ("callbacks", "config", "error", "match"),
    [
        ("early_stopping", None, ConfigError, r"Wrap one plugin in a list"),
        (["no_such_plugin"], None, PluginNotFoundError, r"no installed plugin is called"),
        ([], {"callbacks": {"early_stopping": {"patience": -1}}}, ConfigError, r"patience"),
        ([], Path("missing.toml"), ConfigError, r"missing.toml"),
    ],
    ids=["a-string", "unknown-name", "bad-argument", "missing-file"],
)
def test_a_bad_argument_or_config_is_refused_before_any_trainer_runs(
    callbacks, config, error, match
):
    with pytest.raises(error, match=match):
        Plugins(callbacks, config=config)


def test_the_state_key_names_the_resumable_plugins_and_the_source():
    assert (
        Plugins(["early_stopping"]).state_key == Plugins(["early_stopping", Recorder()]).state_key
    )
    assert Plugins(["early_stopping"]).state_key != Plugins(["reduce_lr_on_plateau"]).state_key
