"""Config files, environment and command line, in process: reading, checks,
precedence, the plan and the job. The subprocess tests of the command are in
test_cli.py."""

import contextlib
import dataclasses
import json
import math
import os
import string
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookfit import ConfigError
from hookfit.run.catalogue import Catalogue, catalogue, load
from hookfit.run.discovery import find_file, project_root
from hookfit.run.job import example, prepare, substitute
from hookfit.run.plan import plan
from hookfit.run.sources import (
    Setting,
    from_command_line,
    from_environment,
    from_mapping,
    read_file,
    switch,
)
from hookfit.testing import Recorder

AUTOLOAD = "HOOKFIT_DISABLE_PLUGIN_AUTOLOAD"
BUNDLED = ("base_logger", "history", "progbar_logger")

FAKE = {
    "fake_plugins.py": """
    from collections.abc import Callable
    from pathlib import Path
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

        def on_train_end(self, logs=None):
            Path(self.filename).write_text("done")
    """
}

CHATTY = {
    "chatty_plugin.py": """
    from hookfit import Callback

    RAN = []

    class Chatty(Callback):
        def on_train_begin(self, logs=None):
            RAN.append("train")
    """
}


@pytest.fixture
def fake(hookfit_site):
    """Two third-party plugins, off by default: tunable and needs (which
    requires a filename and writes "done" to it when training ends)."""
    hookfit_site.add(
        "hookfit-fake",
        {"tunable": "fake_plugins:Tunable", "needs": "fake_plugins:Needs"},
        FAKE,
    )
    return hookfit_site


@pytest.fixture
def chatty(hookfit_site):
    """A third-party plugin on by default: chatty."""
    hookfit_site.add(
        "hookfit-chatty", {"chatty": "chatty_plugin:Chatty"}, CHATTY, defaults={"chatty": "always"}
    )
    return hookfit_site


@pytest.fixture
def clean_environment(monkeypatch):
    """No HOOKFIT_* variable of the calling shell reaches `fit`."""
    for name in [k for k in os.environ if k.startswith("HOOKFIT_")]:
        monkeypatch.delenv(name)


def write(folder, text, name="hookfit.toml"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- finding and reading files -------------------------------------------------


def test_the_file_is_found_upward_up_to_the_project_root(tmp_path):
    root = tmp_path.resolve()
    (root / ".git").mkdir()
    path = write(root, "[fit]\nepochs = 3\n")
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    assert project_root(deep) == root
    assert find_file(deep) == path
    assert find_file(root) == path


def test_the_search_stops_at_the_project_root(tmp_path):
    root = tmp_path.resolve()
    write(root, "[fit]\nepochs = 3\n")  # above the project: never used
    project = root / "project"
    (project / ".git").mkdir(parents=True)
    deep = project / "a"
    deep.mkdir()
    assert find_file(deep) is None
    assert find_file(project) is None


def test_without_a_project_root_only_the_start_folder_is_searched(tmp_path):
    root = tmp_path.resolve()
    if project_root(root) is not None:
        pytest.skip(f"the temporary folder lies inside a project ({project_root(root)})")
    path = write(root, "[fit]\nepochs = 3\n")
    deep = root / "a"
    deep.mkdir()
    assert find_file(deep) is None
    assert find_file(root) == path


def test_pyproject_counts_only_with_a_tool_hookfit_table(tmp_path, monkeypatch):
    root = tmp_path.resolve()
    monkeypatch.chdir(root)
    (root / ".git").mkdir()
    deep = root / "a"
    deep.mkdir()
    write(root, "[project]\nname = 'x'\n", "pyproject.toml")
    assert find_file(deep) is None
    found = write(
        root, "[project]\nname = 'x'\n\n[tool.hookfit]\ndisable = ['history']\n", "pyproject.toml"
    )
    assert find_file(deep) == found
    assert read_file(found) == [
        Setting(
            ("callbacks", "history", "enabled"),
            False,
            "pyproject.toml: tool.hookfit.disable",
            "file",
        )
    ]
    # hookfit.toml comes first in its folder
    toml = write(root, "[fit]\nepochs = 3\n")
    assert find_file(deep) == toml


def test_a_nested_project_without_a_table_bounds_the_search(tmp_path):
    root = tmp_path.resolve()
    (root / ".git").mkdir()
    write(root, "[tool.hookfit]\ndisable = ['history']\n", "pyproject.toml")
    inner = root / "inner"
    write(inner, "[project]\nname = 'x'\n", "pyproject.toml")
    assert project_root(inner) == inner
    assert find_file(inner) is None
    assert find_file(root) == root / "pyproject.toml"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="no file owners to compare")
def test_a_found_file_that_others_may_write_is_refused_but_usable_when_given(tmp_path):
    root = tmp_path.resolve()
    (root / ".git").mkdir()
    path = write(root, "[fit]\nepochs = 3\n")
    path.chmod(0o666)
    deep = root / "a"
    deep.mkdir()
    with pytest.raises(
        ConfigError,
        match=r"hookfit\.toml: found this config file but refused it: everyone may write it "
        r"\(mode -rw-rw-rw-\).*pass it explicitly: hookfit train .*chmod go-w",
    ):
        find_file(deep)
    path.chmod(0o664)
    with pytest.raises(ConfigError, match=r"refused it: its group may write it"):
        find_file(deep)
    # passed explicitly, it is read
    assert [(s.path, s.value) for s in read_file(path)] == [(("fit", "epochs"), 3)]


def test_malformed_toml_names_the_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "[fit]\nepochs = = 3\n")
    with pytest.raises(ConfigError, match=r"^hookfit\.toml: invalid TOML: .*line 2, column"):
        read_file(path)


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
        ("[fit]\nepochs = '3'\n", r"fit\.epochs: expected an integer >= 0, got \"3\"\.$"),
        (
            "[fit]\nepochs = -1\n",
            r"^hookfit\.toml: fit\.epochs: expected an integer >= 0, got -1\.$",
        ),
        ("[fit]\nbatch_size = 0\n", r"fit\.batch_size: expected an integer >= 1, got 0\.$"),
        (
            "[fit]\nvalidation_split = 1.0\n",
            r"fit\.validation_split: expected a number >= 0 and < 1, got 1\.0\.$",
        ),
        ("[fit]\nverbose = 3\n", r"fit\.verbose: expected one of 0, 1, 2, got 3\.$"),
        ("[fit]\nseed = -1\n", r"^hookfit\.toml: fit\.seed: expected an integer >= 0, got -1\.$"),
        ("[fit]\nepoch = 3\n", r"fit\.epoch: unknown key \(did you mean 'epochs'\?\)"),
        ("[model]\noptimizer = 3\n", r"model\.optimizer: expected a string or a table, got 3"),
        ("[model]\nlayers = [3]\n", r"model\.layers: expected a list of tables, got \[3\]\.$"),
        ("[data]\nscale = true\n", r"data\.scale: expected a (finite )?number, got true\.$"),
        ("[data]\nscale = nan\n", r"data\.scale: expected a (finite )?number, got nan\.$"),
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
        "fit-range",
        "batch-size-range",
        "validation-split-range",
        "verbose-choice",
        "seed-range",
        "fit-unknown-key",
        "optimizer-type",
        "layers-not-tables",
        "data-type",
        "data-not-finite",
    ],
)
def test_bad_files_are_refused_with_file_and_key_path(text, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        read_file(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tool.hookfit]\ndisabel = []\n",
            r"pyproject\.toml: tool\.hookfit\.disabel: unknown key \(did you mean 'disable'\?\)",
        ),
        ("[tool]\nhookfit = 3\n", r"pyproject\.toml: tool\.hookfit must be a table, got 3"),
        (
            "[tool.hookfit.fit]\nepochs = 'x'\n",
            r"pyproject\.toml: tool\.hookfit\.fit\.epochs: expected an integer >= 0, got \"x\"",
        ),
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
        read_file(write(tmp_path, text, "pyproject.toml"))


