"""Hostile model files: the loader checks names, sizes and settings before
it builds anything, and every malformed file gives its own FormatError
naming the file and what is wrong (never a raw RecursionError, ValueError,
AttributeError, OverflowError or MemoryError)."""

import json
import re
import subprocess
import sys
import textwrap
import warnings

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookfit import ConfigError, FormatError, HookfitError, HookfitWarning
from hookfit.layers import Dense, Dropout
from hookfit.models import Sequential, load_model
from hookfit.optimizers import SGD
from hookfit.saving import restore


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small trained model's file, with optimizer state (SGD with momentum)."""
    path = tmp_path_factory.mktemp("saved") / "m.h5"
    model = Sequential([Dense(4, input_dim=3, activation="relu"), Dropout(0.1, seed=1), Dense(2)])
    model.compile(SGD(lr=0.1, momentum=0.5), "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 3)), rng.normal(size=(8, 2)), epochs=1, verbose=0)
    model.save(path)
    return path


def edited(tmp_path, saved, edit, name="bad.h5"):
    """A copy of the saved file changed by ``edit(f, config)``; ``config``
    is the parsed model_config, written back afterwards."""
    path = tmp_path / name
    path.write_bytes(saved.read_bytes())
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        if edit(f, config) is not False:
            f.attrs["model_config"] = json.dumps(config).encode()
    return path


def layer(config, index):
    """The config of layer ``index`` (0 is the InputLayer)."""
    return config["config"]["layers"][index]["config"]


def raw(key, value, group="/"):
    """An edit that sets an attribute as is (the model_config is not rewritten)."""

    def edit(f, config):
        f[group].attrs[key] = value
        return False

    return edit


def set_attr(group, key, value):
    def edit(f, config):
        f[group].attrs[key] = value
        return False

    return edit


def replace_weights_with_a_dataset(f, config):
    del f["model_weights"]
    f.create_dataset("model_weights", data=[1.0])
    return False


def optimizer_state(change):
    def edit(f, config):
        saved = json.loads(f["hookfit"].attrs["optimizer"])
        change(saved)
        f["hookfit"].attrs["optimizer"] = json.dumps(saved)
        return False

    return edit


MALFORMED = [
    (
        "deep-json",
        raw("model_config", b"[" * 100_000 + b"]" * 100_000),
        r"bad\.h5: model_config is nested too deeply",
    ),
    (
        "negative-dropout-seed",
        lambda f, c: layer(c, 2).update(seed=-1),
        r"bad\.h5: model_config layer 1 \(Dropout\): .*seed must be None or an integer >= 0, "
        r"got -1",
    ),
    (
        "string-layer-config",
        lambda f, c: c["config"]["layers"][1].update(config="dense"),
        r"bad\.h5: model_config layer 0: config must be a table of settings, got 'dense'",
    ),
    (
        "string-layer",
        lambda f, c: c["config"]["layers"].__setitem__(1, "Dense"),
        r"bad\.h5: model_config layer 0 is 'Dense', not a table with class_name and config",
    ),
    (
        "iterations-not-a-number",
        optimizer_state(lambda s: s.update(iterations={"n": 1})),
        r"bad\.h5: hookfit/optimizer: iterations must be an integer >= 0, got \{'n': 1\}",
    ),
    (
        "iterations-text",
        optimizer_state(lambda s: s.update(iterations="many")),
        r"bad\.h5: hookfit/optimizer: iterations must be an integer >= 0, got 'many'",
    ),
    (
        "optimizer-state-a-string",
        set_attr("hookfit", "optimizer", json.dumps("sgd")),
        r"bad\.h5: hookfit/optimizer must be a table, got 'sgd'",
    ),
    (
        "optimizer-config-a-string",
        raw("training_config", json.dumps({"loss": "mse", "optimizer_config": "sgd"})),
        r"bad\.h5: training_config\.optimizer_config must be a table, got 'sgd'",
    ),
    (
        "units-overflow",
        lambda f, c: raw("model_config", json.dumps(c).replace('"units": 4', '"units": 1e400'))(
            f, c
        ),
        r"bad\.h5: model_config holds a number JSON cannot represent exactly \(1e400\)",
    ),
    (
        "units-huge",
        lambda f, c: layer(c, 1).update(units=10**12),
        # refused by the memory budget before the file's datasets are opened
        r"bad\.h5: model_config layer 0 \(Dense\): Layer dense_\d+ \(Dense\) declares kernel "
        r"\(3, 1000000000000\), bias \(1000000000000,\) of float32, which take the model's "
        r"weights to 14\.6 TiB \(16000000000000 bytes\), over hookfit's memory budget of "
        r"4\.0 GiB\. If that size is intended, raise the budget: HOOKFIT_MEMORY_BUDGET=14902GiB",
    ),
    (
        "input-dim-overflow",
        lambda f, c: layer(c, 0).update(batch_input_shape=[None, 10**400]),
        r"bad\.h5: model_config layer 0 \(InputLayer\): batch_input_shape must be \[null, "
        r"positive integers\], got \[None, 1000",
    ),
    (
        "negative-input-shape",
        lambda f, c: layer(c, 0).update(batch_input_shape=[None, -3]),
        r"bad\.h5: model_config layer 0 \(InputLayer\): batch_input_shape must be \[null, "
        r"positive integers\], got \[None, -3\]",
    ),
    (
        "initializer-settings",
        lambda f, c: layer(c, 1).update(
            kernel_initializer={"class_name": "RandomNormal", "config": {"stddev": "wide"}}
        ),
        r"bad\.h5: model_config layer 0 \(Dense\): .*stddev",
    ),
    (
        "initializer-not-a-table",
        lambda f, c: layer(c, 1).update(kernel_initializer=7),
        r"bad\.h5: model_config layer 0 \(Dense\): .*initializer",
    ),
    (
        "rng-states-a-list",
        set_attr("hookfit", "rng_states", json.dumps([1, 2])),
        r"bad\.h5: hookfit/rng_states must be a table, got \[1, 2\]",
    ),
    (
        "config-not-utf8",
        raw("model_config", np.void(b"\xff\xfe{}")),
        r"bad\.h5: model_config must be text, got",
    ),
    (
        "config-bytes-not-utf8",
        raw("model_config", np.bytes_(b"\xff\xfe{}")),
        r"bad\.h5: model_config is not UTF-8 text",
    ),
    (
        "model-name-not-text",
        lambda f, c: c["config"].update(name=["m"]),
        r"bad\.h5: model_config name must be text, got \['m'\]",
    ),
    (
        "two-layers-one-name",
        lambda f, c: layer(c, 3).update(name=layer(c, 1)["name"]),
        r"bad\.h5: model_config: Model \w+ already has a layer named 'dense_\d+'",
    ),
    (
        "dtype",
        lambda f, c: layer(c, 1).update(dtype="object"),
        r"bad\.h5: model_config layer 0 \(Dense\): dtype must be float16, float32 or float64, "
        r"got 'object'",
    ),
    (
        "units-text",
        lambda f, c: layer(c, 1).update(units="4"),
        r"bad\.h5: model_config layer 0 \(Dense\): units: expected an integer, got \"4\"",
    ),
    (
        "initializer-config-not-a-table",
        lambda f, c: layer(c, 1).update(kernel_initializer={"class_name": "Zeros", "config": 3}),
        r"bad\.h5: model_config layer 0 \(Dense\): Initializer Zeros: config must be a table, "
        r"got 3",
    ),
    (
        "loss-not-text",
        raw("training_config", json.dumps({"loss": 3, "optimizer_config": {"class_name": "SGD"}})),
        r"bad\.h5: training_config\.loss: unexpected value 3",
    ),
    (
        "no-input-shape",
        lambda f, c: (c["config"]["layers"].pop(0), layer(c, 0).pop("batch_input_shape")),
        r"bad\.h5: the model_config gives no input shape \(no InputLayer\)",
    ),
    (
        "weights-not-a-group",
        replace_weights_with_a_dataset,
        r"bad\.h5: 'model_weights' is not a group",
    ),
    (
        "layer-names-not-text",
        set_attr("model_weights", "layer_names", np.array([1, 2])),
        r"bad\.h5: model_weights/layer_names must be names, got",
    ),
]


@pytest.mark.parametrize("edit, message", [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_a_malformed_file_gives_the_loaders_error_naming_the_file(
    edit, message, saved, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    path = edited(tmp_path, saved, edit)
    with pytest.raises(FormatError, match=message):
        load_model(path.name)


UNSAFE_NAMES = ["../../../x", "a/b", "..", ".hidden", "x" * 300, "dense\x00", "dense 1", 7]


@pytest.mark.parametrize("name", UNSAFE_NAMES, ids=range(len(UNSAFE_NAMES)))
def test_a_layer_name_outside_the_safe_pattern_is_refused_at_creation(name):
    with pytest.raises(ConfigError, match=r"layer name must be letters, digits, '_', '-' or '\.'"):
        Dense(2, name=name)


def test_a_layer_renamed_to_an_unsafe_name_is_refused_at_save(tmp_path):
    model = Sequential([Dense(2, input_dim=3)])
    model.layers[0].name = "../../../x"
    with pytest.raises(ConfigError, match=r"layer name must be .*got '\.\./\.\./\.\./x'"):
        model.save(tmp_path / "m.h5")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda f, c: layer(c, 1).update(name="../../../x"),
            r"bad\.h5: model_config layer 0 \(Dense\): layer name must be .*'\.\./\.\./\.\./x'",
        ),
        (
            raw("layer_names", np.array([b"../escape", b"dense"]), "model_weights"),
            r"bad\.h5: model_weights/layer_names: '\.\./escape' is not a safe name",
        ),
        (
            lambda f, c: raw(
                "weight_names",
                np.array([b"../../kernel:0", b"b:0"]),
                f"model_weights/{f['model_weights'].attrs['layer_names'][0].decode()}",
            )(f, c),
            r"bad\.h5: model_weights/dense_\w+/weight_names: '\.\./\.\./kernel:0' is not a safe "
            r"name",
        ),
    ],
    ids=["config", "layer-names", "weight-names"],
)
def test_an_unsafe_name_in_a_file_is_refused_on_load(edit, message, saved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FormatError, match=message):
        load_model(edited(tmp_path, saved, edit).name)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda s: s["config"].update(_lr=0.5),
            r"bad\.h5: hookfit/optimizer: SGD has no setting '_lr'; a file may set only "
            r"lr, momentum, decay, nesterov, learning_rate\.",
        ),
        (
            lambda s: s["config"].update(_lr=float("nan")),
            r"bad\.h5: hookfit/optimizer holds a number JSON cannot represent exactly \(NaN\)",
        ),
        (
            lambda s: s["config"].update(apply="x"),
            r"bad\.h5: hookfit/optimizer: SGD has no setting 'apply'",
        ),
        (
            lambda s: s["config"].update(learning_rate=-1.0),
            r"bad\.h5: hookfit/optimizer: SGD: lr must be a finite number >= 0, got -1\.0",
        ),
        (
            lambda s: s["config"].update(nesterov="yes"),
            r"bad\.h5: hookfit/optimizer: .*nesterov.*expected true or false, got \"yes\"",
        ),
        (
            lambda s: s.update(config=[1]),
            r"bad\.h5: hookfit/optimizer: config must be a table, got \[1\]",
        ),
    ],
    ids=["private-attribute", "nan", "method", "negative-rate", "flag-type", "config-type"],
)
def test_only_documented_optimizer_settings_are_read_each_checked(
    change, message, saved, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    path = edited(tmp_path, saved, optimizer_state(change))
    with pytest.raises(FormatError, match=message):
        load_model(path.name)
    model = load_model(edited(tmp_path, saved, lambda f, c: False, "good.h5"))
    with pytest.raises(FormatError, match=message):
        restore(model, path.name)  # a backup is checked the same way
    assert model.optimizer.lr == pytest.approx(0.1) and model.optimizer.momentum == 0.5


def test_saved_optimizer_settings_are_restored(saved, tmp_path):
    def change(state):
        state["config"].update(learning_rate=0.25, momentum=0.0, nesterov=True)

    model = load_model(edited(tmp_path, saved, optimizer_state(change)))
    opt = model.optimizer
    assert (opt.lr, opt.momentum, opt.nesterov, opt.slot_names) == (0.25, 0.0, True, ())


BOMB = """
import json, resource, sys, time
import h5py, numpy as np
from hookfit import FormatError
from hookfit.models import load_model

# 30000 x 30000 float32 is 3.6 GB per array: far above this limit
resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
path = sys.argv[1]
with h5py.File(path, "w") as f:
    dense = {"name": "big", "units": 30000, "activation": "linear", "use_bias": True}
    inp = {"batch_input_shape": [None, 30000], "name": "big_input"}
    f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": inp}, {"class_name": "Dense", "config": dense}]}})
    g = f.create_group("model_weights")
    g.attrs["layer_names"] = np.array([b"big"])
    big = g.create_group("big")
    big.attrs["weight_names"] = np.array([b"big/kernel:0", b"big/bias:0"])
    if sys.argv[2] == "declared":  # datasets of the right shape that store nothing
        big.create_dataset("big/kernel:0", (30000, 30000), "f4", chunks=(1000, 1000))
        big.create_dataset("big/bias:0", (30000,), "f4", chunks=(1000,))
    else:
        big.create_dataset("big/kernel:0", data=np.zeros((3, 2), "f4"))
        big.create_dataset("big/bias:0", data=np.zeros(2, "f4"))
start = time.perf_counter()
try:
    load_model(path)
except FormatError as exc:
    print(json.dumps({"error": str(exc), "seconds": time.perf_counter() - start}))
"""


@pytest.mark.parametrize("datasets", ["declared", "small"])
def test_a_small_file_declaring_a_huge_layer_is_refused_before_any_array_is_made(
    datasets, tmp_path
):
    path = tmp_path / "bomb.h5"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BOMB), str(path), datasets],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert path.stat().st_size < 20_000
    assert result["seconds"] < 2
    assert result["error"].startswith(f"{path}: ")
    expected = (
        "declares 3600120000 bytes of weights but the file holds"
        if datasets == "declared"
        else "has shape (3, 2); the model needs (30000, 30000)"
    )
    assert expected in result["error"]


