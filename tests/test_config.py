"""Config files, environment and command line, in process: loading, checks,
precedence. The subprocess tests of the command are in test_cli.py."""

import contextlib
import math
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookfit import ConfigError
from hookfit import config as cfg
from hookfit.job import prepare
from hookfit.plugins import Catalogue
from hookfit.selection import select

FAKE = {
    "fake_plugins.py": """
    from collections.abc import Callable
    from hookfit import Callback

    class Tunable(Callback):
        def __init__(self, label: str = "x", patience: int = 0, ratio: float = 0.5,
                     names: list[str] | None = None, hook: Callable[[int], int] | None = None):
            super().__init__()
            self.label, self.patience, self.ratio = label, patience, ratio
            self.names, self.hook = names, hook

    class Needs(Callback):
        def __init__(self, filename: str):
            super().__init__()
            self.filename = filename
    """
}


@pytest.fixture
def fake(hookfit_site):
    hookfit_site.add(
        "hookfit-fake",
        {"tunable": "fake_plugins:Tunable", "needs": "fake_plugins:Needs"},
        FAKE,
    )
    return hookfit_site


def write(tmp_path, text, name="hookfit.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- finding and reading files -------------------------------------------------


def test_the_file_is_found_from_the_working_directory_upward(tmp_path):
    write(tmp_path, "[fit]\nepochs = 3\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert cfg.find_file(deep) == tmp_path / "hookfit.toml"


def test_pyproject_counts_only_with_a_tool_hookfit_table(tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    write(inner, "[project]\nname = 'x'\n", "pyproject.toml")
    write(tmp_path, "[tool.hookfit]\ndisable = ['history']\n", "pyproject.toml")
    found = cfg.find_file(inner)
    assert found == tmp_path / "pyproject.toml"
    layer = cfg.read_file(found)
    assert layer.switches == [("history", False, f"{found}: tool.hookfit.disable")]


def test_malformed_toml_names_the_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "[fit]\nepochs = = 3\n")
    with pytest.raises(ConfigError, match=r"^hookfit\.toml: invalid TOML: .*line 2, column"):
        cfg.read_file(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[fitt]\nepochs = 3\n", r"hookfit\.toml: fitt: unknown section \(did you mean 'fit'\?\)"),
        ("fit = 3\n", r"hookfit\.toml: fit: must be a table, got 3"),
        (
            "[hookfit]\ndisabel = ['history']\n",
            r"hookfit\.disabel: unknown key \(did you mean 'disable'\?\)\. Valid keys: enable, ",
        ),
        (
            "[hookfit]\nenable = 'history'\n",
            r"hookfit\.enable: expected a list of strings, got \"history\"",
        ),
        (
            "[hookfit]\nenable = ['histroy']\n",
            r"hookfit\.enable\[0\]: no installed plugin is called 'histroy' \(did you mean "
            r"'history'\?\)\. Installed plugins: ",
        ),
        (
            "[hookfit]\nenable = ['history']\ndisable = ['history']\n",
            r"hookfit\.disable\[0\]: 'history' is in both hookfit\.enable and hookfit\.disable",
        ),
        ("[hookfit]\nautoload = 'no'\n", r"hookfit\.autoload: expected true or false, got \"no\""),
        (
            "[callbacks]\nhistory = 3\n",
            r"callbacks\.history: must be a table of the plugin's arguments, got 3",
        ),
        (
            "[callbacks.history]\nenabled = 'yes'\n",
            r"callbacks\.history\.enabled: expected true or false, got \"yes\"",
        ),
        ("[callbacks.history]\n'not a name' = 1\n", r"callbacks\.history\.not a name: not a valid"),
        ("[callbacks.earlystopping]\npatience = 1\n", r"callbacks\.earlystopping: no installed"),
        ("[fit]\nepochs = '3'\n", r"fit\.epochs: expected an integer, got \"3\""),
        ("[fit]\nepoch = 3\n", r"fit\.epoch: unknown key \(did you mean 'epochs'\?\)"),
        ("[model]\noptimizer = 3\n", r"model\.optimizer: expected a string or a table, got 3"),
        ("[data]\nscale = true\n", r"data\.scale: expected a number, got true"),
    ],
    ids=[
        "unknown-section",
        "section-not-table",
        "unknown-hookfit-key",
        "enable-not-list",
        "unknown-plugin",
        "enable-and-disable",
        "autoload-type",
        "callbacks-not-table",
        "enabled-type",
        "bad-argument-name",
        "unknown-callbacks-plugin",
        "fit-type",
        "fit-unknown-key",
        "optimizer-type",
        "data-type",
    ],
)
def test_bad_files_are_refused_with_file_and_key_path(text, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        cfg.read_file(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tool.hookfit]\ndisabel = []\n",
            r"pyproject\.toml: tool\.hookfit\.disabel: unknown key \(did you mean 'disable'\?\)",
        ),
        ("[tool]\nhookfit = 3\n", r"pyproject\.toml: tool\.hookfit must be a table, got 3"),
        ("[tool.hookfit.fit]\nepochs = 'x'\n", r"tool\.hookfit\.fit\.epochs: expected an integer"),
        (
            "[tool.hookfit]\nenable = ['histroy']\n",
            r"pyproject\.toml: tool\.hookfit\.enable\[0\]: no installed plugin is called 'histroy'",
        ),
    ],
    ids=["unknown-key", "not-a-table", "nested-type", "unknown-plugin"],
)
def test_bad_pyproject_tables_are_refused(text, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        cfg.read_file(write(tmp_path, text, "pyproject.toml"))


def test_an_uninstalled_builtin_names_its_distribution():
    with pytest.raises(
        ConfigError,
        match=r"f\.toml: hookfit\.enable\[0\]: no installed plugin is called 'tensorboard'\. It is "
        r"provided by hookfit-tensorboard: pip install hookfit-tensorboard\. Installed plugins: "
        r"none\.",
    ):
        cfg.from_mapping({"hookfit": {"enable": ["tensorboard"]}}, "file", "f.toml", Catalogue())


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such config file"):
        cfg.read_file(tmp_path / "nope.toml")
    bad = tmp_path / "latin.toml"
    bad.write_bytes(b"[fit]\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.toml: cannot read the file: 'utf-8' codec"):
        cfg.read_file(bad)
    with pytest.raises(ConfigError, match=r"the config must be a table of sections, got \[1\]"):
        cfg.from_mapping([1], "code", "fit(config=...)")
    with pytest.raises(
        ConfigError,
        match=r"config must be a path, a dict, a Config, None or "
        r"False; got int",
    ):
        cfg.load(3)


# -- environment and command line ---------------------------------------------


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"HOOKFIT_DISABLE_PLUGIN_AUTOLOAD": "maybe"},
            r"environment: HOOKFIT_DISABLE_PLUGIN_AUTOLOAD='maybe': expected 1 or 0",
        ),
        (
            {"HOOKFIT_PLUGINS": "history,progbar"},
            r"environment: HOOKFIT_PLUGINS: no installed plugin is called 'progbar' \(did you mean "
            r"'progbar_logger'\?\)",
        ),
    ],
    ids=["autoload-value", "unknown-plugin"],
)
def test_bad_environment_is_refused(environ, message):
    with pytest.raises(ConfigError, match=message):
        cfg.from_environment(environ)