def test_an_uninstalled_builtin_names_its_distribution():
    with pytest.raises(
        ConfigError,
        match=r"f\.toml: hookfit\.enable\[0\]: no installed plugin is called 'tensorboard'\. It is "
        r"provided by hookfit-tensorboard: pip install hookfit-tensorboard \(from a clone of "
        r"hookfit: pip install \./plugins/tensorboard\)\. Installed plugins: none\.",
    ):
        from_mapping({"hookfit": {"enable": ["tensorboard"]}}, "file", "f.toml", Catalogue())


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such config file"):
        read_file(tmp_path / "nope.toml")
    bad = tmp_path / "latin.toml"
    bad.write_bytes(b"[fit]\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.toml: cannot read the file: 'utf-8' codec"):
        read_file(bad)
    with pytest.raises(
        ConfigError,
        match=r"^fit\(config=\.\.\.\): the config must be a table of sections, got \[1\]",
    ):
        from_mapping([1], "code", "fit(config=...)")
    with pytest.raises(ConfigError, match=r"nope\.toml: no such config file"):
        plan(config=tmp_path / "nope.toml", environ={})


def _folder(path):
    path.mkdir()


def _loop(path):
    path.symlink_to(path.name)


def _fifo(path):
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (_folder, "is a folder"),
        (_loop, "is a symbolic link that leads back to itself"),
        (_fifo, r"is a named pipe \(FIFO\)"),
    ],
    ids=["folder", "symlink-loop", "fifo"],
)
def test_a_config_path_that_is_not_a_file_says_what_it_is_in_code_too(tmp_path, make, what):
    path = tmp_path / "c.toml"
    make(path)
    # plan(config=...) and fit(config=...) read it as the command does, never opening a FIFO
    with pytest.raises(ConfigError, match=rf"c\.toml {what}, not a config file; give a \.toml"):
        plan(config=path, environ={})


@pytest.mark.parametrize(
    ("config", "kind"),
    [(3, "int"), ([1], "list"), ([switch("history", True, "x", "code"), 1], "list")],
    ids=["int", "list-of-values", "settings-and-a-value"],
)
def test_a_config_of_the_wrong_kind_is_refused(config, kind):
    with pytest.raises(
        ConfigError,
        match=r"^config must be a path to a config file, a dict in the config file's form, or "
        rf"None; got {kind}\.$",
    ):
        plan(config=config, environ={})


def test_a_setting_is_a_frozen_record_and_a_switch_is_the_enabled_setting():
    setting = switch("history", False, "f.toml: hookfit.disable", "file")
    assert setting == Setting(
        ("callbacks", "history", "enabled"), False, "f.toml: hookfit.disable", "file"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        setting.value = True  # type: ignore[misc]
    ranks = [
        Setting(("fit", "epochs"), 1, "", s).rank
        for s in ("file", "environment", "command line", "code")
    ]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4
    assert from_mapping({"hookfit": {"enable": ["history"]}}, "file", "f.toml") == [
        switch("history", True, "f.toml: hookfit.enable", "file")
    ]


# -- environment and command line ---------------------------------------------


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {AUTOLOAD: "maybe"},
            r"^environment: HOOKFIT_DISABLE_PLUGIN_AUTOLOAD='maybe': expected 1 or 0",
        ),
        (
            {"HOOKFIT_PLUGINS": "history,progbar"},
            r"^environment: HOOKFIT_PLUGINS: no installed plugin is called 'progbar' "
            r"\(did you mean 'progbar_logger'\?\)",
        ),
    ],
    ids=["autoload-value", "unknown-plugin"],
)
def test_bad_environment_is_refused(environ, message):
    with pytest.raises(ConfigError, match=message):
        from_environment(environ)
    with pytest.raises(ConfigError, match=message):
        plan(environ=environ, build=False)


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
            r"--set fit\.epochs=three: fit\.epochs: expected an integer >= 0, "
            r"got \"three\"",
        ),
        (
            [],
            ["fit.epochs=-1"],
            r"^command line: --set fit\.epochs=-1: fit\.epochs: expected an integer >= 0, "
            r"got -1\.$",
        ),
        (
            [],
            ["callbacks.histroy.patience=1"],
            r"--set callbacks\.histroy\.patience=1: callbacks\.histroy: no installed plugin is "
            r"called 'histroy' \(did you mean 'history'\?\)",
        ),
    ],
    ids=[
        "unknown-plugin",
        "unknown-disabled-plugin",
        "no-value",
        "no-section",
        "unknown-key",
        "wrong-type",
        "out-of-range",
        "unknown-callbacks-plugin",
    ],
)
def test_bad_command_lines_are_refused(plugins, sets, message):
    with pytest.raises(ConfigError, match=message):
        from_command_line(plugins, sets)


def test_set_parses_toml_values_and_falls_back_to_strings():
    sets = ["fit.epochs=3", "fit.shuffle=false", "data.path=a/b.csv", "model.metrics=['accuracy']"]
    found = from_command_line([], sets)
    assert {s.path: s.value for s in found} == {
        ("fit", "epochs"): 3,
        ("fit", "shuffle"): False,
        ("data", "path"): "a/b.csv",
        ("model", "metrics"): ["accuracy"],
    }
    assert [(s.origin, s.source) for s in found] == [
        (f"command line: --set {option}", "command line") for option in sets
    ]


# -- precedence ------------------------------------------------------------------


def sources(*layers):
    """Settings from ``(kind, value)`` pairs: a file's or code's mapping, an
    environment, or a command line's ``(plugins, sets)``."""
    built = []
    for kind, value in layers:
        if kind == "file":
            built += from_mapping(value, "file", "f.toml")
        elif kind == "code":
            built += from_mapping(value, "code", "fit(config=...)")
        elif kind == "env":
            built += from_environment(value)
        else:
            built += from_command_line(*value)
    return built


def decide(config=(), verbose=1):
    """Every installed plugin's decision, ``name -> (on, why)``, for settings
    already read; the process's environment is left out."""
    run = plan(config=list(config), environ={}, verbose=verbose, build=False)
    return {p.name: (p.on, p.why) for p in run.plugins + run.off}


