"""HDF5 model files: the Keras layout, exact resumption, atomic writes and
refusal of crafted files."""

import json
import sys

import h5py
import numpy as np
import pytest

from hookfit import (
    ConfigError,
    FormatError,
    HookfitWarning,
    MissingDependencyError,
    ModelError,
    saving,
)
from hookfit.layers import Activation, Dense, Dropout, Flatten
from hookfit.models import Sequential, load_model
from hookfit.optimizers import SGD
from hookfit.saving import images
from hookfit.utils import set_random_seed


@pytest.fixture
def trained(hookfit_data):
    """A model with every layer type and an optimizer with state, trained a bit."""
    x, y = hookfit_data
    set_random_seed(3)
    model = Sequential(
        [
            Dense(16, activation="tanh", input_dim=8, kernel_initializer="he_uniform"),
            Dropout(0.2),
            Dense(3),
            Activation("softmax"),
        ]
    )
    model.compile(
        SGD(lr=0.1, momentum=0.9, decay=0.01), "categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model


def test_save_then_load_gives_the_same_model(trained, hookfit_data, tmp_path):
    x, _ = hookfit_data
    trained.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    assert [type(ly).__name__ for ly in loaded.layers] == [
        "Dense",
        "Dropout",
        "Dense",
        "Activation",
    ]
    assert [ly.name for ly in loaded.layers] == [ly.name for ly in trained.layers]
    np.testing.assert_array_equal(loaded.predict(x), trained.predict(x))
    assert loaded.loss.name == "categorical_crossentropy" and loaded.metrics_names == [
        "loss",
        "acc",
    ]
    opt = loaded.optimizer
    assert (type(opt).__name__, opt.lr, opt.momentum, opt.decay, opt.iterations) == (
        "SGD",
        0.1,
        0.9,
        0.01,
        8,
    )


def test_fit_after_load_continues_exactly(trained, hookfit_data, tmp_path):
    x, y = hookfit_data
    trained.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    for model in (trained, loaded):  # shuffling, dropout and momentum all continue
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for a, b in zip(trained.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def test_the_file_has_the_keras_2_layout(trained, tmp_path):
    trained.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert (text(f.attrs["keras_version"]), text(f.attrs["backend"])) == (
            "2.15.0",
            "tensorflow",
        )
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Sequential"
        first = config["config"]["layers"][0]
        assert first["class_name"] == "InputLayer"
        assert first["config"]["batch_input_shape"] == [None, 8]
        dense = trained.layers[0].name
        group = f["model_weights"]
        assert [n.decode() for n in group.attrs["layer_names"]] == [
            ly.name for ly in trained.layers
        ]
        assert [n.decode() for n in group[dense].attrs["weight_names"]] == [
            f"{dense}/kernel:0",
            f"{dense}/bias:0",
        ]
        np.testing.assert_array_equal(
            group[dense][f"{dense}/kernel:0"][()], trained.layers[0].weights[0]
        )
        training = json.loads(f.attrs["training_config"])
        assert training["optimizer_config"] == {
            "class_name": "SGD",
            "config": {"name": "SGD", "learning_rate": 0.1, "momentum": 0.9, "nesterov": False},
        }
        assert "optimizer_weights" not in f  # hookfit's own state is in "hookfit"
        assert sorted(f["hookfit/slots"]) == ["momentum"]


def test_weights_only_files(trained, hookfit_data, tmp_path):
    x, _ = hookfit_data
    trained.save_weights(tmp_path / "w.h5")
    trained.save(tmp_path / "m.h5")
    for name in ("w.h5", "m.h5"):
        set_random_seed(9)
        fresh = Sequential(
            [
                Dense(16, activation="tanh", input_dim=8),
                Dropout(0.2),
                Dense(3),
                Activation("softmax"),
            ]
        )
        fresh.load_weights(tmp_path / name)
        np.testing.assert_array_equal(fresh.predict(x), trained.predict(x))
    with pytest.raises(
        FormatError,
        match=r"w\.h5 holds no model_config \(a weights-only file\?\); "
        r"build the model in code and call model\.load_weights",
    ):
        load_model(tmp_path / "w.h5")


def test_background_saves_copy_the_state_at_once(trained, hookfit_data, tmp_path):
    from hookfit.background import Lane

    x, y = hookfit_data
    jobs = Lane("test")
    expected = trained.get_weights()
    saving.save_model(trained, tmp_path / "m.h5", jobs=jobs)
    saving.save_weights(trained, tmp_path / "w.h5", jobs=jobs)
    trained.fit(x, y, epochs=1, verbose=0)  # changes the weights meanwhile
    jobs.wait()
    for name in ("m.h5", "w.h5"):
        fresh = load_model(tmp_path / "m.h5")
        fresh.load_weights(tmp_path / name)
        for a, b in zip(fresh.get_weights(), expected, strict=True):
            np.testing.assert_array_equal(a, b)


def test_background_errors_reach_the_training_thread(trained, tmp_path, monkeypatch):
    from hookfit.background import Lane

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(saving.hdf5, "file_image", crash)
    jobs = Lane("ModelCheckpoint")
    saving.save_model(trained, tmp_path / "m.h5", jobs=jobs)
    with pytest.raises(OSError, match="disk full") as info:
        jobs.wait()
    assert info.value.__notes__ == ["hookfit: raised in a background job of ModelCheckpoint"]
    jobs.wait()  # reported once


def test_restore_returns_the_metadata(trained, tmp_path):
    saving.save_model(trained, tmp_path / "b.h5", metadata={"epoch": 7, "plugins": {}})
    assert saving.restore(trained, tmp_path / "b.h5") == {"epoch": 7, "plugins": {}}


def test_images_and_flatten_round_trip(hookfit_rng, tmp_path):
    x = hookfit_rng.normal(size=(4, 2, 3)).astype("float32")
    model = Sequential([Flatten(input_shape=(2, 3)), Dense(2, activation="softmax")])
    model.save(tmp_path / "f.h5")  # not compiled: no training config, no optimizer
    loaded = load_model(tmp_path / "f.h5")
    assert loaded.optimizer is None
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_failed_write_leaves_the_previous_file(trained, tmp_path, monkeypatch):
    path = tmp_path / "m.h5"
    trained.save(path)
    before = path.read_bytes()

    image = saving.hdf5.file_image

    def crash(*args, **kwargs):
        yield from image(*args, **kwargs)[:1]  # the temporary file has begun
        raise OSError("disk full")

    monkeypatch.setattr(saving.hdf5, "file_image", crash)
    with pytest.raises(OSError, match="disk full"):
        trained.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.h5"]  # no temporary file left


def no_h5py():
    raise AssertionError("h5py built this file")


SAVES = [
    pytest.param(lambda m, p: m.save(p), id="model"),
    pytest.param(lambda m, p: m.save(p, include_optimizer=False), id="no-optimizer"),
    pytest.param(lambda m, p: m.save_weights(p), id="weights-only"),
    pytest.param(
        lambda m, p: saving.save_model(m, p, metadata={"epoch": 3, "plugins": {"e": [0.25]}}),
        id="with-metadata",
    ),
]


@pytest.mark.parametrize("save", SAVES)
def test_the_next_save_of_a_layout_writes_what_h5py_builds_without_h5py(
    save, trained, hookfit_data, tmp_path, monkeypatch
):
    x, y = hookfit_data
    images._templates.clear()
    save(trained, tmp_path / "first.h5")  # h5py builds the layout once
    trained.fit(x, y, epochs=1, batch_size=16, verbose=0)
    with monkeypatch.context() as patch:
        patch.setattr(images, "h5py", no_h5py)
        save(trained, tmp_path / "reused.h5")
    images._templates.clear()
    save(trained, tmp_path / "built.h5")
    reused = (tmp_path / "reused.h5").read_bytes()
    assert reused == (tmp_path / "built.h5").read_bytes()
    assert reused != (tmp_path / "first.h5").read_bytes()  # the values did change


def test_a_changed_layout_is_built_again(trained, tmp_path):
    images._templates.clear()
    for note in ["short", "long" * 40, "short"]:  # 40 x 4 bytes: past a padding grain
        saving.save_model(trained, tmp_path / "b.h5", metadata={"note": note})
        assert saving.restore(trained, tmp_path / "b.h5") == {"note": note}
    assert len(images._templates) == 2


def test_without_a_template_h5py_builds_every_save(trained, tmp_path, monkeypatch):
    images._templates.clear()
    saving.save_model(trained, tmp_path / "built.h5", metadata={"epoch": 1})
    images._templates.clear()
    # every token made of one digit: the shorter is found inside the longer
    monkeypatch.setattr(images.secrets, "token_hex", lambda n: "7" * (2 * n))
    for _ in range(2):
        saving.save_model(trained, tmp_path / "m.h5", metadata={"epoch": 1})
        assert (tmp_path / "m.h5").read_bytes() == (tmp_path / "built.h5").read_bytes()
    assert [t.image for t in images._templates.values()] == [None]


def test_json_attributes_are_padded_to_the_grain(trained, tmp_path):
    saving.save_model(trained, tmp_path / "m.h5", metadata={"epoch": 1})
    with h5py.File(tmp_path / "m.h5", "r") as f:
        lengths = {k: len(v.encode()) % images.GRAIN for k, v in f["hookfit"].attrs.items()}
    assert lengths == {"metadata": 0, "optimizer": 0, "rng_states": 0}


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda m, p: m.save(p / "m.keras"),
            ConfigError,
            r"m\.keras: hookfit saves HDF5 files; name the file with \.h5 or \.hdf5",
        ),
        (lambda m, p: m.save(p), ConfigError, r"is a directory; give a file path such as"),
        (
            lambda m, p: (m.save(p / "m.h5"), m.save(p / "m.h5", overwrite=False)),
            ConfigError,
            r"m\.h5 exists and overwrite=False",
        ),
        (
            lambda m, p: Sequential([Dense(2)]).save(p / "m.h5"),
            ModelError,
            r"save\(\) needs a built model: give the first layer input_dim, or fit once",
        ),
        (lambda m, p: load_model(p / "none.h5"), FormatError, r"none\.h5: no such file"),
    ],
    ids=["suffix", "directory", "overwrite", "not-built", "missing"],
)
def test_bad_save_and_load_calls(call, error, message, trained, tmp_path):
    with pytest.raises(error, match=message):
        call(trained, tmp_path)


