"""Every example in examples/ runs."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# These need Keras or Lightning: the hosts environment runs them, in
# hosts/keras/tests/test_examples.py and hosts/lightning/tests/test_examples.py.
HOST_EXAMPLES = {"keras3_script.py", "lightning_script.py"}


@pytest.mark.parametrize("config", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_configs_train(config, hookfit_cli):
    result = hookfit_cli("train", str(config), "--set", "fit.epochs=1")
    assert result.returncode == 0, result.stderr
    assert "Last epoch (1)" in result.stdout


@pytest.mark.parametrize(
    "script",
    sorted(p for p in EXAMPLES.glob("*.py") if p.name not in HOST_EXAMPLES),
    ids=lambda p: p.name,
)
def test_example_scripts_run(script, tmp_path):
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
