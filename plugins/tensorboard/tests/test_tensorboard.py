"""TensorBoard, installed alone with the core; files are read back with
TensorBoard's own loader, and one test asks a real TensorBoard server."""

import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.request
import warnings

import numpy as np
import pytest
from google.protobuf import text_format
from PIL import Image
from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
from tensorboard.plugins.graph import keras_util
from tensorboard.plugins.projector import ProjectorConfig
from tensorboard.util import tensor_util

from hookfit import Callback, ConfigError, HookfitWarning
from hookfit.hooks.callback import overridden_hooks
from hookfit.layers import Activation, Dense
from hookfit.models import Sequential
from hookfit.saving import model_config
from hookfit.testing import Recorder
from hookfit.testing.host import MinimalHost
from hookfit.utils import set_random_seed
from hookfit_tensorboard import TensorBoard

EPOCHS = 5
STEPS = 3  # 48 training samples (validation_split=0.25) in batches of 16
# The weight names in the tags: hookfit's layers name their weights; on
# another host they are numbered.
NAMES = {
    "hookfit": ("kernel", "bias"),
    "minimal": ("weight_0", "weight_1"),
    "keras": ("kernel", "bias"),
    "lightning": ("weight", "bias"),
}


def keras_sequential():
    """hookfit's own model, for what only it offers (the Keras model config,
    named weights), with a layer that has no weights between two Dense."""
    set_random_seed(0)
    model = Sequential([Dense(16, input_dim=8), Activation("relu"), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def fit(model, data, callbacks, epochs=EPOCHS):
    x, y = data
    model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=16,
        verbose=0,
        validation_split=0.25,
        callbacks=callbacks,
    )


def load(path):
    """TensorBoard's loader over a run folder (or one event file)."""
    accumulator = EventAccumulator(str(path), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def series(accumulator, tag):
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)]


def tags(accumulator):
    return set(accumulator.Tags()["tensors"])


def epoch_logs(recorder):
    return [args for hook, args in recorder.calls if hook == "on_epoch_end"]


def drive(tb, model, epochs_logs, steps=STEPS):
    """Run the hooks of a fit with synthetic epoch logs (no training)."""
    tb.set_model(model)
    tb.set_params({"steps": steps, "epochs": len(epochs_logs)})
    tb.on_train_begin({})
    for epoch, logs in enumerate(epochs_logs):
        tb.on_epoch_begin(epoch, {})
        tb.on_epoch_end(epoch, logs)
    tb.on_train_end({})


def test_epoch_scalars_equal_the_logged_values(hookfit_model, hookfit_data, tmp_path):
    recorder = Recorder()
    model = hookfit_model()
    lr = np.float32(model.optimizer.lr)
    fit(model, hookfit_data, [TensorBoard(tmp_path), recorder])
    train, validation = load(tmp_path / "train"), load(tmp_path / "validation")
    logged = epoch_logs(recorder)
    assert [epoch for epoch, _ in logged] == list(range(EPOCHS))
    for key in logged[0][1]:
        run, name = (validation, key[4:]) if key.startswith("val_") else (train, key)
        assert series(run, f"epoch_{name}") == [
            (epoch, np.float32(logs[key])) for epoch, logs in logged
        ]
    assert {"epoch_loss", "epoch_acc"} <= tags(validation)
    assert series(train, "epoch_lr") == [(epoch, lr) for epoch in range(EPOCHS)]


def test_train_and_validation_tags(hookfit_model, tmp_path):
    logs = [
        {"loss": 0.5, "acc": 0.75, "val_loss": 0.625, "val_acc": 0.5, "lr": 0.125},
        {"loss": 0.25, "acc": np.float64(1.0), "val_loss": np.float32(0.375), "val_acc": 1},
    ]
    model = hookfit_model()
    drive(TensorBoard(tmp_path, write_graph=False), model, logs)
    train, validation = load(tmp_path / "train"), load(tmp_path / "validation")
    assert tags(train) == {"epoch_loss", "epoch_acc", "epoch_lr"}
    assert tags(validation) == {"epoch_loss", "epoch_acc"}
    assert series(train, "epoch_loss") == [(0, 0.5), (1, 0.25)]
    assert series(train, "epoch_acc") == [(0, 0.75), (1, 1.0)]
    # the logged lr when a plugin put it in the logs, else the optimizer's
    assert series(train, "epoch_lr") == [(0, 0.125), (1, np.float32(model.optimizer.lr))]
    assert series(validation, "epoch_loss") == [(0, 0.625), (1, 0.375)]
    assert series(validation, "epoch_acc") == [(0, 0.5), (1, 1.0)]