# -- fuzzing --------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    """Every key path into nested dicts and lists."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _replace(value, path, new):
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], rest, new)
    return copy


ATTRS = [
    ("/", "model_config"),
    ("/", "training_config"),
    ("hookfit", "optimizer"),
    ("hookfit", "rng_states"),
    ("hookfit", "metadata"),
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_files_load_or_give_the_loaders_error(data, saved, tmp_path):
    path = tmp_path / "fuzz.h5"
    path.write_bytes(saved.read_bytes())
    with h5py.File(path, "r+") as f:
        group, key = data.draw(st.sampled_from(ATTRS), label="attribute")
        holder = f[group]
        original = json.loads(holder.attrs.get(key, "{}"))
        paths = list(_paths(original))
        where = data.draw(st.sampled_from(paths), label="path")
        new = data.draw(JSON_VALUES, label="value")
        holder.attrs[key] = json.dumps(_replace(original, where, new))
        if data.draw(st.booleans(), label="reshape a dataset"):
            weights = f["model_weights"]
            name = data.draw(st.sampled_from(sorted(weights)), label="layer")
            inner = weights[name]
            datasets = []
            inner.visititems(
                lambda n, o: datasets.append(n) if isinstance(o, h5py.Dataset) else None
            )
            if datasets:
                target = data.draw(st.sampled_from(datasets), label="dataset")
                shape = data.draw(st.lists(st.integers(0, 40), max_size=3), label="shape")
                del inner[target]
                inner.create_dataset(target, data=np.zeros(shape, "f4"))
    try:
        with warnings.catch_warnings():  # an unusable training config: a warning, no model
            warnings.simplefilter("ignore", HookfitWarning)
            model = load_model(path)
        if model.optimizer is not None:
            restore(model, path)
    except HookfitError as exc:
        assert str(path) in str(exc)


# -- hookfit train's own files ------------------------------------------------------


@pytest.mark.parametrize(
    "files, message",
    [
        (
            {"job.toml": "[data]\npath = 'd.npz'\n", "d.npz": "nan-labels"},
            r"^hookfit: error: job\.toml: data\.path: array 'y' of d\.npz holds NaN or infinite "
            r"values \(the first in sample 1\)",
        ),
        (
            {"job.toml": "[data]\npath = 'd.npz'\n", "d.npz": "npy"},
            r"^hookfit: error: job\.toml: data\.path: d\.npz is a \.npy file \(one array\)",
        ),
        (
            {"job.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n"},
            r"^hookfit: error: job\.toml: nested too deeply to read",
        ),
    ],
    ids=["nan-labels", "npy-named-npz", "deep-toml"],
)
def test_hookfit_train_refuses_a_bad_file_before_training_with_one_line(
    files, message, hookfit_cli, tmp_path
):
    for name, content in files.items():
        if content == "nan-labels":
            np.savez(tmp_path / name, x=np.ones((4, 3)), y=np.array([0, np.nan, 1, 0]))
        elif content == "npy":
            with (tmp_path / name).open("wb") as f:
                np.save(f, np.ones((4, 3)))
        else:
            (tmp_path / name).write_text(content)
    result = hookfit_cli("train", "job.toml")
    assert result.returncode == 2, result.stderr
    assert re.match(message, result.stderr) and "Traceback" not in result.stderr
    assert result.stdout == "" and not (tmp_path / "runs").exists()


def _array(rows):
    """``rows`` as numpy makes them (an object array when they are ragged)."""
    try:
        return np.array(rows)
    except (ValueError, OverflowError):
        return np.array(rows, dtype=object)


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.sampled_from([0, 1, 2, 1e300, -1]),
)
ARRAYS = st.one_of(
    st.lists(st.lists(NUMBERS, min_size=0, max_size=3), min_size=0, max_size=5).map(_array),
    st.lists(NUMBERS, max_size=5).map(np.array),
    st.lists(st.integers(0, 3), min_size=1, max_size=5).map(np.array),
    st.lists(st.text(max_size=3), max_size=4).map(np.array),
    st.just(np.ones((5, 3), "f4")),
)
LAYERS = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Dense", "Dropout", "Activation", "Flatten"])},
        optional={
            "units": st.one_of(st.integers(-2, 8), st.floats(), st.text(max_size=3)),
            "rate": NUMBERS,
            "activation": st.sampled_from(["relu", "softmax", "nope", ""]),
            "name": st.text(max_size=6),
            "seed": st.integers(-3, 3),
        },
    ),
    max_size=3,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    arrays=st.dictionaries(st.sampled_from(["x", "y", "x_val", "y_val"]), ARRAYS, max_size=4),
    layers=st.none() | LAYERS,
    scale=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    loss=st.sampled_from(["mse", "sparse_categorical_crossentropy", "categorical_crossentropy"]),
)
def test_generated_data_and_models_build_or_give_a_config_error(
    arrays, layers, scale, loss, tmp_path, monkeypatch
):
    from hookfit.run.job import prepare
    from hookfit.run.plan import plan
    from hookfit.run.sources import from_mapping

    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "d.npz", **{k: v for k, v in arrays.items() if v.dtype != object})
    config = {"data": {"path": "d.npz"}, "model": {"loss": loss}}
    if layers is not None:
        config["model"]["layers"] = layers
    if scale is not None:
        config["data"]["scale"] = scale
    try:
        prepare(plan(config=from_mapping(config, "file", "f.toml"), build=False, environ={}))
    except ConfigError as exc:
        assert str(exc).startswith("f.toml: ")