def test_plugin_defaults_apply_when_nothing_names_a_plugin():
    decisions = decide()
    assert decisions["history"] == (True, "on by default (always)")
    assert decisions["base_logger"] == (True, "on by default (always)")
    assert decisions["progbar_logger"] == (True, "on by default (when verbose)")
    assert decide(verbose=0)["progbar_logger"] == (False, "on by default (when verbose)")
    assert {name for name, (on, _) in decisions.items() if on} == set(BUNDLED)
    bundled = {name for name, info in catalogue().plugins.items() if info.bundled}
    assert bundled == set(BUNDLED)


@pytest.mark.parametrize(
    ("layers", "plugin", "expected"),
    [
        # file > plugin defaults
        (
            [("file", {"hookfit": {"disable": ["history"]}})],
            "history",
            (False, "f.toml: hookfit.disable"),
        ),
        # environment > file
        (
            [
                ("file", {"hookfit": {"disable": ["history"]}}),
                ("env", {"HOOKFIT_PLUGINS": "history"}),
            ],
            "history",
            (True, "environment: HOOKFIT_PLUGINS=history"),
        ),
        # ... but a plugin the file names is not loaded automatically: it stays on
        (
            [("file", {"hookfit": {"enable": ["tunable"]}}), ("env", {"HOOKFIT_PLUGINS": "needs"})],
            "tunable",
            (True, "f.toml: hookfit.enable"),
        ),
        (
            [("file", {"callbacks": {"tunable": {}}}), ("env", {"HOOKFIT_PLUGINS": "needs"})],
            "tunable",
            (True, "f.toml: callbacks.tunable"),
        ),
        # ... but HOOKFIT_PLUGINS leaves the bundled plugins alone
        (
            [("env", {"HOOKFIT_PLUGINS": "needs"})],
            "history",
            (True, "on by default (always)"),
        ),
        (
            [
                ("file", {"hookfit": {"enable": ["history"]}}),
                ("env", {"HOOKFIT_PLUGINS": "base_logger"}),
            ],
            "history",
            (True, "f.toml: hookfit.enable"),
        ),
        # command line > environment
        (
            [("env", {"HOOKFIT_PLUGINS": "needs"}), ("cli", (["tunable"], []))],
            "tunable",
            (True, "command line: -p tunable"),
        ),
        (
            [("env", {"HOOKFIT_PLUGINS": "base_logger"}), ("cli", (["history"], []))],
            "history",
            (True, "command line: -p history"),
        ),
        (
            [("env", {"HOOKFIT_PLUGINS": "history"}), ("cli", (["no:history"], []))],
            "history",
            (False, "command line: -p no:history"),
        ),
        # code > command line, wherever it sits in the list
        (
            [("cli", (["no:history"], [])), ("code", {"callbacks": {"history": {}}})],
            "history",
            (True, "fit(config=...): callbacks.history"),
        ),
        (
            [("code", {"hookfit": {"disable": ["tunable"]}}), ("cli", (["tunable"], []))],
            "tunable",
            (False, "fit(config=...): hookfit.disable"),
        ),
        # enabled = false keeps the section, switched off
        (
            [("file", {"callbacks": {"history": {"enabled": False}}})],
            "history",
            (False, "f.toml: callbacks.history.enabled = false"),
        ),
    ],
    ids=[
        "file-over-default",
        "env-over-file",
        "env-list-spares-enabled-in-file",
        "env-list-spares-section-in-file",
        "env-list-spares-bundled",
        "env-list-spares-bundled-named-in-file",
        "cli-over-env",
        "cli-over-env-bundled",
        "cli-off-over-env",
        "code-over-cli",
        "code-over-cli-listed-first",
        "enabled-false",
    ],
)
def test_precedence_of_switches(layers, plugin, expected, fake):
    assert decide(sources(*layers))[plugin] == expected


def test_hookfit_plugins_switches_on_its_list_and_off_the_other_third_party_defaults(fake, chatty):
    decisions = decide(from_environment({"HOOKFIT_PLUGINS": "tunable,needs"}))
    on = "environment: HOOKFIT_PLUGINS=tunable,needs"
    assert decisions["tunable"] == decisions["needs"] == (True, on)
    assert decisions["chatty"] == (False, f"defaults off: {on} (only these load automatically)")
    cat = catalogue()
    assert not cat.plugins["tunable"].bundled and not cat.plugins["chatty"].bundled
    for name, info in cat.plugins.items():
        if info.bundled:
            assert decisions[name][0] is True and decisions[name][1].startswith("on by default")
        elif name not in ("tunable", "needs"):
            assert decisions[name][0] is False
    # a listed bundled plugin is switched on, the others stay as they were
    decisions = decide(
        from_mapping({"hookfit": {"disable": ["history", "base_logger"]}}, "file", "f.toml")
        + from_environment({"HOOKFIT_PLUGINS": "history"})
    )
    assert decisions["history"] == (True, "environment: HOOKFIT_PLUGINS=history")
    assert decisions["base_logger"] == (False, "f.toml: hookfit.disable")
    assert decisions["progbar_logger"] == (True, "on by default (when verbose)")


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            [("file", {"hookfit": {"autoload": False}})],
            (False, "defaults off: f.toml: hookfit.autoload"),
        ),
        (
            [("file", {"hookfit": {"autoload": True}}), ("env", {AUTOLOAD: "1"})],
            (False, "defaults off: environment: HOOKFIT_DISABLE_PLUGIN_AUTOLOAD=1"),
        ),
        (
            [("file", {"hookfit": {"autoload": False}}), ("env", {AUTOLOAD: "0"})],
            (True, "on by default (always)"),
        ),
        (
            [("env", {AUTOLOAD: "1"}), ("cli", ([], ["hookfit.autoload=true"]))],
            (True, "on by default (always)"),
        ),
        (
            [("cli", ([], ["hookfit.autoload=false"])), ("code", {"hookfit": {"autoload": True}})],
            (True, "on by default (always)"),
        ),
        # a plugin that something names is never switched off by autoload
        (
            [("file", {"hookfit": {"enable": ["chatty"]}}), ("env", {AUTOLOAD: "1"})],
            (True, "f.toml: hookfit.enable"),
        ),
        (
            [("file", {"hookfit": {"autoload": False}, "callbacks": {"chatty": {}}})],
            (True, "f.toml: callbacks.chatty"),
        ),
    ],
    ids=[
        "file",
        "env-over-file",
        "env-on-over-file",
        "cli-over-env",
        "code-over-cli",
        "named-in-file",
        "section-in-file",
    ],
)
def test_autoload_switches_off_only_third_party_defaults(layers, expected, chatty):
    decisions = decide(sources(*layers))
    assert decisions["chatty"] == expected
    assert decisions["history"] == decisions["base_logger"] == (True, "on by default (always)")
    assert decisions["progbar_logger"] == (True, "on by default (when verbose)")


