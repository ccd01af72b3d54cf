# Keras 2.2.4's examples/mnist_mlp.py as released (MIT licence, Copyright (c)
# 2015 - 2018 the Keras authors), with only its imports and data loading
# changed: keras -> hookfit, and instead of mnist.load_data() synthetic data of
# MNIST's shapes (28x28 uint8 images, labels 0-9) made with numpy, as many as
# MNIST_TRAIN_SAMPLES / MNIST_TEST_SAMPLES say (1024 / 256 by default, so
# that CI runs it in seconds). Changed lines:
#   import keras
#     -> import os
#     -> import numpy as np
#     -> import hookfit as keras
#   from keras.datasets import mnist
#     -> (removed)
#   from keras.models import Sequential
#     -> from hookfit.models import Sequential
#   from keras.layers import Dense, Dropout
#     -> from hookfit.layers import Dense, Dropout
#   from keras.optimizers import RMSprop
#     -> from hookfit.optimizers import RMSprop
#   (x_train, y_train), (x_test, y_test) = mnist.load_data()
#     -> # synthetic, of MNIST's shapes, instead of mnist.load_data()
#     -> rng = np.random.RandomState(0)
#     -> num_train = int(os.environ.get('MNIST_TRAIN_SAMPLES', 1024))
#     -> num_test = int(os.environ.get('MNIST_TEST_SAMPLES', 256))
#     -> x_train = rng.randint(0, 256, size=(num_train, 28, 28)).astype('uint8')
#     -> y_train = rng.randint(0, 10, size=num_train).astype('uint8')
#     -> x_test = rng.randint(0, 256, size=(num_test, 28, 28)).astype('uint8')
#     -> y_test = rng.randint(0, 10, size=num_test).astype('uint8')
#   x_train = x_train.reshape(60000, 784)
#     -> x_train = x_train.reshape(num_train, 784)
#   x_test = x_test.reshape(10000, 784)
#     -> x_test = x_test.reshape(num_test, 784)
# The rest is Keras's text, not reformatted:
# ruff: noqa
# fmt: off
'''Trains a simple deep NN on the MNIST dataset.

Gets to 98.40% test accuracy after 20 epochs
(there is *a lot* of margin for parameter tuning).
2 seconds per epoch on a K520 GPU.
'''

from __future__ import print_function

import os
import numpy as np
import hookfit as keras
from hookfit.models import Sequential
from hookfit.layers import Dense, Dropout
from hookfit.optimizers import RMSprop

batch_size = 128
num_classes = 10
epochs = 20

# the data, split between train and test sets
# synthetic, of MNIST's shapes, instead of mnist.load_data()
rng = np.random.RandomState(0)
num_train = int(os.environ.get('MNIST_TRAIN_SAMPLES', 1024))
num_test = int(os.environ.get('MNIST_TEST_SAMPLES', 256))
x_train = rng.randint(0, 256, size=(num_train, 28, 28)).astype('uint8')
y_train = rng.randint(0, 10, size=num_train).astype('uint8')
x_test = rng.randint(0, 256, size=(num_test, 28, 28)).astype('uint8')
y_test = rng.randint(0, 10, size=num_test).astype('uint8')

x_train = x_train.reshape(num_train, 784)
x_test = x_test.reshape(num_test, 784)
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Dense(512, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(num_classes, activation='softmax'))

model.summary()

model.compile(loss='categorical_crossentropy',
              optimizer=RMSprop(),
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=1,
                    validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
