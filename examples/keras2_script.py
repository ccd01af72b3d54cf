"""A typical Keras 2 MNIST script, with only ``keras`` changed to ``hookfit``
in the imports and MNIST swapped for the bundled 8x8 digits.

It trains an MLP from Python generators (``fit_generator`` with a validation
generator), halves the learning rate after every epoch from a hand-written
callback through the backend (``K.get_value``/``K.set_value``), evaluates
and predicts from generators, and round-trips the architecture through JSON.
Run it with ``python examples/keras2_script.py``.
"""

# Keras 2's own style, kept on purpose: print_function, logs={}, % formatting.
# ruff: noqa: B006, UP010, UP031

from __future__ import print_function

import numpy as np

from hookfit import backend as K
from hookfit.callbacks import Callback
from hookfit.datasets import digits
from hookfit.layers import Activation, Dense, Dropout
from hookfit.models import Sequential, model_from_json
from hookfit.optimizers import SGD
from hookfit.utils import np_utils

np.random.seed(1337)  # for reproducibility

batch_size = 32
nb_classes = 10
epochs = 4

# the data, shuffled and split between train and test sets
(X_train, y_train), (X_test, y_test) = digits.load_data()
X_train = X_train.reshape(len(X_train), 64).astype("float32") / 16
X_test = X_test.reshape(len(X_test), 64).astype("float32") / 16
print(X_train.shape[0], "train samples")
print(X_test.shape[0], "test samples")

# convert class vectors to binary class matrices
Y_train = np_utils.to_categorical(y_train, nb_classes)
Y_test = np_utils.to_categorical(y_test, nb_classes)


def batch_generator(X, Y, batch_size, shuffle=False):
    """Yield (X, Y) batches forever, as Keras generators do."""
    while True:
        order = np.random.permutation(len(X)) if shuffle else np.arange(len(X))
        for start in range(0, len(X), batch_size):
            index = order[start : start + batch_size]
            yield X[index], Y[index]


def input_generator(X, batch_size):
    """Yield X batches forever, for predict_generator."""
    while True:
        for start in range(0, len(X), batch_size):
            yield X[start : start + batch_size]


class HalveLearningRate(Callback):
    """Halve the optimizer's learning rate at the end of every epoch."""

    def on_epoch_end(self, epoch, logs={}):
        old_lr = K.get_value(self.model.optimizer.lr)
        K.set_value(self.model.optimizer.lr, old_lr * 0.5)
        new_lr = K.get_value(self.model.optimizer.lr)
        print("Epoch %d: learning rate %.5f -> %.5f" % (epoch + 1, old_lr, new_lr))


model = Sequential()
model.add(Dense(128, input_shape=(64,)))
model.add(Activation("relu"))
model.add(Dropout(0.2))
model.add(Dense(nb_classes))
model.add(Activation("softmax"))
model.summary()

model.compile(
    loss="categorical_crossentropy",
    optimizer=SGD(lr=0.1, momentum=0.9),
    metrics=["accuracy"],
)

steps_per_epoch = int(np.ceil(len(X_train) / float(batch_size)))
validation_steps = int(np.ceil(len(X_test) / float(batch_size)))
history = model.fit_generator(
    batch_generator(X_train, Y_train, batch_size, shuffle=True),
    steps_per_epoch=steps_per_epoch,
    epochs=epochs,
    verbose=2,
    callbacks=[HalveLearningRate()],
    validation_data=batch_generator(X_test, Y_test, batch_size),
    validation_steps=validation_steps,
)

score = model.evaluate_generator(batch_generator(X_test, Y_test, batch_size), validation_steps)
print("Test score:", score[0])
print("Test accuracy:", score[1])

outputs = model.predict_generator(input_generator(X_test, batch_size), validation_steps)
proba = model.predict_proba(X_test, batch_size=batch_size)
classes = model.predict_classes(X_test, batch_size=batch_size)
print("predict_generator matches predict_proba:", bool(np.allclose(outputs, proba, atol=1e-6)))

# save the architecture as JSON, rebuild it, and give it the trained weights
json_string = model.to_json()
rebuilt = model_from_json(json_string)
rebuilt.set_weights(model.get_weights())
same = np.array_equal(rebuilt.predict_classes(X_test, batch_size=batch_size), classes)
print("model_from_json gives the same predictions:", same)

print("Final accuracy: %.4f" % np.mean(classes == y_test))
