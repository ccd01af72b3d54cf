"""The hookfit command, run as a subprocess: train, plugins, config."""

import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hookfit import ConfigError
from hookfit.testing.processes import run_bounded

VERSION = (Path(__file__).parents[1] / "VERSION").read_text().strip()

SPY = {
    "spy_plugin.py": """
    import os
    from pathlib import Path

    from hookfit import Callback

    Path(os.environ["SPY_MARKER"]).write_text("imported")

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass
    """
}
WRITER = {
    "writer_plugin.py": """
    from hookfit import Callback

    class Writer(Callback):
        def __init__(self, filename: str):
            super().__init__()
            self.filename = filename

        def on_train_begin(self, logs=None):
            self.file = open(self.filename, "w")

        def on_epoch_end(self, epoch, logs=None):
            self.file.write(f"epoch {epoch}\\n")

        def on_train_end(self, logs=None):
            self.file.write("closed\\n")
            self.file.close()
    """
}
BROKEN = {"broken_plugin.py": "import not_a_module_anywhere\n"}
STOP = {
    "stop_plugin.py": """
    from hookfit import Callback

    class Stop(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True
    """
}
TYPO = {
    "typo_plugin.py": """
    from hookfit import Callback

    class Typo(Callback):
        def on_epoch_ends(self, epoch, logs=None):
            pass
    """
}
RUN_DIR = r"runs/\d{8}-\d{6}-[0-9a-f]{6}"


@pytest.fixture
def site(hookfit_site, tmp_path):
    """Fake plugins for subprocesses: a spy that leaves a marker when
    imported (on by default), a file writer, and one that cannot import."""
    hookfit_site.add("hookfit-spy", {"spy": "spy_plugin:Spy"}, SPY, defaults={"spy": "always"})
    hookfit_site.add("hookfit-writer", {"writer": "writer_plugin:Writer"}, WRITER)
    hookfit_site.add("hookfit-broken", {"broken": "broken_plugin:Broken"}, BROKEN, version="0.9")
    hookfit_site.add("hookfit-stop", {"stop": "stop_plugin:Stop"}, STOP)
    hookfit_site.add("hookfit-typo", {"typo": "typo_plugin:Typo"}, TYPO)
    marker = tmp_path / "spy-was-imported"
    return {"PYTHONPATH": str(hookfit_site.root), "SPY_MARKER": str(marker)}, marker


def plugins_json(hookfit_cli, *args, env=None):
    result = hookfit_cli("plugins", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)["plugins"]}


def test_train_runs_the_bundled_example(hookfit_cli, tmp_path):
    result = hookfit_cli("train", "--set", "fit.epochs=2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(
        rf"^hookfit {VERSION}: training with bundled example \(2 epochs\); "
        rf"run directory {RUN_DIR}$",
        out,
        re.M,
    )
    assert out.count("1437/1437 [") == 2
    assert re.search(r"Last epoch \(2\): loss: \d\.\d{4} - acc: \d\.\d{4} - val_loss: ", out)


