"""The functional API end to end, through the public names a Keras 2 user
imports: ``Input``, ``Model(inputs, outputs)`` with several inputs and
outputs, merge layers, per-output losses and metrics under Keras 2.2.4's log
names, sample and class weights, weight penalties, stateful metrics, the
monitoring plugins on those names, files and ``summary()``, and refusals."""

import json
import warnings

import numpy as np
import pytest

from hookfit import Callback, ConfigError, HookfitWarning
from hookfit import backend as K
from hookfit.callbacks import EarlyStopping, ModelCheckpoint
from hookfit.layers import (
    Add,
    Concatenate,
    Dense,
    Dot,
    Input,
    Lambda,
    Multiply,
    concatenate,
)
from hookfit.models import Model, Sequential, load_model, model_from_json
from hookfit.optimizers import SGD
from hookfit.regularizers import l2
from hookfit.testing import Recorder
from hookfit.utils import set_random_seed

EPSILON = 1e-7  # Keras 2's K.epsilon(), the clip of categorical_crossentropy
KEYS = ["loss", "main_loss", "aux_loss", "main_acc", "aux_acc"]


# -- models and data ----------------------------------------------------------


def two_in_two_out(seed=0, optimizer="adam", loss_weights=None, metrics=("accuracy",)):
    """Inputs ``left`` (4) and ``right`` (3); outputs ``main`` (3 classes,
    from both inputs) and ``aux`` (2 classes, from ``right`` only)."""
    set_random_seed(seed)
    left = Input(shape=(4,), name="left")
    right = Input(shape=(3,), name="right")
    hidden = Dense(8, activation="tanh")(concatenate([left, right]))
    main = Dense(3, activation="softmax", name="main")(hidden)
    aux = Dense(2, activation="softmax", name="aux")(Dense(5, activation="relu")(right))
    model = Model(inputs=[left, right], outputs=[main, aux])
    model.compile(
        optimizer,
        loss="categorical_crossentropy",
        loss_weights=loss_weights,
        metrics=list(metrics),
    )
    return model


def two_data(n=60, seed=1):
    """Learnable data for `two_in_two_out`: ``([left, right], [main, aux])``."""
    rng = np.random.default_rng(seed)
    xl = rng.normal(size=(n, 4)).astype(np.float32)
    xr = rng.normal(size=(n, 3)).astype(np.float32)
    main = (xl[:, 0] > 0).astype(int) + (xr[:, 0] > 0.5).astype(int)
    aux = (xr[:, 1] > 0).astype(int)
    return [xl, xr], [np.eye(3, dtype=np.float32)[main], np.eye(2, dtype=np.float32)[aux]]


def one_out(seed=0, metrics=("accuracy",), optimizer="sgd", regularizer=None):
    """A single-input single-output functional model: 5 features, 3 classes."""
    set_random_seed(seed)
    inp = Input(shape=(5,), name="features")
    hidden = Dense(6, activation="tanh", name="hidden")(inp)
    out = Dense(3, activation="softmax", name="probs", kernel_regularizer=regularizer)(hidden)
    model = Model(inp, out)
    model.compile(optimizer, "categorical_crossentropy", metrics=list(metrics))
    return model


def one_data(n=30, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.3).astype(int)
    return x, np.eye(3, dtype=np.float32)[labels]


def layer(model, name):
    """The model's layer called ``name`` (found here, so that tests of other
    behaviour do not depend on `Model.get_layer`)."""
    return next(ly for ly in model.layers if ly.name == name)


def crossentropy(y, p):
    """Keras 2's per-sample categorical crossentropy, in float64."""
    p = np.asarray(p, np.float64)
    p = p / p.sum(axis=-1, keepdims=True)
    return -np.sum(y * np.log(np.clip(p, EPSILON, 1 - EPSILON)), axis=-1)


def keras2_weighted(values, w):
    """Keras 2.2.4's weighted loss: ``mean(l * w) / mean(w != 0)``."""
    w = np.asarray(w, np.float64)
    return float(np.sum(values * w) / len(w) / np.mean(w != 0))


class Seen(Callback):
    """Keeps ``validation_data`` and every epoch's logs."""

    def __init__(self):
        super().__init__()
        self.validation = None
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.validation = self.validation_data
        self.epochs.append(dict(logs or {}))


# -- a two-input two-output model ---------------------------------------------


