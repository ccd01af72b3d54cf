"""Writing third-party plugins: new-plugin, the test fixtures, wrong plugins
caught at registration, and many installed plugins costing nothing."""

import json
import os
import re
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from hookfit import ConfigError, PluginValidationError
from hookfit.cli.scaffold import names_for, write
from hookfit.run.catalogue import catalogue
from hookfit.testing import FitResult, Inject, fit_with_values


@pytest.mark.parametrize(
    ("dist", "module", "plugin", "cls"),
    [
        ("hookfit-loss-printer", "hookfit_loss_printer", "loss_printer", "LossPrinter"),
        ("Grad.Norm", "grad_norm", "grad_norm", "GradNorm"),
        ("wandb_sync2", "wandb_sync2", "wandb_sync2", "WandbSync2"),
    ],
    ids=["prefixed", "dots-and-case", "underscore"],
)
def test_names_derive_from_the_distribution(dist, module, plugin, cls):
    assert names_for(dist) == (names_for(dist).__class__(dist, module, plugin, cls))


@pytest.mark.parametrize("style", ["callback", "hookimpl"], ids=str)
def test_new_plugin_writes_a_ready_package(style, tmp_path):
    root = write("hookfit-loss-printer", tmp_path, style)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/hookfit_loss_printer/__init__.py",
        "tests/test_loss_printer.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["name"] == "hookfit-loss-printer"
    assert project["project"]["dependencies"] == ["hookfit>=0.1,<0.2"]
    assert project["project"]["entry-points"]["hookfit.callbacks"] == {
        "loss_printer": "hookfit_loss_printer:LossPrinter"
    }
    source = (root / "src/hookfit_loss_printer/__init__.py").read_text()
    assert ("class LossPrinter(Callback):" in source) == (style == "callback")
    assert ("@hookfit.hookimpl" in source) == (style == "hookimpl")
    compile(source, "module", "exec")
    compile((root / "tests/test_loss_printer.py").read_text(), "test", "exec")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new-plugin", "hookfit-"], r"'hookfit-' is not a valid distribution name"),
        (
            ["new-plugin", "9lives"],
            r"'9lives' gives the module name '9lives' and plugin name "
            r"'9lives', which are not Python identifiers",
        ),
        (["new-plugin", "taken"], r"new-plugin: taken exists; choose another name or remove it"),
    ],
    ids=["not-a-distribution-name", "not-an-identifier", "folder-exists"],
)
def test_new_plugin_refusals_exit_2(args, message, hookfit_cli, tmp_path):
    (tmp_path / "taken").mkdir()
    result = hookfit_cli(*args)
    assert result.returncode == 2
    assert re.search(message, result.stderr), result.stderr


EXTRA_HOOK = """

def _starting(self, logs=None):
    print("starting")


LossPrinter.on_train_begin = {wrap}(_starting)
"""


@pytest.mark.parametrize(
    ("style", "wrap"), [("callback", ""), ("hookimpl", "hookfit.hookimpl")], ids=str
)
def test_the_generated_test_allows_prints_from_other_hooks(style, wrap, tmp_path):
    root = write("hookfit-loss-printer", tmp_path, style)
    module = root / "src/hookfit_loss_printer/__init__.py"
    module.write_text(module.read_text() + EXTRA_HOOK.format(wrap=wrap))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "one_line"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_new_plugin_refuses_an_unknown_style(tmp_path):
    with pytest.raises(ConfigError, match=r"--style must be one of callback, hookimpl, got 'x'"):
        write("hookfit-x", tmp_path, "x")


def test_new_plugin_says_what_to_do_next(hookfit_cli, tmp_path):
    result = hookfit_cli("new-plugin", "hookfit-loss-printer", "--style", "hookimpl")
    assert result.returncode == 0, result.stderr
    assert (
        "Created hookfit-loss-printer/ (distribution hookfit-loss-printer, plugin "
        "'loss_printer', class hookfit_loss_printer:LossPrinter)." in result.stdout
    )
    assert (
        "@hookfit.hookimpl"
        in (tmp_path / "hookfit-loss-printer/src/hookfit_loss_printer/__init__.py").read_text()
    )


def test_hookfit_fit_returns_the_calls_made(hookfit_fit):
    seen = []

    class Probe:
        from hookfit import hookimpl

        @hookimpl
        def on_epoch_end(self, epoch):
            seen.append(epoch)

    result = hookfit_fit(Probe(), "history", epochs=3, validation_split=0.25)
    assert isinstance(result, FitResult) and seen == [0, 1, 2]
    assert result.count("on_epoch_end") == 3 and result.hooks()[0] == "on_train_begin"
    assert result.history.epoch == [0, 1, 2]
    assert result.model.stop_training is False


def test_inject_feeds_a_monitor_one_value_per_epoch_of_the_run(hookfit_fit):
    inject = Inject("val_loss", [0.5, 0.4, 0.45])
    result = hookfit_fit(inject, "history", epochs=5, initial_epoch=2)
    assert inject.epochs == [2, 3, 4]
    assert result.history.history["val_loss"] == [0.5, 0.4, 0.45]
    assert len(inject.weights) == 3
    last, final = inject.weights[-1], result.model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(last, final, strict=True))


def test_fit_with_values_runs_an_epoch_per_value(hookfit_model, hookfit_data, capsys):
    model = hookfit_model()
    inject = fit_with_values(model, hookfit_data, [], "val_acc", [0.1, 0.2])
    assert inject.epochs == [0, 1] and model.history.history["val_acc"] == [0.1, 0.2]
    assert capsys.readouterr().out == ""


