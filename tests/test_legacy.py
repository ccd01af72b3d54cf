"""Keras 2.0's Keras 1 names (`hookfit.trainer.legacy`), with Keras 2's
warnings word for word, on stand-in classes with Keras 2's signatures (the
models and layers call these same functions)."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

from hookfit.errors import ConfigError
from hookfit.trainer import legacy
from hookfit.trainer.layers import keras1


class Model:
    @legacy.keras1_method
    def fit(self, x: Any = None, y: Any = None, batch_size: Any = None, epochs: int = 1,
            **kwargs: Any) -> dict[str, Any]:  # fmt: skip
        return {"epochs": epochs}

    @legacy.keras1_method
    def fit_generator(
        self,
        generator: Any,
        steps_per_epoch: int | None = None,
        epochs: int = 1,
        validation_steps: int | None = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return {
            "steps_per_epoch": steps_per_epoch,
            "epochs": epochs,
            "validation_steps": validation_steps,
            "max_queue_size": max_queue_size,
            "workers": workers,
            "use_multiprocessing": use_multiprocessing,
        }

    @legacy.keras1_method
    def evaluate_generator(
        self, generator: Any, steps: int | None = None, max_queue_size: int = 10, **kwargs: Any
    ) -> Any:
        return steps, max_queue_size


def stand_in(name: str, *positional: str) -> type:
    """A class named ``name`` whose __init__ records its Keras 2 arguments."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        self.kwargs = {**dict(zip(positional, args, strict=False)), **kwargs}

    cls = type(name, (), {"class_name": name, "__init__": __init__})
    keras1.layer_init(cls)
    return cls


def generator():
    while True:
        yield 0


class Iterator:
    batch_size = 32

    def __next__(self) -> int:
        return 0


def only_warning(record: Any) -> str:
    (caught,) = record
    assert caught.category is UserWarning
    assert caught.filename == __file__  # the user's line
    return str(caught.message)


def test_fit_takes_nb_epoch_with_keras_2s_warning():
    with pytest.warns(UserWarning) as record:
        assert Model().fit([0], [0], nb_epoch=3) == {"epochs": 3}
    assert only_warning(record) == "The `nb_epoch` argument in `fit` has been renamed `epochs`."


def test_fit_generator_takes_keras_1_names_with_keras_2s_warnings():
    with pytest.warns(UserWarning) as record:
        got = Model().fit_generator(
            generator(), nb_epoch=2, nb_val_samples=5, nb_worker=2, pickle_safe=True, max_q_size=4
        )
    assert got == {
        "steps_per_epoch": None,
        "epochs": 2,
        "validation_steps": 5,
        "max_queue_size": 4,
        "workers": 2,
        "use_multiprocessing": True,
    }
    update, semantics = (str(w.message) for w in record)
    assert update == (
        "Update your `fit_generator` call to the Keras 2 API: `fit_generator(<generator..., "
        "epochs=2, validation_steps=5, workers=2, use_multiprocessing=True, max_queue_size=4)`"
    )
    assert semantics == legacy.SEMANTICS_WARNING
    assert semantics.startswith("The semantics of the Keras 2 argument `steps_per_epoch` is not")
    assert {w.filename for w in record} == {__file__}


@pytest.mark.parametrize(
    ("source", "steps"), [(generator(), 640), (Iterator(), 20)], ids=["generator", "batch-size"]
)
def test_samples_per_epoch_becomes_steps_as_keras_2_counted_them(source, steps):
    with pytest.warns(UserWarning) as record:
        got = Model().fit_generator(source, samples_per_epoch=640)
    assert got["steps_per_epoch"] == steps
    assert str(record[0].message) == (
        "Update your `fit_generator` call to the Keras 2 API: "
        f"`fit_generator({str(source)[:10]}..., steps_per_epoch={steps})`"
    )
    assert str(record[1].message) == legacy.SEMANTICS_WARNING