def test_a_two_input_two_output_model_trains_and_logs_keras2_keys():
    model = two_in_two_out()
    x, y = two_data()
    val = two_data(n=20, seed=3)
    recorder, seen = Recorder(), Seen()
    history = model.fit(
        x, y, epochs=6, batch_size=10, verbose=0, validation_data=val, callbacks=[seen, recorder]
    )
    assert model.metrics_names == KEYS
    expected = set(KEYS) | {f"val_{k}" for k in KEYS}
    assert set(history.history) == expected
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
    epoch_logs = [args[1] for hook, args in recorder.calls if hook == "on_epoch_end"]
    assert len(epoch_logs) == 6
    assert all(set(logs) == expected for logs in epoch_logs)
    assert all(set(logs) == expected for logs in seen.epochs)
    batch_logs = [args[1] for hook, args in recorder.calls if hook.endswith("batch_end")]
    assert batch_logs and all(set(KEYS) <= set(logs) for logs in batch_logs)
    assert not any(k.startswith("val_") for logs in batch_logs for k in logs)


def test_evaluate_returns_every_score_in_metrics_names_order():
    model = two_in_two_out()
    x, y = two_data()
    scores = model.evaluate(x, y, batch_size=len(y[0]), verbose=0)
    assert isinstance(scores, list) and len(scores) == len(KEYS)
    main, aux = model.predict(x)
    expected = [
        np.mean(crossentropy(y[0], main)) + np.mean(crossentropy(y[1], aux)),
        np.mean(crossentropy(y[0], main)),
        np.mean(crossentropy(y[1], aux)),
        np.mean(main.argmax(-1) == y[0].argmax(-1)),
        np.mean(aux.argmax(-1) == y[1].argmax(-1)),
    ]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_predict_returns_one_array_per_output():
    model = two_in_two_out()
    x, _ = two_data(n=13)
    out = model.predict(x, batch_size=5)
    assert isinstance(out, list) and len(out) == 2
    assert out[0].shape == (13, 3) and out[1].shape == (13, 2)
    np.testing.assert_allclose(out[0].sum(axis=1), 1, rtol=1e-5)
    single = model.predict_on_batch([x[0][:1], x[1][:1]])
    np.testing.assert_allclose(single[0], out[0][:1], rtol=1e-6)


