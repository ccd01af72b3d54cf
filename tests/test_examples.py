"""Every example in examples/ runs."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# These need Keras or Lightning: the hosts environment runs them, in
# hosts/keras/tests/test_examples.py and hosts/lightning/tests/test_examples.py.
HOST_EXAMPLES = {"keras3_script.py", "lightning_script.py"}
# Keras 2.2.4's own examples, on synthetic data of MNIST's shapes (their
# default sample counts are small, for CI); they end with Keras's score lines.
KERAS_MNIST_EXAMPLES = {"mnist_cnn.py", "mnist_mlp.py"}
SCRIPT_TIMEOUT = 300  # seconds; each example takes a few on a loaded 2-core machine


@pytest.mark.parametrize("config", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_configs_train(config, hookfit_cli):
    result = hookfit_cli("train", str(config), "--set", "fit.epochs=1")
    assert result.returncode == 0, result.stderr
    assert "Last epoch (1)" in result.stdout


def run_script(script: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=SCRIPT_TIMEOUT,
    )


@pytest.mark.parametrize(
    "script",
    sorted(
        p
        for p in EXAMPLES.glob("*.py")
        if p.name not in HOST_EXAMPLES and p.name not in KERAS_MNIST_EXAMPLES
    ),
    ids=lambda p: p.name,
)
def test_example_scripts_run(script, tmp_path):
    result = run_script(script, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(KERAS_MNIST_EXAMPLES))
def test_keras_mnist_examples_train_and_print_their_test_scores(name, tmp_path):
    result = run_script(EXAMPLES / name, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"Test loss: \d+\.\d+", lines[-2]), result.stdout[-2000:]
    assert re.fullmatch(r"Test accuracy: [01]\.\d+", lines[-1]), result.stdout[-2000:]