def test_arguments_come_from_the_highest_layer(fake):
    file = from_mapping(
        {"callbacks": {"tunable": {"label": "file", "patience": 2}}}, "file", "f.toml"
    )
    cli = from_command_line([], ["callbacks.tunable.label=cli"])
    run = plan(config=cli + file, environ={}, verbose=0)
    (member,) = [p for p in run.plugins if p.name == "tunable"]
    assert {key: s.value for key, s in member.arguments.items()} == {"label": "cli", "patience": 2}
    assert {key: s.origin for key, s in member.arguments.items()} == {
        "label": "command line: --set callbacks.tunable.label=cli",
        "patience": "f.toml: callbacks.tunable.patience",
    }
    # the --set switched it on too, and outranks the file's section
    assert (member.obj.label, member.obj.patience, member.why) == (
        "cli",
        2,
        "command line: --set callbacks.tunable.label=cli",
    )


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            [("cli", ([], ["callbacks.tunable.patience=3"]))],
            (True, "command line: --set callbacks.tunable.patience=3"),
        ),
        (
            [("cli", ([], ["callbacks.tunable.enabled=true"]))],
            (True, "command line: --set callbacks.tunable.enabled=true"),
        ),
        (
            [("cli", ([], ["callbacks.tunable.enabled=false"]))],
            (False, "command line: --set callbacks.tunable.enabled=false"),
        ),
        (
            [("cli", ([], ["callbacks.tunable.patience=3", "callbacks.tunable.enabled=false"]))],
            (False, "command line: --set callbacks.tunable.enabled=false"),
        ),
        # as in a file, where enabled = false keeps [callbacks.NAME] off ...
        (
            [("file", {"callbacks": {"tunable": {"enabled": False, "patience": 3}}})],
            (False, "f.toml: callbacks.tunable.enabled = false"),
        ),
        (
            [("cli", ([], ["callbacks.tunable.enabled=false", "callbacks.tunable.patience=3"]))],
            (False, "command line: --set callbacks.tunable.enabled=false"),
        ),
        # ... and hookfit.disable beats [callbacks.NAME]
        (
            [
                (
                    "file",
                    {
                        "hookfit": {"disable": ["tunable"]},
                        "callbacks": {"tunable": {"patience": 3}},
                    },
                )
            ],
            (False, "f.toml: hookfit.disable"),
        ),
        (
            [("cli", (["no:tunable"], ["callbacks.tunable.patience=3"]))],
            (False, "command line: -p no:tunable"),
        ),
        # a --set outranks the file
        (
            [
                ("file", {"hookfit": {"disable": ["tunable"]}}),
                ("cli", ([], ["callbacks.tunable.patience=3"])),
            ],
            (True, "command line: --set callbacks.tunable.patience=3"),
        ),
    ],
    ids=[
        "argument-switches-on",
        "enabled-true",
        "enabled-false",
        "argument-then-enabled-false",
        "file-enabled-false-with-argument",
        "enabled-false-then-argument",
        "file-disable-with-section",
        "p-no-with-argument",
        "set-over-file",
    ],
)
def test_set_of_a_plugin_argument_means_what_its_file_section_means(layers, expected, fake):
    settings = sources(*layers)
    run = plan(config=settings, environ={}, build=False)
    (member,) = [p for p in run.plugins + run.off if p.name == "tunable"]
    assert (member.on, member.why) == expected
    if any("patience" in s.path for s in settings):
        assert member.arguments["patience"].value == 3  # set, on or off


def test_plugin_order_follows_the_layers(fake):
    settings = from_mapping(
        {"hookfit": {"enable": ["needs", "tunable"]}}, "file", "f.toml"
    ) + from_command_line(["tunable"])
    run = plan(config=settings, environ={}, build=False)
    assert [p.name for p in run.plugins] == [
        "tunable",
        "needs",
        "base_logger",
        "history",
        "progbar_logger",
    ]
    assert [p.why for p in run.plugins[:2]] == [
        "command line: -p tunable",
        "f.toml: hookfit.enable",
    ]
    # what code passes comes first, in its order
    recorder = Recorder()
    run = plan([recorder, "history"], config=settings, environ={}, build=False)
    assert [p.name for p in run.plugins] == [
        "Recorder",
        "history",
        "tunable",
        "needs",
        "base_logger",
        "progbar_logger",
    ]
    assert run.plugins[0].obj is recorder and run.plugins[0].why == run.plugins[1].why == "code"


def test_the_plan_keeps_each_winning_setting_with_its_origin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(
        tmp_path, "[fit]\nepochs = 3\nbatch_size = 8\n\n[hookfit]\ndisable = ['history']\n"
    )
    settings = read_file(path) + from_command_line([], ["fit.epochs=5"])
    run = plan(config=settings, environ={AUTOLOAD: "1"}, build=False)
    assert run.file == "hookfit.toml"
    assert run.section("fit") == {
        "epochs": Setting(("fit", "epochs"), 5, "command line: --set fit.epochs=5", "command line"),
        "batch_size": Setting(("fit", "batch_size"), 8, "hookfit.toml: fit.batch_size", "file"),
    }
    assert run.values("fit") == {"epochs": 5, "batch_size": 8}
    assert run.values("model") == {}
    report = run.report()
    assert report[0] == (
        "hookfit.autoload",
        False,
        "environment: HOOKFIT_DISABLE_PLUGIN_AUTOLOAD=1",
    )
    assert ("plugins.history", "off", "hookfit.toml: hookfit.disable") in report
    assert ("plugins.base_logger", "on", "on by default (always)") in report
    assert ("fit.epochs", 5, "command line: --set fit.epochs=5") in report
    assert ("fit.batch_size", 8, "hookfit.toml: fit.batch_size") in report
    assert ("fit.epochs", 3, "hookfit.toml: fit.epochs") not in report
    assert plan(config={"fit": {"epochs": 2}}, environ={}, build=False).file is None
    assert plan(environ={}, build=False).report()[0] == ("hookfit.autoload", True, "default")


def test_the_plan_names_a_config_file_that_sets_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        plan(config=write(tmp_path, "# nothing yet\n"), environ={}, build=False).file
        == "hookfit.toml"
    )


# -- plugin arguments against the constructor --------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"patiance": 1},
            r"^f\.toml: callbacks\.tunable\.patiance: unknown key \(did you mean "
            r"'patience'\?\)\. Tunable takes: label, patience, ratio, names, hook\.$",
        ),
        (
            {"patience": "3"},
            r"^f\.toml: callbacks\.tunable\.patience: expected an integer, got "
            r"\"3\" \(Tunable's argument patience\)\.$",
        ),
        (
            {"patience": True},
            r"^f\.toml: callbacks\.tunable\.patience: expected an integer, got true "
            r"\(Tunable's argument patience\)\.$",
        ),
        (
            {"ratio": "high"},
            r"^f\.toml: callbacks\.tunable\.ratio: expected a number, got \"high\" "
            r"\(Tunable's argument ratio\)\.$",
        ),
        (
            {"names": "a"},
            r"callbacks\.tunable\.names: expected a list of strings or None \(in a config file: "
            r"leave the key out\), got \"a\" \(Tunable's argument names\)\.$",
        ),
        ({"names": [1]}, r"names: expected a list of strings or None .*, got \[1\]"),
        (
            {"hook": "math"},
            r"callbacks\.tunable\.hook: expected a function \(in a config file: a "
            r"\"module:function\" reference\) or None \(in a "
            r"config file: leave the key out\), got \"math\"",
        ),
        (
            {"hook": "math:nope"},
            r"hook: expected a function \(in a config file: a \"module:function\" "
            r"reference\) .*got "
            r"\"math:nope\"",
        ),
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
    settings = from_mapping({"callbacks": {"tunable": args}}, "file", "f.toml")
    with pytest.raises(ConfigError, match=message):
        plan(config=settings, environ={}, verbose=0)