def test_python_m_hookfit_is_the_same_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hookfit", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.stdout.strip() == f"hookfit {VERSION}"
    result = subprocess.run(
        [sys.executable, "-m", "hookfit"], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 2 and "train" in result.stdout


def test_train_with_a_config_file_and_where_files_went(hookfit_cli, tmp_path, site):
    env, _ = site
    (tmp_path / "job.toml").write_text(
        '[fit]\nepochs = 3\nverbose = 2\n\n[callbacks.writer]\nfilename = "{run_dir}/epochs.txt"\n'
    )
    result = hookfit_cli("train", "job.toml", "-p", "no:spy", env=env)
    assert result.returncode == 0, result.stderr
    run_dir = re.search(r"run directory (runs/\S+)", result.stdout).group(1)
    assert (tmp_path / run_dir / "epochs.txt").read_text() == "epoch 0\nepoch 1\nepoch 2\nclosed\n"
    assert f"writer.filename: {run_dir}/epochs.txt" in result.stdout
    assert f"Run directory: {run_dir}" in result.stdout
    assert result.stdout.count(" - loss: ") == 3  # verbose 2: one line per epoch


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (
            ["train", "bad.toml"],
            {"bad.toml": "[fit]\nepochs = 3\nepochs = 4\n"},
            r"hookfit: error: bad\.toml: invalid TOML: .*line 3",
        ),
        (
            ["train", "bad.toml"],
            {"bad.toml": "[callbacks.writer]\nfilname = 'x'\n"},
            r"bad\.toml: callbacks\.writer\.filname: unknown key \(did you mean 'filename'\?\)\. "
            r"Writer takes: filename\.",
        ),
        (
            ["train", "bad.toml"],
            {"bad.toml": "[callbacks.writer]\nfilename = 3\n"},
            r"bad\.toml: callbacks\.writer\.filename: expected a string, got 3",
        ),
        (
            ["train"],
            {"hookfit.toml": "[hookfit]\nenable = ['writter']\n"},
            r"hookfit\.toml: hookfit\.enable\[0\]: no installed plugin is called 'writter' "
            r"\(did you mean 'writer'\?\)\. Installed plugins: .*broken.*writer",
        ),
        (
            ["train", "-p", "broken"],
            {},
            r"Plugin 'broken' from hookfit-broken 0\.9 failed to load .*ModuleNotFoundError",
        ),
        (
            ["train", "--set", "fit.epochs=-2"],
            {},
            r"command line: --set fit\.epochs=-2: fit\.epochs: expected an integer >= 0, got -2\.",
        ),
        (["train", "missing.toml"], {}, r"missing\.toml: no such config file"),
        (
            ["config", "--set", "model.layers=3"],
            {},
            r"model\.layers: expected a list of tables, got 3\.",
        ),
    ],
    ids=[
        "malformed-toml",
        "unknown-key",
        "wrong-type",
        "unknown-plugin",
        "broken-plugin",
        "bad-fit-value",
        "missing-file",
        "config-command",
    ],
)
def test_refusals_exit_2_and_write_nothing(args, files, message, hookfit_cli, tmp_path, site):
    env, _ = site
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = hookfit_cli(*args, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert re.search(message, result.stderr), result.stderr
    assert "training with" not in result.stdout  # the banner comes after every check
    assert not (tmp_path / "runs").exists()


def test_environment_errors_exit_2(hookfit_cli):
    result = hookfit_cli("plugins", env={"HOOKFIT_PLUGINS": "histroy"})
    assert result.returncode == 2
    assert "environment: HOOKFIT_PLUGINS: no installed plugin is called 'histroy'" in result.stderr


def test_plugins_lists_every_plugin_and_survives_a_broken_one(hookfit_cli, site):
    env, marker = site
    rows = plugins_json(hookfit_cli, "-p", "broken", "-p", "no:spy", env=env)
    assert rows["history"] == {
        "name": "history",
        "distribution": "hookfit-history",
        "version": VERSION,
        "target": "hookfit_history:History",
        "requires": "hookfit<0.2,>=0.1.0",
        "status": "on",
        "why": "on by default (always)",
        "hooks": ["on_epoch_end", "on_train_begin"],
        "hooks_from": "imported",
        "error": None,
        "problems": [],
    }
    assert rows["broken"]["status"] == "error"
    assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in rows["broken"]["error"]
    assert rows["spy"]["status"] == "off" and rows["spy"]["why"] == "command line: -p no:spy"
    assert rows["spy"]["hooks"] == ["on_epoch_end"] and rows["spy"]["hooks_from"] == "source"
    assert rows["writer"]["why"] == "installed, not named"
    assert not marker.exists()
    text = hookfit_cli("plugins", "-p", "broken", env=env)
    assert text.returncode == 0
    assert re.search(
        r"^broken \(hookfit-broken 0\.9\): ERROR - command line: -p broken$", text.stdout, re.M
    )
    assert "    hooks: on_epoch_end, on_train_begin" in text.stdout


def test_config_shows_each_setting_and_where_it_came_from(hookfit_cli, tmp_path, site):
    env, _ = site
    (tmp_path / "hookfit.toml").write_text(
        "[hookfit]\ndisable = ['progbar_logger']\n\n[callbacks.writer]\nfilename = 'a.txt'\n"
        "\n[fit]\nepochs = 4\n"
    )
    result = hookfit_cli("config", "--json", "--set", "fit.epochs=5", env=env)
    assert result.returncode == 0, result.stderr
    rows = {row["key"]: (row["value"], row["from"]) for row in json.loads(result.stdout)}
    assert rows["plugins.progbar_logger"] == ("off", "hookfit.toml: hookfit.disable")
    assert rows["plugins.writer"] == ("on", "hookfit.toml: callbacks.writer")
    assert rows["callbacks.writer.filename"] == ("a.txt", "hookfit.toml: callbacks.writer.filename")
    assert rows["fit.epochs"] == (5, "command line: --set fit.epochs=5")
    assert rows["plugins.spy"] == ("on", "on by default (always)")
    text = hookfit_cli("config", env=env).stdout
    assert "fit.epochs = 4  # hookfit.toml: fit.epochs" in text
    assert text.startswith("# config file: hookfit.toml")


PRECEDENCE = [
    # (file, environment, command line, plugin, expected status, expected why)
    (
        "[hookfit]\ndisable = ['history']\n",
        {},
        [],
        "history",
        "off",
        "hookfit.toml: hookfit.disable",
    ),
    (
        "[hookfit]\nenable = ['writer']\n[callbacks.writer]\nfilename='x'\n",
        {"HOOKFIT_PLUGINS": "spy"},
        [],
        "writer",
        "on",  # named by the file: HOOKFIT_PLUGINS changes only what loads automatically
        "hookfit.toml: hookfit.enable",
    ),
    (
        "[hookfit]\ndisable = ['spy']\n",
        {"HOOKFIT_PLUGINS": "spy"},
        [],
        "spy",
        "on",
        "environment: HOOKFIT_PLUGINS=spy",
    ),
    (
        "",
        {"HOOKFIT_DISABLE_PLUGIN_AUTOLOAD": "1"},
        [],
        "spy",
        "off",
        "defaults off: environment: HOOKFIT_DISABLE_PLUGIN_AUTOLOAD=1",
    ),
    (
        "",
        {"HOOKFIT_DISABLE_PLUGIN_AUTOLOAD": "1", "HOOKFIT_PLUGINS": "spy"},
        [],
        "history",
        "on",
        "on by default (always)",
    ),
    (
        "[hookfit]\nautoload = false\nenable = ['spy']\n",
        {},
        [],
        "spy",
        "on",
        "hookfit.toml: hookfit.enable",
    ),
    (
        "[callbacks.writer]\nfilename = 'x'\nenabled = false\n",
        {"HOOKFIT_PLUGINS": "spy"},
        ["-p", "writer"],
        "writer",
        "on",
        "command line: -p writer",
    ),
    (
        "[hookfit]\nenable = ['spy']\n",
        {"HOOKFIT_PLUGINS": "spy"},
        ["-p", "no:spy"],
        "spy",
        "off",
        "command line: -p no:spy",
    ),
    (
        "[callbacks.history]\nenabled = false\n",
        {},
        [],
        "history",
        "off",
        "hookfit.toml: callbacks.history.enabled = false",
    ),
]


@pytest.mark.parametrize(
    ("file", "environ", "cli", "plugin", "status", "why"),
    PRECEDENCE,
    ids=[
        "file-over-defaults",
        "env-over-file",
        "env-enables-over-file",
        "env-no-autoload",
        "env-leaves-bundled-plugins-on",
        "file-names-despite-no-autoload",
        "cli-over-env",
        "cli-off-over-env-and-file",
        "enabled-false",
    ],
)
def test_precedence(file, environ, cli, plugin, status, why, hookfit_cli, tmp_path, site):
    env, _ = site
    (tmp_path / "hookfit.toml").write_text(file)
    row = plugins_json(hookfit_cli, *cli, env={**env, **environ})[plugin]
    assert (row["status"], row["why"]) == (status, why)


SCRIPT = """
import sys
import numpy as np
from hookfit.layers import Dense
from hookfit.models import Sequential

model = Sequential([Dense(2, activation="softmax", input_dim=3)])
model.compile("sgd", "categorical_crossentropy")
x = np.zeros((4, 3), "float32")
y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
history = model.fit(x, y, verbose=0, callbacks=CALLBACKS, config=CONFIG)
print("history", history is not None)
"""


def run_script(folder, callbacks, config, env):
    """Run SCRIPT in ``folder`` with ``env`` over an environment without HOOKFIT_* variables."""
    script = folder / "script.py"
    script.write_text(SCRIPT.replace("CALLBACKS", callbacks).replace("CONFIG", config))
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}, **env}
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("callbacks", "config", "environ", "expected"),
    [
        ('["history"]', "None", {"HOOKFIT_PLUGINS": "base_logger"}, "history True"),
        (
            "[]",
            '{"callbacks": {"history": {}}}',
            {"HOOKFIT_PLUGINS": "base_logger"},
            "history True",
        ),
        (
            "[]",
            '{"hookfit": {"disable": ["history"]}}',
            {"HOOKFIT_PLUGINS": "history"},
            "history False",
        ),
    ],
    ids=["code-callbacks-over-env", "code-config-enables-over-env", "code-config-disables"],
)
def test_code_wins_over_everything(callbacks, config, environ, expected, tmp_path, site):
    env, _ = site
    (tmp_path / "hookfit.toml").write_text("[hookfit]\ndisable = ['history']\n")
    result = run_script(tmp_path, callbacks, config, {**env, **environ})
    assert result.stdout.strip() == expected, result.stderr


