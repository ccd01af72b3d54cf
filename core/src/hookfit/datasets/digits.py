"""The UCI optical-digits data set (1,797 8x8 images), bundled with hookfit.

Source, licence and split are described in ``DIGITS.md`` beside this file.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def load_data() -> Arrays:
    """Return the digits as ``((x_train, y_train), (x_test, y_test))``.

    Like ``keras.datasets.mnist.load_data``: images are ``uint8`` arrays of
    shape ``(n, 8, 8)`` with pixel values 0..16 and labels are ``uint8``
    digits 0..9. There are 1,437 training and 360 test images.
    """
    with resources.files(__package__).joinpath("digits.npz").open("rb") as f:
        data = np.load(f)
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
