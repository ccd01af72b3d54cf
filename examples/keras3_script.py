"""A Keras 3 script with hookfit's TensorBoard, EarlyStopping, ModelCheckpoint
and CSVLogger, through one Keras callback: `hookfit_keras.Plugins`.

Any Keras backend runs it; TensorFlow is not needed (hookfit-tensorboard
writes the event files itself). Without a KERAS_BACKEND it uses torch.

    pip install ./hosts/keras ./plugins/tensorboard ./plugins/early_stopping \\
        ./plugins/model_checkpoint ./plugins/csv_logger   # or hookfit-keras hookfit-tensorboard ...
    python examples/keras3_script.py [EPOCHS]
    tensorboard --logdir keras3_run/logs

It trains a small classifier on synthetic data and leaves ``keras3_run/``:
``logs/`` (TensorBoard's ``train`` and ``validation`` runs), ``best.keras``
(the epoch with the lowest ``val_loss``, for `keras.saving.load_model`) and
``log.csv`` (one row per epoch, with Keras's own names).
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # after the backend is chosen
import numpy as np
from hookfit_keras import Plugins

from hookfit.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, TensorBoard

RUN = "keras3_run"


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of 8 features and their one-hot class of 3."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    return x, keras.utils.to_categorical(labels, 3)


def build() -> keras.Model:
    """8 inputs -> 16 relu -> 3 softmax, compiled with Adam."""
    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(epochs: int) -> None:
    keras.utils.set_random_seed(0)
    x, y = data(512, 0)
    model = build()
    history = model.fit(
        x,
        y,
        batch_size=32,
        epochs=epochs,
        validation_data=data(128, 1),
        verbose=2,
        callbacks=[
            Plugins(
                [
                    TensorBoard(f"{RUN}/logs"),
                    EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
                    ModelCheckpoint(f"{RUN}/best.keras", monitor="val_loss", save_best_only=True),
                    CSVLogger(f"{RUN}/log.csv"),
                ]
            )
        ],
    )
    best = min(history.history["val_loss"])
    print(f"{keras.backend.backend()}: {len(history.epoch)} epochs, best val_loss {best:.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