def test_x_and_y_given_as_dicts_by_layer_name_work_as_lists():
    x, y = two_data()
    by_list, by_dict = two_in_two_out(), two_in_two_out()
    by_list.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0)
    by_dict.fit(
        {"right": x[1], "left": x[0]},
        {"aux": y[1], "main": y[0]},
        epochs=2,
        batch_size=10,
        shuffle=False,
        verbose=0,
    )
    for a, b in zip(by_list.get_weights(), by_dict.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    scores = by_dict.evaluate({"left": x[0], "right": x[1]}, {"main": y[0], "aux": y[1]}, verbose=0)
    np.testing.assert_allclose(scores, by_list.evaluate(x, y, verbose=0), rtol=1e-6)
    predicted = by_dict.predict({"left": x[0], "right": x[1]})
    np.testing.assert_allclose(predicted[1], by_list.predict(x)[1], rtol=1e-6)


@pytest.mark.parametrize(
    "loss_weights",
    [[0.7, 0.2], {"main": 0.7, "aux": 0.2}, {"main": 0.7}],
    ids=["list", "dict", "dict-leaving-one-out"],
)
def test_the_total_loss_is_the_loss_weights_sum_of_the_output_losses(loss_weights):
    model = two_in_two_out(loss_weights=loss_weights, optimizer="sgd")
    x, y = two_data(n=16)
    aux_weight = 0.2 if len(loss_weights) == 2 else 1.0
    for scores in (model.test_on_batch(x, y), model.train_on_batch(x, y)):
        loss, main_loss, aux_loss = scores[:3]
        assert loss == pytest.approx(0.7 * main_loss + aux_weight * aux_loss, rel=1e-6)
    main, aux = model.predict(x)
    loss, main_loss, aux_loss = model.test_on_batch(x, y)[:3]
    assert main_loss == pytest.approx(np.mean(crossentropy(y[0], main)), rel=1e-5)
    assert aux_loss == pytest.approx(np.mean(crossentropy(y[1], aux)), rel=1e-5)


# -- gradients through the graph ----------------------------------------------


def merge_graph(dtype):
    """A graph with a fan-out (``h`` feeds two layers), Add, Multiply,
    Concatenate and Dot, and two outputs."""
    set_random_seed(4)
    a = Input(shape=(3,), name="a", dtype=dtype)
    b = Input(shape=(2,), name="b", dtype=dtype)
    h = Dense(4, activation="tanh", dtype=dtype)(a)
    p = Dense(4, activation="tanh", dtype=dtype)(h)
    q = Dense(4, activation="sigmoid", dtype=dtype)(h)
    s = Add(dtype=dtype)([p, q])
    m = Multiply(dtype=dtype)([p, Dense(4, dtype=dtype)(b)])
    c = Concatenate(dtype=dtype)([s, m, b])
    d = Dot(axes=1, dtype=dtype)([s, m])
    classes = Dense(3, activation="softmax", name="classes", dtype=dtype)(c)
    value = Dense(1, name="value", dtype=dtype)(concatenate([d, h], dtype=dtype))
    model = Model([a, b], [classes, value])
    model.compile(SGD(lr=0.1), loss=["categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5])
    return model


@pytest.mark.parametrize(
    ("dtype", "step", "tolerance"),
    [("float64", 1e-6, 1e-6), ("float32", 1e-2, 2e-2)],
    ids=["float64", "float32"],
)
def test_the_graph_gradient_matches_finite_differences(dtype, step, tolerance):
    model = merge_graph(dtype)
    rng = np.random.default_rng(5)
    x = [rng.normal(size=(6, 3)).astype(dtype), rng.normal(size=(6, 2)).astype(dtype)]
    y = [np.eye(3, dtype=dtype)[rng.integers(0, 3, 6)], rng.normal(size=(6, 1)).astype(dtype)]
    model.compute_gradients(x, y)
    checked = 0
    for layer in model.layers:
        for weight, grad in zip(layer.weights, layer.grads, strict=False):
            analytic = np.array(grad, dtype=np.float64)
            numeric = np.zeros_like(analytic)
            for index in np.ndindex(weight.shape):
                original = weight[index].copy()
                weight[index] = original + step
                up = model.test_on_batch(x, y)[0]
                weight[index] = original - step
                down = model.test_on_batch(x, y)[0]
                weight[index] = original
                numeric[index] = (up - down) / (2 * step)
            np.testing.assert_allclose(
                analytic, numeric, atol=tolerance, rtol=tolerance, err_msg=layer.name
            )
            checked += 1
    assert checked == 2 * 6  # kernel and bias of each of the 6 Dense layers


# -- sample and class weights -------------------------------------------------


def test_test_on_batch_with_sample_weights_follows_keras2s_rule():
    model = one_out()
    x, y = one_data(n=12)
    w = np.array([0, 1, 2, 0.5, 0, 3, 1, 1, 0, 2, 0.25, 1], np.float32)
    per_sample = crossentropy(y, model.predict(x))
    loss = model.test_on_batch(x, y, sample_weight=w)[0]
    assert loss == pytest.approx(keras2_weighted(per_sample, w), rel=1e-5)
    assert model.evaluate(x, y, sample_weight=w, batch_size=12, verbose=0)[0] == pytest.approx(
        loss, rel=1e-6
    )


def test_class_weight_weighs_each_sample_by_its_class():
    model = one_out()
    x, y = one_data(n=12)
    class_weight = {0: 0.5, 1: 2.0, 2: 0.0}
    w = np.array([class_weight[c] for c in y.argmax(axis=1)])
    assert 0 < np.count_nonzero(w) < len(w)
    per_sample = crossentropy(y, model.predict(x))
    # train_on_batch reports the loss of the weights before its update
    loss = model.train_on_batch(x, y, class_weight=class_weight)[0]
    assert loss == pytest.approx(keras2_weighted(per_sample, w), rel=1e-5)


def test_class_weight_of_a_two_output_model_goes_per_output():
    model = two_in_two_out(optimizer="sgd")
    x, y = two_data(n=12)
    main, aux = model.predict(x)
    class_weight = {"main": {0: 1.0, 1: 3.0, 2: 0.5}, "aux": {0: 0.0, 1: 1.0}}
    w_main = np.array([class_weight["main"][c] for c in y[0].argmax(1)])
    w_aux = np.array([class_weight["aux"][c] for c in y[1].argmax(1)])
    scores = model.train_on_batch(x, y, class_weight=class_weight)
    assert scores[1] == pytest.approx(keras2_weighted(crossentropy(y[0], main), w_main), rel=1e-5)
    assert scores[2] == pytest.approx(keras2_weighted(crossentropy(y[1], aux), w_aux), rel=1e-5)


@pytest.mark.parametrize("weighting", ["sample_weight", "class_weight"], ids=str)
def test_weights_change_what_fit_learns(weighting):
    x, y = one_data()
    given = {
        "sample_weight": {"sample_weight": np.linspace(0.1, 3, len(x)).astype(np.float32)},
        "class_weight": {"class_weight": {0: 1.0, 1: 5.0, 2: 0.2}},
    }[weighting]
    plain, weighted = one_out(), one_out()
    plain.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0)
    weighted.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0, **given)
    assert any(
        not np.allclose(a, b)
        for a, b in zip(plain.get_weights(), weighted.get_weights(), strict=True)
    )


def test_weights_of_one_train_like_no_weights():
    x, y = one_data()
    plain, ones = one_out(), one_out()
    plain.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0)
    ones.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0, sample_weight=np.ones(len(x)))
    for a, b in zip(plain.get_weights(), ones.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_sample_of_weight_zero_does_not_count():
    x, y = one_data(n=10)
    keep = np.array([True] * 7 + [False] * 3)
    wrong = y.copy()
    wrong[~keep] = np.roll(y[~keep], 1, axis=1)  # targets that would pull the other way
    w = keep.astype(np.float32)
    all_rows, kept_rows = one_out(), one_out()
    assert all_rows.test_on_batch(x, wrong, sample_weight=w)[0] == pytest.approx(
        kept_rows.test_on_batch(x[keep], y[keep])[0], rel=1e-6
    )
    all_rows.train_on_batch(x, wrong, sample_weight=w)
    kept_rows.train_on_batch(x[keep], y[keep])
    for a, b in zip(all_rows.get_weights(), kept_rows.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_a_validation_triple_reaches_callbacks_as_keras2s_list():
    model = one_out()
    x, y = one_data()
    xv, yv = one_data(n=8, seed=9)
    wv = np.array([1, 2, 0, 1, 1, 3, 1, 0.5], np.float32)
    seen = Seen()
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(xv, yv, wv), callbacks=[seen])
    assert isinstance(seen.validation, list) and len(seen.validation) == 3
    np.testing.assert_array_equal(seen.validation[0], xv)
    np.testing.assert_array_equal(seen.validation[1], yv)
    np.testing.assert_array_equal(seen.validation[2], wv)
    val_loss = keras2_weighted(crossentropy(yv, model.predict(xv)), wv)
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-5)


