"""Conv2D and the pooling layers against plain numpy loops, finite
differences, and the arguments they refuse."""

from __future__ import annotations

import numpy as np
import pytest

from hookfit.errors import ConfigError, ModelError
from hookfit.trainer.layers.convolutional import Conv2D
from hookfit.trainer.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)

# --- references: one output cell at a time, TensorFlow's padding rule -------


def tf_padding(size: int, window: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(output length, cells before, cells after) as TensorFlow pads."""
    if padding == "valid":
        return (size - window) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, total // 2, total - total // 2


def conv_loops(x, kernel, bias, strides, padding):
    n, h, w, _ = x.shape
    kh, kw, _, f = kernel.shape
    oh, top, bottom = tf_padding(h, kh, strides[0], padding)
    ow, left, right = tf_padding(w, kw, strides[1], padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            r, s = i * strides[0], j * strides[1]
            for b in range(n):
                for o in range(f):
                    out[b, i, j, o] = np.sum(xp[b, r : r + kh, s : s + kw, :] * kernel[..., o])
    return out + bias


def pool_loops(x, pool, strides, padding, reduce):
    """``reduce`` over the window's cells inside the image (TensorFlow: padding
    cells never count)."""
    n, h, w, c = x.shape
    oh, top, _ = tf_padding(h, pool[0], strides[0], padding)
    ow, left, _ = tf_padding(w, pool[1], strides[1], padding)
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, s0 = i * strides[0] - top, j * strides[1] - left
            cells = x[:, max(r0, 0) : r0 + pool[0], max(s0, 0) : s0 + pool[1], :]
            out[:, i, j, :] = reduce(cells, axis=(1, 2))
    return out


def built(layer, input_shape, seed=0):
    layer.build(tuple(input_shape), np.random.default_rng(seed))
    return layer


# --- Conv2D forward -----------------------------------------------------------

CONV_CASES = [
    # (input sample shape, filters, kernel, strides, padding)
    ((7, 7, 1), 3, (3, 3), (1, 1), "valid"),
    ((7, 7, 1), 3, (3, 3), (1, 1), "same"),
    ((8, 9, 3), 4, (3, 2), (2, 2), "valid"),
    ((8, 9, 3), 4, (3, 2), (2, 2), "same"),
    ((6, 5, 2), 2, (2, 3), (1, 2), "same"),
    ((9, 8, 4), 5, (4, 4), (3, 2), "valid"),
    ((5, 5, 2), 3, (1, 1), (2, 2), "same"),
    ((4, 6, 3), 2, (4, 2), (1, 1), "same"),
]
CONV_IDS = [f"{s[0]}-k{s[2]}-s{s[3]}-{s[4]}" for s in CONV_CASES]


@pytest.mark.parametrize("chunk", [1, 1 << 30], ids=["a_sample_per_chunk", "one_chunk"])
@pytest.mark.parametrize(
    ("shape", "filters", "kernel", "strides", "padding"), CONV_CASES, ids=CONV_IDS
)
def test_conv2d_forward_matches_numpy_loops(shape, filters, kernel, strides, padding, chunk):
    layer = Conv2D(filters, kernel, strides=strides, padding=padding, bias_initializer="uniform")
    layer.CHUNK_BYTES = chunk
    built(layer, shape)
    x = np.random.default_rng(1).normal(size=(3, *shape)).astype(np.float32)
    y = layer.forward(x, training=True)
    expected = conv_loops(x.astype(np.float64), *layer.weights, strides, padding)
    assert y.shape == (3, *layer.compute_output_shape(shape))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_applies_its_activation_to_the_convolution():
    layer = built(Conv2D(4, 3, activation="relu", padding="same"), (5, 5, 2))
    x = np.random.default_rng(2).normal(size=(2, 5, 5, 2)).astype(np.float32)
    expected = np.maximum(conv_loops(x, *layer.weights, (1, 1), "same"), 0)
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-5, atol=1e-6)


def test_conv2d_kernel_has_keras_shape_and_no_bias_without_use_bias():
    layer = built(Conv2D(6, (3, 2), use_bias=False), (10, 10, 3))
    assert [w.shape for w in layer.weights] == [(3, 2, 3, 6)]
    assert layer.weight_names == ("kernel",)
    assert layer.weight_shapes((10, 10, 3)) == [(3, 2, 3, 6)]
    x = np.ones((1, 10, 10, 3), np.float32)
    expected = conv_loops(x, layer.weights[0], 0.0, (1, 1), "valid")
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (28, 3, 1, "valid", 26),
        (28, 3, 1, "same", 28),
        (28, 3, 2, "same", 14),
        (27, 3, 2, "same", 14),
        (27, 3, 2, "valid", 13),
        (5, 5, 3, "valid", 1),
    ],
    ids=["valid", "same", "same_stride2", "same_odd", "valid_stride2", "kernel_as_large"],
)
def test_conv2d_output_size_follows_tensorflow(size, kernel, stride, padding, expected):
    layer = Conv2D(2, kernel, strides=stride, padding=padding)
    assert layer.compute_output_shape((size, size, 1)) == (expected, expected, 2)


# --- gradients against finite differences (float64 layers) -------------------


def numeric_grad(f, array, eps=1e-6):
    grad = np.zeros_like(array)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = f()
        flat[i] = keep - eps
        down = f()
        flat[i] = keep
        out[i] = (up - down) / (2 * eps)
    return grad


GRAD_CASES = [
    ((5, 5, 2), (3, 3), (1, 1), "valid"),
    ((5, 6, 2), (3, 2), (2, 2), "same"),
    ((6, 5, 3), (2, 3), (2, 1), "valid"),
    ((4, 4, 1), (3, 3), (1, 1), "same"),
]


@pytest.mark.parametrize("activation", ["linear", "tanh"])
@pytest.mark.parametrize(
    ("shape", "kernel", "strides", "padding"),
    GRAD_CASES,
    ids=[f"{s[0]}-k{s[1]}-s{s[2]}-{s[3]}" for s in GRAD_CASES],
)
def test_conv2d_gradients_match_finite_differences(shape, kernel, strides, padding, activation):
    layer = Conv2D(
        3, kernel, strides=strides, padding=padding, activation=activation, dtype="float64"
    )
    layer.CHUNK_BYTES = 1  # several chunks: the kernel gradient is a sum over them
    built(layer, shape)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, *shape))
    weights = rng.normal(size=(2, *layer.compute_output_shape(shape)))

    def loss():
        return float(np.sum(layer.forward(x, training=True) * weights))

    loss()
    dx = layer.backward(weights.copy()).copy()
    analytic = [g.copy() for g in layer.grads]
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)
    for got, weight in zip(analytic, layer.weights, strict=True):
        np.testing.assert_allclose(got, numeric_grad(loss, weight), rtol=1e-6, atol=1e-7)


def test_conv2d_pre_activation_takes_the_gradient_of_the_convolution_itself():
    relu = built(Conv2D(3, 3, activation="relu", dtype="float64"), (5, 5, 2))
    linear = built(Conv2D(3, 3, dtype="float64"), (5, 5, 2))
    linear.set_weights(relu.get_weights())
    x = np.random.default_rng(4).normal(size=(2, 5, 5, 2))
    dz = np.random.default_rng(5).normal(size=(2, 3, 3, 3))
    relu.forward(x, training=True)
    linear.forward(x, training=True)
    dx_relu = relu.backward(dz.copy(), pre_activation=True).copy()
    np.testing.assert_allclose(dx_relu, linear.backward(dz.copy()))
    for a, b in zip(relu.grads, linear.grads, strict=True):
        np.testing.assert_allclose(a, b)


def test_conv2d_without_need_dx_fills_the_weight_gradients_only():
    layer = built(Conv2D(3, 3, dtype="float64"), (5, 5, 2))
    x = np.random.default_rng(6).normal(size=(2, 5, 5, 2))
    dy = np.ones((2, 3, 3, 3))
    layer.forward(x, training=True)
    layer.backward(dy.copy())
    expected = [g.copy() for g in layer.grads]
    layer.forward(x, training=True)
    assert layer.backward(dy.copy(), need_dx=False) is None
    for got, want in zip(layer.grads, expected, strict=True):
        np.testing.assert_allclose(got, want)


def test_conv2d_float32_gradients_agree_with_float64():
    shape = (6, 6, 3)
    wide = built(Conv2D(4, 3, padding="same", activation="relu", dtype="float64"), shape)
    narrow = built(Conv2D(4, 3, padding="same", activation="relu"), shape)
    narrow.set_weights(wide.get_weights())
    x = np.random.default_rng(7).normal(size=(4, *shape))
    dy = np.random.default_rng(8).normal(size=(4, 6, 6, 4))
    wide.forward(x, training=True)
    narrow.forward(x.astype(np.float32), training=True)
    dx64 = wide.backward(dy.copy())
    dx32 = narrow.backward(dy.astype(np.float32))
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-5)
    for a, b in zip(narrow.grads, wide.grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


# --- pooling ------------------------------------------------------------------

POOL_CASES = [
    ((6, 6, 3), (2, 2), None, "valid"),
    ((7, 5, 2), (2, 2), None, "valid"),
    ((7, 5, 2), (2, 2), None, "same"),
    ((7, 7, 2), (3, 3), (2, 2), "valid"),
    ((7, 8, 2), (3, 3), (2, 2), "same"),
    ((5, 6, 1), (2, 3), (1, 1), "same"),
    ((8, 8, 2), (2, 2), (3, 3), "valid"),
]
POOL_IDS = [f"{s[0]}-p{s[1]}-s{s[2]}-{s[3]}" for s in POOL_CASES]


@pytest.mark.parametrize(
    ("cls", "reduce"), [(MaxPooling2D, np.max), (AveragePooling2D, np.mean)], ids=["max", "avg"]
)
@pytest.mark.parametrize(("shape", "pool", "strides", "padding"), POOL_CASES, ids=POOL_IDS)
def test_pooling_forward_matches_numpy_loops(cls, reduce, shape, pool, strides, padding):
    layer = built(cls(pool, strides=strides, padding=padding), shape)
    x = np.random.default_rng(9).normal(size=(2, *shape)).astype(np.float32)
    expected = pool_loops(x, pool, strides or pool, padding, reduce)
    y = layer.forward(x, training=True)
    assert y.shape == (2, *layer.compute_output_shape(shape))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D], ids=["max", "avg"])
@pytest.mark.parametrize(("shape", "pool", "strides", "padding"), POOL_CASES, ids=POOL_IDS)
def test_pooling_gradient_matches_finite_differences(cls, shape, pool, strides, padding):
    layer = built(cls(pool, strides=strides, padding=padding, dtype="float64"), shape)
    x = np.random.default_rng(10).normal(size=(2, *shape))
    weights = np.random.default_rng(11).normal(size=(2, *layer.compute_output_shape(shape)))

    def loss():
        return float(np.sum(layer.forward(x, training=True) * weights))

    loss()
    dx = layer.backward(weights.copy()).copy()
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)


def test_max_pooling_gives_a_tie_s_gradient_to_the_first_maximum():
    layer = built(MaxPooling2D(), (2, 2, 1))
    layer.forward(np.ones((1, 2, 2, 1), np.float32), training=True)
    dx = layer.backward(np.full((1, 1, 1, 1), 5.0, np.float32))
    assert dx[0, :, :, 0].tolist() == [[5.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize(
    ("cls", "reduce"), [(MaxPooling1D, np.max), (AveragePooling1D, np.mean)], ids=["max", "avg"]
)
@pytest.mark.parametrize(
    ("pool", "strides", "padding"),
    [(2, None, "valid"), (3, 2, "same"), (2, 1, "valid")],
    ids=["p2", "p3_s2_same", "p2_s1"],
)
def test_pooling_1d_matches_numpy_loops_and_finite_differences(cls, reduce, pool, strides, padding):
    layer = built(cls(pool, strides=strides, padding=padding, dtype="float64"), (7, 3))
    x = np.random.default_rng(12).normal(size=(2, 7, 3))
    expected = pool_loops(x[:, :, None], (pool, 1), (strides or pool, 1), padding, reduce)
    np.testing.assert_allclose(layer.forward(x, training=True), expected[:, :, 0], rtol=1e-12)
    weights = np.random.default_rng(13).normal(size=expected[:, :, 0].shape)

    def loss():
        return float(np.sum(layer.forward(x, training=True) * weights))

    loss()
    dx = layer.backward(weights.copy()).copy()
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)


GLOBAL_CASES = [
    (GlobalAveragePooling2D, (4, 5, 3), np.mean),
    (GlobalMaxPooling2D, (4, 5, 3), np.max),
    (GlobalAveragePooling1D, (6, 4), np.mean),
    (GlobalMaxPooling1D, (6, 4), np.max),
]


@pytest.mark.parametrize(
    ("cls", "shape", "reduce"), GLOBAL_CASES, ids=[c[0].__name__ for c in GLOBAL_CASES]
)
def test_global_pooling_matches_numpy_and_finite_differences(cls, shape, reduce):
    layer = built(cls(dtype="float64"), shape)
    x = np.random.default_rng(14).normal(size=(3, *shape))
    axes = tuple(range(1, len(shape)))
    assert layer.compute_output_shape(shape) == (shape[-1],)
    np.testing.assert_allclose(layer.forward(x, training=True), reduce(x, axis=axes))
    weights = np.random.default_rng(15).normal(size=(3, shape[-1]))

    def loss():
        return float(np.sum(layer.forward(x, training=True) * weights))

    loss()
    dx = layer.backward(weights.copy()).copy()
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)


# --- configs ------------------------------------------------------------------


def test_conv2d_config_has_keras_2_keys():
    config = Conv2D(32, 3, activation="relu", name="conv").get_config()
    assert {k: config[k] for k in config if k not in ("name", "trainable", "dtype")} == {
        "filters": 32,
        "kernel_size": (3, 3),
        "strides": (1, 1),
        "padding": "valid",
        "data_format": "channels_last",
        "dilation_rate": (1, 1),
        "activation": "relu",
        "use_bias": True,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": config["kernel_initializer"]["config"],
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
    } | {k: config[k] for k in config if k == "batch_input_shape"}


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (
            MaxPooling2D(padding="SAME"),
            {"pool_size": (2, 2), "strides": (2, 2), "padding": "same"},
        ),
        (
            AveragePooling2D(3, strides=1),
            {"pool_size": (3, 3), "strides": (1, 1), "padding": "valid"},
        ),
        (MaxPooling1D(3), {"pool_size": (3,), "strides": (3,), "padding": "valid"}),
        (GlobalAveragePooling2D(), {}),
        (GlobalAveragePooling1D(), {}),
    ],
    ids=["max2d", "avg2d", "max1d", "global_avg2d", "global_avg1d"],
)
def test_pooling_config_has_keras_2_keys(layer, expected):
    config = layer.get_config()
    assert config["data_format"] == "channels_last"
    assert {k: config[k] for k in expected} == expected


# --- refusals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data_format": "channels_first"}, r"data_format must be 'channels_last'.*channels_first"),
        ({"dilation_rate": 2}, r"dilation_rate must be \(1, 1\), got 2"),
        ({"padding": "causal"}, r"padding must be 'valid' or 'same', got 'causal'"),
        ({"kernel_size": (3, 3, 3)}, r"kernel_size must be an integer or 2 integers"),
        ({"strides": 0}, r"strides must be a positive integer, got 0"),
        ({"filters": 0}, r"filters must be a positive integer, got 0"),
        (
            {"kernel_constraint": "max_norm"},
            r"kernel_constraint is not supported .*no weight constraints; leave it None",
        ),
        ({"bias_constraint": "max_norm"}, r"bias_constraint is not supported"),
        (
            {"activity_regularizer": "l2"},
            r"activity_regularizer is not supported .*use kernel_regularizer or bias_regularizer",
        ),
    ],
    ids=[
        "channels_first",
        "dilation",
        "causal",
        "kernel_3d",
        "stride_0",
        "no_filters",
        "kernel_constraint",
        "bias_constraint",
        "activity_regularizer",
    ],
)
def test_conv2d_refuses_what_it_cannot_do(kwargs, message):
    arguments = {"filters": 4, "kernel_size": 3, **kwargs}
    with pytest.raises(ConfigError, match=message):
        Conv2D(**arguments)


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (Conv2D(2, 3), (28, 28), r"samples of shape \(rows, cols, channels\), got \(28, 28\)"),
        (Conv2D(2, 5), (4, 9, 1), r"kernel \(5, 5\) does not fit in the input \(4, 9\)"),
        (MaxPooling2D(), (8, 8), r"samples of shape \(rows, cols, channels\), got \(8, 8\)"),
        (MaxPooling2D(3), (2, 8, 1), r"pool \(3, 3\) does not fit in the input \(2, 8\)"),
        (MaxPooling1D(), (8, 8, 1), r"samples of shape \(steps, features\), got \(8, 8, 1\)"),
        (GlobalAveragePooling1D(), (4, 4, 1), r"samples of shape \(steps, features\)"),
        (GlobalAveragePooling2D(), (4, 4), r"samples of shape \(rows, cols, channels\)"),
    ],
    ids=["conv_2d", "conv_kernel", "max_2d", "max_pool", "max1d_3d", "gap1d_3d", "gap2d_2d"],
)
def test_layers_refuse_input_shapes_they_cannot_take(layer, shape, message):
    with pytest.raises(ConfigError, match=message):
        layer.compute_output_shape(shape)


@pytest.mark.parametrize(
    "layer",
    [Conv2D(2, 3), MaxPooling2D(), AveragePooling2D(), GlobalMaxPooling2D()],
    ids=["conv", "max", "avg", "global_max"],
)
def test_backward_before_forward_is_refused(layer):
    with pytest.raises(ModelError, match=r"backward\(\) before forward\(\)"):
        layer.backward(np.zeros((1, 1, 1, 1), np.float32))


def test_conv2d_keeps_its_regularizers_by_weight_index():
    from hookfit.trainer import regularizers

    layer = Conv2D(4, 3, kernel_regularizer=regularizers.l2(0.01), bias_regularizer="l1")
    assert [(i, type(r).__name__) for i, r in layer.regularizers] == [(0, "L1L2"), (1, "L1L2")]
    assert layer.get_config()["kernel_regularizer"] == {
        "class_name": "L1L2",
        "config": layer.kernel_regularizer.get_config(),
    }
    assert Conv2D(4, 3, use_bias=False, bias_regularizer="l1").regularizers == []


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (Conv2D(2, 3), (2, 5, 5)),
        (MaxPooling2D(), (2, 4, 4)),
        (MaxPooling1D(), (2, 4, 4, 1)),
        (GlobalAveragePooling2D(), (2, 4, 4)),
    ],
    ids=["conv", "max2d", "max1d", "global_avg2d"],
)
def test_forward_refuses_a_batch_of_another_rank(layer, shape):
    with pytest.raises(ModelError, match=r"expected a batch of .*got \("):
        layer.forward(np.zeros(shape, np.float32), training=False)


def test_pooling_refuses_channels_first():
    with pytest.raises(ConfigError, match=r"data_format must be 'channels_last'"):
        MaxPooling2D(data_format="channels_first")