def test_a_bad_argument_from_the_command_line_names_the_option(fake):
    settings = from_command_line([], ["callbacks.tunable.patience='3'"])
    with pytest.raises(
        ConfigError,
        match=r"^command line: --set callbacks\.tunable\.patience='3': expected an integer, got "
        r"\"3\" \(Tunable's argument patience\)\.$",
    ):
        plan(config=settings, environ={}, verbose=0)


def test_arguments_are_converted(fake):
    args = {"ratio": 2, "hook": "math:floor", "names": ["a"]}
    settings = from_mapping({"callbacks": {"tunable": args}}, "file", "f.toml")
    run = plan(config=settings, environ={}, verbose=0)
    (member,) = [p for p in run.plugins if p.name == "tunable"]
    assert member.obj.ratio == 2.0 and isinstance(member.obj.ratio, float)
    assert member.obj.hook is math.floor and member.obj.names == ["a"]


def test_a_required_argument_that_is_missing_says_how_to_set_it(fake):
    with pytest.raises(
        ConfigError,
        match=r"^Plugin needs \(hookfit-fake 1\.0\) \(switched on by command line: -p needs\): "
        r"callbacks\.needs\.filename: required, and not given\. Set it in the config file or "
        r"with --set callbacks\.needs\.filename=VALUE\.$",
    ):
        plan(config=from_command_line(["needs"]), environ={}, verbose=0)


# -- fit --------------------------------------------------------------------------------


def test_fit_reads_a_config_dict(hookfit_model, hookfit_data, clean_environment):
    x, y = hookfit_data
    off = hookfit_model().fit(
        x, y, epochs=1, verbose=0, config={"hookfit": {"disable": ["history"]}}
    )
    assert off is None
    with pytest.raises(ConfigError, match=r"fit\(config=\.\.\.\): hookfit\.disable\[0\]: no "):
        hookfit_model().fit(x, y, verbose=0, config={"hookfit": {"disable": ["histroy"]}})
    with pytest.raises(ConfigError, match=r"^config must be a path to a config file, .*got int\.$"):
        hookfit_model().fit(x, y, verbose=0, config=3)


def test_fit_reads_no_config_file_and_a_path_applies_one(
    fake, hookfit_model, hookfit_data, tmp_path, monkeypatch, clean_environment
):
    project = tmp_path.resolve() / "project"
    (project / ".git").mkdir(parents=True)
    target = tmp_path.resolve() / "out.txt"
    path = write(
        project,
        "[hookfit]\ndisable = ['history']\n\n"
        f"[callbacks.needs]\nfilename = '{target.as_posix()}'\n",
    )
    work = project / "src" / "deep"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert find_file() == path  # hookfit train would use it; fit does not
    x, y = hookfit_data
    history = hookfit_model().fit(x, y, epochs=1, verbose=0)
    assert history is not None and history.epoch == [0]
    assert not target.exists()
    # given, it applies: history off, needs on
    assert hookfit_model().fit(x, y, epochs=1, verbose=0, config=path) is None
    assert target.read_text() == "done"
    target.unlink()
    # the environment beats the file: history back on; needs, which the file
    # names, is not loaded automatically and stays on
    monkeypatch.setenv("HOOKFIT_PLUGINS", "history")
    assert hookfit_model().fit(x, y, epochs=1, verbose=0, config=str(path)) is not None
    assert target.read_text() == "done"
    target.unlink()
    # code beats the environment
    code = {"hookfit": {"disable": ["history"]}, "callbacks": {"needs": {"filename": str(target)}}}
    assert hookfit_model().fit(x, y, epochs=1, verbose=0, config=code) is None
    assert target.read_text() == "done"


@pytest.mark.parametrize(
    ("environ", "config"),
    [({AUTOLOAD: "1"}, None), ({}, {"hookfit": {"autoload": False}})],
    ids=["environment", "config"],
)
def test_fit_without_autoload_keeps_the_bundled_plugins(
    environ, config, chatty, hookfit_model, hookfit_data, monkeypatch, capsys, clean_environment
):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    x, y = hookfit_data
    history = hookfit_model(metrics=["accuracy"]).fit(x, y, epochs=2, verbose=1, config=config)
    assert history is not None and history.epoch == [0, 1]
    assert {"loss", "acc"} <= set(history.history)
    assert all(len(history.history[key]) == 2 for key in ("loss", "acc"))
    assert "Epoch 2/2" in capsys.readouterr().out  # the progress bar ran
    assert "chatty_plugin" not in sys.modules  # never imported
    # without the switch, the default-on third-party plugin runs
    for name in environ:
        monkeypatch.delenv(name)
    hookfit_model().fit(x, y, epochs=1, verbose=0)
    assert sys.modules["chatty_plugin"].RAN == ["train"]


# -- the job's sections ----------------------------------------------------------------