def test_keras_3_weights_name_warns(trained, tmp_path):
    with pytest.warns(HookfitWarning, match=r"Keras 3 reads '\*\.weights\.h5' files in its own "):
        trained.save_weights(tmp_path / "m.weights.h5")


def test_h5py_missing_says_which_extra(trained, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(MissingDependencyError, match=r"needs h5py: pip install 'hookfit\[h5\]'"):
        trained.save(tmp_path / "m.h5")


# -- crafted files ----------------------------------------------------------------------


def craft(tmp_path, trained, edit):
    """Save the trained model, then damage the file with ``edit(f, dense)``."""
    path = tmp_path / "bad.h5"
    trained.save(path)
    with h5py.File(path, "r+") as f:
        edit(f, trained.layers[0].name)
    return path


def set_config(f, change):
    config = json.loads(f.attrs["model_config"])
    change(config["config"]["layers"])
    f.attrs["model_config"] = json.dumps(config).encode()


def lambda_layer(layers):
    code = "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMEAAAAfABTACkBTqkAKQHaAXhyAQAAAHIBAAAA"
    layers.insert(
        2,
        {
            "class_name": "Lambda",
            "config": {"name": "lambda", "function": [code, None, None], "function_type": "lambda"},
        },
    )


def replace_kernel(make):
    def edit(f, dense):
        group = f["model_weights"][dense][dense]
        del group["kernel:0"]
        make(group, f)

    return edit


CRAFTED = [
    (
        "unknown-layer",
        lambda f, d: set_config(f, lambda ls: ls[1].update(class_name="Conv3D")),
        r"model_config layer 0 is 'Conv3D' \(did you mean 'Conv2D'\?\), a layer hookfit does "
        r"not have\. hookfit loads: ",
    ),
    (
        "lambda-layer",
        lambda f, d: set_config(f, lambda_layer),
        r"model_config layer 1 is a Lambda layer, which holds code; hookfit never runs stored code",
    ),
    (
        "regularizer",
        lambda f, d: set_config(
            f, lambda ls: ls[1]["config"].update(activity_regularizer={"class_name": "L2"})
        ),
        r"\(Dense\) sets activity_regularizer, which hookfit does not support",
    ),
    (
        "subclassed",
        lambda f, d: f.attrs.modify("model_config", b'{"class_name": "MyModel"}'),
        r"hookfit loads Sequential and functional models; this file holds 'MyModel'",
    ),
    (
        "soft-link",
        replace_kernel(lambda g, f: g.__setitem__("kernel:0", h5py.SoftLink("/x"))),
        r"kernel:0 is a SoftLink; only plain datasets are read",
    ),
    (
        "external-link",
        replace_kernel(
            lambda g, f: g.__setitem__("kernel:0", h5py.ExternalLink("/etc/passwd", "/x"))
        ),
        r"kernel:0 is a ExternalLink; only plain datasets are read",
    ),
    (
        "external-data",
        replace_kernel(
            lambda g, f: g.create_dataset(
                "kernel:0", (8, 16), "f4", external=[("/etc/hostname", 0, 512)]
            )
        ),
        r"kernel:0 keeps its data outside the file; refused",
    ),
    (
        "wrong-shape",
        replace_kernel(lambda g, f: g.create_dataset("kernel:0", data=np.zeros((8, 15)))),
        r"kernel:0 has shape \(8, 15\); the model needs \(8, 16\)",
    ),
    (
        "not-floats",
        replace_kernel(lambda g, f: g.create_dataset("kernel:0", data=np.zeros((8, 16), "i4"))),
        r"kernel:0 holds int32, not floats",
    ),
    ("missing-weights", lambda f, d: f["model_weights"].__delitem__(d), r"no '"),
    (
        "linked-group",
        lambda f, d: (
            f.__delitem__("model_weights"),
            f.__setitem__("model_weights", h5py.SoftLink("/hookfit")),
        ),
        r"'model_weights' is a SoftLink; only plain groups are read",
    ),
    (
        "bad-json",
        lambda f, d: f.attrs.modify("model_config", b"{not json"),
        r"bad\.h5: model_config is not valid JSON: Expecting property name",
    ),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in CRAFTED], ids=[c[0] for c in CRAFTED])
