"""What the functional API and Keras 2's layers refuse, each with a message
that says what was received and what is valid (one row per refusal)."""

import sys

import numpy as np
import pytest

from hookfit import ConfigError, ModelError
from hookfit.layers import (
    Concatenate,
    Dense,
    Dot,
    Flatten,
    Input,
    InputLayer,
    Lambda,
    Layer,
    Reshape,
    Subtract,
)
from hookfit.models import Model, Sequential
from hookfit.utils.generic_utils import to_list, unpack_singleton

X = np.zeros((4, 3), np.float32)
Y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]


def two_outputs():
    a = Input((3,), name="a")
    model = Model(a, [Dense(2, name="left")(a), Dense(1, name="right")(a)])
    model.compile("sgd", "mse")
    return model


def compiled():
    model = Sequential([Dense(2, input_dim=3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    return model


REFUSALS = [
    ("input-tensor", lambda: Input(tensor=X), r"^Input: tensor= needs a backend tensor"),
    ("input-sparse", lambda: Input((3,), sparse=True), r"sparse inputs are not supported"),
    ("input-no-shape", lambda: InputLayer(), r"Input needs the shape of one sample"),
    (
        "model-input-not-an-input",
        lambda: Model(Dense(2)(Input((3,))), Dense(1)(Input((2,)))),
        r"^Model: inputs must be Input\(\) tensors; dense_\d+/output:0 comes from dense_\d+\.$",
    ),
    (
        "model-outputs-not-tensors",
        lambda: Model(Input((3,)), X),
        r"^Model: outputs must be tensors",
    ),
    (
        "model-unknown-argument",
        lambda: Model(inputz=Input((3,))),
        r"^Model: unknown argument 'inputz' \(did you mean 'inputs'\?\)\. Model takes inputs, "
        r"outputs and name\.$",
    ),
    ("model-without-tensors", lambda: Model(), r"^Model needs inputs and outputs"),
    (
        "model-as-a-layer",
        lambda: two_outputs()(Input((3,))),
        r"^Model model_\d+ cannot be called on tensors: hookfit does not nest models\. Call its "
        r"layers on the tensors instead",
    ),
    (
        "call-on-an-array",
        lambda: Dense(2)(X),
        r"^dense_\d+: call a layer on Input\(\) tensors or other layers' outputs",
    ),
    (
        "one-input-layer-on-two",
        lambda: Dense(2)([Input((3,)), Input((3,))]),
        r"^dense_\d+ \(Dense\) takes one input, got 2 tensors\.$",
    ),
    (
        "declared-shape-differs",
        lambda: Dense(2, input_shape=(4,))(Input((3,))),
        r"was given input_shape=\(4,\) but is called on samples of shape \(3,\)\.$",
    ),
    (
        "get-layer-neither",
        lambda: two_outputs().get_layer(),
        r"^get_layer takes a name or an index",
    ),
    (
        "get-layer-index",
        lambda: two_outputs().get_layer(index=9),
        r"^get_layer: index 9 is outside the model's 3 layers\.$",
    ),
    (
        "get-layer-name",
        lambda: two_outputs().get_layer("lfet"),
        r"^get_layer: model model_\d+ has no layer 'lfet' \(did you mean 'left'\?\)",
    ),
    (
        "fit-steps-per-epoch",
        lambda: compiled().fit(X, Y, steps_per_epoch=2, verbose=0),
        r"^fit: steps_per_epoch is for tensors, which hookfit does not have",
    ),
    (
        "evaluate-steps",
        lambda: compiled().evaluate(X, Y, steps=2, verbose=0),
        r"^evaluate: steps is for tensors, which hookfit does not have",
    ),
    (
        "weighted-metrics",
        lambda: compiled().compile("sgd", "mse", weighted_metrics=["acc"]),
        r"^compile: weighted_metrics=\['acc'\] is not supported",
    ),
    (
        "sample-weight-mode",
        lambda: compiled().compile("sgd", "mse", sample_weight_mode="temporal"),
        r"^compile: sample_weight_mode='temporal' is not supported",
    ),
    (
        "sequential-add-an-input-layer",
        lambda: Sequential().add(InputLayer(input_shape=(3,))),
        r"^Sequential\.add takes a layer such as Dense\(10\)",
    ),
    (
        "flatten-channels-first",
        lambda: Flatten(data_format="channels_first"),
        r"data_format must be 'channels_last'",
    ),
    (
        "reshape-target",
        lambda: Reshape((2, -1, -1)),
        r"target_shape must be a tuple of positive integers with at most one -1",
    ),
    (
        "reshape-size",
        lambda: Reshape((5,))(Input((2, 3))),
        r"cannot reshape samples of shape \(2, 3\) \(6 values\) to \(5,\)\.$",
    ),
    ("lambda-not-callable", lambda: Lambda(3), r"function must be callable, got 3\.$"),
    ("lambda-mask", lambda: Lambda(abs, mask=True), r"mask is not supported"),
    (
        "subtract-three",
        lambda: Subtract()([Input((2,)), Input((2,)), Input((2,))]),
        r"\(Subtract\) takes exactly 2 tensors, got 3\.$",
    ),
    (
        "concatenate-shapes",
        lambda: Concatenate()([Input((2, 3)), Input((4, 5))]),
        r"\(Concatenate\) needs tensors whose shapes match except on axis -1",
    ),
    ("concatenate-axis-0", lambda: Concatenate(axis=0), r"axis must be a non-zero integer"),
    ("dot-normalize", lambda: Dot(1, normalize=True), r"normalize=True is not supported"),
    ("dot-axes", lambda: Dot("last"), r"axes must be an integer or two, got 'last'\.$"),
    (
        "dot-sizes",
        lambda: Dot(-1)([Input((2,)), Input((3,))]),
        r"\(Dot\): axes \[-1, -1\] of shapes \(2,\) and \(3,\) must have one size\.$",
    ),
    (
        "merge-one-tensor",
        lambda: Concatenate()([Input((2,))]),
        r"\(Concatenate\) takes a list of at least 2 tensors",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_the_functional_api_and_keras_2_layers_refuse_with_what_is_valid(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_a_layer_subclass_without_forward_is_refused_when_a_model_runs_it():
    class Counter(Layer):  # Keras 2 subclasses Layer for stateful metrics too
        pass

    model = Sequential([Dense(2, input_dim=3), Counter()])
    model.compile("sgd", "mse")
    with pytest.raises(ModelError, match=r"^Layer counter_\d+ \(Counter\) has no forward\(\)"):
        model.predict(X)
    with pytest.raises(ModelError, match=r"has no backward\(\)"):
        Counter().backward(X)


def test_keras_2s_generic_utils_wrap_and_unwrap_lists():
    assert to_list([1, 2]) == [1, 2]
    assert to_list((1, 2)) == [(1, 2)]
    assert to_list((1, 2), allow_tuple=True) == [1, 2]
    assert to_list(3) == [3]
    assert unpack_singleton([7]) == 7
    assert unpack_singleton((7,)) == 7
    assert unpack_singleton([7, 8]) == [7, 8]


BATCHNORM_SCRIPT = """
import sys
import numpy as np
import hookfit.distributed as dist
from hookfit.layers import BatchNormalization, Dense
from hookfit.models import Sequential
dist.initialize()
model = Sequential([Dense(4, input_dim=3), BatchNormalization(), Dense(2, activation="softmax")])
model.compile("sgd", "categorical_crossentropy")
x = np.zeros((21, 3), np.float32)
y = np.eye(2, dtype=np.float32)[np.arange(21) % 2]
try:
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)  # the last batch has 1 sample
except Exception as exc:
    with open(f"{sys.argv[1]}/rank{dist.rank()}.txt", "w") as f:
        f.write(f"{type(exc).__name__} {exc}")
"""


@pytest.mark.mpi
def test_batch_normalization_under_mpi_needs_a_sample_of_every_batch_on_every_rank(
    hookfit_mpiexec, tmp_path
):
    (tmp_path / "bn.py").write_text(BATCHNORM_SCRIPT)
    process = hookfit_mpiexec(sys.executable, str(tmp_path / "bn.py"), str(tmp_path))
    assert process.returncode == 0, process.stderr
    said = [(tmp_path / f"rank{rank}.txt").read_text() for rank in (0, 1)]
    assert (
        said
        == [
            "ConfigError fit: batch_normalization_1 (BatchNormalization) shares each batch's "
            "statistics over the 2 ranks, so every rank needs a sample of every batch; this fit "
            "has a batch of 1. Use a batch_size and a sample count that leave at least 2 "
            "samples in every batch."
        ]
        * 2
    )


def test_a_layer_shared_by_two_models_is_trained_by_either():
    shared = Dense(4, input_dim=3)
    first, second = Sequential([shared, Dense(2)]), Sequential([shared, Dense(1)])
    for model in (first, second):
        model.compile("sgd", "mse")
    x = np.random.default_rng(0).random((16, 3), dtype=np.float32)
    first.fit(x, np.ones((16, 2)), verbose=0)
    second.fit(x, np.ones((16, 1)), verbose=0)  # its buffer now holds the shared kernel
    before = shared.get_weights()[0]
    first.fit(x, np.full((16, 2), 100.0), verbose=0)
    assert not np.allclose(shared.get_weights()[0], before)
    np.testing.assert_array_equal(first.get_weights()[0], shared.get_weights()[0])
    np.testing.assert_array_equal(second.get_weights()[0], shared.get_weights()[0])