def test_a_validation_pair_reaches_callbacks_with_weights_of_one():
    model = one_out()
    x, y = one_data()
    xv, yv = one_data(n=8, seed=9)
    seen = Seen()
    model.fit(x, y, epochs=1, verbose=0, validation_data=(xv, yv), callbacks=[seen])
    assert len(seen.validation) == 3
    np.testing.assert_array_equal(seen.validation[0], xv)
    np.testing.assert_array_equal(seen.validation[1], yv)
    np.testing.assert_array_equal(seen.validation[2], np.ones(8))


def test_validation_data_of_two_inputs_and_outputs_is_keras2s_flat_list():
    # Keras 2.2.4: ``val_ins = val_x + val_y + val_sample_weights``, lists joined
    model = two_in_two_out()
    x, y = two_data(n=20)
    xv, yv = two_data(n=6, seed=3)
    wv = [np.arange(6, dtype=np.float32), np.full(6, 2, np.float32)]
    seen = Seen()
    model.fit(x, y, epochs=1, verbose=0, validation_data=(xv, yv, wv), callbacks=[seen])
    assert len(seen.validation) == 6
    for got, want in zip(seen.validation, [*xv, *yv, *wv], strict=True):
        np.testing.assert_array_equal(got, want)


# -- weight penalties ---------------------------------------------------------


def test_a_regularized_dense_adds_its_penalty_to_the_logged_loss():
    model = one_out(regularizer=l2(0.01), optimizer=SGD(lr=0.0))
    x, y = one_data()
    kernel = layer(model, "probs").get_weights()[0].astype(np.float64)
    data_loss = np.mean(crossentropy(y, model.predict(x)))
    expected = data_loss + 0.01 * np.sum(kernel**2)
    assert expected - data_loss > 1e-3  # the penalty shows at this tolerance
    assert model.test_on_batch(x, y)[0] == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(expected, rel=1e-5)
    history = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_the_gradient_includes_the_penalty():
    x, y = one_data()
    penalised, plain = one_out(regularizer=l2(0.01)), one_out()
    plain.set_weights(penalised.get_weights())
    penalised.compute_gradients(x, y)
    plain.compute_gradients(x, y)
    kernel = layer(penalised, "probs").weights[0]
    with_penalty = layer(penalised, "probs").grads
    without = layer(plain, "probs").grads
    np.testing.assert_allclose(with_penalty[0] - without[0], 2 * 0.01 * kernel, atol=1e-6)
    np.testing.assert_allclose(with_penalty[1], without[1], atol=1e-7)  # no bias penalty
    np.testing.assert_allclose(
        layer(penalised, "hidden").grads[0], layer(plain, "hidden").grads[0], atol=1e-7
    )


# -- metrics and the plugins that watch them ----------------------------------


def pred_mean(y_true, y_pred):
    """A plain metric function on numpy arrays."""
    return np.mean(y_pred, axis=-1)


