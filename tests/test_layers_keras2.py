"""Keras 2's BatchNormalization and Embedding against numpy written out
plainly, Keras 2.2.4's moving-average rule, and finite differences."""

import threading

import numpy as np
import pytest

from hookfit.errors import ConfigError
from hookfit.trainer import regularizers
from hookfit.trainer.layers.embeddings import Embedding
from hookfit.trainer.layers.normalization import BatchNormalization

EPS = 1e-6

# (sample shape, axis): Dense outputs, channels_last and channels_first maps
SHAPES = [((5,), -1), ((4, 3, 2), -1), ((2, 3, 4), 1), ((3, 2, 5), 2)]
SHAPE_IDS = ["dense", "channels_last", "channels_first", "middle-axis"]
FLAGS = [(True, True), (True, False), (False, True), (False, False)]
FLAG_IDS = ["scale+center", "scale", "center", "neither"]


def plain_stats(x, axis):
    """Per-feature mean and biased variance, over every other axis."""
    others = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    return x.mean(axis=others), x.var(axis=others)


def along(v, x, axis):
    """``v`` (one value per feature) shaped to broadcast against ``x``."""
    shape = [1] * x.ndim
    shape[axis] = len(v)
    return v.reshape(shape)


def built(shape, axis=-1, scale=True, center=True, dtype="float32", seed=1, **kwargs):
    """A BatchNormalization with random gamma, beta and moving statistics."""
    rng = np.random.default_rng(seed)
    layer = BatchNormalization(axis=axis, scale=scale, center=center, dtype=dtype, **kwargs)
    layer.build(shape, rng)
    layer.set_weights(
        [
            rng.normal(size=w.shape) if "variance" not in n else rng.uniform(0.5, 2, w.shape)
            for n, w in zip(layer.weight_names, layer.weights, strict=True)
        ]
    )
    return layer


def reference(layer, x, mean, var):
    """Keras's normalization, written out: (x - mean) / sqrt(var + eps) * gamma + beta."""
    w = dict(zip(layer.weight_names, layer.get_weights(), strict=True))
    y = (x - along(mean, x, layer.axis)) / np.sqrt(along(var, x, layer.axis) + layer.epsilon)
    if layer.scale:
        y = y * along(w["gamma"], x, layer.axis)
    if layer.center:
        y = y + along(w["beta"], x, layer.axis)
    return y