@pytest.mark.parametrize(
    ("plugins", "sets", "message"),
    [
        (["histroy"], [], r"command line: -p histroy: no installed plugin is called 'histroy'"),
        (["no:histroy"], [], r"command line: -p no:histroy: no installed plugin"),
        ([], ["fit.epochs"], r"--set fit\.epochs: expected SECTION\.KEY=VALUE"),
        ([], ["epochs=3"], r"--set epochs=3: expected SECTION\.KEY=VALUE"),
        (
            [],
            ["fit.epoch=3"],
            r"--set fit\.epoch=3: fit\.epoch: unknown key \(did you mean "
            r"'epochs'\?\)",
        ),
        (
            [],
            ["fit.epochs=three"],
            r"--set fit\.epochs=three: fit\.epochs: expected an integer, "
            r"got \"three\"",
        ),
    ],
    ids=[
        "unknown-plugin",
        "unknown-disabled-plugin",
        "no-value",
        "no-section",
        "unknown-key",
        "wrong-type",
    ],
)
def test_bad_command_lines_are_refused(plugins, sets, message):
    with pytest.raises(ConfigError, match=message):
        cfg.from_command_line(plugins, sets)


def test_set_parses_toml_values_and_falls_back_to_strings():
    layer = cfg.from_command_line(
        [], ["fit.epochs=3", "fit.shuffle=false", "data.path=a/b.csv", "model.metrics=['accuracy']"]
    )
    values = {path: value for path, (value, _) in layer.values.items()}
    assert values == {
        ("fit", "epochs"): 3,
        ("fit", "shuffle"): False,
        ("data", "path"): "a/b.csv",
        ("model", "metrics"): ["accuracy"],
    }