class Uncompiled:
    """A host before compile: the protocol allows no optimizer (no lr to log)."""

    optimizer = None

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)


def test_run_folders_are_made_only_when_written(hookfit_model, tmp_path):
    model = Uncompiled(hookfit_model())
    drive(TensorBoard(tmp_path, write_graph=False), model, [{"val_loss": 1.0}])
    assert sorted(os.listdir(tmp_path)) == ["validation"]


def test_a_log_that_is_not_a_number_warns_once(hookfit_model, tmp_path):
    tb = TensorBoard(tmp_path, write_graph=False)
    with pytest.warns(HookfitWarning) as caught:
        drive(tb, hookfit_model(), [{"val_loss": 1.0, "note": "x"}, {"val_loss": 2.0, "note": "y"}])
    assert [str(w.message) for w in caught] == [
        "TensorBoard: log 'note' is not a number ('x'); it is not written."
    ]
    assert series(load(tmp_path / "validation"), "epoch_loss") == [(0, 1.0), (1, 2.0)]


def test_a_log_too_large_for_a_float_is_written_as_infinite(hookfit_model, tmp_path):
    tb = TensorBoard(tmp_path, write_graph=False)
    drive(tb, hookfit_model(), [{"huge": 10**400, "tiny": -(10**400), "val_loss": 1.0}])
    train = load(tmp_path / "train")
    assert series(train, "epoch_huge") == [(0, np.inf)]
    assert series(train, "epoch_tiny") == [(0, -np.inf)]


def test_histograms_and_images_at_the_histogram_steps(
    hookfit_model, hookfit_data, hookfit_host, tmp_path
):
    model = hookfit_model()
    tb = TensorBoard(tmp_path, histogram_freq=2, write_images=True)
    fit(model, hookfit_data, [tb])
    train = load(tmp_path / "train")
    expected = set()
    for layer in model.layers:
        for name, weight in zip(NAMES[hookfit_host], layer.get_weights(), strict=True):
            tag = f"{layer.name}/{name}"
            expected |= {f"{tag}/histogram", f"{tag}/image"}
            got = series(train, f"{tag}/histogram")
            assert [step for step, _ in got] == [0, 2, 4]
            assert all(buckets[:, 2].sum() == weight.size for _, buckets in got)
            last = got[-1][1]  # written after the last epoch: today's values
            assert (last[0, 0], last[-1, 1]) == (weight.min(), weight.max())
            images = series(train, f"{tag}/image")
            assert [step for step, _ in images] == [0, 2, 4]
            rows, cols = sorted(weight.shape) if weight.ndim == 2 else (1, weight.size)
            for _, (width, height, png) in images:
                picture = Image.open(io.BytesIO(png))
                assert (picture.format, picture.mode, picture.size) == ("PNG", "L", (cols, rows))
                assert (int(width), int(height)) == (cols, rows)
    assert {tag for tag in tags(train) if "/" in tag} == expected  # no gradients


def test_write_grads_is_ignored_with_a_warning(hookfit_model, hookfit_host, tmp_path):
    message = (
        "TensorBoard: write_grads is ignored: plugins see the weights of a model, not its "
        "gradients (tf.keras 2 ignores it too, and Keras 3 dropped it)."
    )
    with pytest.warns(HookfitWarning, match=f"^{re.escape(message)}$") as caught:
        tb = TensorBoard(tmp_path, histogram_freq=1, write_grads=True)
    assert caught[0].filename == __file__  # points at the caller
    tb.write_graph = False
    model = hookfit_model()
    drive(tb, model, [{}])
    assert {tag for tag in tags(load(tmp_path / "train")) if "/" in tag} == {
        f"{layer.name}/{name}/histogram" for layer in model.layers for name in NAMES[hookfit_host]
    }


