"""Real wheels in fresh virtual environments: what a user of a plugin, or of
``hookfit new-plugin``, gets after pip install. Slow (each builds a venv).

Installing built wheels is the same with pip or uv, and uv does it in a
second where pip takes ten: those tests use uv where the test run has it.
Installing from a clone's folders is pip's own behaviour (build isolation,
direct references): those tests always use pip."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _wheels_tool():
    spec = importlib.util.spec_from_file_location(
        "install_wheels", ROOT / "tools" / "install_wheels.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """Build (or reuse, when tox already built it) the wheel of a folder."""
    tool = _wheels_tool()
    house = Path(os.environ.get("WHEELHOUSE") or tmp_path_factory.mktemp("wheelhouse"))
    return lambda folder: tool.build(
        ROOT / folder if not Path(folder).is_absolute() else Path(folder), house
    )


UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def fresh_venv(path, pip=False):
    """A new virtual environment without the test run's packages; returns a
    function running one of its commands. It has pip when ``pip`` is true or
    the test run has no uv (`pip_install` then uses it)."""
    if pip or UV is None:
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
    else:
        subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, str(path)], check=True)
    bin_dir = path / ("Scripts" if os.name == "nt" else "bin")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HOOKFIT_", "PYTHON", "VIRTUAL_ENV"))
    }

    def run(*args, cwd=None, check=True):
        result = subprocess.run(
            [str(bin_dir / args[0]) if args[0] != UV else UV, *args[1:]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode:
            raise AssertionError(f"{args} failed:\n{result.stdout}\n{result.stderr}")
        return result

    run.bin_dir = bin_dir
    return run


def pip_install(run, *requirements):
    """Install into the environment of ``run``: with its pip when it has one,
    else with uv."""
    if (run.bin_dir / "pip").exists():
        run(
            "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
        )
    else:
        python = str(run.bin_dir / "python")
        run(UV, "pip", "install", "--quiet", "--python", python, *requirements)


def requirements(wheel_file):
    """The Requires-Dist lines of a wheel's metadata."""
    with zipfile.ZipFile(wheel_file) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(name).decode().split("\n\n", 1)[0].splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]


def clone(path):
    """A copy of the repository's distributions, as a clone has them: the
    core, every plugin folder and VERSION (core/hatch_build.py looks for
    plugins/ beside core/)."""
    skip = shutil.ignore_patterns("__pycache__", ".pytest_cache", "build", "dist", "tests")
    path.mkdir()
    shutil.copy(ROOT / "VERSION", path / "VERSION")
    shutil.copytree(ROOT / "core", path / "core", ignore=skip)
    for folder in (ROOT / "plugins").iterdir():
        if (folder / "pyproject.toml").is_file():
            shutil.copytree(folder, path / "plugins" / folder.name, ignore=skip)
    return path


VERSION = (ROOT / "VERSION").read_text().strip()
DEFAULTS = ("plugins/history", "plugins/base_logger", "plugins/progbar_logger")


def test_core_and_a_plugin_from_wheels(wheel, tmp_path):
    """pip install hookfit hookfit-csv-logger: the core brings Keras's three
    default plugins (still distributions of their own)."""
    run = fresh_venv(tmp_path / "venv")
    pip_install(run, *(str(wheel(f)) for f in ("core", *DEFAULTS, "plugins/csv_logger")))
    result = run("hookfit", "plugins", "--json", cwd=tmp_path)
    report = json.loads(result.stdout)
    rows = {row["name"]: row for row in report["plugins"]}
    assert sorted(rows) == ["base_logger", "csv_logger", "history", "progbar_logger"]
    assert rows["history"]["distribution"] == "hookfit-history"
    assert rows["history"]["version"] == VERSION
    assert (rows["history"]["status"], rows["history"]["why"]) == ("on", "on by default (always)")
    assert rows["history"]["hooks"] == ["on_epoch_end", "on_train_begin"]
    assert (rows["csv_logger"]["status"], rows["csv_logger"]["why"]) == (
        "off",
        "installed, not named",
    )
    assert rows["csv_logger"]["hooks"] == ["on_epoch_end", "on_train_begin", "on_train_end"]
    assert report["conflicts"] == {} and report["problems"] == []
    # importing a plugin that is not installed names its distribution
    missing = run("python", "-c", "from hookfit.callbacks import EarlyStopping", check=False)
    assert (
        "pip install hookfit-early-stopping "
        "(from a clone of hookfit: pip install ./plugins/early_stopping)"
    ) in missing.stderr
    # tox's wheels (tools/install_wheels.py) keep the plain ranges a published
    # wheel has: pip took the plugin wheels given on its command line
    requires = requirements(wheel("core"))
    assert "hookfit-history<0.2,>=0.1" in requires
    assert "hookfit-early-stopping<0.2,>=0.1.0; extra == 'all'" in requires
    assert not [r for r in requires if "@" in r]


