# Keras 2.2.4's examples/mnist_cnn.py as released (MIT licence, Copyright (c)
# 2015 - 2018 the Keras authors), with only its imports and data loading
# changed: keras -> hookfit, and instead of mnist.load_data() synthetic data of
# MNIST's shapes (28x28 uint8 images, labels 0-9) made with numpy, as many as
# MNIST_TRAIN_SAMPLES / MNIST_TEST_SAMPLES say (128 / 32 by default, so
# that CI runs it in seconds). Changed lines:
#   import keras
#     -> import os
#     -> import numpy as np
#     -> import hookfit as keras
#   from keras.datasets import mnist
#     -> (removed)
#   from keras.models import Sequential
#     -> from hookfit.models import Sequential
#   from keras.layers import Dense, Dropout, Flatten
#     -> from hookfit.layers import Dense, Dropout, Flatten
#   from keras.layers import Conv2D, MaxPooling2D
#     -> from hookfit.layers import Conv2D, MaxPooling2D
#   from keras import backend as K
#     -> from hookfit import backend as K
#   (x_train, y_train), (x_test, y_test) = mnist.load_data()
#     -> # synthetic, of MNIST's shapes, instead of mnist.load_data()
#     -> rng = np.random.RandomState(0)
#     -> num_train = int(os.environ.get('MNIST_TRAIN_SAMPLES', 128))
#     -> num_test = int(os.environ.get('MNIST_TEST_SAMPLES', 32))
#     -> x_train = rng.randint(0, 256, size=(num_train, 28, 28)).astype('uint8')
#     -> y_train = rng.randint(0, 10, size=num_train).astype('uint8')
#     -> x_test = rng.randint(0, 256, size=(num_test, 28, 28)).astype('uint8')
#     -> y_test = rng.randint(0, 10, size=num_test).astype('uint8')
# The rest is Keras's text, not reformatted:
# ruff: noqa
# fmt: off
'''Trains a simple convnet on the MNIST dataset.

Gets to 99.25% test accuracy after 12 epochs
(there is still a lot of margin for parameter tuning).
16 seconds per epoch on a GRID K520 GPU.
'''

from __future__ import print_function
import os
import numpy as np
import hookfit as keras
from hookfit.models import Sequential
from hookfit.layers import Dense, Dropout, Flatten
from hookfit.layers import Conv2D, MaxPooling2D
from hookfit import backend as K

batch_size = 128
num_classes = 10
epochs = 12

# input image dimensions
img_rows, img_cols = 28, 28

# the data, split between train and test sets
# synthetic, of MNIST's shapes, instead of mnist.load_data()
rng = np.random.RandomState(0)
num_train = int(os.environ.get('MNIST_TRAIN_SAMPLES', 128))
num_test = int(os.environ.get('MNIST_TEST_SAMPLES', 32))
x_train = rng.randint(0, 256, size=(num_train, 28, 28)).astype('uint8')
y_train = rng.randint(0, 10, size=num_train).astype('uint8')
x_test = rng.randint(0, 256, size=(num_test, 28, 28)).astype('uint8')
y_test = rng.randint(0, 10, size=num_test).astype('uint8')

if K.image_data_format() == 'channels_first':
    x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
    x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
    input_shape = (1, img_rows, img_cols)
else:
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
    x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
    input_shape = (img_rows, img_cols, 1)

x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print('x_train shape:', x_train.shape)
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3),
                 activation='relu',
                 input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation='softmax'))

model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=keras.optimizers.Adadelta(),
              metrics=['accuracy'])

model.fit(x_train, y_train,
          batch_size=batch_size,
          epochs=epochs,
          verbose=1,
          validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
