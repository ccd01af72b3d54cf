"""hookfit's plugins in a real Keras 3 fit (torch backend, no TensorFlow),
compared with Keras's own callbacks where Keras has the same one."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from hookfit_keras import Plugins
from hookfit_keras.testing import make_model
from keras.src.utils.python_utils import is_default

from hookfit import ConfigError, PluginNotFoundError
from hookfit.callbacks import (
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from hookfit.testing import Inject


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    return x, np.eye(3, dtype=np.float32)[labels]


def keras_model(seed=0, lr=0.05):
    return make_model(optimizer=keras.optimizers.SGD(learning_rate=lr), seed=seed).keras_model


def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_tensorflow_is_not_installed_and_keras_runs_on_torch():
    assert importlib.util.find_spec("tensorflow") is None
    assert keras.backend.backend() == "torch"


def test_csv_rows_equal_keras_csvlogger_in_the_same_run(data, tmp_path):
    x, y = data
    ours, theirs = tmp_path / "hookfit.csv", tmp_path / "keras.csv"
    keras_model().fit(
        x,
        y,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[Plugins([CSVLogger(ours)]), keras.callbacks.CSVLogger(str(theirs))],
    )
    assert rows(ours) == rows(theirs)
    assert rows(ours)[0] == ["epoch", "acc", "loss", "val_acc", "val_loss"]


def test_early_stopping_stops_at_the_epoch_keras_own_decides_on_the_same_logs(data):
    x, y = data
    values = [1.0, 0.9, 0.95, 0.97, 0.99, 0.5, 0.4]
    ours = EarlyStopping(monitor="val_loss", patience=2)
    theirs = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    history = keras_model().fit(
        x,
        y,
        epochs=len(values),
        verbose=0,
        callbacks=[Plugins([Inject("val_loss", values), ours]), theirs],
    )
    assert ours.stopped_epoch == theirs.stopped_epoch == 3
    assert len(history.epoch) == 4


def test_reduce_lr_on_plateau_gives_keras_own_learning_rates(data):
    x, y = data
    values = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    rates = {}
    for who in ("hookfit", "keras"):
        if who == "hookfit":
            plugin = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
            callbacks = [Plugins([Inject("val_loss", values), plugin])]
        else:
            plugin = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
            callbacks = [Plugins([Inject("val_loss", values)]), plugin]
        model = keras_model()
        seen = []
        record = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda e, logs, m=model, s=seen: s.append(
                float(keras.ops.convert_to_numpy(m.optimizer.learning_rate))
            )
        )
        model.fit(x, y, epochs=len(values), verbose=0, callbacks=[*callbacks, record])
        rates[who] = seen
    assert rates["hookfit"] == rates["keras"]
    assert rates["keras"][-1] < rates["keras"][0]


def test_tensorboard_epoch_loss_equals_the_history(data, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    x, y = data
    model = keras_model()
    history = model.fit(
        x,
        y,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[Plugins([TensorBoard(tmp_path / "logs")])],
    )
    for run, key in (("train", "loss"), ("validation", "val_loss")):
        events = EventAccumulator(str(tmp_path / "logs" / run))
        events.Reload()
        got = [(e.step, e.value) for e in events.Scalars("epoch_loss")]
        want = [(i, pytest.approx(v, rel=1e-6)) for i, v in enumerate(history.history[key])]
        assert got == want
    # Keras describes its model (to_json): the Graphs tab gets its config
    train = EventAccumulator(str(tmp_path / "logs" / "train"), size_guidance={"tensors": 0})
    train.Reload()
    assert train.PluginTagToContent("graph_keras_model") == {"keras": b"1"}
    (event,) = train.Tensors("keras")
    config = json.loads(tensor_util.make_ndarray(event.tensor_proto).item())
    described = json.loads(model.to_json())
    assert config == {"class_name": "Sequential", "config": described["config"]}


@pytest.mark.parametrize("name", ["best.h5", "best.keras"], ids=["h5", "keras"])
def test_checkpoint_files_load_with_keras_and_hold_the_best_epoch(data, tmp_path, name):
    x, y = data
    model = keras_model()
    values = [1.0, 0.2, 0.7, 0.9]
    path = tmp_path / name
    if name.endswith(".keras"):
        # hookfit's ModelCheckpoint takes Keras 2 names; the host writes .keras too
        class Best(keras.callbacks.Callback):
            best = np.inf

            def on_epoch_end(self, epoch, logs=None):
                if logs["val_loss"] < self.best:
                    self.best = logs["val_loss"]
                    plugins.host.save(path)

        plugins = Plugins([Inject("val_loss", values)])
        callbacks = [plugins, Best()]
        inject = plugins.plugins["Inject"]
    else:
        inject = Inject("val_loss", values)
        callbacks = [Plugins([inject, ModelCheckpoint(path, save_best_only=True)])]
    model.fit(x, y, epochs=len(values), verbose=0, callbacks=callbacks)
    loaded = keras.saving.load_model(path)
    for got, want in zip(loaded.get_weights(), inject.weights[1], strict=True):
        np.testing.assert_array_equal(got, want)


SCRIPT = """
import os, signal, sys
import numpy as np
import keras
from hookfit.callbacks import BackupAndRestore, CSVLogger
from hookfit_keras import Plugins
from hookfit_keras.testing import make_model