@pytest.mark.hookfit_not_on(
    "lightning",
    reason="torch's Linear stores its weight as (out, in), the transpose of the (in, out) "
    "kernel layout this test builds its expectation on",
)
def test_image_pixels_are_the_weights_scaled_to_0_255(hookfit_model, hookfit_host, tmp_path):
    model = hookfit_model()
    *first, kernel, bias = model.get_weights()  # the last layer's
    size = kernel.size
    kernel = np.arange(size, dtype=np.float32).reshape(kernel.shape) - 10
    model.set_weights([*first, kernel, np.zeros_like(bias)])
    tb = TensorBoard(tmp_path, write_graph=False, histogram_freq=1, write_images=True)
    drive(tb, model, [{}])
    train = load(tmp_path / "train")

    def picture(tag):
        ((_, (_, _, png)),) = series(train, tag)
        return np.asarray(Image.open(io.BytesIO(png)))

    expected = np.round((kernel.T + 10) * 255 / (size - 1)).astype(np.uint8)  # rows <= cols
    last = model.layers[-1].name
    kernel_name, bias_name = NAMES[hookfit_host]
    np.testing.assert_array_equal(picture(f"{last}/{kernel_name}/image"), expected)
    np.testing.assert_array_equal(
        picture(f"{last}/{bias_name}/image"), np.zeros((1, bias.size), np.uint8)
    )


def test_weights_that_are_not_finite_are_left_out_of_histograms(
    hookfit_model, hookfit_host, tmp_path
):
    model = hookfit_model()
    weights = model.get_weights()
    bias = weights[1]  # the first layer's
    bias[:2] = [np.nan, np.inf]
    model.set_weights(weights)
    drive(TensorBoard(tmp_path, write_graph=False, histogram_freq=1), model, [{}])
    tag = f"{model.layers[0].name}/{NAMES[hookfit_host][1]}/histogram"
    ((_, buckets),) = series(load(tmp_path / "train"), tag)
    assert buckets[:, 2].sum() == bias.size - 2


@pytest.mark.parametrize(("update_freq", "every"), [("batch", 1), (2, 2)], ids=["batch", "int-2"])
def test_batch_scalars(hookfit_model, hookfit_data, tmp_path, update_freq, every, hookfit_host):
    recorder = Recorder()
    fit(hookfit_model(), hookfit_data, [TensorBoard(tmp_path, update_freq=update_freq), recorder])
    batches = [args[1] for hook, args in recorder.calls if hook == "on_batch_end"]
    assert len(batches) == EPOCHS * STEPS
    train = load(tmp_path / "train")
    # Lightning's batch logs carry the step's loss only
    for key in ("loss",) if hookfit_host == "lightning" else ("loss", "acc"):
        assert series(train, f"batch_{key}") == [
            (step, np.float32(logs[key]))
            for step, logs in enumerate(batches, start=1)
            if step % every == 0
        ]
    assert not {"batch_batch", "batch_size"} & tags(train)


def test_epoch_updates_register_no_batch_hook(tmp_path):
    assert "on_batch_end" not in overridden_hooks(TensorBoard(tmp_path))
    assert "on_batch_end" in overridden_hooks(TensorBoard(tmp_path, update_freq=5))


def test_batch_steps_continue_from_the_first_epoch_of_a_resumed_run(hookfit_model, tmp_path):
    tb = TensorBoard(tmp_path, write_graph=False, update_freq="batch")
    tb.set_model(hookfit_model())
    tb.set_params({"steps": STEPS})
    tb.on_train_begin({})
    tb.on_epoch_begin(2, {})
    tb.on_batch_end(0, {"batch": 0, "size": 16, "loss": 0.5})
    tb.on_train_end({})
    assert series(load(tmp_path / "train"), "batch_loss") == [(7, 0.5)]


def test_graph_is_the_keras_model_config(hookfit_data, tmp_path):
    model = keras_sequential()
    fit(model, hookfit_data, [TensorBoard(tmp_path)], epochs=1)
    train = load(tmp_path / "train")
    assert train.PluginTagToContent("graph_keras_model") == {"keras": b"1"}
    ((step, tensor),) = series(train, "keras")
    config = json.loads(tensor.item())
    assert step == 0 and config == model_config(model)
    # what the Graphs tab draws from it
    nodes = [node.name for node in keras_util.keras_model_to_graph_def(config).node]
    assert nodes == [f"{model.name}/{model.layers[0].name}_input"] + [
        f"{model.name}/{layer.name}" for layer in model.layers
    ]


