"""Keras 2's ``np.random.seed(1337)  # for reproducibility``: in a fresh
process, it repeats the initial weights, the shuffling and the Dropout
masks; ``hookfit.utils.set_random_seed`` still takes precedence."""

from __future__ import annotations

import functools
import subprocess
import sys

import numpy as np
import pytest

from hookfit.errors import ConfigError
from hookfit.trainer import utils

# A Keras 2 script: the seed first, then the model, a shuffled fit with Dropout.
SCRIPT = """
import sys
import numpy as np

numpy_seed, hookfit_seed = sys.argv[1:]
if numpy_seed != "-":
    np.random.seed(int(numpy_seed))
if hookfit_seed != "-":
    from hookfit.utils import set_random_seed

    set_random_seed(int(hookfit_seed))
from hookfit.layers import Dense, Dropout
from hookfit.models import Sequential

data = np.random.RandomState(7)  # the same data whatever the seeds
x = data.rand(96, 8).astype("float32")
y = np.eye(3, dtype="float32")[data.randint(0, 3, 96)]
model = Sequential(
    [Dense(16, activation="relu", input_dim=8), Dropout(0.5), Dense(3, activation="softmax")]
)
model.compile(loss="categorical_crossentropy", optimizer="sgd")
initial = np.concatenate([w.ravel() for w in model.get_weights()])
model.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
trained = np.concatenate([w.ravel() for w in model.get_weights()])
print(initial.tobytes().hex())
print(trained.tobytes().hex())
"""


@functools.cache
def run(
    numpy_seed: int | None, hookfit_seed: int | None = None, process: int = 1
) -> tuple[bytes, bytes]:
    """The initial and trained weights of `SCRIPT` in a fresh process (one
    per distinct ``process`` number)."""
    seeds = ["-" if s is None else str(s) for s in (numpy_seed, hookfit_seed)]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *seeds],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    initial, trained = done.stdout.split()
    return bytes.fromhex(initial), bytes.fromhex(trained)


def test_np_random_seed_repeats_a_run_in_a_fresh_process():
    first, second = run(0), run(0, process=2)
    assert first == second  # initial weights, then shuffling and dropout masks too
    assert first[0] != first[1]  # it trained


def test_different_numpy_seeds_give_different_runs():
    assert run(0)[0] != run(1)[0] and run(0)[1] != run(1)[1]


def test_a_script_without_a_seed_differs_from_run_to_run():
    assert run(None)[0] != run(None, process=2)[0]
    assert run(None)[1] != run(None, process=2)[1]


def test_set_random_seed_wins_over_np_random_seed():
    assert run(0, 5) == run(1, 5)
    assert run(0, 5)[0] != run(0)[0]


def test_models_made_one_after_another_start_differently(monkeypatch):
    monkeypatch.setattr(utils, "_seeds", None)
    np.random.seed(3)
    first, second = utils.new_generator().random(4), utils.new_generator().random(4)
    np.random.seed(3)
    assert not np.array_equal(first, second)
    assert np.array_equal(utils.new_generator().random(4), first)


def test_set_random_seed_is_independent_of_numpy_state(monkeypatch):
    monkeypatch.setattr(utils, "_seeds", None)
    utils.set_random_seed(11)
    np.random.seed(1)
    first = utils.new_generator().random(4)
    utils.set_random_seed(11)
    np.random.seed(2)
    assert np.array_equal(utils.new_generator().random(4), first)


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True], ids=["negative", "float", "str", "bool"])
def test_set_random_seed_refuses_a_bad_seed(seed):
    with pytest.raises(ConfigError, match=r"^set_random_seed: seed must be an integer >= 0"):
        utils.set_random_seed(seed)