# -- precedence ------------------------------------------------------------------


def decide(*layers, cat=None):
    config = cfg.Config(layers, cat)
    return {d.name: (d.on, d.why) for d in config.decisions()}


def test_plugin_defaults_apply_when_nothing_names_a_plugin():
    decisions = decide()
    assert decisions["history"] == (True, "on by default (always)")
    assert decisions["progbar_logger"] == (True, "on by default (when verbose)")


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        # file > plugin defaults
        ([{"file": {"hookfit": {"disable": ["history"]}}}], (False, "f.toml: hookfit.disable")),
        # environment > file
        (
            [
                {"file": {"hookfit": {"disable": ["history"]}}},
                {"env": {"HOOKFIT_PLUGINS": "history"}},
            ],
            (True, "environment: HOOKFIT_PLUGINS=history"),
        ),
        (
            [
                {"file": {"hookfit": {"enable": ["history"]}}},
                {"env": {"HOOKFIT_PLUGINS": "base_logger"}},
            ],
            (False, "environment: HOOKFIT_PLUGINS=base_logger does not list it"),
        ),
        # command line > environment
        (
            [{"env": {"HOOKFIT_PLUGINS": "base_logger"}}, {"cli": ["history"]}],
            (True, "command line: -p history"),
        ),
        (
            [{"env": {"HOOKFIT_PLUGINS": "history"}}, {"cli": ["no:history"]}],
            (False, "command line: -p no:history"),
        ),
        # code > command line
        (
            [{"cli": ["no:history"]}, {"code": {"callbacks": {"history": {}}}}],
            (True, "fit(config=...): callbacks.history"),
        ),
        # enabled = false keeps the section, switched off
        (
            [{"file": {"callbacks": {"history": {"enabled": False}}}}],
            (False, "f.toml: callbacks.history.enabled = false"),
        ),
    ],
    ids=[
        "file-over-default",
        "env-over-file",
        "env-only-list-over-file",
        "cli-over-env",
        "cli-off-over-env",
        "code-over-cli",
        "enabled-false",
    ],
)
def test_precedence_of_switches(layers, expected):
    built = []
    for layer in layers:
        ((kind, value),) = layer.items()
        if kind == "file":
            built.append(cfg.from_mapping(value, "file", "f.toml"))
        elif kind == "code":
            built.append(cfg.from_mapping(value, "code", "fit(config=...)"))
        elif kind == "env":
            built.append(cfg.from_environment(value))
        else:
            built.append(cfg.from_command_line(value))
    assert decide(*built)["history"] == expected


def test_autoload_switches_defaults_off_and_environment_beats_file():
    file = cfg.from_mapping({"hookfit": {"autoload": True}}, "file", "f.toml")
    env = cfg.from_environment({"HOOKFIT_DISABLE_PLUGIN_AUTOLOAD": "1"})
    decisions = decide(file, env)
    assert decisions["history"] == (
        False,
        "defaults off: environment: HOOKFIT_DISABLE_PLUGIN_AUTOLOAD=1",
    )
    named = cfg.from_mapping({"hookfit": {"enable": ["history"]}}, "file", "f.toml")
    assert decide(named, env)["history"] == (True, "f.toml: hookfit.enable")