@pytest.mark.parametrize(
    ("how", "args", "environ", "file"),
    [
        ("config file", [], {}, "[hookfit]\ndisable = ['spy']\n"),
        ("environment", [], {"HOOKFIT_PLUGINS": "history"}, ""),
        ("environment autoload", [], {"HOOKFIT_DISABLE_PLUGIN_AUTOLOAD": "1"}, ""),
        ("command line", ["-p", "no:spy"], {}, ""),
        ("code", [], {}, None),
    ],
    ids=["file", "env-plugins", "env-autoload", "command-line", "code"],
)
def test_a_disabled_plugin_is_never_imported(how, args, environ, file, hookfit_cli, tmp_path, site):
    env, marker = site
    if file is None:  # code: fit(config=...) in a script
        result = run_script(tmp_path, "[]", '{"hookfit": {"disable": ["spy"]}}', env)
    else:
        (tmp_path / "hookfit.toml").write_text(file)
        result = hookfit_cli("train", "--set", "fit.epochs=1", *args, env={**env, **environ})
        assert hookfit_cli("plugins", *args, env={**env, **environ}).returncode == 0
    assert result.returncode == 0, result.stderr
    assert not marker.exists(), f"disabled by {how}, but imported"


def test_the_spy_is_imported_when_on(hookfit_cli, site):
    env, marker = site
    assert hookfit_cli("train", "--set", "fit.epochs=1", env=env).returncode == 0
    assert marker.read_text() == "imported"


