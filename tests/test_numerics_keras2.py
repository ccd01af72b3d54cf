"""Keras 2's initializers, regularizers and the optimizers Adadelta, Adamax
and Nadam, against Keras 2.2.4's formulas written plainly in numpy."""

import json
import math

import numpy as np
import pytest

from hookfit import ConfigError, FormatError, backend, initializers, optimizers, regularizers
from hookfit.saving import checks

# -- initializers --------------------------------------------------------------------------

CONV = (3, 3, 16, 32)  # a Conv2D kernel: fan_in 3*3*16 = 144, fan_out 3*3*32 = 288
CUT = 0.87962566103423978  # the standard deviation of a unit normal cut at +-2


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((10, 20), (10, 20)),
        (CONV, (144, 288)),
        ((5, 8, 12), (40, 60)),
        ((2, 2, 2, 3, 4), (24, 32)),
        ((16,), (4, 4)),
        ((), (1, 1)),
    ],
    ids=["dense", "conv2d", "conv1d", "conv3d", "bias", "scalar"],
)
def test_fans_are_keras_2s(shape, fans):
    assert initializers.fans(shape) == pytest.approx(fans)


def test_constant_fills_with_its_value():
    w = initializers.Constant(value=1e5)((2, 3), np.random.default_rng(0), np.float32)
    assert w.dtype == np.float32 and w.shape == (2, 3) and (w == 1e5).all()


@pytest.mark.parametrize(
    ("name", "value"),
    [("zeros", 0), ("zero", 0), ("Zeros", 0), ("ones", 1), ("one", 1), ("constant", 0)],
    ids=["zeros", "zero", "Zeros", "ones", "one", "constant"],
)
def test_fixed_initializers_by_name(name, value):
    w = initializers.get(name)((4,), np.random.default_rng(0), np.float32)
    assert w.tolist() == [value] * 4


def draw(init, shape=(200, 300)):
    return init(shape, np.random.default_rng(0), np.float64)


@pytest.mark.parametrize(
    ("init", "shape", "low", "high", "mean", "std"),
    [
        (initializers.get("uniform"), (200, 300), -0.05, 0.05, 0.0, 0.1 / math.sqrt(12)),
        (initializers.RandomUniform(1.0, 3.0), (200, 300), 1.0, 3.0, 2.0, 2 / math.sqrt(12)),
        (initializers.get("normal"), (200, 300), None, None, 0.0, 0.05),
        (initializers.RandomNormal(1.0, 2.0), (200, 300), None, None, 1.0, 2.0),
        (initializers.get("truncated_normal"), (200, 300), -0.1, 0.1, 0.0, 0.05 * CUT),
        (initializers.TruncatedNormal(2.0, 1.0), (200, 300), 0.0, 4.0, 2.0, CUT),
        (
            initializers.glorot_uniform(),
            CONV,
            -math.sqrt(6 / 432),
            math.sqrt(6 / 432),
            0.0,
            math.sqrt(2 / 432),
        ),
        (
            initializers.glorot_normal(),
            CONV,
            -2 * math.sqrt(2 / 432) / CUT,
            2 * math.sqrt(2 / 432) / CUT,
            0.0,
            math.sqrt(2 / 432),
        ),
        (
            initializers.he_uniform(),
            CONV,
            -math.sqrt(6 / 144),
            math.sqrt(6 / 144),
            0.0,
            math.sqrt(2 / 144),
        ),
        (
            initializers.he_normal(),
            CONV,
            -2 * math.sqrt(2 / 144) / CUT,
            2 * math.sqrt(2 / 144) / CUT,
            0.0,
            math.sqrt(2 / 144),
        ),
        (
            initializers.lecun_uniform(),
            CONV,
            -math.sqrt(3 / 144),
            math.sqrt(3 / 144),
            0.0,
            math.sqrt(1 / 144),
        ),
        (
            initializers.lecun_normal(),
            (400, 100),
            -2 * math.sqrt(1 / 400) / CUT,
            2 * math.sqrt(1 / 400) / CUT,
            0.0,
            math.sqrt(1 / 400),
        ),
        (
            initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal"),
            CONV,
            None,
            None,
            0.0,
            math.sqrt(2 / 288),
        ),
    ],
    ids=[
        "uniform",
        "uniform-1-3",
        "normal",
        "normal-1-2",
        "truncated",
        "truncated-2-1",
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_uniform",
        "lecun_normal",
        "variance-fan-out",
    ],
)
def test_random_initializers_follow_keras_2s_distributions(init, shape, low, high, mean, std):
    w = draw(init, shape)
    assert w.shape == shape
    if low is not None:
        assert low <= w.min() and w.max() <= high
    assert w.mean() == pytest.approx(mean, abs=4 * std / math.sqrt(w.size))
    assert w.std() == pytest.approx(std, rel=0.03)