class SamplesSeen:
    """A stateful metric (Keras 2.2.4's protocol): the samples seen since
    the last reset."""

    stateful = True
    name = "samples_seen"

    def __init__(self):
        self.count = 0

    def reset_states(self):
        self.count = 0

    def __call__(self, y_true, y_pred):
        self.count += len(y_true)
        return self.count


METRICS = ["categorical_accuracy", "top_k_categorical_accuracy", "mse", pred_mean]
NAMES = [
    "categorical_accuracy",
    "top_k_categorical_accuracy",
    "mean_squared_error",
    "pred_mean",
    "samples_seen",
]


def test_metrics_log_under_keras2s_names_and_as_val_keys():
    model = one_out(metrics=[*METRICS, SamplesSeen()])
    x, y = one_data(n=30)
    xv, yv = one_data(n=12, seed=7)
    assert model.metrics_names == ["loss", *NAMES]
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_data=(xv, yv))
    assert set(history.history) == {"loss", *NAMES} | {f"val_{k}" for k in ["loss", *NAMES]}
    # the stateful metric is reset at each epoch's start and before each test
    assert history.history["samples_seen"] == [30, 30, 30]
    assert history.history["val_samples_seen"] == [12, 12, 12]
    scores = dict(
        zip(model.metrics_names, model.evaluate(xv, yv, batch_size=5, verbose=0), strict=True)
    )
    assert scores["samples_seen"] == 12
    p = model.predict(xv)
    assert scores["categorical_accuracy"] == pytest.approx(np.mean(p.argmax(1) == yv.argmax(1)))
    assert scores["top_k_categorical_accuracy"] == 1.0  # k=5 > 3 classes
    assert scores["mean_squared_error"] == pytest.approx(np.mean((p - yv) ** 2), rel=1e-5)
    assert scores["pred_mean"] == pytest.approx(1 / 3, rel=1e-5)


def test_the_metrics_of_two_outputs_take_the_output_names():
    model = two_in_two_out(metrics=["categorical_accuracy", pred_mean])
    assert model.metrics_names == [
        "loss",
        "main_loss",
        "aux_loss",
        "main_categorical_accuracy",
        "main_pred_mean",
        "aux_categorical_accuracy",
        "aux_pred_mean",
    ]


@pytest.mark.parametrize(
    ("monitor", "mode"),
    [
        ("val_categorical_accuracy", "max"),
        ("val_pred_mean", "min"),
        ("val_mean_squared_error", "min"),
    ],
    ids=["accuracy", "function", "mse"],
)
def test_early_stopping_watches_a_keras2_metric_name(monitor, mode):
    model = one_out(metrics=METRICS, optimizer=SGD(lr=0.0))  # nothing improves
    x, y = one_data()
    stopper = EarlyStopping(monitor=monitor, patience=1)
    assert stopper.monitoring.mode == mode
    with warnings.catch_warnings():
        warnings.simplefilter("error", HookfitWarning)  # a missing key warns
        history = model.fit(
            x, y, epochs=10, verbose=0, validation_data=one_data(n=8, seed=7), callbacks=[stopper]
        )
    assert len(history.history[monitor]) == 2
    assert stopper.stopped_epoch == 1


def test_model_checkpoint_names_files_by_metrics_and_keeps_the_best(tmp_path):
    model = one_out(metrics=METRICS, optimizer="adam")
    x, y = one_data(n=40)
    pattern = str(tmp_path / "{epoch:02d}-{val_categorical_accuracy:.2f}-{val_pred_mean:.3f}.h5")
    checkpoint = ModelCheckpoint(pattern, monitor="val_categorical_accuracy", save_best_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HookfitWarning)
        history = model.fit(
            x,
            y,
            epochs=4,
            verbose=0,
            validation_data=one_data(n=10, seed=7),
            callbacks=[checkpoint],
        )
    accuracy = history.history["val_categorical_accuracy"]
    best = [e for e in range(4) if accuracy[e] > max(accuracy[:e], default=-1)]
    names = sorted(p.name for p in tmp_path.glob("*.h5"))
    expected = [
        f"{e + 1:02d}-{accuracy[e]:.2f}-{history.history['val_pred_mean'][e]:.3f}.h5" for e in best
    ]
    assert names == expected


# -- files, summary, shapes ---------------------------------------------------