def test_evaluate_generator_takes_val_samples_and_the_worker_names():
    with pytest.warns(UserWarning) as record:
        assert Model().evaluate_generator(generator(), val_samples=7, max_q_size=2) == (7, 2)
    assert [str(w.message) for w in record] == [
        "Update your `evaluate_generator` call to the Keras 2 API: "
        "`evaluate_generator(<generator..., steps=7, max_queue_size=2)`",
        legacy.SEMANTICS_WARNING,
    ]


def test_keras_2_calls_give_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Model().fit_generator(generator(), 10, 3)["epochs"] == 3
        assert Model().fit(epochs=2) == {"epochs": 2}


UNKNOWN = {
    "typo": ({"epoch": 3}, "fit_generator: unknown argument 'epoch' (did you mean 'epochs'?). "),
    "keras-3": (
        {"max_queue": 3},
        "fit_generator: unknown argument 'max_queue' (did you mean 'max_queue_size'?). ",
    ),
    "far": ({"zzz": 1}, "fit_generator: unknown argument 'zzz'. "),
}


@pytest.mark.parametrize(("kwargs", "message"), UNKNOWN.values(), ids=UNKNOWN)
def test_an_unknown_keyword_is_refused_naming_the_nearest_argument(kwargs, message):
    takes = (
        "fit_generator takes: generator, steps_per_epoch, epochs, validation_steps, "
        "max_queue_size, workers, use_multiprocessing."
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message + takes)}$"):
        Model().fit_generator(generator(), **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "old", "new"),
    [
        ((), {"nb_epoch": 2, "epochs": 3}, "nb_epoch", "epochs"),
        ((10,), {"samples_per_epoch": 2}, "samples_per_epoch", "steps_per_epoch"),
        ((10, 2), {"nb_epoch": 2}, "nb_epoch", "epochs"),
    ],
    ids=["both-keywords", "samples-and-positional-steps", "nb-epoch-and-positional-epochs"],
)
def test_an_argument_under_both_names_is_refused(args, kwargs, old, new):
    message = (
        f"For the `{new}` argument, the layer received both the legacy keyword argument `{old}` "
        f"and the Keras 2 keyword argument `{new}`. Stick to the latter!"
    )
    with pytest.raises(legacy.LegacyArgumentError, match=f"^{re.escape(message)}$") as caught:
        Model().fit_generator(generator(), *args, **kwargs)
    assert isinstance(caught.value, TypeError)  # what Keras raised


LAYERS = {
    "conv2d-positional": (
        "Conv2D",
        (32, 3, 3),
        {"border_mode": "same", "activation": "relu", "input_shape": (28, 28, 1)},
        {"filters": 32, "kernel_size": (3, 3), "padding": "same", "activation": "relu"},
        '`Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1..., padding="same")`',
    ),
    "conv2d-nb-col": (
        "Conv2D",
        (64, 5),
        {"nb_col": 3, "subsample": (2, 2), "dim_ordering": "tf", "init": "he_normal"},
        {"kernel_size": (5, 3), "strides": (2, 2), "data_format": "channels_last"},
        '`Conv2D(64, (5, 3), strides=(2, 2), data_format="channels_last", '
        'kernel_initializer="he_normal")`',
    ),
    "conv2d-keywords": (
        "Conv2D",
        (),
        {"nb_filter": 8, "nb_row": 2, "nb_col": 2, "bias": False, "W_regularizer": None},
        {"filters": 8, "kernel_size": (2, 2), "use_bias": False, "kernel_regularizer": None},
        "`Conv2D(kernel_size=(2, 2), filters=8, kernel_regularizer=None, use_bias=False)`",
    ),
    "dense": (
        "Dense",
        (),
        {"output_dim": 10, "init": "uniform", "W_constraint": None, "b_regularizer": None},
        {"units": 10, "kernel_initializer": "uniform", "bias_regularizer": None},
        '`Dense(units=10, kernel_initializer="uniform", bias_regularizer=None, '
        "kernel_constraint=None)`",
    ),
    "dropout": ("Dropout", (), {"p": 0.25}, {"rate": 0.25}, "`Dropout(rate=0.25)`"),
    "max-pooling": (
        "MaxPooling2D",
        ((2, 2),),
        {"border_mode": "valid", "dim_ordering": "th"},
        {"pool_size": (2, 2), "padding": "valid", "data_format": "channels_first"},
        '`MaxPooling2D((2, 2), padding="valid", data_format="channels_first")`',
    ),
    "average-pooling-default-ordering": (
        "AveragePooling2D",
        (),
        {"dim_ordering": "default"},
        {"data_format": None},
        "`AveragePooling2D(data_format=None)`",
    ),
    "batch-normalization": (
        "BatchNormalization",
        (),
        {"mode": 0, "beta_init": "zero", "gamma_init": "one"},
        {"beta_initializer": "zero", "gamma_initializer": "one"},
        '`BatchNormalization(beta_initializer="zero", gamma_initializer="one")`',
    ),
    "embedding": (
        "Embedding",
        (1000, 64),
        {"init": "uniform", "W_regularizer": None},
        {"input_dim": 1000, "output_dim": 64, "embeddings_initializer": "uniform"},
        '`Embedding(1000, 64, embeddings_initializer="uniform", embeddings_regularizer=None)`',
    ),
}


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "expected", "call"), LAYERS.values(), ids=LAYERS
)
def test_a_layer_takes_keras_1_arguments_with_keras_2s_warning(name, args, kwargs, expected, call):
    cls = stand_in(name, *keras1.LAYER_RENAMES[name].positional)
    with pytest.warns(UserWarning) as record:
        layer = cls(*args, **kwargs)
    assert only_warning(record) == f"Update your `{name}` call to the Keras 2 API: {call}"
    assert expected.items() <= layer.kwargs.items()
    assert not set(keras1.LAYER_RENAMES[name].renames) & set(layer.kwargs)  # no Keras 1 name left


