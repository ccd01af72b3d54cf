"""Lightning's callbacks_factory entry point: HOOKFIT_CONFIG switches
hookfit on in an unchanged Lightning script, and nothing else does."""

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from hookfit.errors import ConfigError
from hookfit_lightning import Plugins
from hookfit_lightning._framework import pl
from hookfit_lightning.factory import callbacks

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def run_script(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "lightning_script.py"), "3"],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    "group",
    ["pytorch_lightning.callbacks_factory", "lightning.pytorch.callbacks_factory"],
    ids=["pytorch_lightning", "lightning.pytorch"],
)
def test_the_factory_is_registered_under_both_package_names(group):
    (entry,) = [e for e in entry_points(group=group) if e.name == "hookfit"]
    assert entry.load() is callbacks


def test_hookfit_config_makes_an_unchanged_script_run_the_configured_plugins(tmp_path):
    done = run_script(tmp_path, {"HOOKFIT_CONFIG": str(EXAMPLES / "lightning.toml")})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Plugins" in done.stdout.splitlines()[0]
    rows = (tmp_path / "lightning_run" / "log.csv").read_text().splitlines()
    assert rows[0] == "epoch,acc,loss,val_acc,val_loss"
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1", "2"]


def test_without_hookfit_config_no_hookfit_callback_is_added(tmp_path):
    done = run_script(tmp_path, {})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Plugins" not in done.stdout.splitlines()[0]
    assert not (tmp_path / "lightning_run").exists()


@pytest.mark.parametrize("value", ["", "  "], ids=["empty", "blank"])
def test_an_empty_hookfit_config_adds_nothing(monkeypatch, value):
    monkeypatch.setenv("HOOKFIT_CONFIG", value)
    assert callbacks() == []
    trainer = pl.Trainer(logger=False, enable_checkpointing=False)
    assert not any(isinstance(c, Plugins) for c in trainer.callbacks)


def test_a_trainer_gets_plugins_of_the_hookfit_config_file(monkeypatch, tmp_path):
    config = tmp_path / "hookfit.toml"
    config.write_text('[callbacks.early_stopping]\nmonitor = "val_loss"\n')
    monkeypatch.setenv("HOOKFIT_CONFIG", str(config))
    trainer = pl.Trainer(logger=False, enable_checkpointing=False)
    (plugins,) = [c for c in trainer.callbacks if isinstance(c, Plugins)]
    assert list(plugins.plugins) == ["early_stopping"]
    assert plugins.state_key != Plugins(["early_stopping"]).state_key  # both fit in one Trainer


def test_a_missing_hookfit_config_file_is_refused_by_the_trainer(monkeypatch, tmp_path):
    monkeypatch.setenv("HOOKFIT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        pl.Trainer(logger=False, enable_checkpointing=False)