def test_to_json_and_model_from_json_rebuild_the_functional_model():
    model = two_in_two_out()
    x, _ = two_data(n=9)
    text = model.to_json()
    config = json.loads(text)
    assert config["class_name"] == "Model"
    assert config["config"]["input_layers"] == [["left", 0, 0], ["right", 0, 0]]
    assert config["config"]["output_layers"] == [["main", 0, 0], ["aux", 0, 0]]
    by_name = {layer["name"]: layer for layer in config["config"]["layers"]}
    assert by_name["main"]["class_name"] == "Dense"
    assert by_name["left"]["class_name"] == "InputLayer"
    assert by_name["left"]["inbound_nodes"] == []
    concat = next(v for v in by_name.values() if v["class_name"] == "Concatenate")
    assert [edge[:3] for edge in concat["inbound_nodes"][0]] == [["left", 0, 0], ["right", 0, 0]]
    rebuilt = model_from_json(text)
    assert rebuilt.input_names == ["left", "right"]
    assert rebuilt.output_names == ["main", "aux"]
    rebuilt.set_weights(model.get_weights())
    for a, b in zip(model.predict(x), rebuilt.predict(x), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_save_and_load_model_keep_the_functional_model(tmp_path):
    model = two_in_two_out()
    x, y = two_data(n=20)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "model.h5")
    loaded = load_model(tmp_path / "model.h5")
    assert loaded.metrics_names == KEYS
    for a, b in zip(model.predict(x), loaded.predict(x), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5
    )


def keras2_row(fields, positions):
    """One row of Keras 2.2.4's ``print_summary`` (``print_row``)."""
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += str(field)
        line = line[: positions[i]]
        line += " " * (positions[i] - len(line))
    return line.rstrip()


def test_summary_prints_keras2s_table_with_connected_to():
    K.clear_session()
    model = two_in_two_out()
    lines = []
    model.summary(print_fn=lines.append)
    positions = [32, 53, 65, 98]  # Keras 2.2.4: [.33, .55, .67, 1.] of 98 for a graph
    lines = [line.rstrip() for line in lines]
    assert (
        keras2_row(["Layer (type)", "Output Shape", "Param #", "Connected to"], positions) in lines
    )
    rows = [
        ["left (InputLayer)", "(None, 4)", 0, ""],
        ["right (InputLayer)", "(None, 3)", 0, ""],
        ["concatenate_1 (Concatenate)", "(None, 7)", 0, "left[0][0]"],
        ["", "", "", "right[0][0]"],  # Keras 2 gives each further connection a row
        ["main (Dense)", "(None, 3)", 27, "dense_1[0][0]"],
        ["aux (Dense)", "(None, 2)", 12, "dense_2[0][0]"],
    ]
    for row in rows:
        assert keras2_row(row, positions) in lines, row
    at = lines.index(keras2_row(rows[2], positions))
    assert lines[at + 1] == keras2_row(rows[3], positions)
    assert "Total params: 123" in lines
    assert "Trainable params: 123" in lines
    assert "Non-trainable params: 0" in lines
    assert "_" * 98 in lines and "=" * 98 in lines


def test_a_sequential_summary_keeps_keras2s_three_columns():
    from hookfit.models import Sequential

    model = Sequential([Dense(4, input_dim=3, name="hidden"), Dense(2, name="out")])
    lines = []
    model.summary(print_fn=lines.append)
    lines = [line.rstrip() for line in lines]
    positions = [29, 55, 65]  # Keras 2.2.4: [.45, .85, 1.] of 65
    assert keras2_row(["Layer (type)", "Output Shape", "Param #"], positions) in lines
    assert keras2_row(["hidden (Dense)", "(None, 4)", 16], positions) in lines
    assert not any("Connected to" in line for line in lines)


def test_get_layer_finds_a_layer_by_name_or_index():
    model = two_in_two_out()
    assert model.get_layer("main") is layer(model, "main")
    assert model.get_layer(index=0).name == "left"
    with pytest.raises(ValueError, match="mian"):
        model.get_layer("mian")


def test_output_shape_and_count_params_of_a_functional_model():
    model = two_in_two_out()
    # concatenate -> Dense 8: 7*8+8; main: 8*3+3; Dense 5: 3*5+5; aux: 5*2+2
    assert model.count_params() == 64 + 27 + 20 + 12 == 123
    assert model.output_shape == [(None, 3), (None, 2)]
    assert model.input_shape == [(None, 4), (None, 3)]
    assert layer(model, "main").output_shape == (None, 3)
    assert one_out().output_shape == (None, 3)


def test_clear_session_makes_the_next_dense_dense_1():
    Dense(2)
    Dense(2)
    K.clear_session()
    assert Dense(2).name == "dense_1"
    assert Dense(2).name == "dense_2"
    assert Input(shape=(2,)).name.startswith("input_1")


# -- refusals -----------------------------------------------------------------