def test_truncated_normal_redraws_beyond_two_stddev_instead_of_clipping():
    w = draw(initializers.TruncatedNormal(0.0, 1.0), (100_000,))
    assert np.abs(w).max() < 2.0  # clipping would pile 4.6% of the values on +-2
    assert (np.abs(w) > 1.99).mean() < 3e-3  # the cut density there: about 0.11%


def test_keras_2s_normal_distribution_is_the_truncated_one():
    init = initializers.from_config(
        {
            "class_name": "VarianceScaling",
            "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "normal", "seed": None},
        }
    )
    assert init.distribution == "truncated_normal"
    w = draw(init, (300, 300))
    assert np.abs(w).max() <= 2 * math.sqrt(1 / 300) / CUT
    assert w.std() == pytest.approx(math.sqrt(1 / 300), rel=0.03)


@pytest.mark.parametrize(
    ("shape", "gain"),
    [((8, 8), 1.0), ((20, 5), 2.0), ((3, 7), 1.0), (CONV, 0.5)],
    ids=["square", "tall", "wide", "conv"],
)
def test_orthogonal_gives_orthonormal_columns_or_rows(shape, gain):
    w = initializers.Orthogonal(gain=gain)(shape, np.random.default_rng(0), np.float64)
    assert w.shape == shape
    flat = w.reshape(-1, shape[-1])
    small = min(flat.shape)
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(small), atol=1e-12)


def test_identity_is_the_identity_matrix_times_gain():
    w = initializers.get("identity")((4, 4), np.random.default_rng(0), np.float32)
    np.testing.assert_array_equal(w, np.eye(4, dtype=np.float32))
    np.testing.assert_array_equal(
        initializers.Identity(gain=0.5)((3, 3), np.random.default_rng(0), np.float32),
        0.5 * np.eye(3),
    )


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("zero", initializers.Zeros),
        ("zeros", initializers.Zeros),
        ("one", initializers.Ones),
        ("ones", initializers.Ones),
        ("constant", initializers.Constant),
        ("uniform", initializers.RandomUniform),
        ("random_uniform", initializers.RandomUniform),
        ("normal", initializers.RandomNormal),
        ("random_normal", initializers.RandomNormal),
        ("truncated_normal", initializers.TruncatedNormal),
        ("identity", initializers.Identity),
        ("orthogonal", initializers.Orthogonal),
        ("glorot_normal", initializers.GlorotNormal),
        ("glorot_uniform", initializers.GlorotUniform),
        ("he_normal", initializers.HeNormal),
        ("he_uniform", initializers.HeUniform),
        ("lecun_normal", initializers.LecunNormal),
        ("lecun_uniform", initializers.LecunUniform),
        ("TruncatedNormal", initializers.TruncatedNormal),
        ("VarianceScaling", initializers.VarianceScaling),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_keras_2_names_resolve_and_are_exported(name, cls):
    assert type(initializers.get(name)) is cls
    exported = getattr(initializers, name)
    made = exported() if callable(exported) else exported
    assert isinstance(made, cls)


