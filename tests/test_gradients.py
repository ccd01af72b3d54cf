"""Finite-difference checks of every layer, activation and loss gradient.

Everything runs in float64 so that central differences are accurate to
about 1e-7; the trainer uses the same code in float32.
"""

import numpy as np
import pytest

from hookfit import activations, losses
from hookfit.layers import Activation, Dense, Dropout, Flatten

EPS = 1e-6


def numeric_grad(f, x):
    """Central differences of the scalar function f at x (x is modified)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + EPS
        up = f()
        x[i] = keep - EPS
        down = f()
        x[i] = keep
        grad[i] = (up - down) / (2 * EPS)
    return grad


def away_from_kinks(z, name):
    # relu-like functions are not differentiable at 0 (and hard_sigmoid at
    # +-2.5): keep test points away from there.
    if name in ("relu", "elu", "selu", "hard_sigmoid"):
        z[np.abs(z) < 0.05] = 0.3
    if name == "hard_sigmoid":
        z[np.abs(np.abs(z) - 2.5) < 0.05] = 1.0
    return z


@pytest.mark.parametrize("name", activations.NAMES, ids=activations.NAMES)
def test_activation_gradient(name, hookfit_rng):
    act = activations.get(name)
    z = away_from_kinks(hookfit_rng.normal(size=(4, 5)) * 2, name)
    dy = hookfit_rng.normal(size=z.shape)
    y = act.forward(z.copy())
    analytic = act.backward(dy.copy(), y)
    numeric = numeric_grad(lambda: float(np.sum(act.forward(z.copy()) * dy)), z)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "softmax", "sigmoid"], ids=str)
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no-bias"])
def test_dense_gradients(activation, use_bias, hookfit_rng):
    layer = Dense(3, activation=activation, use_bias=use_bias, dtype="float64")
    layer.build((4,), hookfit_rng)
    x = away_from_kinks(hookfit_rng.normal(size=(5, 4)), activation)
    dy = hookfit_rng.normal(size=(5, 3))

    def objective():
        return float(np.sum(layer.forward(x, training=True) * dy))

    objective()
    dx = layer.backward(dy.copy()).copy()
    grads = [g.copy() for g in layer.grads]
    np.testing.assert_allclose(dx, numeric_grad(objective, x), rtol=1e-5, atol=1e-7)
    for analytic, weight in zip(grads, layer.weights, strict=True):
        np.testing.assert_allclose(analytic, numeric_grad(objective, weight), rtol=1e-5, atol=1e-7)


def test_dense_gradients_on_samples_of_several_axes(hookfit_rng):
    layer = Dense(3, activation="tanh", dtype="float64")
    layer.build((2, 4), hookfit_rng)
    x = hookfit_rng.normal(size=(5, 2, 4))
    dy = hookfit_rng.normal(size=(5, 2, 3))

    def objective():
        return float(np.sum(layer.forward(x, training=True) * dy))

    objective()
    dx = layer.backward(dy.copy()).copy()
    assert dx.shape == x.shape
    grads = [g.copy() for g in layer.grads]
    np.testing.assert_allclose(dx, numeric_grad(objective, x), rtol=1e-5, atol=1e-7)
    for analytic, weight in zip(grads, layer.weights, strict=True):
        np.testing.assert_allclose(analytic, numeric_grad(objective, weight), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["relu", "softmax", "tanh"], ids=str)
def test_activation_layer_gradient(name, hookfit_rng):
    layer = Activation(name, dtype="float64")
    layer.build((3,), hookfit_rng)
    x = away_from_kinks(hookfit_rng.normal(size=(4, 3)), name)
    dy = hookfit_rng.normal(size=(4, 3))
    layer.forward(x, training=True)
    analytic = layer.backward(dy.copy())
    numeric = numeric_grad(lambda: float(np.sum(layer.forward(x, training=True) * dy)), x)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_dropout_gradient_uses_the_forward_mask(hookfit_rng):
    layer = Dropout(0.5, seed=3, dtype="float64")
    layer.build((6,), hookfit_rng)
    x = hookfit_rng.normal(size=(4, 6))
    dy = hookfit_rng.normal(size=(4, 6))
    y = layer.forward(x, training=True).copy()
    mask = y / x  # 0 or 1 / (1 - rate)
    assert set(np.round(np.unique(mask), 6)) <= {0.0, 2.0}
    np.testing.assert_allclose(layer.backward(dy.copy()), dy * mask)
    assert layer.forward(x, training=False) is x


def test_flatten_gradient_restores_the_shape(hookfit_rng):
    layer = Flatten(input_shape=(2, 3))
    x = hookfit_rng.normal(size=(4, 2, 3))
    y = layer.forward(x, training=True)
    assert y.shape == (4, 6)
    np.testing.assert_array_equal(layer.backward(y), x)


def targets(loss, rng, n=5, k=4):
    if loss.sparse:
        return rng.integers(0, k, size=n)
    if loss.name == "categorical_crossentropy":
        return np.eye(k)[rng.integers(0, k, size=n)]
    if loss.name == "binary_crossentropy":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    return rng.normal(size=(n, k))


LOSSES = [
    losses.categorical_crossentropy,
    losses.sparse_categorical_crossentropy,
    losses.binary_crossentropy,
    losses.mean_squared_error,
    losses.mean_absolute_error,
]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_loss_gradient(loss, hookfit_rng):
    y_true = targets(loss, hookfit_rng)
    if loss.fuses_with == "softmax":
        y_pred = activations.softmax.forward(hookfit_rng.normal(size=(5, 4)))
    else:
        y_pred = hookfit_rng.uniform(0.1, 0.9, size=(5, 4))
    analytic = loss.gradient(y_true, y_pred)
    numeric = numeric_grad(lambda: loss(y_true, y_pred), y_pred)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "loss",
    [loss for loss in LOSSES if loss.fuses_with],
    ids=lambda loss: f"{loss.name}+{loss.fuses_with}",
)
def test_fused_gradient_equals_the_chain_rule(loss, hookfit_rng):
    act = activations.get(loss.fuses_with)
    y_true = targets(loss, hookfit_rng)
    z = hookfit_rng.normal(size=(5, 4))
    fused = loss.fused_gradient(y_true, act.forward(z.copy()))
    numeric = numeric_grad(lambda: loss(y_true, act.forward(z.copy())), z)
    np.testing.assert_allclose(fused, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_fused_values_equal_the_loss_for_the_paired_activation(loss, hookfit_rng):
    y_true = targets(loss, hookfit_rng)
    act = activations.get(loss.fuses_with or "linear")
    y_pred = act.forward(hookfit_rng.normal(size=(5, 4)))
    if loss.name in ("mean_squared_error", "mean_absolute_error"):
        y_pred = hookfit_rng.uniform(0.1, 0.9, size=(5, 4))
    assert loss.fused_value(y_true, y_pred) == pytest.approx(loss(y_true, y_pred), rel=1e-12)


def test_losses_match_their_definitions():
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    p = np.array([[0.2, 0.8], [0.6, 0.4]])
    assert losses.categorical_crossentropy(y, p) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    assert losses.sparse_categorical_crossentropy(np.array([1, 0]), p) == pytest.approx(
        -(np.log(0.8) + np.log(0.6)) / 2
    )
    assert losses.mean_squared_error(y, p) == pytest.approx(np.mean((y - p) ** 2))
    assert losses.binary_crossentropy(y, p) == pytest.approx(
        -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    )