def test_ctrl_c_stops_after_the_batch_closes_files_and_exits_130(tmp_path, site):
    env, _ = site
    (tmp_path / "hookfit.toml").write_text(
        "[fit]\nepochs = 100000\n\n[callbacks.writer]\nfilename = 'epochs.txt'\n"
    )
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}, **env}
    child = subprocess.Popen(
        [sys.executable, "-m", "hookfit", "train", "-p", "no:spy"],
        cwd=tmp_path,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in child.stdout:  # blocks until training is under way
        if line.startswith("Epoch 3/"):
            break
    child.send_signal(signal.SIGINT)
    _out, err = child.communicate()
    assert child.returncode == 130, err
    assert "stopping after this batch" in err
    assert "stopped by Ctrl-C after the current batch" in err
    lines = (tmp_path / "epochs.txt").read_text().splitlines()
    assert lines[-1] == "closed" and lines[0] == "epoch 0"
    assert lines[:-1] == [f"epoch {i}" for i in range(len(lines) - 1)]


# -- which config file a run uses ----------------------------------------------------------


def test_fit_below_a_config_file_reads_nothing_from_it(tmp_path, site):
    env, _ = site
    (tmp_path / "hookfit.toml").write_text(
        "[hookfit]\ndisable = ['history']\n\n[callbacks.writer]\nfilename = 'w.txt'\n"
    )
    below = tmp_path / "scripts"
    below.mkdir()
    result = run_script(below, "[]", "None", env)
    assert result.stdout.strip() == "history True", result.stderr
    assert not (below / "w.txt").exists()
    result = run_script(below, "[]", "'../hookfit.toml'", env)
    assert result.stdout.strip() == "history False", result.stderr
    assert (below / "w.txt").read_text().splitlines() == ["epoch 0", "closed"]


def test_discovery_stops_at_the_project_root(hookfit_cli, tmp_path):
    (tmp_path / "hookfit.toml").write_text("[fit]\nepochs = 'planted'\n")
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    work = project / "notebooks"
    work.mkdir()
    result = hookfit_cli("config", cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# config file: bundled example")
    assert "planted" not in result.stdout
    (project / "hookfit.toml").write_text("[fit]\nepochs = 7\n")
    result = hookfit_cli("config", cwd=work)
    assert "fit.epochs = 7  # " in result.stdout, result.stderr


@pytest.mark.parametrize(
    ("mode", "who"),
    [(0o664, "its group"), (0o646, "everyone")],
    ids=["group-writable", "world-writable"],
)
def test_a_discovered_config_others_may_write_is_refused(mode, who, hookfit_cli, tmp_path):
    config = tmp_path / "hookfit.toml"
    config.write_text("[fit]\nepochs = 1\n")
    config.chmod(mode)
    result = hookfit_cli("train")
    assert result.returncode == 2
    assert re.search(
        rf"^hookfit: error: hookfit\.toml: found this config file but refused it: {who} may "
        rf"write it \(mode -rw.*\), so someone else could choose what your training runs and "
        rf"writes\. If you trust it, pass it explicitly: hookfit train {re.escape(str(config))}\.",
        result.stderr,
    ), result.stderr
    assert not (tmp_path / "runs").exists()
    explicit = hookfit_cli("train", "hookfit.toml", "--set", "fit.verbose=0")
    assert explicit.returncode == 0, explicit.stderr
    assert "training with hookfit.toml" in explicit.stdout


def test_a_discovered_config_another_user_owns_is_refused(tmp_path, monkeypatch):
    from hookfit.run import discovery

    config = tmp_path / "hookfit.toml"
    config.write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(discovery.os, "getuid", lambda: config.stat().st_uid + 1)
    with pytest.raises(
        discovery.ConfigError,
        match=r"^hookfit\.toml: found this config file but refused it: it belongs to another "
        r"user \(uid \d+\)",
    ):
        discovery.find_file(tmp_path)


# -- a newcomer's first hour ---------------------------------------------------------------


def test_a_config_with_only_callbacks_trains_the_bundled_example_and_says_so(
    hookfit_cli, tmp_path, site
):
    env, _ = site
    (tmp_path / "job.toml").write_text("[callbacks.stop]\n")  # stops after the first epoch
    result = hookfit_cli("train", "job.toml", "-p", "no:spy", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        f"hookfit {VERSION}: training with job.toml; the [model], [fit], [data] keys it does not "
        "set come from the bundled example (30 epochs; hookfit config shows every value)\n"
        "Epoch 1/30\n"
    )
    assert "Last epoch (1): loss: " in result.stdout
    # no plugin writes: no run directory is made or named
    assert "run directory" not in result.stdout.lower()
    assert not (tmp_path / "runs").exists()


EXAMPLE_KEYS = {
    "model.layers": None,
    "model.loss": "categorical_crossentropy",
    "model.optimizer": "rmsprop",
    "model.metrics": ["accuracy"],
    "fit.batch_size": 32,
    "fit.epochs": 30,
    "fit.verbose": 1,
    "fit.shuffle": True,
    "fit.validation_split": 0.0,
    "fit.initial_epoch": 0,
    "fit.seed": 0,
    "data.dataset": "digits",
}


@pytest.mark.parametrize(
    ("file", "cli", "expected"),
    [
        ("[callbacks.stop]\n", [], {}),
        (
            "[fit]\nepochs = 4\n",
            ["--set", "model.loss=mse"],
            {
                "fit.epochs": (4, "job.toml: fit.epochs"),
                "model.loss": ("mse", "command line: --set model.loss=mse"),
            },
        ),
        (
            "[data]\npath = 'd.csv'\n",
            [],
            {"data.path": ("d.csv", "job.toml: data.path"), "data.dataset": None},
        ),
    ],
    ids=["callbacks-only", "file-and-command-line", "own-data"],
)
def test_config_shows_every_model_fit_and_data_value_with_its_origin(
    file, cli, expected, hookfit_cli, tmp_path, site
):
    env, _ = site
    (tmp_path / "job.toml").write_text(file)
    result = hookfit_cli("config", "job.toml", "--json", *cli, env=env)
    assert result.returncode == 0, result.stderr
    rows = {row["key"]: (row["value"], row["from"]) for row in json.loads(result.stdout)}
    for key, value in EXAMPLE_KEYS.items():
        want = expected.get(key, (value, f"bundled example: {key}"))
        if want is None:
            assert key not in rows
        elif want[0] is None:
            assert rows[key][1] == want[1]
        else:
            assert rows[key] == want
    for key, want in expected.items():
        assert rows.get(key) == want
    # a config file says which plugins run: not the example's
    assert rows["plugins.csv_logger"] == ("off", "installed, not named")
    assert not [key for key in rows if key.startswith("callbacks.csv_logger")]
    text = hookfit_cli("config", "job.toml", *cli, env=env).stdout
    assert "fit.batch_size = 32  # bundled example: fit.batch_size" in text


def test_the_example_model_fits_the_classes_of_the_configs_own_data(hookfit_cli, tmp_path, site):
    env, _ = site
    rows = [f"{i % 3},{i % 5},{i % 12}" for i in range(48)]  # 12 classes, not 10 digits
    (tmp_path / "d.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "job.toml").write_text("[data]\npath = 'd.csv'\n[fit]\nepochs = 1\n")
    result = hookfit_cli("train", "job.toml", "-p", "no:spy", env=env)
    assert result.returncode == 0, result.stderr
    assert "the [model], [fit] keys it does not set come from the bundled example" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("filepath", "reason"),
    [
        ("somefile.txt/ckpt.h5", "'somefile.txt' is a file, not a folder"),
        ("/proc/hookfit-test/ckpt.h5", r"No such file or directory \(/proc/hookfit-test\)"),
    ],
    ids=["under-a-file", "in-proc"],
)
def test_an_unwritable_checkpoint_path_is_one_message_and_exit_2(
    filepath, reason, hookfit_cli, tmp_path
):
    (tmp_path / "somefile.txt").write_text("a file")
    option = f"callbacks.model_checkpoint.filepath={filepath}"
    result = hookfit_cli("train", "--set", option, "--set", "fit.verbose=0")
    assert result.returncode == 2, (result.stdout, result.stderr)
    folder = re.escape(os.path.dirname(filepath))
    assert re.match(
        rf"hookfit: error: command line: --set {re.escape(option)}: cannot write files in the "
        rf"folder '{folder}': {reason}\. Give a path in a folder this user can create and write "
        r"to \(ModelCheckpoint's argument filepath\)\.\n"
        r"  hookfit: raised in on_train_begin of plugin model_checkpoint \(.*\)\n$",
        result.stderr,
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert "training with" not in result.stdout  # refused before the banner
    assert not (tmp_path / "runs").exists()  # the refused run leaves nothing


def test_run_directories_started_in_one_second_differ(tmp_path):
    from hookfit.cli.train import RunStart, new_run_dir

    names = {new_run_dir(tmp_path) for _ in range(20)}
    assert len(names) == 20
    code = "from hookfit.cli.train import new_run_dir; print(new_run_dir())"
    children = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = {child.communicate()[0].strip() for child in children}
    assert len(outputs) == 2
    assert all(re.fullmatch(RUN_DIR, name) for name in outputs)
    first, second = RunStart(tmp_path / "runs" / "a"), RunStart(tmp_path / "runs" / "b")
    for start in (first, second):
        start.needed = True
        start.make_run_directory()
        assert start.created and start.path.is_dir()


def test_a_run_directory_is_never_shared(tmp_path):
    from hookfit.cli.train import RunStart

    start = RunStart(tmp_path / "runs" / "taken")
    start.path.mkdir(parents=True)
    start.needed = True
    with pytest.raises(
        ConfigError,
        match=r"^run directory .*taken exists already; another run made it\. Nothing was "
        r"written: start the run again \(it gets a new name\)\.$",
    ):
        start.make_run_directory()
    assert not start.created


def test_no_run_directory_when_no_plugin_writes_there(hookfit_cli, tmp_path):
    result = hookfit_cli(
        "train",
        "--set",
        "fit.epochs=1",
        "--set",
        "fit.verbose=0",
        "-p",
        "no:csv_logger",
        "-p",
        "no:model_checkpoint",
        "-p",
        "no:tensorboard",
    )
    assert result.returncode == 0, result.stderr
    assert "run directory" not in result.stdout.lower()
    assert not (tmp_path / "runs").exists()


def test_train_help_shows_three_examples(hookfit_cli):
    result = hookfit_cli("train", "--help")
    assert result.returncode == 0
    lines = result.stdout.split("examples:\n")[1].splitlines()
    assert [line.split("  ")[1] for line in lines[:4] if line.startswith("  hookfit")] == [
        "hookfit train",
        "hookfit train job.toml --set fit.epochs=5",
        "hookfit train -p csv_logger --set callbacks.csv_logger.filename={run_dir}/log.csv",
    ]


@pytest.mark.parametrize(
    "switch", [[], ["-p", "typo"]], ids=["off-read-from-source", "on-imported"]
)
def test_plugins_reports_a_misspelled_hook(switch, hookfit_cli, site):
    env, _ = site
    problem = (
        "defines on_epoch_ends(), which is not a hookfit hook (did you mean 'on_epoch_end'?); "
        "it would never be called"
    )
    row = plugins_json(hookfit_cli, *switch, env=env)["typo"]
    assert row["status"] == ("on" if switch else "off")
    assert row["hooks_from"] == ("imported" if switch else "source")
    assert row["problems"] == [problem]
    text = hookfit_cli("plugins", *switch, env=env).stdout
    assert re.search(
        rf"^typo \(hookfit-typo 1\.0\): .*\n    problem: {re.escape(problem)}$", text, re.M
    ), text


# -- data that looks like something else -----------------------------------------------------

SMALL_FIT = "[fit]\nepochs = 2\nverbose = 0\nseed = 0\n"


def save_columns(path, column):
    """300 samples of 3 classes, the labels shaped (n, 1) or (n,)."""
    rng = np.random.default_rng(0)
    x = rng.random((300, 8)).astype("float32")
    y = (x[:, 0] * 3).astype(int)
    np.savez(path, x=x, y=y[:, None] if column else y)


def test_class_labels_saved_as_a_column_train_as_class_ids(hookfit_cli, tmp_path):
    last = {}
    for column in (True, False):
        save_columns(tmp_path / "d.npz", column)
        (tmp_path / "job.toml").write_text(f"[data]\npath = 'd.npz'\n{SMALL_FIT}")
        result = hookfit_cli("train", "job.toml", timeout=120)
        assert result.returncode == 0, result.stderr
        last[column] = re.search(r"^Last epoch \(2\): .*$", result.stdout, re.M).group(0)
    assert last[True] == last[False]  # the same three-class model, not one softmax unit
    assert "loss: 0.0000" not in last[True]


@pytest.mark.parametrize(
    ("loss", "units", "message"),
    [
        (
            "categorical_crossentropy",
            1,
            r"^fit: categorical_crossentropy needs one output per class, at least 2; the model "
            r"has 1, so its softmax is always 1 and nothing is learned\. ",
        ),
        (
            "sparse_categorical_crossentropy",
            1,
            r"^fit: sparse_categorical_crossentropy needs one output per class, at least 2; ",
        ),
        (
            "categorical_crossentropy",
            3,
            r"^fit: y must have shape \(samples, 3\) for the model's outputs; got \(30, 1\)\. "
            r"These look like class labels: one-hot encode them with "
            r"hookfit\.utils\.to_categorical\(y\), or compile with "
            r"loss='sparse_categorical_crossentropy'\.$",
        ),
    ],
    ids=["one-hot-loss-one-unit", "sparse-loss-one-unit", "one-hot-loss-labels-in-a-column"],
)
def test_fit_never_trains_class_labels_in_a_column_as_one_unit(loss, units, message):
    from hookfit.layers import Dense
    from hookfit.models import Sequential

    x = np.random.default_rng(0).random((30, 4)).astype("float32")
    y = (x[:, :1] * 3).astype(int)  # (30, 1) class ids
    model = Sequential([Dense(units, activation="softmax", input_dim=4)])
    model.compile("sgd", loss)
    with pytest.raises(ConfigError, match=message):
        model.fit(x, y, epochs=1, verbose=0, config={})


def test_sparse_labels_in_a_column_are_read_as_class_ids():
    from hookfit.layers import Dense
    from hookfit.models import Sequential
    from hookfit.trainer.utils import set_random_seed

    x = np.random.default_rng(0).random((30, 4)).astype("float32")
    y = (x[:, 0] * 3).astype(int)
    losses = []
    for labels in (y[:, None], y):
        set_random_seed(0)
        model = Sequential([Dense(3, activation="softmax", input_dim=4)])
        model.compile("sgd", "sparse_categorical_crossentropy")
        losses.append(model.fit(x, labels, epochs=2, verbose=0, config={}).history["loss"])
    assert losses[0] == losses[1]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"job.toml": "[data]\npath = 'd.npz'\n[model]\nloss = 'mse'\n"},
            r"^hookfit: error: job\.toml: data\.path: array 'y' of d\.npz has one column; the "
            r"bundled example's last layer is a softmax with one unit per class, and a softmax "
            r"over one unit always outputs 1\. ",
        ),
        (
            {"job.toml": "[model]\nlayers = [{type = 'Dense', units = 1000000000000}]\n"},
            r"^hookfit: error: job\.toml: model\.layers\[0\]\.units: expected an integer from 1 "
            r"to 1000000, got 1000000000000\.",
        ),
        (
            {"job.toml": "[data]\npath = 'long.csv'\n", "long.csv": "a,label\n" + "1" * 140_000},
            r"^hookfit: error: job\.toml: data\.path: cannot read long\.csv as CSV: field larger "
            r"than field limit \(131072\) \(line 2\)\.",
        ),
    ],
    ids=["softmax-over-one-column", "units-1e12", "csv-field-too-long"],
)
def test_config_refusals_are_one_line_and_exit_2(files, message, hookfit_cli, tmp_path):
    save_columns(tmp_path / "d.npz", column=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = hookfit_cli("train", "job.toml", timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_npz_members_saved_without_the_npy_suffix_are_read(hookfit_cli, tmp_path):
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(tmp_path / "d.npz", "w") as archive:
        for name, array in {"x": rng.random((40, 5)), "y.npy": np.arange(40) % 2}.items():
            with archive.open(name, "w") as member:
                np.save(member, array)
    (tmp_path / "job.toml").write_text(f"[data]\npath = 'd.npz'\n{SMALL_FIT}")
    result = hookfit_cli("train", "job.toml", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Last epoch (2)" in result.stdout


# -- paths that are not what they seem ---------------------------------------------------------


def make_path(kind, path):
    if kind == "loop":
        path.symlink_to(path.name)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        ("loop", "is a symbolic link that leads back to itself"),
        ("fifo", r"is a named pipe \(FIFO\)"),
        ("folder", "is a folder"),
    ],
    ids=["symlink-loop", "fifo", "folder"],
)
@pytest.mark.parametrize("role", ["config", "data"])
def test_a_path_that_is_not_a_file_says_what_it_is(role, kind, what, hookfit_cli, tmp_path):
    make_path(kind, tmp_path / "x.npz")
    if role == "config":
        result = hookfit_cli("train", "x.npz", timeout=120)
        expected = rf"^hookfit: error: x\.npz {what}, not a config file; give a \.toml file\.$"
    else:
        (tmp_path / "job.toml").write_text("[data]\npath = 'x.npz'\n")
        result = hookfit_cli("train", "job.toml", timeout=120)
        expected = (
            rf"^hookfit: error: job\.toml: data\.path: x\.npz {what}, not a data file; give an "
            r"\.npz or \.csv file\.$"
        )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert re.match(expected, result.stderr), result.stderr


@pytest.mark.parametrize(
    "command",
    [["train"], ["config"], ["plugins"], ["new-plugin", "hookfit-x"]],
    ids=["train", "config", "plugins", "new-plugin"],
)
def test_a_deleted_working_directory_is_one_message(command, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    result = run_bounded(
        ["sh", "-c", 'rmdir "$PWD" && exec "$0" -m hookfit "$@"', sys.executable, *command],
        cwd=gone,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "hookfit: error: the working directory no longer exists (deleted or moved while in "
        "use); change to an existing folder and run the command again.\n"
    )


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("file", r"runs is a file, not a folder\. Nothing was written: rename or remove runs"),
        ("loop", r"runs is a symbolic link that leads back to itself, not a folder\. "),
        ("read-only", r"Permission denied \(runs/.*\)\. Nothing was written: make runs writable"),
    ],
    ids=["runs-is-a-file", "runs-is-a-symlink-loop", "runs-read-only"],
)
def test_a_run_directory_that_cannot_be_made_is_one_message(setup, reason, tmp_path):
    runs = tmp_path / "runs"
    if setup == "file":
        runs.write_text("not a folder")
    elif setup == "loop":
        make_path("loop", runs)
    else:
        runs.mkdir(mode=0o555)
    # root writes anywhere: without CAP_DAC_OVERRIDE it meets the mode like anyone
    prefix = (
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
        if os.geteuid() == 0
        else []
    )
    full = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "hookfit", "train", "--set", "fit.epochs=1"],
        cwd=tmp_path,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert re.fullmatch(
        rf"hookfit: error: cannot create the run directory {RUN_DIR}: {reason}.*\n",
        result.stderr,
    ), result.stderr
    assert "training with" not in result.stdout