def test_no_graph_on_a_host_without_a_model_config(hookfit_data, tmp_path):
    # The protocol declares no config: another host gets everything else.
    fit(MinimalHost(8, 3), hookfit_data, [TensorBoard(tmp_path, histogram_freq=1)], epochs=1)
    train = load(tmp_path / "train")
    assert "keras" not in tags(train) and "graph_keras_model" not in train.ActivePlugins()
    assert {"epoch_loss", "dense/weight_0/histogram"} <= tags(train)


def test_no_graph_when_write_graph_is_false(hookfit_model, hookfit_data, tmp_path):
    fit(hookfit_model(), hookfit_data, [TensorBoard(tmp_path, write_graph=False)], epochs=1)
    assert "keras" not in tags(load(tmp_path / "train"))


class WeightsAtEpochEnd(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def read_projector(log_dir):
    config = ProjectorConfig()
    text_format.Parse((log_dir / "projector_config.pbtxt").read_text(), config)
    return config


def test_projector_files_for_every_layer_with_a_2d_weight(hookfit_data, tmp_path):
    model = keras_sequential()
    first, _, last = (layer.name for layer in model.layers)  # the Activation has no weights
    labels = [f"feature {i}" for i in range(8)]
    (tmp_path / "features.tsv").write_text("\n".join(labels) + "\n")
    weights = WeightsAtEpochEnd()
    tb = TensorBoard(tmp_path, embeddings_freq=2, embeddings_metadata={first: "features.tsv"})
    fit(model, hookfit_data, [tb, weights], epochs=4)
    config = read_projector(tmp_path)
    assert [e.tensor_name for e in config.embeddings] == [f"{first}/kernel", f"{last}/kernel"]
    for embedding, kernel in zip(config.embeddings, [0, 2], strict=True):
        rows = np.loadtxt(tmp_path / embedding.tensor_path, delimiter="\t", dtype=np.float32)
        # rewritten at epochs 0 and 2: the kernel as it was after epoch 2
        np.testing.assert_array_equal(rows, weights.weights[2][kernel])
        assert list(embedding.tensor_shape) == list(rows.shape)
    assert embedding.metadata_path == ""  # no labels given for the last layer
    labels_path = tmp_path / config.embeddings[0].metadata_path
    assert labels_path.read_text().splitlines() == labels
    assert labels_path.parent == tmp_path / "embeddings" / first


@pytest.mark.hookfit_not_on(
    "lightning",
    reason="torch's Linear stores its weight as (out, in), the transpose of the (in, out) "
    "kernel layout this test builds its expectation on",
)
def test_projector_for_named_layers_with_one_label_file(
    hookfit_model, hookfit_data, hookfit_host, tmp_path
):
    model = hookfit_model()
    last = model.layers[-1].name
    weights = WeightsAtEpochEnd()
    labels = tmp_path.parent / f"{tmp_path.name}-labels.tsv"  # outside log_dir: copied in
    rows = len(model.layers[-1].get_weights()[0])
    labels.write_text("".join(f"{i}\n" for i in range(rows)))
    tb = TensorBoard(
        tmp_path / "logs",
        embeddings_freq=1,
        embeddings_layer_names=last,
        embeddings_metadata=labels,
    )
    fit(model, hookfit_data, [tb, weights], epochs=1)
    (embedding,) = read_projector(tmp_path / "logs").embeddings
    assert embedding.tensor_name == f"{last}/{NAMES[hookfit_host][0]}"
    kernel = weights.weights[0][-2]  # the last layer's kernel after the epoch
    assert list(embedding.tensor_shape) == [rows, 3] == list(kernel.shape)
    written = np.loadtxt(tmp_path / "logs" / embedding.tensor_path, delimiter="\t")
    np.testing.assert_array_equal(written.astype(np.float32), kernel)
    assert embedding.metadata_path == f"embeddings/{last}/metadata.tsv"
    copied = tmp_path / "logs" / embedding.metadata_path
    assert copied.read_text() == labels.read_text()


def test_two_runs_in_one_folder_keep_both_files(hookfit_model, hookfit_data, tmp_path):
    tb = TensorBoard(tmp_path, write_graph=False)
    fit(hookfit_model(optimizer="sgd"), hookfit_data, [tb], epochs=1)
    fit(hookfit_model(optimizer="adam"), hookfit_data, [tb], epochs=2)
    files = sorted((tmp_path / "train").iterdir())
    assert len(files) == 2
    assert sorted(len(series(load(path), "epoch_lr")) for path in files) == [1, 2]


def test_two_instances_in_one_folder_keep_both_files(hookfit_model, hookfit_data, tmp_path):
    first, second = TensorBoard(tmp_path), TensorBoard(tmp_path, update_freq="batch")
    fit(hookfit_model(), hookfit_data, [first, second], epochs=2)
    for run in ("train", "validation"):
        files = sorted((tmp_path / run).iterdir())
        assert len(files) == 2 and all("tfevents" in path.name for path in files)
        contents = [load(path) for path in files]
        assert [
            len(series(c, "epoch_loss" if run == "validation" else "epoch_lr")) for c in contents
        ] == [2, 2]
    assert sorted("batch_loss" in tags(load(p)) for p in (tmp_path / "train").iterdir()) == [
        False,
        True,
    ]


class FailAtBatch(Callback):
    def on_batch_end(self, batch, logs=None):
        if batch == 1:
            raise RuntimeError("boom")


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras calls no on_train_end after an error (its fit has no finally), so the event "
    "file stays open and what it holds depends on the writer's own flush",
)
def test_files_are_closed_after_an_error(hookfit_model, hookfit_data, tmp_path):
    tb = TensorBoard(tmp_path, write_graph=False, update_freq="batch")
    with pytest.raises(RuntimeError, match="boom"):
        fit(hookfit_model(), hookfit_data, [tb, FailAtBatch()])
    # batch 2 was never flushed by an epoch end: only closing the file wrote it
    assert [step for step, _ in series(load(tmp_path / "train"), "batch_loss")] == [1, 2]


