"""Keras 3's side of benchmark 7: what ``hookfit train`` does with its
bundled example, as a Keras user would write it.

The same data (hookfit's bundled digits file, read with numpy only), model,
optimizer, batch size, epochs, validation data and callbacks: EarlyStopping
(val_loss, patience 5, best weights back), CSVLogger and ModelCheckpoint
(best only) into a run folder, and the progress bar. Keras 3's TensorBoard
callback needs TensorFlow, which the torch backend does not bring, so this
side runs without it: that favours Keras.

    KERAS_BACKEND=torch python benchmarks/keras_digits.py RUN_DIR DIGITS_NPZ
"""

import sys
from pathlib import Path

import keras
import numpy as np

run_dir, digits = Path(sys.argv[1]), sys.argv[2]
(run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
data = np.load(digits)
x = data["x_train"].reshape(-1, 64).astype("float32") / 16
x_test = data["x_test"].reshape(-1, 64).astype("float32") / 16
y, y_test = keras.utils.to_categorical(data["y_train"], 10), data["y_test"]
keras.utils.set_random_seed(0)
model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
model.fit(
    x,
    y,
    batch_size=32,
    epochs=30,
    verbose=1,
    validation_data=(x_test, keras.utils.to_categorical(y_test, 10)),
    callbacks=[
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True),
        keras.callbacks.CSVLogger(str(run_dir / "log.csv")),
        keras.callbacks.ModelCheckpoint(
            str(run_dir / "checkpoints" / "weights.{epoch:02d}-{val_loss:.2f}.keras"),
            save_best_only=True,
        ),
    ],
)