def test_keras_2_layer_calls_give_no_warning_and_pass_through():
    cls = stand_in("Conv2D", "filters", "kernel_size")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = cls(32, (3, 3), strides=2, padding="same")
    assert layer.kwargs == {"filters": 32, "kernel_size": (3, 3), "strides": 2, "padding": "same"}


def test_embedding_drops_dropout_with_keras_2s_warning():
    cls = stand_in("Embedding", "input_dim", "output_dim")
    with pytest.warns(UserWarning) as record:
        layer = cls(100, 8, dropout=0.2)
    assert only_warning(record) == (
        "The `dropout` argument is no longer support in `Embedding`. You can apply a "
        "`keras.layers.SpatialDropout1D` layer right after the `Embedding` layer to get the "
        "same behavior."
    )
    assert layer.kwargs == {"input_dim": 100, "output_dim": 8}


REFUSED = {
    "batchnorm-mode-2": (
        "BatchNormalization",
        (),
        {"mode": 2},
        "The `mode` argument of `BatchNormalization` no longer exists. `mode=1` and `mode=2` "
        "are no longer supported.",
    ),
    "batchnorm-positional": (
        "BatchNormalization",
        (-1,),
        {},
        "The `BatchNormalization` layer does not accept positional arguments. "
        "Use keyword arguments instead.",
    ),
    "dense-activation-by-position": (
        "Dense",
        (10, "relu"),
        {},
        "`Dense` can accept only 1 positional arguments ('units',), but you passed the "
        "following positional arguments: [10, 'relu']",
    ),
    "conv2d-four-positional": (
        "Conv2D",
        (32, 3, 3, "same"),
        {},
        "Conv2D: layer can receive at most 3 positional arguments, got 4: [32, 3, 3, 'same']. "
        "Write the kernel size as one tuple: Conv2D(32, (3, 3)).",
    ),
    "dropout-both-names": (
        "Dropout",
        (0.5,),
        {"p": 0.5},
        "For the `rate` argument, the layer received both the legacy keyword argument `p` and "
        "the Keras 2 keyword argument `rate`. Stick to the latter!",
    ),
}


@pytest.mark.parametrize(("name", "args", "kwargs", "message"), REFUSED.values(), ids=REFUSED)
def test_keras_1_forms_that_keras_2_refused_are_refused(name, args, kwargs, message):
    cls = stand_in(name, *keras1.LAYER_RENAMES[name].positional)
    with pytest.raises(legacy.LegacyArgumentError, match=f"^{re.escape(message)}$") as caught:
        cls(*args, **kwargs)
    assert isinstance(caught.value, TypeError)


