"""The training-control and logging plugins working together with the
default ones, from code, from a config file and from the command."""

import csv
import json
import re

import numpy as np
import pytest

from hookfit.callbacks import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ReduceLROnPlateau,
    TerminateOnNaN,
)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_all_of_them_in_one_fit(hookfit_model, hookfit_data, tmp_path):
    x, y = hookfit_data
    epochs_seen = []
    model = hookfit_model(optimizer="sgd")
    history = model.fit(
        x,
        y,
        epochs=30,
        verbose=0,
        validation_split=0.25,
        callbacks=[
            TerminateOnNaN(),
            ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5, min_delta=10.0),
            EarlyStopping(monitor="val_loss", patience=3, min_delta=10.0),
            CSVLogger(tmp_path / "log.csv"),
            LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch)),
        ],
    )
    # nothing improves by 10: the rate halves every epoch after the first and
    # EarlyStopping stops after 3 epochs without improvement
    assert history.epoch == [0, 1, 2, 3] == epochs_seen
    assert history.history["lr"] == [0.01, 0.01, 0.005, 0.0025]
    assert model.optimizer.lr == 0.00125
    table = rows(tmp_path / "log.csv")
    # ReduceLROnPlateau ran before CSVLogger, so lr is a column from epoch 0
    assert list(table[0]) == ["epoch", "acc", "loss", "lr", "val_acc", "val_loss"]
    assert [float(r["lr"]) for r in table] == history.history["lr"]
    np.testing.assert_allclose([float(r["loss"]) for r in table], history.history["loss"])


def test_a_scheduler_and_a_nan_guard(hookfit_model, hookfit_data, tmp_path, capsys):
    x, y = hookfit_data
    x = x.copy()
    x[40, 0] = np.nan  # the third batch of 16 (no shuffling) has a NaN loss
    history = hookfit_model().fit(
        x,
        y,
        batch_size=16,
        epochs=3,
        verbose=0,
        shuffle=False,
        callbacks=[
            LearningRateScheduler(lambda epoch: 0.5 / (epoch + 1)),
            TerminateOnNaN(),
            CSVLogger(tmp_path / "log.csv"),
        ],
    )
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    assert history.epoch == [0] and history.history["lr"] == [0.5]
    assert [r["epoch"] for r in rows(tmp_path / "log.csv")] == ["0"]


def test_hookfit_train_with_a_config_file(hookfit_cli, tmp_path):
    (tmp_path / "job.toml").write_text(
        "[fit]\nepochs = 12\nverbose = 0\n\n"
        "[callbacks.reduce_lr_on_plateau]\nmonitor = 'val_loss'\npatience = 2\nfactor = 0.5\n\n"
        "[callbacks.csv_logger]\nfilename = '{run_dir}/log.csv'\n\n"
        "[callbacks.lambda_callback]\non_train_end = 'builtins:print'\n"
    )
    result = hookfit_cli("train", "job.toml", "-p", "no:early_stopping")
    assert result.returncode == 0, result.stderr
    run_dir = re.search(r"run directory (runs/\S+)", result.stdout).group(1)
    table = rows(tmp_path / run_dir / "log.csv")
    assert [r["epoch"] for r in table] == [str(i) for i in range(12)]
    assert float(table[0]["lr"]) == 0.001  # rmsprop's default, written by the plugin
    assert f"csv_logger.filename: {run_dir}/log.csv" in result.stdout
    assert "{'val_loss'" in result.stdout or "'val_loss':" in result.stdout  # print(logs)