def test_a_new_plugin_from_its_wheel_runs_in_hookfit_train(wheel, tmp_path):
    run = fresh_venv(tmp_path / "venv")
    subprocess.run(
        [sys.executable, "-m", "hookfit", "new-plugin", "hookfit-loss-printer"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    package = tmp_path / "hookfit-loss-printer"
    pip_install(run, *(str(wheel(f)) for f in ("core", *DEFAULTS)), f"{wheel(package)}[test]")
    (tmp_path / "hookfit.toml").write_text(
        "[fit]\nepochs = 2\nverbose = 0\n\n[callbacks.loss_printer]\nprefix = 'done'\n"
    )
    result = run("hookfit", "train", cwd=tmp_path)
    lines = [line for line in result.stdout.splitlines() if line.startswith("done ")]
    assert [line.split(":")[0] for line in lines] == ["done 1", "done 2"]
    assert "val_loss=" in lines[0]
    plugins = json.loads(run("hookfit", "plugins", "--json", cwd=tmp_path).stdout)["plugins"]
    (row,) = [p for p in plugins if p["name"] == "loss_printer"]
    assert (row["status"], row["distribution"], row["hooks"]) == (
        "on",
        "hookfit-loss-printer",
        ["on_epoch_end"],
    )
    tests = run(
        "python",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(package / "tests"),
        cwd=package,
    )
    assert "3 passed" in tests.stdout


FIT = """
import warnings
import numpy as np
from hookfit.layers import Dense
from hookfit.models import Sequential

warnings.simplefilter("always")
model = Sequential([Dense(2, activation="softmax", input_dim=3)])
model.compile("sgd", "categorical_crossentropy")
x, y = np.zeros((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
for _ in range(2):
    print("history", model.fit(x, y, verbose=0))
"""


def test_a_missing_default_plugin_is_said_once(wheel, tmp_path):
    """hookfit-history uninstalled: fit says so once, hookfit plugins lists it."""
    run = fresh_venv(tmp_path / "venv")
    defaults = [str(wheel(f)) for f in DEFAULTS[1:]]
    pip_install(
        run, "numpy>=1.24", "pluggy>=1.5", "importlib-metadata>=6.6", "threadpoolctl>=3", "tqdm"
    )
    pip_install(run, "--no-deps", str(wheel("core")), *defaults)
    (tmp_path / "fit.py").write_text(FIT)
    result = run("python", "fit.py", cwd=tmp_path)
    assert result.stdout.splitlines() == ["history None", "history None"]
    assert result.stderr.count("hookfit-history is not installed") == 1, result.stderr
    assert (
        "Reinstall hookfit, or pip install hookfit-history "
        "(from a clone of hookfit: pip install ./plugins/history)."
    ) in result.stderr
    report = json.loads(run("hookfit", "plugins", "--json", cwd=tmp_path).stdout)
    assert report["problems"] == [
        "hookfit-history is not installed; hookfit runs without this default "
        "(pip install hookfit-history (from a clone of hookfit: pip install ./plugins/history))"
    ]


def test_hookfit_all_installs_every_builtin(wheel, tmp_path):
    folders = [
        "core",
        *sorted(
            f"plugins/{p.name}"
            for p in (ROOT / "plugins").iterdir()
            if (p / "pyproject.toml").exists()
        ),
    ]
    house = tmp_path / "house"
    house.mkdir()
    for folder in folders:
        built = wheel(folder)
        (house / built.name).write_bytes(built.read_bytes())
    run = fresh_venv(tmp_path / "venv")
    pip_install(run, "--find-links", str(house), "hookfit[all]")
    rows = json.loads(run("hookfit", "plugins", "--json", cwd=tmp_path).stdout)["plugins"]
    assert len(rows) == len(folders) - 1 == 13
    assert all(row["error"] is None for row in rows)


def test_from_a_clone_pip_installs_the_core_and_a_plugin(tmp_path):
    """pip install ./core ./plugins/early_stopping from a clone: the default
    plugins are not on any index; the core's metadata points pip at
    plugins/<name> of the same clone."""
    repo = clone(tmp_path / "hookfit")
    run = fresh_venv(tmp_path / "venv", pip=True)
    pip_install(run, str(repo / "core"), str(repo / "plugins" / "early_stopping"))
    requires = run(
        "python", "-c", "import importlib.metadata as m; print(m.requires('hookfit'))"
    ).stdout
    assert f"hookfit-history @ {(repo / 'plugins' / 'history').resolve().as_uri()}" in requires
    work = tmp_path / "work"
    work.mkdir()
    result = run("hookfit", "train", "--set", "fit.epochs=1", cwd=work)
    assert "Epoch 1/1" in result.stdout
    assert "[==============================]" in result.stdout  # ProgbarLogger
    assert "Last epoch (1): loss: " in result.stdout  # the summary
    report = json.loads(run("hookfit", "plugins", "--json", cwd=work).stdout)
    rows = {row["name"]: row for row in report["plugins"]}
    assert sorted(rows) == ["base_logger", "early_stopping", "history", "progbar_logger"]
    assert all(rows[n]["status"] == "on" for n in ("base_logger", "history", "progbar_logger"))
    assert rows["early_stopping"]["why"] == "installed, not named"
    assert report["problems"] == [] and report["conflicts"] == {}


def test_from_a_clone_pip_installs_hookfit_all(tmp_path):
    """pip install './core[all]', also naming a plugin folder the core points
    at (no conflict), brings every built-in plugin from the clone; each
    plugin's own requirement hookfit>=0.1.0,<0.2 is met by ./core."""
    repo = clone(tmp_path / "hookfit")
    run = fresh_venv(tmp_path / "venv", pip=True)
    pip_install(run, f"{repo / 'core'}[all]", str(repo / "plugins" / "history"))
    report = json.loads(run("hookfit", "plugins", "--json", cwd=tmp_path).stdout)
    folders = [p for p in (repo / "plugins").iterdir() if (p / "pyproject.toml").is_file()]
    assert len(report["plugins"]) == len(folders) == 13
    assert all(row["error"] is None and row["version"] == VERSION for row in report["plugins"])
    assert report["problems"] == []