folder, kill_at = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 8)).astype(np.float32)
y = np.eye(3, dtype=np.float32)[(x[:, 0] > 0).astype(int)]
model = make_model(seed=0).keras_model

class Kill(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

plugins = Plugins([CSVLogger(os.path.join(folder, "log.csv"), append=True),
                   BackupAndRestore(os.path.join(folder, "backup"))])
history = model.fit(x, y, epochs=5, verbose=0, callbacks=[plugins, Kill()])
print(history.epoch)
"""


def test_a_killed_keras_run_resumes_after_its_last_backup(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    killed = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [r[0] for r in rows(tmp_path / "log.csv")[1:]] == ["0", "1", "2"]
    resumed = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "-1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert resumed.stdout.strip() == "[3, 4]"  # after the backup of epoch 2
    assert [r[0] for r in rows(tmp_path / "log.csv")[1:]] == ["0", "1", "2", "3", "4"]
    assert not (tmp_path / "backup").exists()


def test_bad_names_config_and_arguments_are_refused_when_plugins_is_made():
    with pytest.raises(PluginNotFoundError, match="early_stoping"):
        Plugins(["early_stoping"])
    with pytest.raises(ConfigError, match="patience"):
        Plugins(config={"callbacks": {"early_stopping": {"patience": -1}}})


def test_config_and_environment_switch_plugins_on(monkeypatch, tmp_path):
    monkeypatch.setenv("HOOKFIT_PLUGINS", "terminate_on_nan")
    names = set(Plugins(config={"callbacks": {"csv_logger": {"filename": "x.csv"}}}).plugins)
    assert names == {"csv_logger", "terminate_on_nan"}


def test_hookfit_history_and_loggers_do_not_run_keras_has_its_own():
    assert not {"history", "base_logger", "progbar_logger"} & set(Plugins().plugins)
    with pytest.warns(match="progbar_logger does not run in Keras"):
        Plugins(["progbar_logger"])


def test_batch_hooks_stay_asynchronous_unless_a_plugin_needs_them():
    assert is_default(Plugins([EarlyStopping()]).on_train_batch_end)
    assert not is_default(Plugins([TerminateOnNaN()]).on_train_batch_end)


def test_optimizer_lr_is_the_keras_learning_rate_variable():
    plugins = Plugins()
    model = keras_model(lr=0.05)
    plugins.set_model(model)
    plugins.host.optimizer.lr = 0.01
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == np.float32(0.01)
    assert plugins.host.optimizer.lr == 0.01


def test_a_file_keras_cannot_write_is_refused(tmp_path):
    from hookfit import FormatError

    plugins = Plugins()
    plugins.set_model(keras_model())
    with pytest.raises(FormatError, match="Keras saves a model to a file ending in"):
        plugins.host.save(tmp_path / "model.npz")


def test_hookfit_plugins_lists_the_installed_keras_host(hookfit_cli):
    listed = hookfit_cli("plugins", "--json", timeout=120)
    hosts = {row["name"]: row for row in json.loads(listed.stdout)["hosts"]}
    assert hosts["keras"]["distribution"] == "hookfit-keras"
    assert "host: keras (hookfit-keras " in hookfit_cli("plugins", timeout=120).stdout


def test_hookfit_host_keras_builds_a_keras_model(pytester):
    pytester.makepyfile(
        """
        def test_model(hookfit_model, hookfit_host):
            assert hookfit_host == "keras"
            assert type(hookfit_model().keras_model).__module__.startswith("keras")
        """
    )
    pytester.runpytest_subprocess("--hookfit-host=keras").assert_outcomes(passed=1)