def test_bundled_example_uses_the_installed_plugins(hookfit_cli, tmp_path):
    result = hookfit_cli("config", "--json")
    settings = {row["key"]: row["value"] for row in json.loads(result.stdout)}
    assert settings["plugins.early_stopping"] == "on"
    assert settings["plugins.csv_logger"] == "on"
    assert settings["plugins.model_checkpoint"] == "on"
    assert settings["plugins.tensorboard"] == "on"
    result = hookfit_cli("train", "--set", "fit.epochs=3", "--set", "fit.verbose=0")
    assert result.returncode == 0, result.stderr
    run_dir = re.search(r"run directory (runs/\S+)", result.stdout).group(1)
    run = tmp_path / run_dir
    assert len(rows(run / "log.csv")) == 3
    assert [p.name for p in (run / "checkpoints").iterdir()]  # the best checkpoint(s)
    assert list((run / "tensorboard" / "train").glob("events.out.tfevents.*"))
    for line in (
        f"csv_logger.filename: {run_dir}/log.csv",
        f"model_checkpoint.filepath: {run_dir}/checkpoints",
        f"tensorboard.log_dir: {run_dir}/tensorboard",
    ):
        assert line in result.stdout


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "callbacks.early_stopping.patience=-1",
            r"^hookfit: error: command line: --set callbacks\.early_stopping\.patience=-1: "
            r"expected an integer >= 0, got -1 \(EarlyStopping's argument patience\)\.$",
        ),
        (
            "callbacks.reduce_lr_on_plateau.factor=1.5",
            r"--set callbacks\.reduce_lr_on_plateau\.factor=1\.5: expected a number > 0 and < 1, "
            r"got 1\.5 \(ReduceLROnPlateau's argument factor\)\.",
        ),
        (
            "callbacks.csv_logger.separator='::'",
            r"--set callbacks\.csv_logger\.separator='::': expected exactly one character other "
            r"than a quote or a line break, got \"::\" \(CSVLogger's argument separator\)\.",
        ),
        (
            "callbacks.early_stopping.mode='maximum'",
            r"--set callbacks\.early_stopping\.mode='maximum': expected one of 'auto', 'min', "
            r"'max', got \"maximum\" \(EarlyStopping's argument mode\)\.",
        ),
    ],
    ids=["patience", "factor", "separator", "mode"],
)
def test_bad_plugin_arguments_from_the_command_line_are_refused(
    setting, message, hookfit_cli, tmp_path
):
    args = [part for s in setting.split(" --set ") for part in ("--set", s)]
    result = hookfit_cli("train", *args)
    assert result.returncode == 2
    assert re.search(message, result.stderr, re.MULTILINE), result.stderr
    assert not (tmp_path / "runs").exists()


def test_settings_for_a_plugin_that_is_off_are_pointed_out(hookfit_cli):
    result = hookfit_cli(
        "train",
        "--set",
        "fit.epochs=1",
        "--set",
        "callbacks.reduce_lr_on_plateau.factor=0.5",
        "--set",
        "callbacks.reduce_lr_on_plateau.enabled=false",
    )
    assert result.returncode == 0, result.stderr
    assert (
        "hookfit: note: callbacks.reduce_lr_on_plateau is set but the plugin is off "
        "(command line: --set callbacks.reduce_lr_on_plateau.enabled=false)" in result.stderr
    )


def test_with_autoload_disabled_fit_keeps_keras_contract(
    hookfit_model, hookfit_data, tmp_path, monkeypatch
):
    """The environment switches third-party defaults off, never History or
    the logs: fit returns a History and CSVLogger's rows hold loss and acc."""
    monkeypatch.setenv("HOOKFIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    x, y = hookfit_data
    history = hookfit_model().fit(
        x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[CSVLogger(tmp_path / "l.csv")]
    )
    assert history.epoch == [0, 1]
    table = rows(tmp_path / "l.csv")
    assert list(table[0]) == ["epoch", "acc", "loss", "val_acc", "val_loss"]
    np.testing.assert_allclose([float(r["loss"]) for r in table], history.history["loss"])
    np.testing.assert_allclose([float(r["acc"]) for r in table], history.history["acc"])


def test_without_base_logger_the_epoch_logs_still_hold_the_means(hookfit_model, hookfit_data):
    """The trainer computes Keras's epoch logs; BaseLogger only repeats them."""
    x, y = hookfit_data
    batches = []
    spy = LambdaCallback(on_batch_end=lambda batch, logs: batches.append(dict(logs)))
    history = hookfit_model().fit(
        x,
        y,
        epochs=1,
        batch_size=24,
        verbose=0,
        shuffle=False,
        callbacks=[spy],
        config={"hookfit": {"disable": ["base_logger"]}},
    )
    sizes = np.array([b["size"] for b in batches])
    for key in ("loss", "acc"):
        mean = np.sum([b[key] for b in batches] * sizes) / sizes.sum()
        np.testing.assert_allclose(history.history[key], [mean], rtol=1e-6)


@pytest.mark.parametrize(
    ("plugin", "names"),
    [
        (EarlyStopping, ("monitor", "mode", "min_delta", "baseline")),
        (ReduceLROnPlateau, ("monitor", "mode", "min_delta")),
    ],
    ids=["early_stopping", "reduce_lr_on_plateau"],
)
def test_the_monitoring_plugins_declare_the_monitors_own_hints(plugin, names):
    from hookfit.hooks.arguments import parameters
    from hookfit.monitor import Monitor

    mine, _ = parameters(plugin)
    monitors, _ = parameters(Monitor)
    assert [mine[n].hint for n in names] == [monitors[n].hint for n in names]
    assert isinstance(plugin().monitoring, Monitor)
