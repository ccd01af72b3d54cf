"""Metrics by Keras 2.2.4 name, Keras 2's weighted loss, and sample/class
weights, each checked against numpy written out plainly here."""

import numpy as np
import pytest

import hookfit.metrics
from hookfit.errors import ConfigError, HookfitWarning, ModelError
from hookfit.trainer import backend as K
from hookfit.trainer import compile_metrics, losses, metrics, weights

RNG = np.random.default_rng(7)
N, C = 6, 4


def probabilities(n=N, c=C):
    p = RNG.uniform(0.05, 1.0, size=(n, c))
    return p / p.sum(axis=1, keepdims=True)


ONE_HOT = np.eye(C)[[0, 1, 2, 3, 1, 2]]
IDS = np.array([0, 1, 2, 3, 1, 2])
P = probabilities()
BIN_TRUE = RNG.integers(0, 2, size=(N, 3)).astype(float)
BIN_PRED = RNG.uniform(0.01, 0.99, size=(N, 3))
REG_TRUE = RNG.normal(size=(N, 3))
REG_PRED = RNG.normal(size=(N, 3))
POS_TRUE = RNG.uniform(0.1, 2.0, size=(N, 3))
POS_PRED = RNG.uniform(0.1, 2.0, size=(N, 3))
SIGNS = np.where(RNG.random((N, 3)) < 0.5, -1.0, 1.0)
EPS = 1e-7


def top_k(y_pred, targets, k):
    """in_top_k written out: fewer than k classes score strictly higher."""
    return np.array(
        [np.sum(row > row[t]) < k for row, t in zip(y_pred, targets, strict=True)], float
    )


def l2n(x):
    return x / np.sqrt(np.maximum((x**2).sum(-1, keepdims=True), 1e-12))