def test_a_disconnected_graph_is_refused():
    a, b = Input(shape=(2,), name="a"), Input(shape=(2,), name="b")
    out = Dense(1)(Add()([a, b]))
    with pytest.raises(ConfigError, match=r"graph disconnected: the outputs need b.*inputs \(a\)"):
        Model(a, out)


def test_a_layer_called_twice_is_refused():
    shared = Dense(2, name="shared")
    shared(Input(shape=(3,)))
    with pytest.raises(ConfigError, match=r"shared is already called.*second layer"):
        shared(Input(shape=(3,)))


@pytest.mark.parametrize(
    ("what", "call"),
    [
        ("y", lambda m, x, y: m.fit(x, y[:1], verbose=0)),
        ("x", lambda m, x, y: m.evaluate(x[:1], y, verbose=0)),
        ("x", lambda m, x, y: m.predict([*x, x[0]])),
    ],
    ids=["fit-y-short", "evaluate-x-short", "predict-x-long"],
)
def test_a_list_of_the_wrong_length_is_refused(what, call):
    model = two_in_two_out()
    x, y = two_data(n=10)
    with pytest.raises(ConfigError, match=r"the model has 2 \w+s .* pass one array per"):
        call(model, x, y)


def test_a_dict_naming_a_missing_input_is_refused():
    model = two_in_two_out()
    x, y = two_data(n=10)
    with pytest.raises(ConfigError, match=r"predict: input has no entry for 'right'.*left, right"):
        model.predict({"left": x[0], "rigth": x[1]})
    with pytest.raises(ConfigError, match=r"no entry for 'aux'"):
        model.fit(x, {"main": y[0]}, verbose=0)


@pytest.mark.parametrize(
    ("loss_weights", "message"),
    [
        ([1.0], r"loss_weights has 1 entries for 2 outputs \(main, aux\)"),
        ({"mian": 1.0}, r"loss_weights names 'mian' \(did you mean 'main'\?\)"),
        (["1", 2], r"loss_weights for main must be a number"),
    ],
    ids=["short-list", "unknown-name", "not-a-number"],
)
def test_bad_loss_weights_are_refused(loss_weights, message):
    with pytest.raises(ConfigError, match=message):
        two_in_two_out(loss_weights=loss_weights)


def test_an_unknown_metric_names_the_nearest():
    with pytest.raises(
        ConfigError, match=r"'categorical_acuracy' \(did you mean 'categorical_accuracy'\?\)"
    ):
        one_out(metrics=["categorical_acuracy"])


def test_a_model_without_inputs_is_refused():
    with pytest.raises(ConfigError, match="Model needs inputs and outputs"):
        Model()
    with pytest.raises(ConfigError, match="Model needs inputs and outputs"):
        Model(outputs=Dense(1)(Input(shape=(2,))))


def test_a_missing_layer_names_the_nearest():
    import hookfit.layers

    with pytest.raises(ConfigError, match=r"no 'Conv3D' \(did you mean 'Conv2D'\?\)"):
        hookfit.layers.Conv3D  # noqa: B018
    with pytest.raises(ImportError, match=r"did you mean 'Conv2D'"):
        from hookfit.layers import Conv3D  # noqa: F401


def test_a_lambda_that_would_need_a_gradient_is_refused():
    x, y = one_data(n=6)
    inp = Input(shape=(5,))
    hidden = Lambda(lambda t: t * 2)(Dense(4)(inp))
    model = Model(inp, Dense(3, activation="softmax")(hidden))
    with pytest.raises(ConfigError, match=r"Lambda layer passes no gradient.*before every layer"):
        model.compile("sgd", "categorical_crossentropy")
        model.train_on_batch(x, y)


def test_a_lambda_before_every_weight_trains():
    x, y = one_data(n=6)
    inp = Input(shape=(5,))
    doubled = Lambda(lambda t: t * 2, name="double")(inp)
    model = Model(inp, Dense(3, activation="softmax")(doubled))
    model.compile("sgd", "categorical_crossentropy")
    before = model.get_weights()
    model.train_on_batch(x, y)
    assert not np.allclose(before[0], model.get_weights()[0])
    assert layer(model, "double").output_shape == (None, 5)


def test_an_unknown_layer_argument_names_the_nearest():
    with pytest.raises(
        ConfigError, match=r"Dense: unknown argument 'activaton' \(did you mean 'activation'\?\)"
    ):
        Dense(3, activaton="relu")