def test_crafted_files_are_refused(edit, message, trained, tmp_path):
    path = craft(tmp_path, trained, edit)
    with pytest.raises(FormatError, match=message):
        load_model(path)


def test_a_truncated_file_is_refused(trained, tmp_path):
    trained.save(tmp_path / "m.h5")
    data = (tmp_path / "m.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        FormatError,
        match=r"cut\.h5 is not a readable hookfit/Keras HDF5 model "
        r"file \(truncated, corrupt or another format\)",
    ):
        load_model(tmp_path / "cut.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(FormatError, match=r"text\.h5 is not a readable"):
        load_model(tmp_path / "text.h5")


def test_weights_for_another_model_are_refused(trained, tmp_path):
    trained.save_weights(tmp_path / "w.h5")
    other = Sequential([Dense(4, input_dim=8), Dense(3), Dense(3)])
    with pytest.raises(FormatError, match=r"holds weights for 2 layers; the model has 3 layers"):
        other.load_weights(tmp_path / "w.h5")
    narrower = Sequential([Dense(15, input_dim=8), Dense(3)])
    with pytest.raises(FormatError, match=r"has shape \(8, 16\); the model needs \(8, 15\)"):
        narrower.load_weights(tmp_path / "w.h5")
    no_bias = Sequential([Dense(16, input_dim=8, use_bias=False), Dense(3)])
    with pytest.raises(FormatError, match=r"holds 2 weights; dense_\d+ has 1"):
        no_bias.load_weights(tmp_path / "w.h5")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c["config"].update(clipnorm=1.0),
            r"the optimizer sets \{'clipnorm': 1\.0\}, which hookfit's SGD lacks",
        ),
        (lambda c: c.update(class_name="AdamW"), r"Unknown optimizer 'adamw'"),
    ],
    ids=["setting-that-is-on", "unknown-optimizer"],
)
def test_keras_optimizer_settings_hookfit_cannot_honour(change, message, trained, tmp_path):
    def edit(f, dense):
        training = json.loads(f.attrs["training_config"])
        change(training["optimizer_config"])
        f.attrs["training_config"] = json.dumps(training).encode()

    path = craft(tmp_path, trained, edit)
    with pytest.warns(HookfitWarning, match=message):
        assert load_model(path).optimizer is None