def job(data):
    return prepare(plan(config=from_mapping(data, "file", "f.toml"), build=False, environ={}))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"model": {"layers": [{"type": "Dense", "units": 3}, {"type": "Dens"}]}},
            r"^f\.toml: model\.layers\[1\]\.type: expected a layer type "
            r"\(did you mean 'Dense'\?\), got \"Dens\"\. "
            r"Valid types: Activation, Dense, Dropout, Flatten, .*\bConv2D\b.*\bMaxPooling2D\b.*"
            r"\bBatchNormalization\b.*\.$",
        ),
        (
            {"model": {"layers": [{"type": "Dense", "units": 3, "unit": 3}]}},
            r"^f\.toml: model\.layers\[0\]\.unit: unknown key \(did you mean 'units'\?\)\. "
            r"Dense takes: units, .*",
        ),
        (
            {"model": {"layers": [{"type": "Dense", "unit": 3}]}},
            r"^f\.toml: model\.layers\[0\]\.unit: unknown key \(did you mean 'units'\?\)\. "
            r"Dense takes: units, .*",
        ),
        (
            {"model": {"layers": [{"type": "Dense", "units": "3"}]}},
            r"^f\.toml: model\.layers\[0\]\.units: expected an integer, got \"3\" "
            r"\(Dense's argument units\)\.$",
        ),
        (
            {"model": {"layers": [{"type": "Dense", "units": 0}]}},
            r"model\.layers\[0\]: dense_\d+: units must be a positive integer, got 0",
        ),
        ({"model": {"loss": "mse2"}}, r"^f\.toml: model\.loss: Unknown loss 'mse2'"),
        ({"model": {"optimizer": "adamw"}}, r"^f\.toml: model\.optimizer: Unknown optimizer "),
        (
            {"model": {"optimizer": {"name": "sgd", "lr": "fast"}}},
            r"^f\.toml: model\.optimizer\.lr: expected a number or None \(in a config file: leave "
            r"the key out\), got \"fast\" \(SGD's argument lr\)\.$",
        ),
        (
            {"model": {"optimizer": {"name": "sgd", "momentum": 2.0}}},
            r"model\.optimizer: SGD: momentum must be in \[0, 1\), got 2\.0",
        ),
        (
            {"model": {"optimizer": {"lr": 0.1}}},
            r"^f\.toml: model\.optimizer(?!.*NoneType).*\bname\b",
        ),
        ({"data": {"dataset": "mnist"}}, r"^f\.toml: data\.dataset: unknown data set 'mnist'"),
        ({"data": {"dataset": "digits", "path": "x.npz"}}, r"give data\.dataset or data\.path"),
        ({"data": {"path": "missing.npz"}}, r"^f\.toml: data\.path: no such file: missing\.npz"),
        ({"fit": {"seed": -1}}, r"^f\.toml: fit\.seed: expected an integer >= 0, got -1\.$"),
    ],
    ids=[
        "layer-type",
        "layer-key",
        "layer-key-alone",
        "layer-type-of-value",
        "layer-value",
        "loss",
        "optimizer",
        "optimizer-argument",
        "optimizer-value",
        "optimizer-without-name",
        "dataset",
        "dataset-and-path",
        "missing-file",
        "seed",
    ],
)
def test_bad_job_sections_are_refused(data, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        job(data)


def test_npz_and_csv_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    np.savez(tmp_path / "d.npz", x=x, y=y, x_val=x[:8], y_val=y[:8])
    built = job({"data": {"path": "d.npz"}, "fit": {"epochs": 2, "batch_size": 8}})
    assert built.x.shape == (40, 5) and built.validation[0].shape == (8, 5)
    assert built.model.output_dim == 2  # the default model fits the classes
    assert built.fit_args == {"epochs": 2, "batch_size": 8}
    with (tmp_path / "d.csv").open("w") as f:
        rows = (f"{r[0]},{r[1]},{t}" for r, t in zip(x, y, strict=True))
        f.write("a,b,target\n" + "\n".join(rows))
    built = job({"data": {"path": "d.csv", "label": "target", "scale": 2.0}})
    np.testing.assert_allclose(built.x, x[:, :2] * 2, rtol=1e-6)
    assert built.fit_args == {}
    built.model.fit(built.x, built.y, epochs=1, verbose=0, config={})


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
    with pytest.raises(ConfigError, match=r"^f\.toml: data\.path: .*" + message):
        job({"data": data})


def test_substitute_fills_in_the_run_directory_everywhere():
    settings = from_mapping(
        {
            "data": {"path": "{run_dir}/d.npz"},
            "model": {"layers": [{"type": "Dense", "name": "{run_dir}", "units": 2}]},
            "fit": {"epochs": 3},
        },
        "file",
        "f.toml",
    )
    filled = substitute(settings, "runs/7")
    assert {s.path: s.value for s in filled} == {
        ("data", "path"): "runs/7/d.npz",
        ("model", "layers"): [{"type": "Dense", "name": "runs/7", "units": 2}],
        ("fit", "epochs"): 3,
    }
    assert [(s.origin, s.source) for s in filled] == [(s.origin, s.source) for s in settings]
    # the originals are untouched
    assert {s.path: s.value for s in settings}[("data", "path")] == "{run_dir}/d.npz"


def test_the_bundled_example_keeps_only_installed_plugins():
    bare = example(Catalogue())
    assert not [s for s in bare if s.path[0] == "callbacks"]
    assert all(s.origin.startswith("bundled example: ") and s.source == "file" for s in bare)
    assert {s.path: s.value for s in bare}[("data", "dataset")] == "digits"
    full = example(catalogue())
    named = {s.path[1] for s in full if s.path[0] == "callbacks"}
    assert named == {"early_stopping", "csv_logger", "model_checkpoint", "tensorboard"} & set(
        catalogue().plugins
    )


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
        run = plan(config=from_mapping(data, "code", "fit(config=...)"), environ={}, verbose=1)
        run.report()
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
        plan(config=path, environ={}, build=False).report()


def _zip_garbage(path):
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", b"\x93NUMPY garbage")
        z.writestr("y.npy", b"not an array")


def _bomb(path):
    """An .npz of a few hundred bytes whose x.npy declares 400 GB."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**5)}
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", header.getvalue() + b"\0" * 64)
        z.writestr("y.npy", _npy(GOOD_Y))


def _npy(array):
    """A .npy file's bytes."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz(**arrays):
    return lambda path: np.savez(path, **arrays)


GOOD_X = np.ones((4, 3), "f4")
GOOD_Y = np.array([0, 1, 0, 1])
HOSTILE_DATA = [
    (
        "npy-named-npz",
        "d.npz",
        lambda p: p.write_bytes(_npy(GOOD_X)),
        r"d\.npz is a \.npy file \(one array\), not a \.npz archive",
    ),
    ("garbage-zip", "d.npz", _zip_garbage, r"cannot read array 'x' of d\.npz"),
    (
        "object-array",
        "d.npz",
        _npz(x=np.array([{"a": 1}] * 4, dtype=object), y=GOOD_Y),
        r"cannot read array 'x' of d\.npz: .*Object arrays",
    ),
    ("empty-npz", "d.npz", _npz(), r"d\.npz has no array 'x'; it has none"),
    (
        "no-samples",
        "d.npz",
        _npz(x=np.ones((0, 3)), y=np.ones(0)),
        r"array 'x' of d\.npz holds no samples \(shape \(0, 3\)\)",
    ),
    (
        "declared-400-gb",
        "d.npz",
        _bomb,
        r"array 'x' of d\.npz declares 400000000000 bytes but the file stores 192; refused",
    ),
    (
        "no-features",
        "d.npz",
        _npz(x=np.ones((4, 0)), y=GOOD_Y),
        r"array 'x' of d\.npz holds no values per sample \(shape \(4, 0\)\)",
    ),
    (
        "string-array",
        "d.npz",
        _npz(x=np.array([["a", "b"]] * 4), y=GOOD_Y),
        r"array 'x' of d\.npz holds <U1 values, not numbers",
    ),
    (
        "nan-labels",
        "d.npz",
        _npz(x=GOOD_X, y=np.array([0, np.nan, 1, 0])),
        r"array 'y' of d\.npz holds NaN or infinite values \(the first in sample 1\)",
    ),
    (
        "nan-inputs",
        "d.npz",
        _npz(x=np.where(np.eye(4, 3) > 0, np.inf, 0), y=GOOD_Y),
        r"array 'x' of d\.npz holds NaN or infinite values \(the first in sample 0\)",
    ),
    (
        "huge-label",
        "d.npz",
        _npz(x=GOOD_X, y=np.array([0, 1e300, 1, 0])),
        r"array 'y' of d\.npz: class labels must be whole numbers from 0 to 99999, got 1e\+300",
    ),
    (
        "fractional-label",
        "d.npz",
        _npz(x=GOOD_X, y=np.array([0, 0.5, 1, 0])),
        r"array 'y' of d\.npz: class labels must be whole numbers from 0 to 99999, got 0\.5",
    ),
    (
        "lengths",
        "d.npz",
        _npz(x=GOOD_X, y=np.array([0, 1])),
        r"d\.npz: array 'x' has 4 samples but array 'y' has 2; they must match",
    ),
    (
        "one-dimensional-x",
        "d.npz",
        _npz(x=np.ones(4), y=GOOD_Y),
        r"array 'x' of d\.npz has shape \(4,\); inputs need \(samples, features\)",
    ),
    (
        "empty-validation",
        "d.npz",
        _npz(x=GOOD_X, y=GOOD_Y, x_val=np.ones((0, 3)), y_val=np.ones(0)),
        r"array 'x_val' of d\.npz holds no samples",
    ),
    (
        "non-utf8-csv",
        "d.csv",
        lambda p: p.write_bytes(b"a,label\n\xff\xfe,1\n"),
        r"d\.csv is not UTF-8 text",
    ),
    (
        "csv-huge-label",
        "d.csv",
        lambda p: p.write_text("a,label\n1,0\n2,1e300\n"),
        r"column 'label' of d\.csv: class labels must be whole numbers from 0 to 99999",
    ),
    (
        "csv-nan",
        "d.csv",
        lambda p: p.write_text("a,label\nnan,0\n2,1\n"),
        r"d\.csv holds NaN or infinite values \(the first in sample 0\)",
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "message"), [c[1:] for c in HOSTILE_DATA], ids=[c[0] for c in HOSTILE_DATA]
)
def test_a_data_file_hookfit_cannot_train_on_is_refused_naming_the_file_and_key(
    name, make, message, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    make(tmp_path / name)
    with pytest.raises(ConfigError, match=r"^f\.toml: data\.path: .*" + message):
        job({"data": {"path": name}})


def test_a_scale_that_overflows_the_inputs_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "d.npz", x=GOOD_X * 1e30, y=GOOD_Y)
    with pytest.raises(
        ConfigError,
        match=r"^f\.toml: data\.scale: scaling by 1e\+20 makes the inputs of d\.npz infinite",
    ):
        job({"data": {"path": "d.npz", "scale": 1e20}})


def test_a_deeply_nested_config_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(
        ConfigError, match=r"deep\.toml: nested too deeply to read \(TOML arrays or tables"
    ):
        read_file(path)


def test_a_deeply_nested_set_option_is_refused(tmp_path):
    with pytest.raises(
        ConfigError, match=r"^command line: --set fit\.epochs=\[\[\[.*nested too deeply"
    ):
        from_command_line(sets=["fit.epochs=" + "[" * 5000 + "]" * 5000])


def test_an_unrelated_deeply_nested_pyproject_above_is_ignored(tmp_path):
    (tmp_path / "pyproject.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "sub").mkdir()
    assert find_file(tmp_path / "sub") is None


def test_an_unknown_metric_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"^f\.toml: model\.metrics: Unknown metric 'foo'"):
        job({"model": {"metrics": ["foo"]}})


def test_an_empty_list_of_layers_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "d.npz", x=GOOD_X, y=GOOD_Y)
    with pytest.raises(ConfigError, match=r"^f\.toml: model\.layers: no layers; give at least one"):
        job({"data": {"path": "d.npz"}, "model": {"layers": []}})