def test_keras_2_defaults():
    assert initializers.Constant().value == 0
    assert (initializers.RandomNormal().mean, initializers.RandomNormal().stddev) == (0.0, 0.05)
    assert (initializers.TruncatedNormal().mean, initializers.TruncatedNormal().stddev) == (
        0.0,
        0.05,
    )
    uniform = initializers.RandomUniform()
    assert (uniform.minval, uniform.maxval, uniform.seed) == (-0.05, 0.05, None)
    scaling = initializers.VarianceScaling()
    assert (scaling.scale, scaling.mode, scaling.distribution) == (
        1.0,
        "fan_in",
        "truncated_normal",
    )
    assert initializers.Orthogonal().gain == 1.0 and initializers.Identity().gain == 1.0


@pytest.mark.parametrize(
    "init",
    [
        initializers.Zeros(),
        initializers.Ones(),
        initializers.Constant(value=1e5),
        initializers.RandomUniform(-1.0, 2.0, seed=1),
        initializers.RandomNormal(0.5, 2.0, seed=2),
        initializers.TruncatedNormal(0.0, 3.0, seed=3),
        initializers.VarianceScaling(2.0, "fan_avg", "uniform", seed=4),
        initializers.Orthogonal(gain=1.5, seed=5),
        initializers.Identity(gain=2.0),
        initializers.glorot_uniform(seed=6),
        initializers.he_normal(seed=7),
        initializers.lecun_normal(seed=8),
    ],
    ids=lambda init: init.class_name,
)
def test_config_round_trip_gives_the_same_initializer(init):
    config = json.loads(json.dumps({"class_name": init.class_name, "config": init.get_config()}))
    rebuilt = initializers.get(config)
    assert type(rebuilt) is type(init) and rebuilt.get_config() == init.get_config()
    rng = np.random.default_rng(0)
    shape = (6, 6)
    np.testing.assert_array_equal(init(shape, rng, np.float32), rebuilt(shape, rng, np.float32))


# -- regularizers --------------------------------------------------------------------------


def weights():
    w = np.random.default_rng(1).normal(size=(7, 5)).astype(np.float32)
    w[0, 0] = 0.0  # sign(0) is 0: no L1 pull on a weight at zero
    return w


@pytest.mark.parametrize(
    ("regularizer", "l1", "l2"),
    [
        (regularizers.l1(), 0.01, 0.0),
        (regularizers.l2(), 0.0, 0.01),
        (regularizers.l1_l2(), 0.01, 0.01),
        (regularizers.l1(0.3), 0.3, 0.0),
        (regularizers.l2(0.2), 0.0, 0.2),
        (regularizers.l1_l2(l1=0.1, l2=0.05), 0.1, 0.05),
        (regularizers.L1L2(), 0.0, 0.0),
        (regularizers.L1L2(l2=1e-4), 0.0, 1e-4),
    ],
    ids=["l1", "l2", "l1_l2", "l1-0.3", "l2-0.2", "l1_l2-both", "L1L2", "L1L2-l2"],
)
def test_regularizer_penalty_and_gradient_match_numpy(regularizer, l1, l2):
    w = weights()
    w64 = w.astype(np.float64)
    assert (regularizer.l1, regularizer.l2) == (l1, l2)
    assert regularizer(w) == pytest.approx(
        l1 * np.abs(w64).sum() + l2 * np.square(w64).sum(), rel=1e-6
    )
    grad = regularizer.gradient(w)
    assert grad.dtype == np.float32 and grad.shape == w.shape
    np.testing.assert_allclose(grad, l1 * np.sign(w64) + 2 * l2 * w64, rtol=1e-6, atol=1e-9)
    into = np.ones_like(w)
    regularizer.add_gradient(w, into)
    np.testing.assert_allclose(into, 1 + grad, rtol=1e-6)