def test_arguments_come_from_the_highest_layer(fake):
    file = cfg.from_mapping(
        {"callbacks": {"tunable": {"label": "file", "patience": 2}}}, "file", "f.toml"
    )
    cli = cfg.from_command_line([], ["callbacks.tunable.label=cli"])
    config = cfg.Config([cli, file])
    args, where = config.arguments("tunable")
    assert args == {"label": "cli", "patience": 2}
    assert where == {
        "label": "command line: --set callbacks.tunable.label=cli",
        "patience": "f.toml: callbacks.tunable.patience",
    }
    (member,) = [
        m for m in select([], verbose=0, settings=config.settings()) if m.name == "tunable"
    ]
    assert (member.obj.label, member.obj.patience, member.why) == (
        "cli",
        2,
        "f.toml: callbacks.tunable",
    )


def test_set_configures_without_switching_on_unless_enabled_is_set(fake):
    quiet = cfg.Config([cfg.from_command_line([], ["callbacks.tunable.patience=3"])])
    assert {d.name: d.on for d in quiet.decisions()}["tunable"] is False
    loud = cfg.Config([cfg.from_command_line([], ["callbacks.tunable.enabled=true"])])
    assert {d.name: d.on for d in loud.decisions()}["tunable"] is True


def test_plugin_order_follows_the_layers(fake):
    file = cfg.from_mapping({"hookfit": {"enable": ["needs", "tunable"]}}, "file", "f.toml")
    cli = cfg.from_command_line(["tunable"])
    names = [d.name for d in cfg.Config([file, cli]).decisions() if d.on]
    assert names == ["tunable", "needs", "base_logger", "history", "progbar_logger"]


# -- plugin arguments against the constructor --------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"patiance": 1},
            r"f\.toml: callbacks\.tunable\.patiance: unknown key \(did you mean "
            r"'patience'\?\)\. Tunable takes: label, patience, ratio, names, hook\.",
        ),
        (
            {"patience": "3"},
            r"f\.toml: callbacks\.tunable\.patience: expected an integer, got "
            r"\"3\" \(Tunable's argument patience\)",
        ),
        ({"patience": True}, r"expected an integer, got true"),
        ({"ratio": "high"}, r"callbacks\.tunable\.ratio: expected a number, got \"high\""),
        ({"names": "a"}, r"names: expected a list of strings or none \(leave the key out\), got"),
        ({"names": [1]}, r"names: expected a list of strings"),
        ({"hook": "math"}, r"hook: expected a \"module:function\" reference or none"),
        ({"hook": "math:nope"}, r"hook: expected a \"module:function\" reference"),
    ],
    ids=[
        "unknown-key",
        "string-for-int",
        "bool-for-int",
        "string-for-float",
        "string-for-list",
        "wrong-items",
        "not-a-reference",
        "missing-function",
    ],
)
def test_plugin_arguments_are_checked_against_the_signature(args, message, fake):
    config = cfg.Config([cfg.from_mapping({"callbacks": {"tunable": args}}, "file", "f.toml")])
    with pytest.raises(ConfigError, match=message):
        select([], verbose=0, settings=config.settings())


def test_arguments_are_converted(fake):
    args = {"ratio": 2, "hook": "math:floor", "names": ["a"]}
    config = cfg.Config([cfg.from_mapping({"callbacks": {"tunable": args}}, "file", "f.toml")])
    (member,) = [
        m for m in select([], verbose=0, settings=config.settings()) if m.name == "tunable"
    ]
    assert member.obj.ratio == 2.0 and isinstance(member.obj.ratio, float)
    assert member.obj.hook is math.floor and member.obj.names == ["a"]


def test_a_required_argument_that_is_missing_says_how_to_set_it(fake):
    config = cfg.Config([cfg.from_command_line(["needs"])])
    with pytest.raises(
        ConfigError,
        match=r"Plugin needs \(hookfit-fake 1\.0\): Needs needs "
        r"filename\. Set callbacks\.needs\.filename in the "
        r"config file or with --set\.",
    ):
        select([], verbose=0, settings=config.settings())