def test_integer_kernel_and_strides_by_position_with_keras_2_keywords_are_refused():
    cls = stand_in("Conv2D", "filters", "kernel_size")
    message = (
        "It seems that you are using the Keras 2 and you are passing both `kernel_size` and "
        "`strides` as integer positional arguments. For safety reasons, this is disallowed. "
        "Pass `strides` as a keyword argument instead."
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        cls(32, 3, 2, padding="same")


def test_only_a_class_that_declares_the_keras_name_is_converted():
    base = stand_in("Dense", "units")

    class Mine(base):  # inherits class_name: its own __init__ stays as written
        def __init__(self, size: int, **kwargs: Any) -> None:
            super().__init__(size, **kwargs)

    keras1.layer_init(Mine)
    keras1.layer_init(base)  # twice: wrapped once
    with pytest.warns(UserWarning, match=re.escape("`Dense(10, use_bias=False)`")) as record:
        assert Mine(10, bias=False).kwargs == {"units": 10, "use_bias": False}
    assert len(record) == 1


def test_the_keras_1_class_aliases_name_keras_2_classes():
    assert keras1.CLASS_ALIASES["convolutional"] == {"Convolution2D": "Conv2D"}
    pooling = keras1.CLASS_ALIASES["pooling"]
    assert pooling["MaxPool2D"] == "MaxPooling2D" and pooling["AvgPool2D"] == "AveragePooling2D"
    targets = {t for aliases in keras1.CLASS_ALIASES.values() for t in aliases.values()}
    assert targets <= set(keras1.LAYER_RENAMES)


def test_get_test_data_draws_keras_2s_classification_data():
    from hookfit.utils.test_utils import get_test_data

    np.random.seed(1337)
    (x_train, y_train), (x_test, y_test) = get_test_data(
        num_train=300, num_test=100, input_shape=(4, 3), num_classes=3
    )
    assert x_train.shape == (300, 4, 3) and x_test.shape == (100, 4, 3)
    assert y_train.shape == (300,) and y_test.shape == (100,)
    assert x_train.dtype == np.float32 and set(np.unique(y_train)) == {0, 1, 2}
    # each sample is normal around its class, with scale 0.7
    x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    for label in range(3):
        assert abs(x[y == label].mean() - label) < 0.1
    np.random.seed(1337)
    (again, _), _ = get_test_data(num_train=300, num_test=100, input_shape=(4, 3), num_classes=3)
    assert np.array_equal(again, x_train)


def test_get_test_data_draws_regression_targets_of_output_shape():
    from hookfit.utils.test_utils import get_test_data

    (x_train, y_train), (_, y_test) = get_test_data(
        num_train=50, num_test=10, input_shape=(6,), output_shape=(2, 2), classification=False
    )
    assert x_train.shape == (50, 6) and y_train.shape == (50, 2, 2) and y_test.shape == (10, 2, 2)
    assert y_train.dtype == np.float32
    # x and y of a sample share their centre, drawn in [0, 1)
    assert np.corrcoef(x_train.mean(axis=1), y_train.mean(axis=(1, 2)))[0, 1] > 0.3


def test_keras_test_clears_the_session_after_a_passing_test(monkeypatch):
    from hookfit import backend
    from hookfit.utils.test_utils import keras_test

    calls: list[str] = []
    monkeypatch.setattr(backend, "clear_session", lambda: calls.append("clear"))

    @keras_test
    def test_something(value):
        calls.append(f"test {value}")
        return value

    assert test_something.__name__ == "test_something"  # pytest still collects it
    assert test_something(3) == 3
    assert calls == ["test 3", "clear"]

    @keras_test
    def test_failing():
        raise AssertionError("failed")

    with pytest.raises(AssertionError, match=r"^failed$"):
        test_failing()
    assert calls == ["test 3", "clear"]  # as in Keras: no clearing after a failure