def test_the_regularizer_gradient_is_the_penalty_slope():
    reg, w, step = regularizers.l1_l2(0.1, 0.2), weights().astype(np.float64), 1e-6
    w[0, 0] = 0.5  # away from |w|'s kink
    numeric = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        up, down = w.copy(), w.copy()
        up[i] += step
        down[i] -= step
        numeric[i] = (reg(up) - reg(down)) / (2 * step)
    np.testing.assert_allclose(reg.gradient(w), numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    ("identifier", "l1", "l2"),
    [
        ("l1", 0.01, 0.0),
        ("l2", 0.0, 0.01),
        ("l1_l2", 0.01, 0.01),
        ("L1L2", 0.0, 0.0),
        ({"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.009999999776482582}}, 0.0, 0.01),
        ({"class_name": "L1L2", "config": {"l1": 0.5}}, 0.5, 0.0),
        ({"class_name": "L2", "config": {"l2": 0.02}}, 0.0, 0.02),
        ({"class_name": "L1", "config": {}}, 0.01, 0.0),
    ],
    ids=["l1", "l2", "l1_l2", "L1L2", "keras-2-config", "partial", "keras-3-L2", "keras-3-L1"],
)
def test_regularizers_by_name_and_saved_config(identifier, l1, l2):
    reg = regularizers.get(identifier)
    assert isinstance(reg, regularizers.L1L2)
    assert (reg.l1, reg.l2) == pytest.approx((l1, l2))


def test_get_passes_none_and_objects_through_and_configs_round_trip():
    assert regularizers.get(None) is None
    reg = regularizers.l1_l2(0.25, 0.5)
    assert regularizers.get(reg) is reg
    config = json.loads(json.dumps({"class_name": "L1L2", "config": reg.get_config()}))
    assert config["config"] == {"l1": 0.25, "l2": 0.5}
    assert regularizers.get(config).get_config() == reg.get_config()
    assert regularizers.Regularizer()(weights()) == 0.0
    assert not regularizers.Regularizer().gradient(weights()).any()
    assert regularizers.L1L2.from_config({"l2": 0.5}).l2 == 0.5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: regularizers.get("l1l2"),
            r"Unknown regularizer 'l1l2' \(did you mean 'l1_l2'\?\)\. "
            r"Valid regularizers: l1, l2, l1_l2, L1L2\.",
        ),
        (lambda: regularizers.get(0.01), r"Unknown regularizer 'float'"),
        (
            lambda: regularizers.get({"class_name": "L1l2", "config": {}}),
            r"Unknown regularizer class 'L1l2' \(did you mean 'L1L2'\?\)\. Known: L1L2, L1, L2\.",
        ),
        (
            lambda: regularizers.get({"class_name": "L1L2", "config": {"l_2": 0.1}}),
            r"Regularizer L1L2 has no setting 'l_2' \(did you mean 'l2'\?\); it takes l1, l2\.",
        ),
        (
            lambda: regularizers.get({"class_name": "L2", "config": [0.1]}),
            r"Regularizer L2: config must be a table, got \[0\.1\]\.",
        ),
        (
            lambda: regularizers.l2(-0.01),
            r"L1L2: l2 must be a finite number >= 0, got -0\.01\.",
        ),
        (lambda: regularizers.L1L2(l1="a"), r"L1L2: l1 must be a number, got 'a'\."),
    ],
    ids=[
        "unknown-name",
        "not-a-name",
        "unknown-class",
        "unknown-setting",
        "bad-config",
        "neg",
        "nan",
    ],
)
def test_regularizer_refusals_name_the_nearest(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_an_unknown_regularizer_says_to_pass_an_object():
    with pytest.raises(ConfigError) as caught:
        regularizers.get("l3")
    assert "Or pass a regularizer object, e.g. hookfit.regularizers.l2(0.01)." in (
        caught.value.__notes__
    )


# -- initializer refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: initializers.get("glorot_unifrom"),
            r"Unknown initializer 'glorot_unifrom' \(did you mean 'glorot_uniform'\?\)\. "
            r"Valid initializers: zeros, zero, ones",
        ),
        (
            lambda: initializers.from_config({"class_name": "Orthogonl"}),
            r"Unknown initializer class 'Orthogonl' \(did you mean 'Orthogonal'\?\)\. Known: ",
        ),
        (
            lambda: initializers.VarianceScaling(scale=0),
            r"VarianceScaling: scale must be a number > 0, got 0\. Keras's initializers use 1\.0",
        ),
        (
            lambda: initializers.VarianceScaling(mode="fan_avgg"),
            r"mode must be fan_in, fan_out or fan_avg, got 'fan_avgg' \(did you mean 'fan_avg'\?\)",
        ),
        (
            lambda: initializers.VarianceScaling(distribution="uniformm"),
            r"got 'uniformm' \(did you mean 'uniform'\?\)",
        ),
        (
            lambda: initializers.Identity()((3, 4), np.random.default_rng(0), np.float32),
            r"Identity: the identity initializer makes square 2-D matrices, got shape \(3, 4\)\. "
            r"Give the layer as many units as inputs, or use Orthogonal\.",
        ),
        (
            lambda: initializers.Orthogonal()((), np.random.default_rng(0), np.float32),
            r"Orthogonal: cannot initialize a scalar \(shape \(\)\); it needs a weight of at "
            r"least one dimension\. Use Constant for a scalar\.",
        ),
    ],
    ids=[
        "unknown-name",
        "unknown-class",
        "scale",
        "mode",
        "distribution",
        "identity-not-square",
        "orthogonal-scalar",
    ],
)
def test_initializer_refusals_name_the_nearest(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


# -- optimizers: Keras 2.2.4's rules, plainly in float64 -----------------------------------

EPS = 1e-7  # K.epsilon()


def adadelta_reference(ws, grads_per_step, lr=1.0, rho=0.95, epsilon=EPS, decay=0.0):
    ws = [w.astype(np.float64) for w in ws]
    a = [np.zeros_like(w) for w in ws]
    d_a = [np.zeros_like(w) for w in ws]
    for iterations, grads in enumerate(grads_per_step):
        rate = lr * (1.0 / (1.0 + decay * iterations))
        for i, g in enumerate(grads):
            a[i] = rho * a[i] + (1.0 - rho) * g**2
            update = g * np.sqrt(d_a[i] + epsilon) / np.sqrt(a[i] + epsilon)
            ws[i] = ws[i] - rate * update
            d_a[i] = rho * d_a[i] + (1.0 - rho) * update**2
    return ws


def adamax_reference(
    ws, grads_per_step, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=EPS, decay=0.0
):
    ws = [w.astype(np.float64) for w in ws]
    m = [np.zeros_like(w) for w in ws]
    u = [np.zeros_like(w) for w in ws]
    for iterations, grads in enumerate(grads_per_step):
        rate = lr * (1.0 / (1.0 + decay * iterations))
        t = iterations + 1
        lr_t = rate / (1.0 - beta_1**t)
        for i, g in enumerate(grads):
            m[i] = beta_1 * m[i] + (1.0 - beta_1) * g
            u[i] = np.maximum(beta_2 * u[i], np.abs(g))
            ws[i] = ws[i] - lr_t * m[i] / (u[i] + epsilon)
    return ws


def nadam_reference(
    ws, grads_per_step, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=EPS, schedule_decay=0.004
):
    ws = [w.astype(np.float64) for w in ws]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    m_schedule = 1.0
    for iterations, grads in enumerate(grads_per_step):
        t = iterations + 1
        momentum_cache_t = beta_1 * (1.0 - 0.5 * 0.96 ** (t * schedule_decay))
        momentum_cache_t_1 = beta_1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * schedule_decay))
        m_schedule_new = m_schedule * momentum_cache_t
        m_schedule_next = m_schedule * momentum_cache_t * momentum_cache_t_1
        m_schedule = m_schedule_new
        for i, g in enumerate(grads):
            g_prime = g / (1.0 - m_schedule_new)
            m[i] = beta_1 * m[i] + (1.0 - beta_1) * g
            m_t_prime = m[i] / (1.0 - m_schedule_next)
            v[i] = beta_2 * v[i] + (1.0 - beta_2) * g**2
            v_t_prime = v[i] / (1.0 - beta_2**t)
            m_t_bar = (1.0 - momentum_cache_t) * g_prime + momentum_cache_t_1 * m_t_prime
            ws[i] = ws[i] - lr * m_t_bar / (np.sqrt(v_t_prime) + epsilon)
    return ws


