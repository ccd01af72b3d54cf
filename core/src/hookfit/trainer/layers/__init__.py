"""The trainer's layers, one module per Keras 2 module: `core` (Dense,
Activation, Dropout, Flatten, Reshape, Lambda), `convolutional`, `pooling`,
`normalization`, `embeddings`, `merge`, and `graph` (Input and the
functional API's structure). `base` is the `Layer` they share."""

from __future__ import annotations

import sys

from .base import Layer
from .checks import NAME_PATTERN, check_name, reset_names
from .convolutional import Conv2D
from .core import Activation, Dense, Dropout, Flatten, Lambda, Reshape
from .embeddings import Embedding
from .graph import Input, InputLayer, Tensor
from .keras1 import CLASS_ALIASES
from .merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.class_name: cls
    for cls in (
        *(Activation, Dense, Dropout, Flatten, Lambda, Reshape, Conv2D, Embedding),
        *(AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D),
        *(GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D),
        *(BatchNormalization, Add, Average, Concatenate, Dot, Maximum, Multiply, Subtract),
        InputLayer,
    )
}
"""Every layer by its Keras class name (what configs and files name)."""

# Keras 2's other class names (Convolution2D, MaxPool2D, ...), in their modules too
Convolution2D = Conv2D
MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
for _module, _aliases in CLASS_ALIASES.items():
    _found = sys.modules[f"{__name__}.{_module}"]
    for _alias, _target in _aliases.items():
        setattr(_found, _alias, LAYER_CLASSES[_target])
        _found.__all__.append(_alias)

__all__ = [
    "LAYER_CLASSES",
    "NAME_PATTERN",
    "Activation",
    "Add",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNormalization",
    "Concatenate",
    "Conv2D",
    "Convolution2D",
    "Dense",
    "Dot",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Lambda",
    "Layer",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Maximum",
    "Multiply",
    "Reshape",
    "Subtract",
    "Tensor",
    "add",
    "average",
    "check_name",
    "concatenate",
    "dot",
    "maximum",
    "multiply",
    "reset_names",
    "subtract",
]