def test_keras_3_settings_that_are_off_are_ignored(trained, hookfit_data, tmp_path):
    def edit(f, dense):
        def add_keras_3_keys(layers):
            layers[1]["config"]["quantization_config"] = None
            layers[1]["config"]["kernel_initializer"]["config"]["input_axes"] = None
            layers[1]["config"]["dtype"] = {
                "class_name": "DTypePolicy",
                "config": {"name": "float32"},
            }

        set_config(f, add_keras_3_keys)

    x, _ = hookfit_data
    np.testing.assert_array_equal(
        load_model(craft(tmp_path, trained, edit)).predict(x), trained.predict(x)
    )


def test_a_restore_into_another_optimizer_is_refused(trained, tmp_path):
    trained.save(tmp_path / "m.h5")
    other = load_model(tmp_path / "m.h5")
    other.compile("adam", "categorical_crossentropy")
    with pytest.raises(FormatError, match=r"holds SGD state; the model is compiled with Adam"):
        saving.restore(other, tmp_path / "m.h5")


# -- a full disk ------------------------------------------------------------------------

FULL_DISK = """
import json, os, resource, signal, sys
import numpy as np
from hookfit.callbacks import ModelCheckpoint
from hookfit.layers import Dense
from hookfit.models import Sequential, load_model

folder, limit = sys.argv[1], int(sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
small = Sequential([Dense(2, input_dim=3)])
small.save(f"{folder}/m0.h5")  # an earlier save, small enough
model = Sequential([Dense(100, input_dim=100), Dense(2)])  # about 130 KB with Adam's slots
model.compile("adam", "mse")
x, y = np.ones((8, 100), "f4"), np.ones((8, 2), "f4")
model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(f"{folder}/ck.h5")], config={})
if limit:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
errors = {}
for name in ("m0.h5", "m1.h5"):
    try:
        model.save(f"{folder}/{name}")
    except OSError as exc:
        errors[name] = [exc.errno, str(exc)]
try:
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(f"{folder}/ck.h5")], config={})
except OSError as exc:
    errors["fit"] = [exc.errno, str(exc)]
print(json.dumps(errors))
"""