def problem(steps, seed=0):
    """Weights (a kernel and a bias) and a gradient per step, float32."""
    rng = np.random.default_rng(seed)
    ws = [rng.normal(size=(9, 4)).astype(np.float32), rng.normal(size=4).astype(np.float32)]
    grads = [
        [(rng.normal(size=w.shape) * rng.choice([1e-3, 1.0])).astype(np.float32) for w in ws]
        for _ in range(steps)
    ]
    return ws, grads


def run(opt, ws, grads_per_step):
    ws = [w.copy() for w in ws]
    buffers = [np.zeros_like(w) for w in ws]  # layers write into the same gradient arrays
    for grads in grads_per_step:
        for buffer, g in zip(buffers, grads, strict=True):
            buffer[...] = g
        opt.apply(ws, buffers)
    return ws


CASES = [
    ("adadelta", optimizers.Adadelta, adadelta_reference, {}),
    (
        "adadelta-set",
        optimizers.Adadelta,
        adadelta_reference,
        {"lr": 0.5, "rho": 0.9, "decay": 0.1},
    ),
    ("adamax", optimizers.Adamax, adamax_reference, {}),
    (
        "adamax-set",
        optimizers.Adamax,
        adamax_reference,
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4, "decay": 0.05},
    ),
    ("nadam", optimizers.Nadam, nadam_reference, {}),
    (
        "nadam-set",
        optimizers.Nadam,
        nadam_reference,
        {"lr": 0.01, "beta_1": 0.85, "beta_2": 0.99, "schedule_decay": 0.04},
    ),
]