def test_regression_targets_are_not_taken_for_class_labels(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "d.npz", x=GOOD_X, y=np.array([0.5, -1.25, 3e10, 2.0]))
    layers = [{"type": "Dense", "units": 1}]
    built = job({"data": {"path": "d.npz"}, "model": {"layers": layers, "loss": "mse"}})
    assert built.y.tolist() == [0.5, -1.25, 3e10, 2.0]


# -- secrets ---------------------------------------------------------------------

SECRETS = ("hunter2", "TOKEN-SECRET-42")
VAULT = {
    "vault_plugin.py": """
    from hookfit import Callback

    class Vault(Callback):
        def __init__(
            self, url: str = "", api_token: str = "", headers: dict[str, str] | None = None
        ):
            super().__init__()
    """
}


@pytest.fixture
def vault(hookfit_site):
    """A third-party plugin that takes credentials: vault."""
    hookfit_site.add("hookfit-vault", {"vault": "vault_plugin:Vault"}, VAULT)
    return hookfit_site


def toml(value):
    """``value`` written as TOML, secrets and all (hookfit's own writer masks them)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return json.dumps(value)


def assert_masked(text):
    assert "***" in text
    for secret in SECRETS:
        assert secret not in text


# (plugin, argument, a refused value that holds a secret)
REFUSED_SECRETS = [
    ("remote_monitor", "root", "alice:hunter2@127.0.0.1:9"),
    ("remote_monitor", "root", ["http://alice:hunter2@127.0.0.1:9"]),
    ("remote_monitor", "headers", {"Authorization": "Bearer TOKEN-SECRET-42", "X": 1}),
    ("vault", "url", ["https://bob:hunter2@example.invalid/x"]),
    ("vault", "api_token", ["TOKEN-SECRET-42"]),
    ("vault", "headers", {"X-Api-Key": "TOKEN-SECRET-42", "Retry": 2}),
]
REFUSED_IDS = [
    "url-password-without-scheme",
    "url-password-in-a-list",
    "header-beside-a-wrong-one",
    "third-party-url",
    "secret-key",
    "third-party-api-key-header",
]


def refuse(how, plugin, key, value, tmp_path):
    """Give ``value`` to ``plugin``'s argument ``key`` the way ``how`` says,
    and return the whole text of the refusal (with its notes)."""
    with pytest.raises(ConfigError) as info:
        if how == "file":
            text = f"[callbacks.{plugin}]\n{key} = {toml(value)}\n"
            plan(config=write(tmp_path, text), environ={}, verbose=0)
        elif how == "set":
            sets = [f"callbacks.{plugin}.{key}={toml(value)}"]
            plan(config=from_command_line([], sets), environ={}, verbose=0)
        elif how == "code-config":
            plan(config={"callbacks": {plugin: {key: value}}}, environ={}, verbose=0)
        else:  # fit(callbacks=[RemoteMonitor(root=...)]): the class checks its call
            cls = load(catalogue().plugins[plugin])
            plan([cls(**{key: value})], environ={}, verbose=0)
    return "\n".join([str(info.value), *getattr(info.value, "__notes__", ())])


@pytest.mark.parametrize("how", ["file", "set", "code-config", "code"])
@pytest.mark.parametrize(("plugin", "key", "value"), REFUSED_SECRETS, ids=REFUSED_IDS)
def test_a_refused_value_never_shows_its_secret(how, plugin, key, value, vault, tmp_path):
    message = refuse(how, plugin, key, value, tmp_path)
    assert_masked(message)
    assert f"argument {key}" in message or f"{key}: expected" in message


def test_a_refused_set_option_is_masked_in_its_origin():
    option = 'callbacks.remote_monitor.headers={Authorization="Bearer TOKEN-SECRET-42", X=1}'
    with pytest.raises(ConfigError) as info:
        plan(config=from_command_line([], [option]), environ={}, verbose=0)
    assert str(info.value).startswith(
        'command line: --set callbacks.remote_monitor.headers={Authorization = "***", X = 1}: '
        "expected "
    )
    assert str(info.value).endswith(
        'got {Authorization = "***", X = 1} (RemoteMonitor\'s argument headers).'
    )


@pytest.mark.parametrize(
    "option",
    ["Authorization=Bearer TOKEN-SECRET-42", "http://alice:hunter2@127.0.0.1:9"],
    ids=["secret-key", "url"],
)
def test_a_malformed_set_option_is_masked(option):
    with pytest.raises(
        ConfigError, match=r"^command line: --set .*\*\*\*.*: expected SECTION\.KEY=VALUE"
    ) as info:
        from_command_line([], [option])
    assert_masked(str(info.value))


def test_the_probes_refusals_exit_2_without_the_secrets(tmp_path, monkeypatch, capsys):
    from hookfit.cli.main import main

    monkeypatch.chdir(tmp_path)
    for option in (
        'callbacks.remote_monitor.root="alice:hunter2@127.0.0.1:9"',
        'callbacks.remote_monitor.headers={Authorization="Bearer TOKEN-SECRET-42", X=1}',
    ):
        assert main(["train", "--set", option]) == 2
        captured = capsys.readouterr()
        assert_masked(captured.err)
        assert "hunter2" not in captured.out and "TOKEN" not in captured.out


SECRET_FILE = (
    "[callbacks.remote_monitor]\n"
    'root = "http://alice:hunter2@127.0.0.1:9"\n'
    'headers = { Authorization = "Bearer TOKEN-SECRET-42" }\n'
    "[callbacks.vault]\n"
    'api_token = "TOKEN-SECRET-42"\n'
)


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("how", ["file", "set"])
def test_hookfit_config_masks_every_secret(how, json_output, vault, tmp_path, monkeypatch, capsys):
    from hookfit.cli.main import main

    monkeypatch.chdir(tmp_path)
    if how == "file":
        args = ["config", str(write(tmp_path, SECRET_FILE, "s.toml"))]
    else:
        args = ["config"]
        for line in ('root = "http://alice:hunter2@127.0.0.1:9"', 'api_token = "TOKEN-SECRET-42"'):
            key, _, value = line.partition(" = ")
            plugin = "vault" if key == "api_token" else "remote_monitor"
            args += ["--set", f"callbacks.{plugin}.{key}={value}"]
        args += [
            "--set",
            'callbacks.remote_monitor.headers={Authorization="Bearer TOKEN-SECRET-42"}',
        ]
    assert main(args + (["--json"] if json_output else [])) == 0
    out = capsys.readouterr().out
    assert_masked(out)
    if json_output:
        rows = {row["key"]: row for row in json.loads(out)}
        assert rows["callbacks.remote_monitor.root"]["value"] == "http://alice:***@127.0.0.1:9"
        assert rows["callbacks.remote_monitor.headers"]["value"] == {"Authorization": "***"}
        assert rows["callbacks.vault.api_token"]["value"] == "***"
        assert rows["plugins.vault"]["value"] == "on"
    else:
        assert 'callbacks.remote_monitor.headers = {Authorization = "***"}  # ' in out
        assert 'callbacks.remote_monitor.root = "http://alice:***@127.0.0.1:9"  # ' in out
        assert 'callbacks.vault.api_token = "***"  # ' in out
    # a value without secrets is shown as it is
    assert "fit.epochs" in out and "30" in out


def test_a_plans_repr_never_shows_a_secret(vault):
    settings = from_mapping(
        {"callbacks": {"vault": {"api_token": "TOKEN-SECRET-42", "url": "https://bob:hunter2@h/"}}},
        "file",
        "f.toml",
    )
    assert repr(settings[1]) == (
        "Setting(path=('callbacks', 'vault', 'api_token'), value=\"***\", "
        "origin='f.toml: callbacks.vault.api_token', source='file')"
    )
    run = plan(config=settings, environ={}, verbose=0, build=False)
    assert_masked(repr(run))
    assert_masked(repr(run.plugins))


def test_hookfit_plugins_shows_a_refused_secret_masked(vault, tmp_path, monkeypatch, capsys):
    from hookfit.cli.main import main

    (tmp_path / ".git").mkdir()
    write(tmp_path, "[callbacks.vault]\napi_token = ['TOKEN-SECRET-42']\n")
    monkeypatch.chdir(tmp_path)
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "vault (hookfit-vault 1.0): ERROR - hookfit.toml: callbacks.vault" in out
    assert '    error: hookfit.toml: callbacks.vault.api_token: expected a string, got "***"' in out
    assert_masked(out)


def _counting_check(calls):
    from typing import Annotated

    from hookfit import Callback, Check

    def positive(value):
        calls.append(value)
        return value > 0

    class Every(Callback):
        def __init__(self, every: Annotated[int, Check(positive, "a positive integer")] = 1):
            super().__init__()
            self.every = every

    return Every


@pytest.mark.parametrize("where", ["config", "code"], ids=str)
def test_a_value_is_judged_once_whether_it_comes_from_a_config_or_from_code(where):
    from hookfit.hooks.arguments import build

    calls: list[int] = []
    every = _counting_check(calls)
    built = build(every, {"every": 3}) if where == "config" else every(every=3)
    assert built.every == 3 and calls == [3]
    # an object its __init__ builds in turn is still checked
    calls.clear()
    built = build(every, {"every": 3})
    every(5)
    assert calls == [3, 5]


def test_a_plugin_switched_on_by_a_config_is_checked_before_it_is_built_and_not_again(
    monkeypatch,
):
    from hookfit.hooks import arguments

    owners: list[str] = []
    original = arguments._validate

    def counted(owner, *args, **kwargs):
        owners.append(owner)
        return original(owner, *args, **kwargs)

    monkeypatch.setattr(arguments, "_validate", counted)
    config = {"callbacks": {"early_stopping": {"patience": 2, "min_delta": 0.5}}}
    planned = plan(config=config, verbose=0, environ={}).plugins
    (stopper,) = [p.obj for p in planned if p.name == "early_stopping"]
    assert (stopper.patience, stopper.monitoring.min_delta) == (2, 0.5)
    assert owners.count("EarlyStopping") == 1