def run_full(folder, limit):
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(folder), str(limit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # no SIGSEGV (-11) inside h5py
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_nothing_lost(folder):
    assert sorted(p.name for p in folder.iterdir()) == ["ck.h5", "m0.h5"]  # no temporary file
    assert load_model(folder / "m0.h5").layers[0].units == 2  # the earlier save is intact
    assert load_model(folder / "ck.h5").layers[0].units == 100  # and the earlier checkpoint


def test_a_file_size_limit_during_save_gives_a_clean_error_and_loses_nothing(tmp_path):
    errors = run_full(tmp_path, 64_000)
    for name, kept in (("m0.h5", "keeps its previous content"), ("m1.h5", "was not created")):
        code, message = errors[name]
        assert code == 27  # EFBIG
        assert message.startswith("[Errno 27] could not write the model file (File too large); ")
        assert f"{name} {kept}, and no temporary file is left" in message
        assert message.endswith(f": '{tmp_path / name}'")
    assert errors["fit"][0] == 27 and "ck.h5 keeps its previous content" in errors["fit"][1]
    assert_nothing_lost(tmp_path)


@pytest.fixture
def small_disk(tmp_path):
    """A 300 KB tmpfs (needs root and a system that allows mounting)."""
    import subprocess

    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_during_save_gives_a_clean_error_and_loses_nothing(small_disk):
    (small_disk / "filler").write_bytes(b"\0" * 150_000)  # leaves room for the first saves only
    errors = run_full(small_disk, 0)
    (small_disk / "filler").unlink()
    assert {name: code for name, (code, _) in errors.items()} == {
        "m0.h5": 28,
        "m1.h5": 28,
        "fit": 28,
    }  # ENOSPC
    assert "could not write the model file (No space left on device)" in errors["m1.h5"][1]
    assert_nothing_lost(small_disk)


@pytest.mark.parametrize(
    ("name", "plain"),
    [("dense_1", True), ("run-2.v3", True), ("../../x", False), ("/etc", False),
     (".hidden", False), ("", False), ("a/b", False)],
    ids=["plain", "dots-inside", "parent", "absolute", "dot-file", "empty", "slash"],
)  # fmt: skip
def test_a_safe_file_name_stays_in_its_folder_and_names_differ(name, plain, tmp_path):
    from hookfit.saving import safe_file_name

    safe = safe_file_name(name)
    assert (safe == name) is plain
    assert (tmp_path / safe).resolve().parent == tmp_path.resolve()
    assert not safe.startswith(".") and "/" not in safe
    assert safe_file_name(name + "!") != safe_file_name(name + "?")


def test_names_too_long_for_one_attribute_are_split_as_keras_does(tmp_path):
    from hookfit.saving.images import HEADER_LIMIT

    path = tmp_path / "deep.h5"
    names = [f"activation_layer_number_{i:05d}" for i in range(3000)]  # 90 KB of names
    layers = [Activation("relu", input_shape=(3,), name=names[0])]
    layers += [Activation("relu", name=name) for name in names[1:]] + [Dense(2)]
    model = Sequential(layers)
    model.save(path)
    with h5py.File(path, "r") as f:
        group = f["model_weights"]
        assert "layer_names" not in group.attrs
        chunks = [group.attrs[f"layer_names{i}"] for i in range(2)]
        assert all(chunk.nbytes <= HEADER_LIMIT for chunk in chunks)
        assert len(f.attrs["model_config"]) > HEADER_LIMIT  # kept in the file's heap
    loaded = load_model(path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in layers]
    assert all(
        np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True)
    )
