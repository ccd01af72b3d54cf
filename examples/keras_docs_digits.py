"""The Keras documentation's model, trained on the bundled digits with the default plugins.

The Keras documentation's example with only the imports changed and the data
set swapped for the bundled 8x8 digits (64 features instead of MNIST's 784).
Run it with ``python examples/keras_docs_digits.py`` or ``tox -e demo``.
"""

from hookfit.datasets import digits
from hookfit.layers import Activation, Dense
from hookfit.models import Sequential
from hookfit.utils import set_random_seed, to_categorical

(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train.reshape(len(x_train), 64) / 16.0
x_test = x_test.reshape(len(x_test), 64) / 16.0
Y_train, Y_test = to_categorical(y_train, 10), to_categorical(y_test, 10)

set_random_seed(0)
model = Sequential()
model.add(Dense(10, input_dim=64, kernel_initializer="uniform"))
model.add(Activation("softmax"))
model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])

history = model.fit(
    x_train, Y_train, batch_size=32, epochs=20, verbose=1, validation_data=(x_test, Y_test)
)
loss, acc = model.evaluate(x_test, Y_test, verbose=0)
print(f"test loss {loss:.4f}, test accuracy {acc:.4f}")