def test_deeply_nested_json_for_model_from_json_gives_the_loaders_error():
    from hookfit.models import model_from_json

    with pytest.raises(FormatError, match=r"^model_from_json: nested too deeply"):
        model_from_json("[" * 100_000 + "]" * 100_000)


def _corrupt_attribute_dataspace(path, name):
    """Give the last attribute called ``name`` in the file a dataspace of
    rank 32 in its 8-byte message, as a damaged disk could."""
    data = bytearray(path.read_bytes())
    at = data.rfind(name.encode() + b"\0")
    header = at - 8  # attribute message v1: version, 0, name, type and space sizes
    assert (
        data[header] == 1
        and int.from_bytes(data[header + 2 : header + 4], "little") == len(name) + 1
    )
    name_size, type_size = (
        int.from_bytes(data[header + i : header + i + 2], "little") for i in (2, 4)
    )
    space = at + -(-name_size // 8) * 8 + -(-type_size // 8) * 8
    assert data[space] == 1  # dataspace message version 1
    data[space + 1] = 32
    path.write_bytes(bytes(data))


LOADS = [
    ("load_model", lambda model, path: load_model(path)),
    ("load_weights", lambda model, path: model.load_weights(path)),
    ("restore", lambda model, path: restore(model, path)),  # BackupAndRestore's load
]


@pytest.mark.parametrize("load", [c[1] for c in LOADS], ids=[c[0] for c in LOADS])
def test_a_corrupt_attribute_dataspace_gives_the_loaders_error(load, saved, tmp_path):
    path = tmp_path / "damaged.h5"
    path.write_bytes(saved.read_bytes())
    # model_weights' own keras_version: every loader reads that group's attributes
    _corrupt_attribute_dataspace(path, "keras_version")
    model = load_model(saved)
    with pytest.raises(
        FormatError,
        match=rf"{re.escape(str(path))} is not a readable hookfit/Keras HDF5 model file "
        r"\(truncated, corrupt or another format\): RuntimeError: .*ran off end of input buffer",
    ):
        load(model, path)


def test_a_file_declaring_weights_over_the_memory_budget_is_refused_naming_it(
    tmp_path, monkeypatch
):
    path = tmp_path / "m.h5"
    Sequential([Dense(1000, input_dim=1000, name="wide"), Dense(2)]).save(path)
    monkeypatch.setenv("HOOKFIT_MEMORY_BUDGET", "1MiB")
    with pytest.raises(
        FormatError,
        match=rf"{re.escape(str(path))}: model_config layer 0 \(Dense\): Layer wide \(Dense\) "
        r"declares kernel "
        r"\(1000, 1000\), bias \(1000,\) of float32, which take the model's weights to 3\.8 MiB "
        r"\(4004000 bytes\), over hookfit's memory budget of 1\.0 MiB\. If that size is intended, "
        r"raise the budget: HOOKFIT_MEMORY_BUDGET=1GiB",
    ):
        load_model(path)
    monkeypatch.setenv("HOOKFIT_MEMORY_BUDGET", "5MiB")
    assert load_model(path).count_params() == 1_003_002