def test_two_distributions_claiming_one_name_are_refused_when_enabled(
    hookfit_site, hookfit_fit, hookfit_cli
):
    module = {"dup_plugin.py": "from hookfit import Callback\nclass Dup(Callback):\n    pass\n"}
    hookfit_site.add("hookfit-dup-one", {"dup": "dup_plugin:Dup"}, module)
    hookfit_site.add("hookfit-dup-two", {"dup": "dup_plugin:Dup"}, version="2.0")
    assert catalogue().plugins["dup"].rivals == ("hookfit-dup-two 2.0",)
    with pytest.raises(
        PluginValidationError,
        match=r"Plugin name 'dup' is claimed by "
        r"hookfit-dup-one 1\.0 and by hookfit-dup-two "
        r"2\.0\. Uninstall all but one of them\.",
    ):
        hookfit_fit("dup")
    result = hookfit_cli("plugins", "-p", "dup", env={"PYTHONPATH": str(hookfit_site.root)})
    assert result.returncode == 0
    assert "conflict: 'dup' is claimed by hookfit-dup-one 1.0 and hookfit-dup-two 2.0" in (
        result.stdout
    )
    assert re.search(r"^dup \(hookfit-dup-one 1\.0\): ERROR", result.stdout, re.M)


def many_plugins(site, count, marker_dir):
    """Install ``count`` generated plugins; each leaves a marker file if imported."""
    for i in range(count):
        site.add(
            f"hookfit-gen{i}",
            {f"gen{i}": f"gen_plugin_{i}:Gen{i}"},
            {
                f"gen_plugin_{i}.py": f"""
            from pathlib import Path
            from hookfit import Callback
            Path({str(marker_dir)!r}, "gen{i}").touch()

            class Gen{i}(Callback):
                def on_epoch_end(self, epoch, logs=None):
                    pass
            """
            },
        )


def test_fifty_installed_plugins_are_listed_and_none_is_imported(
    hookfit_site, hookfit_cli, tmp_path
):
    markers = tmp_path / "imported"
    markers.mkdir()
    many_plugins(hookfit_site, 50, markers)
    env = {"PYTHONPATH": str(hookfit_site.root)}
    result = hookfit_cli("plugins", "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["plugins"]}
    generated = [rows[f"gen{i}"] for i in range(50)]
    assert all(r["status"] == "off" and r["hooks"] == ["on_epoch_end"] for r in generated)
    assert all(r["hooks_from"] == "source" for r in generated)
    assert hookfit_cli("train", "--set", "fit.epochs=1", env=env).returncode == 0
    assert list(markers.iterdir()) == []
    # switching one on imports that one only
    assert hookfit_cli("plugins", "-p", "gen7", env=env).returncode == 0
    assert [p.name for p in markers.iterdir()] == ["gen7"]


FRAGILE = {
    "fragile_plugin.py": """
    from hookfit import Callback

    class Fragile(Callback):
        def __init__(self, path: str = "token.txt"):
            super().__init__()
            raise FileNotFoundError(f"no credentials in {path}")
    """
}


@pytest.mark.parametrize(
    ("how", "why"),
    [("code", "code"), ("config", "fit(config=...): callbacks.fragile")],
    ids=["named-in-code", "named-in-config"],
)
def test_a_plugin_whose_constructor_raises_is_named_with_its_distribution(
    how, why, hookfit_site, hookfit_model, hookfit_data
):
    hookfit_site.add(
        "hookfit-fragile", {"fragile": "fragile_plugin:Fragile"}, FRAGILE, version="3.1"
    )
    x, y = hookfit_data
    options = (
        {"callbacks": ["fragile"]} if how == "code" else {"config": {"callbacks": {"fragile": {}}}}
    )
    # the plugin's own error, its type kept, with which plugin raised it
    with pytest.raises(FileNotFoundError, match=r"^no credentials in token\.txt") as info:
        hookfit_model().fit(x, y, epochs=1, verbose=0, **options)
    assert str(info.value) == "no credentials in token.txt"
    assert info.value.__notes__ == [
        f"hookfit: while building plugin fragile (hookfit-fragile 3.1) (switched on by {why})"
    ]


def test_hookfit_plugins_lists_a_plugin_whose_constructor_raises_among_the_others(
    hookfit_site, capsys
):
    from hookfit.cli.main import main

    hookfit_site.add(
        "hookfit-fragile", {"fragile": "fragile_plugin:Fragile"}, FRAGILE, version="3.1"
    )
    assert main(["plugins", "-p", "fragile"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"^fragile \(hookfit-fragile 3\.1\): ERROR - command line: -p fragile$", out, re.M
    )
    assert "    error: FileNotFoundError: no credentials in token.txt\n" in out
    assert re.search(r"^history \(hookfit-history \S+\): on - on by default", out, re.M)


def test_the_former_name_of_a_background_lane_still_works_and_warns():
    from hookfit.background import Jobs, Lane

    with pytest.warns(DeprecationWarning, match=r"hookfit\.background\.Jobs is deprecated: use "):
        jobs = Jobs("Old", capacity=1)
    assert isinstance(jobs, Lane)
    done: list[int] = []
    jobs.submit(done.append, 1)
    jobs.wait()
    assert done == [1]