@pytest.mark.parametrize("steps", [1, 6], ids=["one-step", "six-steps"])
@pytest.mark.parametrize("chunk", [None, 5], ids=["whole", "chunked"])
@pytest.mark.parametrize(("name", "cls", "reference", "settings"), CASES, ids=[c[0] for c in CASES])
def test_optimizer_steps_match_keras_2s_formulas(name, cls, reference, settings, steps, chunk):
    ws, grads = problem(steps)
    opt = cls(**settings)
    if chunk:
        opt.CHUNK = chunk  # chunk boundaries inside the weights
    got = run(opt, ws, grads)
    expected = reference(ws, [[g.astype(np.float64) for g in step] for step in grads], **settings)
    assert opt.iterations == steps
    for w, want in zip(got, expected, strict=True):
        assert w.dtype == np.float32
        np.testing.assert_allclose(w, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    ("name", "cls", "config"),
    [
        (
            "adadelta",
            optimizers.Adadelta,
            {"name": "Adadelta", "learning_rate": 1.0, "rho": 0.95, "epsilon": 1e-7, "decay": 0.0},
        ),
        (
            "adamax",
            optimizers.Adamax,
            {
                "name": "Adamax",
                "learning_rate": 0.002,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-7,
                "decay": 0.0,
            },
        ),
        (
            "nadam",
            optimizers.Nadam,
            {
                "name": "Nadam",
                "learning_rate": 0.002,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-7,
                "schedule_decay": 0.004,
            },
        ),
    ],
    ids=["adadelta", "adamax", "nadam"],
)
def test_new_optimizers_by_name_with_keras_2_defaults(name, cls, config):
    for identifier in (name, cls.__name__, name.upper()):
        opt = optimizers.get(identifier)
        assert type(opt) is cls and opt.get_config() == config
    settings = {k: v for k, v in config.items() if k != "name"}
    assert cls(**settings).get_config() == config  # the config names are the arguments