def test_importing_the_plugin_does_not_import_tensorboard():
    code = (
        "import sys, hookfit_tensorboard; print(sorted(m for m in sys.modules if 'tensorb' in m))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # the plugin's own modules only; the tensorboard package waits for on_train_begin
    assert done.stdout == "['hookfit_tensorboard']\n"


def test_named_in_config(hookfit_model, hookfit_data, tmp_path):
    x, y = hookfit_data
    config = {
        "hookfit": {"autoload": False},
        "callbacks": {"tensorboard": {"log_dir": str(tmp_path), "update_freq": 2}},
    }
    hookfit_model().fit(x, y, epochs=1, batch_size=16, verbose=0, config=config)
    assert [step for step, _ in series(load(tmp_path / "train"), "batch_loss")] == [2, 4]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url) as response:
        return response.read()


def test_a_real_tensorboard_server_serves_the_logs(
    hookfit_model, hookfit_data, hookfit_host, tmp_path
):
    recorder = Recorder()
    model = hookfit_model()
    lr = float(np.float32(model.optimizer.lr))
    fit(model, hookfit_data, [TensorBoard(tmp_path, embeddings_freq=1), recorder], epochs=3)
    port = free_port()
    server = subprocess.Popen(
        # A blocking first load: the data is all read before the server
        # listens, so no request can see a half-loaded log.
        [
            *(sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path)),
            *("--host", "127.0.0.1", "--port", str(port), "--load_fast=false"),
            *("--reload_task=blocking", "--reload_interval=0"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = f"at http://127.0.0.1:{port}/"
        for line in server.stderr:
            if banner in line:
                break
        else:
            pytest.fail(f"TensorBoard exited with {server.wait()} before serving")
        # keep reading its output so that a full pipe never blocks it
        threading.Thread(target=server.stderr.read, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        assert sorted(json.loads(get(f"{base}/data/runs"))) == ["train", "validation"]
        logged = epoch_logs(recorder)
        for run, key in (("validation", "val_loss"), ("validation", "val_acc")):
            tag = "epoch_" + key.removeprefix("val_")
            points = json.loads(get(f"{base}/data/plugin/scalars/scalars?run={run}&tag={tag}"))
            assert [(step, value) for _, step, value in points] == [
                (epoch, float(np.float32(logs[key]))) for epoch, logs in logged
            ]
        points = json.loads(get(f"{base}/data/plugin/scalars/scalars?run=train&tag=epoch_lr"))
        assert [value for _, _, value in points] == [lr] * 3
        graphs = json.loads(get(f"{base}/data/plugin/graphs/info"))
        # hookfit and Keras describe their model as Keras's config; the protocol
        # declares none, and Lightning's host describes none
        graph_tags = {"hookfit": ["keras"], "keras": ["keras"]}.get(hookfit_host, [])
        assert list(graphs.get("train", {}).get("tags", {})) == graph_tags
        if graph_tags:
            graph = get(f"{base}/data/plugin/graphs/graph?run=train&conceptual=true&tag=keras")
            assert (
                re.findall(rb'name: "([^"]+)"', graph)[-1]
                == f"{model.name}/{model.layers[-1].name}".encode()
            )
        kernel = model.layers[0].get_weights()[0]
        name = f"{model.layers[0].name}/{NAMES[hookfit_host][0]}"
        served = get(f"{base}/data/plugin/projector/tensor?run=.&name={name}")
        np.testing.assert_array_equal(
            np.frombuffer(served, np.float32).reshape(kernel.shape), kernel
        )
    finally:
        server.terminate()
        server.wait()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"log_dir": ""}, 'log_dir: expected a folder path (a non-empty string), got "".'),
        ({"log_dir": 3}, "log_dir: expected a folder path (a non-empty string), got 3."),
        ({"histogram_freq": -1}, "histogram_freq: expected an integer >= 0, got -1."),
        ({"histogram_freq": True}, "histogram_freq: expected an integer >= 0, got true."),
        ({"batch_size": 0}, "batch_size: expected an integer >= 1, got 0."),
        ({"embeddings_freq": 1.5}, "embeddings_freq: expected an integer >= 0, got 1.5."),
        ({"write_graph": "yes"}, 'write_graph: expected true or false, got "yes".'),
        ({"write_grads": 1}, "write_grads: expected true or false, got 1."),
        ({"write_images": 1}, "write_images: expected true or false, got 1."),
        (
            {"embeddings_layer_names": ["a", 2]},
            "embeddings_layer_names: expected a string or a list of strings or None (in a "
            'config file: leave the key out), got ["a", 2].',
        ),
        (
            {"embeddings_metadata": {"a": 2}},
            "embeddings_metadata: expected a string or a path or a table or None (in a "
            "config file: leave the key out), got {a = 2}.",
        ),
        (
            {"update_freq": "often"},
            "update_freq: expected one of 'epoch', 'batch' or an integer >= 1, got \"often\".",
        ),
        (
            {"update_freq": 0},
            "update_freq: expected one of 'epoch', 'batch' or an integer >= 1, got 0.",
        ),
    ],
    ids=[
        "empty-log-dir",
        "int-log-dir",
        "negative-histogram-freq",
        "bool-histogram-freq",
        "zero-batch-size",
        "float-embeddings-freq",
        "string-write-graph",
        "int-write-grads",
        "int-write-images",
        "bad-layer-names",
        "bad-metadata",
        "unknown-update-freq",
        "zero-update-freq",
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(kwargs, message):
    with pytest.raises(ConfigError, match=f"^{re.escape('TensorBoard: ' + message)}$"):
        TensorBoard(**kwargs)


def test_a_config_names_the_key_of_a_bad_argument(hookfit_model, hookfit_data, tmp_path):
    x, y = hookfit_data
    config = {
        "hookfit": {"autoload": False},
        "callbacks": {"tensorboard": {"log_dir": str(tmp_path), "update_freq": 0}},
    }
    with pytest.raises(ConfigError) as raised:
        hookfit_model().fit(x, y, epochs=1, verbose=0, config=config)
    assert str(raised.value).endswith(
        "callbacks.tensorboard.update_freq: expected one of 'epoch', 'batch' or an integer >= 1, "
        "got 0 (TensorBoard's argument update_freq)."
    )


def test_a_log_dir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "logs"
    path.write_text("")
    message = f'TensorBoard: log_dir: expected a folder, got the file "{path}".'
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        TensorBoard(path)


def test_a_missing_label_file_is_refused_when_training_begins(
    hookfit_model, hookfit_data, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    tb = TensorBoard(tmp_path / "logs", embeddings_freq=1, embeddings_metadata="missing.tsv")
    message = (
        r"TensorBoard: embeddings_metadata: the file \"missing.tsv\" was not found \(looked "
        r"for \".*logs/missing.tsv\" and \"missing.tsv\"\)\."
    )
    # the core adds a note naming the plugin after the message
    with pytest.raises(ConfigError, match=f"^{message}\n"):
        fit(hookfit_model(), hookfit_data, [tb], epochs=1)
    assert not (tmp_path / "logs").exists()


def test_embeddings_the_model_lacks_are_left_out_with_one_warning(
    hookfit_model, hookfit_data, tmp_path
):
    # Keras 2 embedded the named layers it found and ignored the others
    model = hookfit_model()
    first, last = model.layers[0].name, model.layers[-1].name
    (tmp_path / "labels.tsv").write_text("a\n")
    tb = TensorBoard(
        tmp_path,
        embeddings_freq=1,
        embeddings_layer_names=[first + "x", last],
        embeddings_metadata={"dense_9999": "labels.tsv"},
    )
    with pytest.warns(HookfitWarning) as caught:
        fit(model, hookfit_data, [tb], epochs=2)
        fit(model, hookfit_data, [tb], epochs=1)  # told once per callback
    layers = ", ".join(layer.name for layer in model.layers)  # every layer has a 2-D kernel
    assert [str(w.message) for w in caught] == [
        f'TensorBoard: embeddings_layer_names: ["{first}x"] left out (did you mean {first!r}?): '
        f"not layers with a 2-D weight ({layers}). embeddings_metadata: the labels of "
        f'["dense_9999"] left out: not embedded layers ({last}).'
    ]
    (embedding,) = read_projector(tmp_path).embeddings
    assert embedding.tensor_name.startswith(f"{last}/") and embedding.metadata_path == ""


def test_no_embedded_layer_writes_no_projector_files(hookfit_model, hookfit_data, tmp_path):
    tb = TensorBoard(tmp_path, write_graph=False, embeddings_freq=1, embeddings_layer_names="x")
    with pytest.warns(HookfitWarning, match=r"^TensorBoard: embeddings_layer_names: \["):
        fit(hookfit_model(), hookfit_data, [tb], epochs=1)
    assert not (tmp_path / "projector_config.pbtxt").exists()
    assert not (tmp_path / "embeddings").exists()


def test_write_images_without_histograms_is_accepted_and_writes_no_images(
    hookfit_model, hookfit_data, tmp_path
):
    # Keras wrote images with the histograms only; tutorials pass it anyway
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tb = TensorBoard(tmp_path, histogram_freq=0, write_graph=True, write_images=True)
    fit(hookfit_model(), hookfit_data, [tb], epochs=2)
    assert not {tag for tag in tags(load(tmp_path / "train")) if "/" in tag}
    assert series(load(tmp_path / "validation"), "epoch_loss")[-1][0] == 1


def test_embeddings_data_is_accepted_and_unused_with_one_warning(
    hookfit_model, hookfit_data, tmp_path
):
    x, _ = hookfit_data
    message = (
        "TensorBoard: embeddings_data is not used: Keras 2.2 projects the outputs of the "
        "embedded layers on these samples, which needs TensorFlow to run the layers; the "
        "projector shows the layers' 2-D weights instead, as Keras 2.0 and 2.1 did."
    )
    with pytest.warns(HookfitWarning) as caught:
        tb = TensorBoard(tmp_path, embeddings_freq=1, embeddings_data=x[:10])
    assert [str(w.message) for w in caught] == [message]
    assert issubclass(caught[0].category, UserWarning) and caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(hookfit_model(), hookfit_data, [tb], epochs=1)
        TensorBoard(tmp_path, embeddings_data=x[:10])  # no embeddings: nothing lost, no warning
    assert tb.embeddings_data is not None and read_projector(tmp_path).embeddings


def test_every_keras_2_2_argument_by_position(hookfit_model, hookfit_data, tmp_path):
    # Keras 2.2.4's order: log_dir, histogram_freq, batch_size, write_graph, write_grads,
    # write_images, embeddings_freq, embeddings_layer_names, embeddings_metadata,
    # embeddings_data, update_freq
    model = hookfit_model()
    last = model.layers[-1].name
    with pytest.warns(HookfitWarning) as caught:
        tb = TensorBoard(str(tmp_path), 1, 16, True, True, True, 1, [last], None, None, "batch")
    assert [str(w.message).split(":")[1] for w in caught] == [" write_grads is ignored"]
    fit(model, hookfit_data, [tb], epochs=1)
    train = load(tmp_path / "train")
    assert {"batch_loss", "epoch_loss"} <= tags(train)
    assert any(tag.endswith("/image") for tag in tags(train))
    assert [e.tensor_name.split("/")[0] for e in read_projector(tmp_path).embeddings] == [last]


def test_tensorboard_a_destination_that_cannot_be_written_stops_before_the_first_batch(
    hookfit_fit, tmp_path
):
    (tmp_path / "somefile.txt").write_text("not a folder")
    recorder = Recorder()
    with pytest.raises(
        ConfigError,
        match=r"TensorBoard: log_dir: cannot write files in the folder '.*somefile\.txt/tb': "
        r"'.*somefile\.txt' is a file, not a folder\. Give a path in a folder",
    ):
        hookfit_fit(recorder, TensorBoard(log_dir=str(tmp_path / "somefile.txt" / "tb")))
    assert "on_batch_begin" not in recorder.hooks()


@pytest.mark.hookfit_not_on(
    "keras",
    reason="a built Keras model's layers cannot be renamed (its Sequential then fails to call them)"
    "a built Keras model's layers cannot be renamed (its Sequential then fails to call them)",
)
@pytest.mark.parametrize(
    "name",
    ["../../../escaped_target", "/tmp/absolute", "..", "a/../../b", ".hidden", "x\\..\\y"],
    ids=["parent", "absolute", "dots", "inner-parent", "dot-file", "backslashes"],
)
def test_projector_files_stay_inside_log_dir_whatever_a_layer_is_named(
    name, hookfit_model, hookfit_data, tmp_path
):
    model = hookfit_model()
    # hookfit refuses such names when a layer is made; another host may not
    model.layers[-1].name = name
    log_dir = tmp_path / "a" / "b" / "logs"
    fit(model, hookfit_data, [TensorBoard(log_dir, embeddings_freq=1)], epochs=1)
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert written and all(log_dir in p.parents for p in written)
    embeddings = read_projector(log_dir).embeddings
    folders = [(log_dir / e.tensor_path).parent for e in embeddings]
    assert all(f.parent == log_dir / "embeddings" for f in folders)
    with_weights = [layer for layer in model.layers if layer.get_weights()]
    assert len(set(folders)) == len(embeddings) == len(with_weights)  # one folder per layer
    assert embeddings[-1].tensor_name.startswith(name)


class DescribedMinimalHost(MinimalHost):
    """Another host that describes itself through the protocol's optional
    `DescribedHost` part (a graph of one Dense layer) and names its weights."""

    def to_json(self, **kwargs):
        dense = {"class_name": "Dense", "config": {"name": "dense", "units": 3}}
        config = {"class_name": "Sequential", "config": {"name": "described", "layers": [dense]}}
        return json.dumps({**config, "keras_version": "2.15.0", "backend": "tensorflow"}, **kwargs)


def test_the_graph_comes_from_any_host_that_describes_itself(hookfit_data, tmp_path):
    from hookfit.hooks.host import DescribedHost

    model = DescribedMinimalHost(8, 3)
    assert isinstance(model, DescribedHost) and not isinstance(MinimalHost(8, 3), DescribedHost)
    assert isinstance(keras_sequential(), DescribedHost)
    fit(model, hookfit_data, [TensorBoard(tmp_path)], epochs=1)
    ((step, tensor),) = series(load(tmp_path / "train"), "keras")
    assert step == 0
    assert json.loads(tensor.item()) == {
        "class_name": "Sequential",
        "config": {
            "name": "described",
            "layers": [{"class_name": "Dense", "config": {"name": "dense", "units": 3}}],
        },
    }


def test_the_batch_hook_is_declared_by_needs_hook_not_an_instance_attribute(tmp_path):
    for update_freq, needed in (("epoch", False), ("batch", True), (3, True)):
        tb = TensorBoard(tmp_path, update_freq=update_freq)
        assert tb.needs_hook("on_batch_end") is needed
        assert "on_batch_end" not in vars(tb)
