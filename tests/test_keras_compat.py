"""Real Keras 3 reads hookfit's files, and hookfit reads Keras's.

Skipped unless Keras is installed: tox's `keras` environment installs Keras 3
on its torch backend (torch 2.13.0, CPU).
"""

import os

import numpy as np
import pytest

from hookfit.layers import Activation, Dense, Dropout
from hookfit.models import Sequential, load_model
from hookfit.utils import set_random_seed

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")


@pytest.fixture
def trained(hookfit_data):
    x, y = hookfit_data
    set_random_seed(4)
    model = Sequential(
        [Dense(16, activation="relu", input_dim=8), Dropout(0.25), Dense(3), Activation("softmax")]
    )
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=3, verbose=0)
    return model


def test_keras_3_loads_a_hookfit_model_and_predicts_the_same(trained, hookfit_data, tmp_path):
    x, y = hookfit_data
    trained.save(tmp_path / "model.h5")
    loaded = keras.models.load_model(tmp_path / "model.h5")  # safe_mode=True by default
    np.testing.assert_allclose(loaded.predict(x, verbose=0), trained.predict(x), atol=1e-6)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "Dense",
        "Dropout",
        "Dense",
        "Activation",
    ]
    assert type(loaded.optimizer).__name__ == "Adam"  # compiled from the training config
    loss, acc = loaded.evaluate(x, y, verbose=0)
    assert [loss, acc] == pytest.approx(trained.evaluate(x, y, verbose=0), abs=1e-5)


def test_keras_3_loads_hookfit_weights(trained, hookfit_data, tmp_path):
    x, _ = hookfit_data
    trained.save_weights(tmp_path / "weights.h5")
    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(3),
            keras.layers.Activation("softmax"),
        ]
    )
    model.load_weights(tmp_path / "weights.h5")
    np.testing.assert_allclose(model.predict(x, verbose=0), trained.predict(x), atol=1e-6)


def test_hookfit_loads_a_keras_3_h5_model(hookfit_data, tmp_path):
    x, _ = hookfit_data
    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "keras.h5")
    loaded = load_model(tmp_path / "keras.h5")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x, verbose=0), atol=1e-6)
    assert type(loaded.optimizer).__name__ == "RMSprop"


def hookfit_two_branch_model():
    from hookfit.layers import (
        BatchNormalization,
        Conv2D,
        Flatten,
        Input,
        MaxPooling2D,
        concatenate,
    )
    from hookfit.models import Model

    image, side = Input((8, 8, 1), name="image"), Input((3,), name="side")
    conv = MaxPooling2D(2)(Conv2D(4, 3, padding="same", activation="relu")(image))
    joined = concatenate([Flatten()(BatchNormalization()(conv)), Dense(4, activation="relu")(side)])
    label = Dense(3, activation="softmax", name="label")(joined)
    score = Dense(1, name="score")(joined)
    model = Model([image, side], [label, score])
    model.compile("adam", ["categorical_crossentropy", "mse"], metrics=["accuracy"])
    return model


def test_keras_3_loads_a_hookfit_functional_model_of_convolutions(tmp_path):
    rng = np.random.default_rng(0)
    x = [rng.random((6, 8, 8, 1), dtype=np.float32), rng.random((6, 3), dtype=np.float32)]
    y = [np.eye(3, dtype=np.float32)[rng.integers(0, 3, 6)], rng.random((6, 1), dtype=np.float32)]
    model = hookfit_two_branch_model()
    model.fit(x, y, epochs=2, batch_size=3, verbose=0)  # moving statistics away from 0 and 1
    model.save(tmp_path / "functional.h5")
    loaded = keras.models.load_model(tmp_path / "functional.h5")
    for theirs, ours in zip(loaded.predict(x, verbose=0), model.predict(x), strict=True):
        np.testing.assert_allclose(theirs, ours, atol=1e-5)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_hookfit_loads_a_keras_3_functional_model_of_convolutions(tmp_path):
    image = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(image)
    flat = keras.layers.Flatten()(keras.layers.BatchNormalization()(conv))
    out = [
        keras.layers.Dense(3, activation="softmax", name="label")(flat),
        keras.layers.Dense(1, name="score")(flat),
    ]
    model = keras.Model(image, out)
    model.compile("adam", ["categorical_crossentropy", "mse"])
    x = np.random.default_rng(1).random((4, 8, 8, 1), dtype=np.float32)
    model.save(tmp_path / "keras.h5")
    loaded = load_model(tmp_path / "keras.h5")
    for theirs, ours in zip(model.predict(x, verbose=0), loaded.predict(x), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert loaded.metrics_names == ["loss", "label_loss", "score_loss"]