def test_k_set_value_sets_the_new_optimizers_rates():
    for opt in (optimizers.Adadelta(), optimizers.Adamax(lr=0.1), optimizers.Nadam()):
        backend.set_value(opt.lr, 0.25)
        assert opt.lr == 0.25 and backend.get_value(opt.lr) == 0.25


def save_state(opt):
    """What the model file holds of an optimizer (saving/hdf5.py's layout)."""
    attrs = json.dumps(
        {
            "class_name": type(opt).__name__,
            "config": opt.get_config(),
            "iterations": opt.iterations,
        }
    )
    return attrs, {name: [a.copy() for a in arrays] for name, arrays in opt.slots.items()}


def restore_state(opt, saved, weights):
    """Restore as saving/hdf5.py does: checked settings, step count, slots."""
    attrs, slots = saved
    settings, iterations = checks.optimizer_state(opt, json.loads(attrs), "m.h5")
    for key, value in settings.items():
        setattr(opt, key, value)
    opt.iterations = iterations
    opt.build(weights)
    for slot in settings["slot_names"]:
        for target, value in zip(opt.slots[slot], slots[slot], strict=True):
            target[...] = value


@pytest.mark.parametrize(
    ("cls", "settings"),
    [
        (optimizers.Adadelta, {"lr": 0.5, "decay": 0.1}),
        (optimizers.Adamax, {"beta_1": 0.8, "decay": 0.01}),
        (optimizers.Nadam, {"schedule_decay": 0.04}),
    ],
    ids=["adadelta", "adamax", "nadam"],
)
def test_a_restored_optimizer_continues_identically(cls, settings):
    ws, grads = problem(7, seed=2)
    first = cls(**settings)
    ws = run(first, ws, grads[:3])
    saved = save_state(first)
    assert sorted(saved[1]) == sorted(first.slot_names)
    fresh = cls()  # compiled with the defaults, as load_model makes it before restoring
    restored_ws = [w.copy() for w in ws]
    restore_state(fresh, saved, restored_ws)
    assert fresh.get_config() == first.get_config() and fresh.iterations == 3
    for a, b in zip(run(first, ws, grads[3:]), run(fresh, restored_ws, grads[3:]), strict=True):
        np.testing.assert_array_equal(a, b)


def test_restoring_another_optimizers_state_is_refused():
    saved = save_state(optimizers.Adamax())
    with pytest.raises(FormatError, match=r"m\.h5 holds Adamax state; the model is compiled"):
        restore_state(optimizers.Nadam(), saved, [])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: optimizers.get("nadamm"),
            r"Unknown optimizer 'nadamm' \(did you mean 'nadam'\?\)\. Valid optimizers: sgd, "
            r"rmsprop, adagrad, adadelta, adam, adamax, nadam\.",
        ),
        (lambda: optimizers.Adadelta(rho=1.0), r"Adadelta: rho must be in \[0, 1\), got 1\.0\."),
        (
            lambda: optimizers.Adamax(epsilon=-1),
            r"Adamax: epsilon must be a finite number >= 0, got -1\.",
        ),
        (
            lambda: optimizers.Nadam(schedule_decay=float("nan")),
            r"Nadam: schedule_decay must be a finite number >= 0, got nan\.",
        ),
        (lambda: optimizers.Nadam(beta_2="x"), r"Nadam: beta_2 must be a number, got 'x'\."),
    ],
    ids=["unknown-name", "rho", "epsilon", "schedule-decay", "beta-2"],
)
def test_optimizer_refusals(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