# (identifier, loss it is compiled with, y_true, y_pred, per-sample numpy)
CASES = [
    ("binary_accuracy", losses.binary_crossentropy, BIN_TRUE, BIN_PRED,
     lambda t, p: (t == np.round(p)).mean(-1)),
    ("categorical_accuracy", losses.categorical_crossentropy, ONE_HOT, P,
     lambda t, p: (t.argmax(-1) == p.argmax(-1)).astype(float)),
    ("sparse_categorical_accuracy", losses.sparse_categorical_crossentropy, IDS, P,
     lambda t, p: (t == p.argmax(-1)).astype(float)),
    ("sparse_categorical_accuracy", losses.sparse_categorical_crossentropy, IDS[:, None], P,
     lambda t, p: (t[:, 0] == p.argmax(-1)).astype(float)),
    ("top_k_categorical_accuracy", losses.categorical_crossentropy, ONE_HOT, P,
     lambda t, p: top_k(p, t.argmax(-1), 5)),
    ("sparse_top_k_categorical_accuracy", losses.sparse_categorical_crossentropy, IDS, P,
     lambda t, p: top_k(p, t, 5)),
    ("mse", losses.mse, REG_TRUE, REG_PRED, lambda t, p: ((p - t) ** 2).mean(-1)),
    ("mae", losses.mse, REG_TRUE, REG_PRED, lambda t, p: np.abs(p - t).mean(-1)),
    ("binary_crossentropy", losses.mse, BIN_TRUE, BIN_PRED,
     lambda t, p: -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)),
    ("categorical_crossentropy", losses.mse, ONE_HOT, P, lambda t, p: -(t * np.log(p)).sum(-1)),
    ("sparse_categorical_crossentropy", losses.mse, IDS, P,
     lambda t, p: -np.log(p[np.arange(len(t)), t])),
    ("mape", losses.mse, REG_TRUE, REG_PRED,
     lambda t, p: 100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1)),
    ("msle", losses.mse, POS_TRUE, POS_PRED,
     lambda t, p: ((np.log(p + 1) - np.log(t + 1)) ** 2).mean(-1)),
    ("hinge", losses.mse, SIGNS, REG_PRED, lambda t, p: np.maximum(1 - t * p, 0).mean(-1)),
    ("squared_hinge", losses.mse, SIGNS, REG_PRED,
     lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1)),
    ("logcosh", losses.mse, REG_TRUE, REG_PRED, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    ("kullback_leibler_divergence", losses.mse, probabilities(), P,
     lambda t, p: (t * np.log(t / p)).sum(-1)),
    ("poisson", losses.mse, POS_TRUE, POS_PRED, lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    ("cosine", losses.mse, REG_TRUE, REG_PRED, lambda t, p: -(l2n(t) * l2n(p)).sum(-1)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("identifier", "loss", "y_true", "y_pred", "expected"),
    CASES,
    ids=[f"{case[0]}-{np.shape(case[2])}" for case in CASES],
)
def test_each_metric_matches_numpy_per_sample_and_as_a_batch_mean(
    identifier, loss, y_true, y_pred, expected
):
    metric = compile_metrics.get(identifier, loss, y_pred.shape)
    want = expected(y_true, y_pred)
    np.testing.assert_allclose(metric.values(y_true, y_pred), want, rtol=1e-6, atol=1e-9)
    assert metric(y_true, y_pred) == pytest.approx(want.mean(), rel=1e-6)


TIES = [
    # (row, target, k, in the top k?)
    ([0.3, 0.3, 0.3, 0.1], 2, 1, True),  # nothing scores higher than the target
    ([0.4, 0.3, 0.3, 0.0], 2, 2, True),  # tied with the 2nd: both count as in
    ([0.4, 0.3, 0.3, 0.0], 3, 3, False),  # three classes score higher
    ([0.5, 0.2, 0.2, 0.1], 1, 1, False),
    ([0.5, np.nan, 0.2, 0.1], 0, 4, False),  # a non-finite score: TF says no
    ([0.5, 0.2, 0.2, 0.1], 7, 4, False),  # a target that is no class
]


@pytest.mark.parametrize(
    ("row", "target", "k", "inside"),
    TIES,
    ids=["three-way-tie", "tie-at-boundary", "below", "second", "nan", "out-of-range"],
)
def test_top_k_counts_ties_at_the_boundary_as_in_like_tensorflow(row, target, k, inside):
    y_pred = np.array([row])
    assert metrics.in_top_k(y_pred, np.array([target]), k).tolist() == [float(inside)]
    if 0 <= target < len(row):
        one_hot = np.eye(len(row))[[target]]
        got = metrics.top_k_categorical_accuracy(one_hot, y_pred, k=k)
        assert got.tolist() == [float(inside)]
    got = metrics.sparse_top_k_categorical_accuracy(np.array([[target]]), y_pred, k=k)
    assert got.tolist() == [float(inside)]


def test_binary_accuracy_rounds_half_to_even_and_compares_exactly_like_keras():
    y_true = np.array([[0.0], [1.0], [1.0], [0.7]])
    y_pred = np.array([[0.5], [0.51], [1.6], [0.7]])
    # 0.5 rounds to 0; 1.6 rounds to 2, which is not the target 1; a soft
    # target 0.7 never equals a rounded prediction.
    assert metrics.binary_accuracy(y_true, y_pred).tolist() == [1.0, 1.0, 0.0, 0.0]


def named_function(y_true, y_pred):
    return np.abs(y_true - y_pred).max(axis=-1)


class NamedObject:
    name = "my_score"

    def __call__(self, y_true, y_pred):
        return 1.0


CCE, SCCE, BCE, MSE = (
    losses.categorical_crossentropy,
    losses.sparse_categorical_crossentropy,
    losses.binary_crossentropy,
    losses.mean_squared_error,
)
NAMES = [
    # (identifier, loss, output shape, logged name, the function it computes)
    ("accuracy", CCE, (None, 3), "acc", metrics.categorical_accuracy),
    ("acc", CCE, (3,), "acc", metrics.categorical_accuracy),
    ("accuracy", SCCE, (3,), "acc", metrics.sparse_categorical_accuracy),
    ("acc", BCE, (3,), "acc", metrics.binary_accuracy),
    ("accuracy", MSE, (1,), "acc", metrics.binary_accuracy),
    ("accuracy", SCCE, (1,), "acc", metrics.binary_accuracy),  # Keras tests the size first
    ("accuracy", MSE, (3,), "acc", metrics.categorical_accuracy),
    ("crossentropy", CCE, (3,), "ce", CCE.values),
    ("ce", BCE, (3,), "ce", BCE.values),
    ("ce", SCCE, (3,), "ce", SCCE.values),
    ("categorical_accuracy", BCE, (3,), "categorical_accuracy", metrics.categorical_accuracy),
    ("binary_accuracy", CCE, (3,), "binary_accuracy", metrics.binary_accuracy),
    ("top_k_categorical_accuracy", CCE, (3,), "top_k_categorical_accuracy", None),
    ("sparse_top_k_categorical_accuracy", SCCE, (3,), "sparse_top_k_categorical_accuracy", None),
    ("mse", CCE, (3,), "mean_squared_error", MSE.values),
    ("MSE", CCE, (3,), "mean_squared_error", MSE.values),
    ("mean_squared_error", CCE, (3,), "mean_squared_error", MSE.values),
    ("mae", CCE, (3,), "mean_absolute_error", None),
    ("MAE", CCE, (3,), "mean_absolute_error", None),
    ("mape", CCE, (3,), "mean_absolute_percentage_error", None),
    ("MAPE", CCE, (3,), "mean_absolute_percentage_error", None),
    ("msle", CCE, (3,), "mean_squared_logarithmic_error", None),
    ("MSLE", CCE, (3,), "mean_squared_logarithmic_error", None),
    ("cosine", CCE, (3,), "cosine_proximity", None),
    ("cosine_proximity", CCE, (3,), "cosine_proximity", None),
    ("hinge", CCE, (3,), "hinge", None),
    ("squared_hinge", CCE, (3,), "squared_hinge", None),
    ("logcosh", CCE, (3,), "logcosh", None),
    ("kullback_leibler_divergence", CCE, (3,), "kullback_leibler_divergence", None),
    ("poisson", CCE, (3,), "poisson", None),
    ("binary_crossentropy", CCE, (3,), "binary_crossentropy", None),
    ("categorical_crossentropy", MSE, (3,), "categorical_crossentropy", None),
    ("sparse_categorical_crossentropy", MSE, (3,), "sparse_categorical_crossentropy", None),
    (hookfit.metrics.mse, CCE, (3,), "mean_squared_error", None),
    (hookfit.metrics.categorical_accuracy, CCE, (3,), "categorical_accuracy", None),
    (named_function, CCE, (3,), "named_function", None),
    (NamedObject(), CCE, (3,), "my_score", None),
    (lambda t, p: 0.0, CCE, (3,), "<lambda>", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("identifier", "loss", "shape", "name", "fn"),
    NAMES,
    ids=[
        f"{getattr(i, '__name__', i) if not isinstance(i, NamedObject) else 'object'}-"
        f"{loss.name}-{shape[-1]}"
        for i, loss, shape, *_ in NAMES
    ],
)
def test_metrics_log_under_keras_2_2_4_names(identifier, loss, shape, name, fn):
    metric = compile_metrics.get(identifier, loss, shape)
    assert metric.name == name
    assert metric.stateful is False
    if fn is not None:  # 'accuracy' picks the function Keras 2.2.4 picks
        y_true, y_pred = (
            (IDS[:3], P[:3, :3]) if loss.sparse and shape[-1] > 1 else (BIN_TRUE, BIN_PRED)
        )
        np.testing.assert_array_equal(metric.values(y_true, y_pred), fn(y_true, y_pred))


def test_a_user_function_may_return_a_scalar_or_rows_and_is_averaged_like_keras():
    scalar = compile_metrics.get(lambda t, p: 2.5, MSE, (3,))
    assert scalar(REG_TRUE, REG_PRED) == 2.5
    assert scalar.values(REG_TRUE, REG_PRED).tolist() == [2.5] * N
    rows = compile_metrics.get(lambda t, p: np.abs(t - p), MSE, (3,))
    assert rows(REG_TRUE, REG_PRED) == pytest.approx(np.abs(REG_TRUE - REG_PRED).mean())
    np.testing.assert_allclose(rows.values(REG_TRUE, REG_PRED), np.abs(REG_TRUE - REG_PRED).mean(1))


def test_an_existing_metric_object_is_returned_as_it_is():
    metric = compile_metrics.get("mae", MSE, (3,))
    assert compile_metrics.get(metric, CCE, (3,)) is metric


METRIC_ERRORS = [
    ("categorical_acuracy", r"Unknown metric 'categorical_acuracy' \(did you mean "
     r"'categorical_accuracy'\?\)\. Valid metrics: accuracy, acc, .*Or pass a function"),
    ("f1", r"Unknown metric 'f1'\. Valid metrics: .*top_k_categorical_accuracy"),
    (3, r"Unknown metric 'int'\. Valid metrics: .*f\(y_true, y_pred\)"),
]  # fmt: skip


@pytest.mark.parametrize(("identifier", "match"), METRIC_ERRORS, ids=["typo", "unknown", "int"])
def test_an_unknown_metric_is_refused_naming_the_nearest_valid_one(identifier, match):
    with pytest.raises(ConfigError, match=match):
        compile_metrics.get(identifier, CCE, (3,))


def test_a_user_function_of_the_wrong_shape_is_refused_with_what_it_returned():
    metric = compile_metrics.get(lambda t, p: np.zeros(2), MSE, (3,))
    with pytest.raises(ConfigError, match=r"'<lambda>' returned shape \(2,\) for a batch of 6 "):
        metric.values(REG_TRUE, REG_PRED)


def test_a_user_function_returning_text_is_refused():
    metric = compile_metrics.get(lambda t, p: "good", MSE, (3,))
    with pytest.raises(ConfigError, match=r"'<lambda>' returned str 'good'; a metric returns"):
        metric(REG_TRUE, REG_PRED)


class TruePositives:
    """A numpy stateful metric: the running count of true positives."""

    name = "true_positives"
    stateful = True

    def __init__(self):
        self.count = 0

    def reset_states(self):
        self.count = 0

    def __call__(self, y_true, y_pred):
        self.count += int(np.sum((np.round(y_pred) == 1) & (y_true == 1)))
        return self.count


def test_a_stateful_metric_reports_its_running_value_until_reset():
    metric = compile_metrics.get(TruePositives(), BCE, (1,))
    assert isinstance(metric, compile_metrics.Stateful) and metric.stateful
    assert metric.name == "true_positives"
    y_true = np.array([[1.0], [1.0], [0.0]])
    y_pred = np.array([[0.9], [0.2], [0.8]])
    assert [metric(y_true, y_pred) for _ in range(3)] == [1.0, 2.0, 3.0]
    metric.reset_states()
    assert metric(y_true, y_pred) == 1.0


def test_a_keras_style_stateful_metric_holding_a_backend_variable_works():
    class DummyStatefulMetric:  # as in Keras 2.2.4's test_callbacks.py
        def __init__(self, name="dummy_stateful_metric"):
            self.name = name
            self.stateful = True
            self.state = K.variable(value=0, dtype="int32")

        def reset_states(self):
            pass

        def __call__(self, y_true, y_pred):
            return self.state

    metric = compile_metrics.get(DummyStatefulMetric(), CCE, (3,))
    assert metric.name == "dummy_stateful_metric"
    assert metric(ONE_HOT, P) == 0.0


def test_a_stateful_metric_without_reset_states_is_refused():
    class NoReset:
        name = "running"
        stateful = True

        def __call__(self, y_true, y_pred):
            return 0.0

    with pytest.raises(ConfigError, match=r"stateful metric 'running' has no reset_states\(\)"):
        compile_metrics.get(NoReset(), CCE, (3,))


def test_a_stateful_metric_cannot_be_weighted_per_sample():
    metric = compile_metrics.get(TruePositives(), BCE, (1,))
    with pytest.raises(ModelError, match=r"'true_positives' keeps a running value.*weighted_"):
        metric.values(BIN_TRUE, BIN_PRED)


PER_OUTPUT = [
    (["acc", "mse"], [["acc", "mse"], ["acc", "mse"]]),
    ({"b": "acc"}, [[], ["acc"]]),
    ({"a": ["acc", "mae"], "b": ("mse",)}, [["acc", "mae"], ["mse"]]),
    (None, [[], []]),
]


@pytest.mark.parametrize(("given", "expected"), PER_OUTPUT, ids=["list", "dict", "lists", "none"])
def test_metrics_map_to_outputs_as_keras_collect_metrics_does(given, expected):
    assert compile_metrics.per_output(given, ["a", "b"]) == expected


def test_a_metrics_dict_key_that_names_no_output_is_refused_with_the_nearest():
    with pytest.raises(ConfigError, match=r"key 'out_1' \(did you mean 'out1'\?\), which names no"):
        compile_metrics.per_output({"out_1": "acc"}, ["out1", "out2"])


def test_metrics_that_are_neither_list_nor_dict_are_refused():
    with pytest.raises(ConfigError, match=r"metrics must be a list .*; received str\. For example"):
        compile_metrics.per_output("accuracy", ["out"])


LOGGED = [
    ("acc", "out", ["loss"], False, False, "acc"),
    ("acc", "out", ["loss", "acc"], False, False, "acc_1"),
    ("acc", "out", ["loss", "acc", "acc_1"], False, False, "acc_2"),
    ("acc", "dense_2", ["loss", "dense_1_loss", "dense_2_loss"], True, False, "dense_2_acc"),
    ("acc", "out", ["loss"], False, True, "weighted_acc"),
    ("mean_squared_error", "b", ["loss"], True, True, "b_weighted_mean_squared_error"),
]


@pytest.mark.parametrize(
    ("name", "output", "taken", "multi", "weighted", "expected"),
    LOGGED,
    ids=["plain", "dedupe", "dedupe-twice", "multi-output", "weighted", "multi-weighted"],
)
def test_logged_names_follow_keras_prefixes_and_deduplication(
    name, output, taken, multi, weighted, expected
):
    assert compile_metrics.logged_name(name, output, taken, multi, weighted) == expected


# -- weighted losses --------------------------------------------------------

LOSSES = [
    (losses.categorical_crossentropy, ONE_HOT, P),
    (losses.sparse_categorical_crossentropy, IDS, P),
    (losses.binary_crossentropy, BIN_TRUE, BIN_PRED),
    (losses.mean_squared_error, REG_TRUE, REG_PRED),
    (losses.mean_absolute_error, REG_TRUE, REG_PRED),
]
WEIGHTS = np.array([1.0, 0.0, 2.5, 0.5, 0.0, 3.0])


def plain_losses(loss, y_true, y_pred):
    """Each loss per sample, written out."""
    if loss.name == "categorical_crossentropy":
        return -(y_true * np.log(y_pred / y_pred.sum(1, keepdims=True))).sum(1)
    if loss.name == "sparse_categorical_crossentropy":
        return -np.log(y_pred[np.arange(len(y_true)), y_true])
    if loss.name == "binary_crossentropy":
        return -(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred)).mean(1)
    if loss.name == "mean_squared_error":
        return ((y_pred - y_true) ** 2).mean(1)
    return np.abs(y_pred - y_true).mean(1)


@pytest.mark.parametrize(("loss", "y_true", "y_pred"), LOSSES, ids=[c[0].name for c in LOSSES])
def test_a_weighted_loss_matches_numpy(loss, y_true, y_pred):
    per_sample = plain_losses(loss, y_true, y_pred)
    np.testing.assert_allclose(loss.values(y_true, y_pred), per_sample, rtol=1e-9)
    assert loss(y_true, y_pred) == pytest.approx(per_sample.mean(), rel=1e-9)
    # Keras 2.2.4: score *= w; score /= mean(w != 0); mean(score)
    keras = np.mean(per_sample * WEIGHTS / np.mean(WEIGHTS != 0))
    assert losses.weighted_mean(loss.values(y_true, y_pred), WEIGHTS) == pytest.approx(keras)
    assert losses.weighted_mean(loss.values(y_true, y_pred), None) == pytest.approx(
        per_sample.mean()
    )


def test_sparse_losses_take_class_ids_of_shape_n_1():
    loss = losses.sparse_categorical_crossentropy
    column = IDS[:, None]
    np.testing.assert_allclose(loss.values(column, P), loss.values(IDS, P))
    np.testing.assert_allclose(loss.values(IDS.astype(float), P), loss.values(IDS, P))
    assert loss(column, P) == pytest.approx(loss(IDS, P))
    np.testing.assert_allclose(loss.gradient(column, P), loss.gradient(IDS, P))
    np.testing.assert_allclose(
        loss.fused_gradient(column, P.copy()), loss.fused_gradient(IDS, P.copy())
    )


def test_losses_of_outputs_with_more_axes_average_them_per_sample():
    y_true, y_pred = RNG.normal(size=(4, 3, 2)), RNG.normal(size=(4, 3, 2))
    got = losses.mean_squared_error.values(y_true, y_pred)
    np.testing.assert_allclose(got, ((y_pred - y_true) ** 2).reshape(4, -1).mean(1))


def test_a_batch_whose_weights_are_all_zero_has_no_loss_and_no_gradient():
    values = losses.mean_squared_error.values(REG_TRUE, REG_PRED)
    assert losses.weighted_mean(values, np.zeros(N)) == 0.0
    assert losses.gradient_scale(np.zeros(N)).tolist() == [0.0] * N


def numeric_gradient(f, x, h=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        up = f(x)
        x[index] = old - h
        down = f(x)
        x[index] = old
        grad[index] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize(("loss", "y_true", "y_pred"), LOSSES, ids=[c[0].name for c in LOSSES])
def test_scaling_the_gradient_rows_gives_the_weighted_loss_gradient(loss, y_true, y_pred):
    out = y_pred.copy()
    want = numeric_gradient(lambda o: losses.weighted_mean(loss.values(y_true, o), WEIGHTS), out)
    scale = losses.gradient_scale(WEIGHTS)
    got = loss.gradient(y_true, out) * scale[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


FUSED = [
    (losses.categorical_crossentropy, ONE_HOT, softmax, (N, C)),
    (losses.sparse_categorical_crossentropy, IDS, softmax, (N, C)),
    (losses.binary_crossentropy, BIN_TRUE, sigmoid, (N, 3)),
]


@pytest.mark.parametrize(
    ("loss", "y_true", "activation", "shape"), FUSED, ids=[c[0].name for c in FUSED]
)
def test_scaling_the_fused_gradient_gives_the_weighted_loss_gradient(
    loss, y_true, activation, shape
):
    z = RNG.normal(size=shape)
    want = numeric_gradient(
        lambda x: losses.weighted_mean(loss.values(y_true, activation(x)), WEIGHTS), z
    )
    got = loss.fused_gradient(y_true, activation(z)) * losses.gradient_scale(WEIGHTS)[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)


def test_the_gradient_scale_is_float32_weights_over_the_nonzero_fraction():
    scale = losses.gradient_scale(WEIGHTS)
    assert scale.dtype == np.float32
    np.testing.assert_allclose(scale, WEIGHTS / np.mean(WEIGHTS != 0), rtol=1e-6)


def test_the_old_accuracy_helpers_stay_importable():
    assert losses.accuracy_for(losses.sparse_categorical_crossentropy, 3) == "sparse_categorical"
    assert losses.accuracy("categorical", ONE_HOT, P) == pytest.approx(
        np.mean(ONE_HOT.argmax(1) == P.argmax(1))
    )


# -- sample_weight and class_weight ----------------------------------------

CLASS_WEIGHT = {0: 1.0, 1: 2.0, 2: 0.5, 3: 4.0}
STANDARDIZED = [
    (ONE_HOT, None, CLASS_WEIGHT, [1.0, 2.0, 0.5, 4.0, 2.0, 0.5]),
    (IDS, None, CLASS_WEIGHT, [1.0, 2.0, 0.5, 4.0, 2.0, 0.5]),
    (IDS[:, None].astype(float), None, CLASS_WEIGHT, [1.0, 2.0, 0.5, 4.0, 2.0, 0.5]),
    (np.array([[0.0], [1.0], [1.0]]), None, {0: 1, 1: 3}, [1.0, 3.0, 3.0]),
    (ONE_HOT, WEIGHTS, None, WEIGHTS.tolist()),
    (ONE_HOT, list(WEIGHTS), {}, WEIGHTS.tolist()),
    (ONE_HOT, None, None, None),
    (ONE_HOT, None, {}, None),
]


@pytest.mark.parametrize(
    ("y", "sample_weight", "class_weight", "expected"),
    STANDARDIZED,
    ids=["one-hot", "ids", "ids-n-1", "binary", "sample", "sample-list", "none", "empty-dict"],
)
def test_weights_standardize_as_keras_standardize_weights_does(
    y, sample_weight, class_weight, expected
):
    got = weights.standardize(y, sample_weight, class_weight)
    if expected is None:
        assert got is None
    else:
        assert got.dtype == np.float32 and got.shape == (len(y),)
        np.testing.assert_allclose(got, expected)


def test_sample_weight_wins_over_class_weight_with_keras_warning():
    with pytest.warns(HookfitWarning, match=r"Found both `sample_weight` and `class_weight`: "):
        got = weights.standardize(ONE_HOT, WEIGHTS, CLASS_WEIGHT)
    np.testing.assert_allclose(got, WEIGHTS)


WEIGHT_ERRORS = [
    (ONE_HOT, np.ones((N, 2)), None,
     r"fit\(\): sample_weight has shape \(6, 2\); pass a 1-D array of 6 weights, one per "
     r"sample\. Keras's per-timestep weights \(sample_weight_mode='temporal'\) are not"),
    (ONE_HOT, 2.0, None, r"sample_weight has shape \(\); pass a 1-D array of 6 weights"),
    (ONE_HOT, np.ones(5), None,
     r"sample_weight has 5 weights for 6 samples; pass one weight per sample, shape \(6,\)\."),
    (ONE_HOT, [1, 1, -1, 1, 1, 1], None, r"sample_weight\[2\] is -1\.0; weights must be finite"),
    (ONE_HOT, [1, 1, 1, np.nan, 1, 1], None, r"sample_weight\[3\] is nan; weights must be"),
    (ONE_HOT, ["a"] * N, None, r"sample_weight must hold numbers; got text"),
    (ONE_HOT, None, [1.0, 2.0], r"class_weight must be a dict \{class id: weight\}, .*list\."),
    (ONE_HOT, None, {"cat": 1.0}, r"class_weight has the key 'cat'; its keys are class ids"),
    (ONE_HOT, None, {0: "x"}, r"class_weight\[0\] is 'x'; weights must be finite numbers >= 0"),
    (ONE_HOT, None, {0: -1.0}, r"class_weight\[0\] is -1\.0; weights must be finite"),
    (ONE_HOT, None, {0: 1.0, 1: 1.0},
     r"class_weight must contain all classes in the data\. The classes \[2, 3\] exist in the "
     r"data but not in class_weight \(keys: \[0, 1\]\)"),
    (np.zeros((N, 2, 2)), None, {0: 1.0},
     r"class_weight is not supported for targets of 3 or more dimensions \(shape \(6, 2, 2\)\)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("y", "sample_weight", "class_weight", "match"),
    WEIGHT_ERRORS,
    ids=[
        "temporal", "scalar", "length", "negative", "nan", "text", "class-list", "class-key",
        "class-value", "class-negative", "missing-class", "3d-targets",
    ],
)  # fmt: skip
def test_bad_weights_are_refused_saying_what_was_received(y, sample_weight, class_weight, match):
    with pytest.raises(ConfigError, match=match):
        weights.standardize(y, sample_weight, class_weight, "fit()")


W2 = np.arange(N, dtype=float)
FOR_OUTPUTS = [
    ("sample_weight", WEIGHTS, ["out"], [WEIGHTS]),
    ("sample_weight", [WEIGHTS], ["out"], [WEIGHTS]),
    ("sample_weight", {"out": WEIGHTS}, ["out"], [WEIGHTS]),
    ("class_weight", CLASS_WEIGHT, ["out"], [CLASS_WEIGHT]),
    ("class_weight", {"out": CLASS_WEIGHT}, ["out"], [CLASS_WEIGHT]),
    ("sample_weight", [WEIGHTS, W2], ["a", "b"], [WEIGHTS, W2]),
    ("sample_weight", {"b": W2}, ["a", "b"], [None, W2]),
    ("class_weight", {"a": CLASS_WEIGHT}, ["a", "b"], [CLASS_WEIGHT, None]),
    ("sample_weight", None, ["a", "b"], [None, None]),
    ("class_weight", {}, ["a", "b"], [None, None]),
]


@pytest.mark.parametrize(
    ("kind", "given", "names", "expected"),
    FOR_OUTPUTS,
    ids=[
        "one-array", "one-list", "one-dict", "one-class", "one-class-by-name", "list", "dict",
        "class-dict", "none", "empty",
    ],
)  # fmt: skip
def test_per_output_weights_are_read_as_keras_does(kind, given, names, expected):
    got = weights.for_outputs(given, names, kind, "fit()")
    assert len(got) == len(expected)
    for one, want in zip(got, expected, strict=True):
        if isinstance(want, np.ndarray):
            np.testing.assert_array_equal(one, want)
        else:
            assert one == want


FOR_OUTPUT_ERRORS = [
    ("sample_weight", [WEIGHTS], ["a", "b"],
     r"fit\(\): sample_weight is a list of 1 entries, but the model has 2 outputs \(a, b\)"),
    ("sample_weight", WEIGHTS, ["a", "b"],
     r"the model has 2 outputs \(a, b\), so sample_weight must be a list .*received ndarray"),
    ("class_weight", {0: 1.0, 1: 2.0}, ["a", "b"],
     r"class_weight has the key 0, which names no output; key it by output name \(a, b\), "
     r"e\.g\. class_weight=\{'a': \{0: 1\.0, 1: 5\.0\}\}"),
    ("sample_weight", {"dense1": WEIGHTS}, ["dense_1", "out"],
     r"key 'dense1' \(did you mean 'dense_1'\?\), which names no output"),
    ("sample_weight", {"other": WEIGHTS}, ["out"], r"sample_weight has the key 'other'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "given", "names", "match"),
    FOR_OUTPUT_ERRORS,
    ids=["short-list", "one-array", "class-dict-not-by-output", "typo", "single-output-dict"],
)
def test_per_output_weights_of_the_wrong_form_are_refused(kind, given, names, match):
    with pytest.raises(ConfigError, match=match):
        weights.for_outputs(given, names, kind, "fit()")


def test_standardize_all_weighs_each_output_and_names_it_in_errors():
    ys = [ONE_HOT, IDS]
    got = weights.standardize_all(ys, {"b": W2}, {"a": CLASS_WEIGHT}, ["a", "b"])
    np.testing.assert_allclose(got[0], [1.0, 2.0, 0.5, 4.0, 2.0, 0.5])
    np.testing.assert_allclose(got[1], W2)
    with pytest.raises(ConfigError, match=r"fit\(\) output 'b': sample_weight has 2 weights"):
        weights.standardize_all(ys, [None, [1.0, 2.0]], None, ["a", "b"])
    assert weights.standardize_all([IDS], None, None, ["out"]) == [None]


@pytest.mark.parametrize(
    ("name", "loss", "suits"),
    [
        ("top_k_categorical_accuracy", "sparse_categorical_crossentropy", "sparse_top_k_"),
        ("categorical_accuracy", "sparse_categorical_crossentropy", "sparse_categorical_"),
        ("sparse_categorical_accuracy", "categorical_crossentropy", "categorical_accuracy"),
    ],
    ids=["top-k-sparse-loss", "categorical-sparse-loss", "sparse-categorical-loss"],
)
def test_a_metric_whose_targets_differ_from_the_losss_is_refused_naming_the_one_that_suits(
    name, loss, suits
):
    with pytest.raises(
        ConfigError, match=rf"metric '{name}' does not suit loss '{loss}'.*'{suits}"
    ):
        compile_metrics.get(name, losses.get(loss), (10,))