def test_a_model_of_a_trained_models_first_layers_gives_their_outputs():
    inputs = Input((4,), name="features")
    hidden = Dense(3, activation="tanh", name="hidden")(inputs)
    model = Model(inputs, Dense(2, activation="softmax", name="out")(hidden))
    model.compile("adam", "categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 4), dtype=np.float32)
    model.fit(x, np.eye(2)[np.arange(8) % 2], epochs=2, verbose=0)
    extractor = Model(model.input, model.get_layer("hidden").output)
    kernel, bias = model.get_layer("hidden").get_weights()
    np.testing.assert_allclose(extractor.predict(x), np.tanh(x @ kernel + bias), rtol=1e-5)
    assert model.output is model.get_layer("out").output
    assert model.get_layer("hidden").input is model.input


def test_a_sequential_has_no_tensors_and_says_how_to_get_them():
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(ConfigError, match=r"^Model sequential_\d+ has no input tensor: only a"):
        getattr(model, "input")  # noqa: B009 - the property is what is tested
    with pytest.raises(ConfigError, match=r"^Layer dense_\d+ has no output tensor: only a layer"):
        getattr(model.layers[0], "output")  # noqa: B009
    assert not hasattr(model, "output")


def functional_json(edit):
    """A two-layer functional model's JSON, changed by ``edit(config)``."""
    inputs = Input((3,), name="x")
    model = Model(inputs, Dense(2, name="out")(Dense(4, name="hidden")(inputs)))
    config = json.loads(model.to_json())
    edit(config["config"])
    return json.dumps(config)


def _set(path, value):
    def edit(body):
        *keys, last = path
        target = body
        for key in keys:
            target = target[key]
        target[last] = value

    return edit


CRAFTED_FUNCTIONAL = [
    ("no-layers", _set(["layers"], None), r"^model_from_json: model_config has no list of layers"),
    (
        "layer-not-a-table",
        _set(["layers", 1], 7),
        r"model_config layer 1 is 7, not a table with class_name and config\.$",
    ),
    (
        "input-without-shape",
        _set(["layers", 0, "config", "batch_input_shape"], None),
        r"model_config layer 0 \(InputLayer\) has no batch_input_shape\.$",
    ),
    (
        "called-twice",
        _set(["layers", 1, "inbound_nodes"], [[["x", 0, 0, {}]], [["x", 0, 0, {}]]]),
        r"model_config layer 1 \(hidden\) is called 2 times; hookfit loads models whose layers "
        r"are called once\.$",
    ),
    (
        "source-later",
        _set(["layers", 1, "inbound_nodes"], [[["out", 0, 0, {}]]]),
        r"model_config layer 1 \(hidden\) takes \[\('out', 0, 0\)\], which come later or not",
    ),
    (
        "source-shape",
        _set(["layers", 1, "inbound_nodes"], [[["x", "0", 0, {}]]]),
        r"a source must be \[layer name, node, tensor\], got \['x', '0', 0, \{\}\]\.$",
    ),
    (
        "node-not-a-list",
        _set(["layers", 1, "inbound_nodes"], ["x"]),
        r"inbound_nodes entry 'x' is not a list of sources\.$",
    ),
    (
        "no-outputs",
        _set(["output_layers"], []),
        r"model_config: output_layers must list \[layer name, node, tensor\] entries\.$",
    ),
    (
        "unknown-output",
        _set(["output_layers"], [["nothing", 0, 0]]),
        r"model_config: output_layers names layers the model lacks: \[\['nothing', 0, 0\]\]\.$",
    ),
    (
        "shape-mismatch",
        _set(["layers", 2, "config", "batch_input_shape"], [None, 9]),
        r"model_config layer 2 \(out\): out was given input_shape=\(9,\) but is called on",
    ),
]


@pytest.mark.parametrize(
    ("edit", "message"), [c[1:] for c in CRAFTED_FUNCTIONAL], ids=[c[0] for c in CRAFTED_FUNCTIONAL]
)
def test_a_crafted_functional_config_is_refused_saying_what_is_wrong(edit, message):
    from hookfit import FormatError

    with pytest.raises(FormatError, match=message):
        model_from_json(functional_json(edit))


def test_keras_3s_functional_layout_loads_too():
    def keras3(body):  # one tensor per call: {"args": [tensor], "kwargs": {}}
        for spec in body["layers"][1:]:
            ((name, node, index, _),) = spec["inbound_nodes"][0]
            tensor = {
                "class_name": "__keras_tensor__",
                "config": {"keras_history": [name, node, index]},
            }
            spec["inbound_nodes"] = [{"args": [tensor], "kwargs": {}}]
        body["input_layers"], body["output_layers"] = ["x", 0, 0], ["out", 0, 0]

    model = model_from_json(functional_json(keras3))
    assert [layer.name for layer in model.layers] == ["x", "hidden", "out"]
    assert model.output_shape == (None, 2)