def test_fit_reads_a_config_dict(hookfit_model, hookfit_data):
    x, y = hookfit_data
    off = hookfit_model().fit(
        x, y, epochs=1, verbose=0, config={"hookfit": {"disable": ["history"]}}
    )
    assert off is None
    with pytest.raises(ConfigError, match=r"fit\(config=\.\.\.\): hookfit\.disable\[0\]: no "):
        hookfit_model().fit(x, y, verbose=0, config={"hookfit": {"disable": ["histroy"]}})


def test_fit_finds_the_file_from_the_working_directory(
    hookfit_model, hookfit_data, tmp_path, monkeypatch
):
    write(tmp_path, "[hookfit]\ndisable = ['history']\n")
    monkeypatch.chdir(tmp_path)
    x, y = hookfit_data
    assert hookfit_model().fit(x, y, epochs=1, verbose=0) is None
    assert hookfit_model().fit(x, y, epochs=1, verbose=0, config=False) is not None
    monkeypatch.setenv("HOOKFIT_PLUGINS", "history")
    assert hookfit_model().fit(x, y, epochs=1, verbose=0) is not None


# -- the job's sections ----------------------------------------------------------------


def job(tmp_path, data):
    return prepare(cfg.Config([cfg.from_mapping(data, "file", "f.toml")]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"model": {"layers": [{"type": "Dense", "units": 3}, {"type": "Dens"}]}},
            r"f\.toml: model\.layers\[1\]\.type: expected a layer type \(did you mean 'Dense'\?\), "
            r"got \"Dens\"\. Valid types: Dense, Activation, Dropout, Flatten\.",
        ),
        (
            {"model": {"layers": [{"type": "Dense", "unit": 3}]}},
            r"model\.layers\[0\]\.unit: unknown key \(did you mean 'units'\?\)",
        ),
        (
            {"model": {"layers": [{"type": "Dense", "units": "3"}]}},
            r"model\.layers\[0\]\.units: expected an integer, got \"3\"",
        ),
        (
            {"model": {"layers": [{"type": "Dense", "units": 0}]}},
            r"model\.layers\[0\]: dense_\d+: units must be a positive integer, got 0",
        ),
        ({"model": {"loss": "mse2"}}, r"f\.toml: model\.loss: Unknown loss 'mse2'"),
        ({"model": {"optimizer": "adamw"}}, r"f\.toml: model\.optimizer: Unknown optimizer "),
        (
            {"model": {"optimizer": {"name": "sgd", "lr": "fast"}}},
            r"model\.optimizer\.lr: expected a number or none",
        ),
        (
            {"model": {"optimizer": {"name": "sgd", "momentum": 2.0}}},
            r"model\.optimizer: SGD: momentum must be in \[0, 1\), got 2\.0",
        ),
        ({"data": {"dataset": "mnist"}}, r"data\.dataset: unknown data set 'mnist'"),
        ({"data": {"dataset": "digits", "path": "x.npz"}}, r"give data\.dataset or data\.path"),
        ({"data": {"path": "missing.npz"}}, r"f\.toml: data\.path: no such file: missing\.npz"),
        ({"fit": {"seed": -1}}, r"seed must be an integer >= 0, got -1"),
    ],
    ids=[
        "layer-type",
        "layer-key",
        "layer-type-of-value",
        "layer-value",
        "loss",
        "optimizer",
        "optimizer-argument",
        "optimizer-value",
        "dataset",
        "dataset-and-path",
        "missing-file",
        "seed",
    ],
)
def test_bad_job_sections_are_refused(data, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        job(tmp_path, data)


def test_npz_and_csv_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    np.savez(tmp_path / "d.npz", x=x, y=y, x_val=x[:8], y_val=y[:8])
    built = job(tmp_path, {"data": {"path": "d.npz"}})
    assert built.x.shape == (40, 5) and built.validation[0].shape == (8, 5)
    assert built.model.output_dim == 2  # the default model fits the classes
    with (tmp_path / "d.csv").open("w") as f:
        rows = (f"{r[0]},{r[1]},{t}" for r, t in zip(x, y, strict=True))
        f.write("a,b,target\n" + "\n".join(rows))
    built = job(tmp_path, {"data": {"path": "d.csv", "label": "target", "scale": 2.0}})
    np.testing.assert_allclose(built.x, x[:, :2] * 2, rtol=1e-6)
    assert built.fit_args == {}
    built.model.fit(built.x, built.y, epochs=1, verbose=0, config=False)


@pytest.mark.parametrize(
    ("files", "data", "message"),
    [
        (
            {"d.npz": "npz"},
            {"path": "d.npz", "x": "inputs"},
            r"d\.npz has no array 'inputs'; it has x, y\. Name them with data\.x and data\.y",
        ),
        (
            {"d.csv": "a,b\n1,2\n"},
            {"path": "d.csv"},
            r"d\.csv has no column 'label'; its columns are a, b\. Name the label column",
        ),
        ({"d.csv": "a,label\n1,x\n"}, {"path": "d.csv"}, r"holds a value that is not a number"),
        ({"d.csv": "a,label\n1\n"}, {"path": "d.csv"}, r"every row of d\.csv needs 2 values"),
        ({"d.csv": ""}, {"path": "d.csv"}, r"d\.csv is empty"),
        ({"d.txt": "1"}, {"path": "d.txt"}, r"expected a \.npz or \.csv file, got d\.txt"),
        ({"d.npz": "garbage"}, {"path": "d.npz"}, r"cannot read d\.npz as \.npz"),
    ],
    ids=["npz-arrays", "csv-label", "csv-number", "csv-row", "csv-empty", "suffix", "npz-garbage"],
)
def test_bad_data_files_are_refused(files, data, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        if content == "npz":
            np.savez(tmp_path / name, x=np.zeros((2, 2)), y=np.zeros(2))
        else:
            (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError, match=message):
        job(tmp_path, {"data": data})


# -- generated configs -------------------------------------------------------------------

NAMES = st.sampled_from(
    [
        "hookfit",
        "callbacks",
        "model",
        "fit",
        "data",
        "enable",
        "disable",
        "autoload",
        "enabled",
        "history",
        "base_logger",
        "progbar_logger",
        "count_mode",
        "stateful_metrics",
        "epochs",
        "batch_size",
        "layers",
        "loss",
        "optimizer",
        "path",
        "dataset",
        "type",
        "units",
        "x",
    ]
)
KEYS = st.one_of(NAMES, st.text(min_size=0, max_size=12), st.text(string.ascii_letters, max_size=8))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["steps", "samples", "history", "digits", "Dense", "sgd", "\u202e\u0000\U0001f600"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)
CONFIGS = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=5),
    st.fixed_dictionaries(
        {},
        optional={
            "hookfit": st.dictionaries(NAMES, VALUES, max_size=3),
            "callbacks": st.dictionaries(
                NAMES, st.dictionaries(KEYS, VALUES, max_size=3), max_size=3
            ),
            "fit": st.dictionaries(NAMES, VALUES, max_size=3),
        },
    ),
    VALUES,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=CONFIGS)
def test_generated_configs_load_or_fail_with_config_error(data):
    try:
        config = cfg.Config([cfg.from_mapping(data, "code", "fit(config=...)")])
        config.report()
        select([], verbose=1, settings=config.settings())
    except ConfigError:
        pass


TOML_BITS = st.sampled_from(
    [
        "[fit]\n",
        "[hookfit]\n",
        "[callbacks.history]\n",
        "[[model.layers]]\n",
        "epochs = 3\n",
        "enable = ['history']\n",
        'x = "\\u00e9"\n',
        "= 1\n",
        "[fit\n",
        "a = [1, 'b']\n",
        "n = 99999999999999999999\n",
        "k = inf\n",
        "disable = [\n",
        "\u0000",
        '"q" = {a = 1}\n',
    ]
)


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.one_of(TOML_BITS, st.text(max_size=10)), max_size=8).map("".join))
def test_generated_files_load_or_fail_with_config_error(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "hookfit.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(ConfigError):
        cfg.Config([cfg.read_file(path)]).settings()