# -- standard output ---------------------------------------------------------------------------

QUICK_TRAIN = ["train", "--set", "fit.epochs=1", "--set", "fit.verbose=1"]


def run_with_stdout(args, stdout, tmp_path, env=None):
    full = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    return subprocess.run(
        [sys.executable, "-m", "hookfit", *args],
        cwd=tmp_path,
        env={**full, **(env or {})},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args", [["plugins"], QUICK_TRAIN, ["--help"]], ids=["plugins", "train", "help"]
)
def test_a_reader_that_went_away_ends_the_command_quietly(args, tmp_path):
    read, write = os.pipe()
    os.close(read)  # as `| head -c10` once head has exited
    try:
        result = run_with_stdout(args, write, tmp_path)
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (141, "")


@pytest.mark.parametrize(
    "args", [["plugins"], QUICK_TRAIN, ["--help"]], ids=["plugins", "train", "help"]
)
def test_a_full_stdout_is_one_message_and_exit_1(args, tmp_path):
    with open("/dev/full", "w") as full:
        result = run_with_stdout(args, full, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.endswith(
        "hookfit: error: cannot write to standard output: No space left on device.\n"
    ), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["plugins"], QUICK_TRAIN], ids=["plugins", "train"])
def test_a_closed_stdout_is_refused_before_anything_runs(args, tmp_path):
    result = run_bounded(
        ["sh", "-c", 'exec "$0" -m hookfit "$@" >&-', sys.executable, *args],
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "hookfit: error: standard output is closed; hookfit reports there. Redirect it "
        "instead, e.g. hookfit train > /dev/null.\n"
    )
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["config", "é.toml"], "# config file: \\xe9.toml"),
        (["train", "é.toml", "-p", "no:progbar_logger"], "training with \\xe9.toml"),
    ],
    ids=["config", "train"],
)
def test_names_the_terminal_cannot_encode_are_escaped(args, shown, tmp_path):
    (tmp_path / "é.toml").write_text(SMALL_FIT)
    result = run_with_stdout(args, subprocess.PIPE, tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout


def test_warnings_at_the_command_line_are_one_line(hookfit_cli):
    result = hookfit_cli(
        *QUICK_TRAIN,
        "--set",
        "callbacks.early_stopping.monitor=foo",
        "-p",
        "no:progbar_logger",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "warning" in line.lower()]
    assert warned == [
        "hookfit: warning: Early stopping conditioned on metric `foo` which is not available. "
        "Available metrics are: loss,acc,val_loss,val_acc."
    ]
    assert "main()" not in result.stderr