@pytest.mark.parametrize("shape, axis", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("scale, center", FLAGS, ids=FLAG_IDS)
def test_training_normalizes_by_the_batch_mean_and_biased_variance(shape, axis, scale, center):
    layer = built(shape, axis, scale, center)
    x = np.random.default_rng(2).normal(3.0, 2.0, size=(6, *shape)).astype(np.float32)
    expected = reference(layer, x.astype(np.float64), *plain_stats(x.astype(np.float64), axis))
    np.testing.assert_allclose(layer.forward(x, training=True), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape, axis", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("scale, center", FLAGS, ids=FLAG_IDS)
def test_inference_normalizes_by_the_moving_statistics(shape, axis, scale, center):
    layer = built(shape, axis, scale, center)
    before = layer.get_weights()
    x = np.random.default_rng(2).normal(3.0, 2.0, size=(6, *shape)).astype(np.float32)
    mean, var = layer.weights[-2].astype(np.float64), layer.weights[-1].astype(np.float64)
    expected = reference(layer, x.astype(np.float64), mean, var)
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-5, atol=1e-5)
    for kept, now in zip(before, layer.weights, strict=True):
        np.testing.assert_array_equal(kept, now)


@pytest.mark.parametrize("shape, axis", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("momentum", [0.99, 0.5, 0.0], ids=["default", "half", "zero"])
def test_moving_statistics_follow_keras_2_after_a_few_batches(shape, axis, momentum):
    layer = built(shape, axis, momentum=momentum)
    moving_mean, moving_var = (w.astype(np.float64) for w in layer.get_weights()[-2:])
    rng = np.random.default_rng(3)
    for size in (8, 5, 3):
        x = rng.normal(1.5, 3.0, size=(size, *shape)).astype(np.float32)
        layer.forward(x, training=True)
        mean, var = plain_stats(x.astype(np.float64), axis)
        n = x.size / len(mean)
        # Keras 2.2.4: the sample variance with its n / (n - (1 + epsilon))
        var = var * n / (n - (1.0 + layer.epsilon))
        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_var = moving_var * momentum + var * (1 - momentum)
        np.testing.assert_allclose(layer.weights[-2], moving_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.weights[-1], moving_var, rtol=1e-5, atol=1e-6)


def test_a_frozen_layer_keeps_its_moving_statistics_as_keras_2_does():
    layer = built((4,), trainable=False)
    before = layer.get_weights()
    x = np.random.default_rng(4).normal(size=(8, 4)).astype(np.float32)
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y, reference(layer, x, *plain_stats(x, -1)), rtol=1e-4, atol=1e-4)
    for kept, now in zip(before, layer.weights, strict=True):
        np.testing.assert_array_equal(kept, now)


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


@pytest.mark.parametrize("shape, axis", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("scale, center", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_gradients_of_input_gamma_and_beta_match_finite_differences(
    shape, axis, scale, center, training
):
    layer = built(shape, axis, scale, center, dtype="float64")
    rng = np.random.default_rng(5)
    x = rng.normal(1.0, 2.0, size=(4, *shape))
    dy = rng.normal(size=x.shape)

    def objective():
        return float(np.sum(layer.forward(x, training=training) * dy))

    objective()
    dx = layer.backward(dy.copy()).copy()
    analytic = [g.copy() for g in layer.grads]
    np.testing.assert_allclose(dx, numeric_grad(objective, x), rtol=1e-5, atol=1e-7)
    assert len(analytic) == scale + center
    for weight, grad in zip(layer.weights[: len(analytic)], analytic, strict=True):
        np.testing.assert_allclose(grad, numeric_grad(objective, weight), rtol=1e-5, atol=1e-7)


def test_backward_without_dx_fills_the_gradients_only():
    layer = built((3,))
    x = np.random.default_rng(6).normal(size=(5, 3)).astype(np.float32)
    layer.forward(x, training=True)
    assert layer.backward(np.ones((5, 3), np.float32), need_dx=False) is None
    np.testing.assert_allclose(layer.grads[1], [5.0, 5.0, 5.0])


def shares_allreduce(world):
    """An in-process stand-in for MPI's Allreduce over ``world`` threads."""
    slots = [None] * world
    barrier = threading.Barrier(world)

    def make(rank):
        def reduce(a):
            slots[rank] = a
            barrier.wait()
            total = np.sum(slots, axis=0)
            barrier.wait()  # nobody reuses the slots before every rank has read them
            return total

        return reduce

    return [make(r) for r in range(world)]


@pytest.mark.parametrize("split", [(4, 4), (5, 3), (8, 0)], ids=["even", "uneven", "empty-share"])
def test_ranks_with_sync_reach_one_process_batch_statistics_and_gradients(split):
    shape = (3, 2, 4)
    rng = np.random.default_rng(7)
    x = rng.normal(2.0, 3.0, size=(8, *shape))
    dy = rng.normal(size=x.shape)
    whole = built(shape, dtype="float64")
    y_whole = whole.forward(x, training=True).copy()
    dx_whole = whole.backward(dy.copy()).copy()
    ranks = [built(shape, dtype="float64") for _ in split]
    bounds = np.cumsum((0, *split))
    results = {}

    def run(rank, reduce):
        layer = ranks[rank]
        layer.sync = reduce
        part = slice(bounds[rank], bounds[rank + 1])
        y = layer.forward(x[part], training=True).copy()
        results[rank] = (y, layer.backward(dy[part].copy()).copy())

    threads = [threading.Thread(target=run, args=(r, f)) for r, f in enumerate(shares_allreduce(2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2
    np.testing.assert_allclose(np.concatenate([results[r][0] for r in (0, 1)]), y_whole)
    np.testing.assert_allclose(
        np.concatenate([results[r][1] for r in (0, 1)]), dx_whole, atol=1e-12
    )
    for i, grad in enumerate(whole.grads):  # the MPI step sums the ranks' gradients
        np.testing.assert_allclose(ranks[0].grads[i] + ranks[1].grads[i], grad)
    for layer in ranks:
        np.testing.assert_allclose(layer.weights[-2:], whole.weights[-2:])


@pytest.mark.parametrize("scale, center", FLAGS, ids=FLAG_IDS)
def test_weights_are_in_keras_order_with_gradients_for_gamma_and_beta_only(scale, center):
    layer = built((4,), scale=scale, center=center)
    names = ["gamma"] * scale + ["beta"] * center + ["moving_mean", "moving_variance"]
    assert list(layer.weight_names) == names
    assert len(layer.grads) == scale + center
    assert [w.shape for w in layer.weights] == [(4,)] * len(names)
    assert layer.non_trainable_weights == layer.weights[-2:]


@pytest.mark.parametrize("scale, center", FLAGS, ids=FLAG_IDS)
def test_regularizers_name_the_index_of_gamma_and_beta(scale, center):
    gamma, beta = regularizers.l2(0.1), regularizers.l1(0.2)
    layer = BatchNormalization(
        scale=scale, center=center, gamma_regularizer=gamma, beta_regularizer=beta
    )
    expected = [r for r, on in ((gamma, scale), (beta, center)) if on]
    assert layer.regularizers == list(enumerate(expected))
    config = layer.get_config()
    assert config["gamma_regularizer"] == (
        {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.1}} if scale else None
    )


def test_batch_normalization_config_has_keras_2_keys():
    config = BatchNormalization(momentum=0.9, input_shape=(4,)).get_config()
    assert set(config) == {
        "name", "trainable", "dtype", "batch_input_shape", "axis", "momentum", "epsilon",
        "center", "scale", "beta_initializer", "gamma_initializer", "moving_mean_initializer",
        "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
        "beta_constraint", "gamma_constraint",
    }  # fmt: skip
    assert config["momentum"] == 0.9 and config["axis"] == -1 and config["epsilon"] == 1e-3
    assert config["moving_variance_initializer"] == {"class_name": "Ones", "config": {}}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"axis": 1.5}, r"axis must be an integer such as -1 .*got 1\.5"),
        ({"axis": True}, r"axis must be an integer .*got True"),
        ({"momentum": 1.5}, r"momentum must be in \[0, 1\], e\.g\. 0\.99, got 1\.5"),
        ({"momentum": "high"}, r"momentum must be a number in \[0, 1\].*got 'high'"),
        ({"epsilon": 0}, r"epsilon must be > 0, e\.g\. 1e-3, got 0"),
        ({"epsilon": None}, r"epsilon must be a number > 0.*got None"),
        ({"gamma_constraint": "non_neg"}, r"gamma_constraint='non_neg': hookfit has no weight"),
        ({"beta_constraint": "max_norm"}, r"beta_constraint='max_norm'.*remove beta_constraint"),
    ],
    ids=["axis-float", "axis-bool", "momentum-range", "momentum-text", "epsilon-zero",
         "epsilon-none", "gamma-constraint", "beta-constraint"],
)  # fmt: skip
def test_batch_normalization_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        BatchNormalization(**kwargs)


@pytest.mark.parametrize(
    "shape, axis",
    [((4,), 0), ((4,), 2), ((4, 4, 3), -5)],
    ids=["batch", "past-end", "before-batch"],
)
def test_batch_normalization_refuses_an_axis_the_input_lacks(shape, axis):
    layer = BatchNormalization(axis=axis)
    with pytest.raises(ConfigError, match=rf"axis {axis} is not a features axis of inputs"):
        layer.compute_output_shape(shape)
    with pytest.raises(ConfigError, match=r"use an axis in 1\.\.\d+ or -\d+\.\.-1"):
        layer.build(shape, np.random.default_rng(0))


# -- Embedding -------------------------------------------------------------------


def embedding(vocabulary=7, width=3, shape=(4,), **kwargs):
    layer = Embedding(vocabulary, width, **kwargs)
    layer.build(shape, np.random.default_rng(0))
    return layer


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32"], ids=str)
def test_embedding_looks_up_the_rows_of_the_ids(dtype):
    layer = embedding()
    ids = np.array([[0, 6, 2, 2], [5, 5, 1, 0]], dtype=dtype)
    y = layer.forward(ids, training=True)
    assert y.shape == (2, 4, 3)
    matrix = layer.weights[0]
    for i in range(2):
        for j in range(4):
            np.testing.assert_array_equal(y[i, j], matrix[int(ids[i, j])])


def test_embedding_casts_float_ids_toward_zero_as_keras_does():
    layer = embedding()
    y = layer.forward(np.array([[2.9, -0.5, 6.5, 0.0]], np.float32), training=False)
    np.testing.assert_array_equal(y[0], layer.weights[0][[2, 0, 6, 0]])


@pytest.mark.parametrize("vocabulary", [5, 1000], ids=["bincount", "add-at"])
def test_embedding_gradient_sums_the_rows_of_repeated_ids(vocabulary):
    layer = embedding(vocabulary, 4, shape=(2, 3))
    rng = np.random.default_rng(8)
    ids = rng.integers(0, 5, size=(6, 2, 3))
    dy = rng.normal(size=(6, 2, 3, 4)).astype(np.float32)
    layer.forward(ids, training=True)
    layer.grads[0][...] = 99.0  # written, not added to
    assert layer.backward(dy.copy()) is None
    expected = np.zeros((vocabulary, 4))
    for index in np.ndindex(ids.shape):
        expected[ids[index]] += dy[index]
    np.testing.assert_allclose(layer.grads[0], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "bad, shown", [(7, "7"), (-1, "-1"), (np.nan, "nan"), (np.inf, "inf")], ids=str
)
def test_embedding_refuses_an_id_out_of_range_naming_it_and_input_dim(bad, shown):
    layer = embedding()
    ids = np.array([[1, 2, bad, 3]], dtype=np.float32 if isinstance(bad, float) else np.int64)
    with pytest.raises(
        ConfigError, match=rf"id {shown} is out of range for input_dim=7; ids must be in \[0, 6\]"
    ):
        layer.forward(ids, training=True)


def test_embedding_refuses_ids_that_are_not_numbers():
    with pytest.raises(ConfigError, match=r"ids must be integers .*got an array of <U1"):
        embedding().forward(np.array([["a", "b", "c", "d"]]), training=False)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mask_zero": True}, r"mask_zero=True needs masks.*pass mask_zero=False"),
        ({"activity_regularizer": "l2"}, r"activity_regularizer='l2': hookfit penalizes weights"),
        ({"embeddings_constraint": "unit_norm"}, r"embeddings_constraint='unit_norm': hookfit has"),
        ({"input_dim": 0}, r"input_dim must be a positive integer, got 0"),
        ({"output_dim": 2.5}, r"output_dim must be a positive integer, got 2\.5"),
    ],
    ids=["mask-zero", "activity-regularizer", "constraint", "input-dim", "output-dim"],
)
def test_embedding_refuses_what_hookfit_lacks(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Embedding(**{"input_dim": 7, "output_dim": 3, **kwargs})


def test_embedding_refuses_an_input_length_unlike_the_input():
    layer = Embedding(7, 3, input_length=5)
    with pytest.raises(
        ConfigError, match=r"input_length is 5, but the input has shape \(batch, 4\)"
    ):
        layer.compute_output_shape((4,))


def test_embedding_input_dim_is_the_vocabulary_and_input_length_the_shape():
    layer = Embedding(1000, 64, input_length=10)
    assert (layer.input_dim, layer.output_dim) == (1000, 64)
    assert layer.batch_input_shape == (None, 10)
    assert layer.compute_output_shape((10,)) == (10, 64)
    assert Embedding(1000, 64).batch_input_shape is None
    assert Embedding(1000, 64).compute_output_shape((3, 2)) == (3, 2, 64)


def test_embedding_regularizer_penalizes_the_matrix_and_config_has_keras_2_keys():
    penalty = regularizers.l2(0.01)
    layer = Embedding(1000, 64, embeddings_regularizer=penalty)
    assert layer.regularizers == [(0, penalty)]
    config = layer.get_config()
    assert set(config) == {
        "name", "trainable", "dtype", "batch_input_shape", "input_dim", "output_dim",
        "embeddings_initializer", "embeddings_regularizer", "activity_regularizer",
        "embeddings_constraint", "mask_zero", "input_length",
    }  # fmt: skip
    assert config["batch_input_shape"] == [None, None]
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["embeddings_regularizer"] == {
        "class_name": "L1L2",
        "config": {"l1": 0.0, "l2": 0.01},
    }
