"""The Keras documentation's examples, with only the imports changed."""

import numpy as np
import pytest

import hookfit
from hookfit.layers import Activation, Dense
from hookfit.models import Sequential
from hookfit.utils import set_random_seed, to_categorical


@pytest.fixture
def mnist_like(hookfit_rng):
    """MNIST's shapes (784 features, 10 classes), small and learnable."""
    centres = hookfit_rng.normal(size=(10, 784))
    labels = hookfit_rng.integers(0, 10, size=600)
    x_train = (centres[labels] + hookfit_rng.normal(scale=2.0, size=(600, 784))).astype("float32")
    return x_train, to_categorical(labels, 10)


def test_recording_loss_history(mnist_like):
    x_train, y_train = mnist_like
    set_random_seed(7)

    # --- the Keras documentation's example, `keras` replaced by `hookfit` -------------------
    class LossHistory(hookfit.callbacks.Callback):
        def on_train_begin(self, logs={}):  # noqa: B006
            self.losses = []

        def on_batch_end(self, batch, logs={}):  # noqa: B006
            self.losses.append(logs.get("loss"))

    model = Sequential()
    model.add(Dense(10, input_dim=784, kernel_initializer="uniform"))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")

    history = LossHistory()
    model.fit(
        x_train, y_train, batch_size=128, epochs=20, verbose=0, callbacks=[history], shuffle=False
    )

    print(history.losses)
    # --------------------------------------------------------------------------

    assert len(history.losses) == 20 * 5  # 600 samples in batches of 128
    assert all(isinstance(loss, float) for loss in history.losses)
    assert history.losses[-1] < history.losses[0] / 2
    # The real per-batch losses: replaying the same updates by hand gives
    # the logged values. Not bit for bit: `fit` picks its BLAS threads from
    # the machine's load (hookfit.trainer.threads), and float32 sums split
    # over another number of threads round differently in the last bits.
    set_random_seed(7)
    replay = Sequential(
        [Dense(10, input_dim=784, kernel_initializer="uniform"), Activation("softmax")]
    )
    replay.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    by_hand = [
        replay.train_on_batch(x_train[i : i + 128], y_train[i : i + 128])
        for _ in range(20)
        for i in range(0, 600, 128)
    ]
    np.testing.assert_allclose(history.losses, by_hand, rtol=1e-5)
