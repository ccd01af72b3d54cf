"""Translating between hookfit's models and Keras's JSON model and training
configs (what HDF5 files and TensorBoard's graph hold). Reading accepts only
the layers and settings hookfit has: nothing stored ever runs as code."""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, FormatError, HookfitWarning, nearest
from ..hooks.arguments import ArgumentError, parameters, validate
from ..trainer import initializers, losses, optimizers
from ..trainer.layers import LAYER_CLASSES, Layer
from . import checks

if TYPE_CHECKING:
    from ..trainer.models import Model

KERAS_VERSION = "2.15.0"  # Keras 2 reads a file without a 2.x version as Keras 1's


def model_config(model: Model) -> dict[str, Any]:
    """The Keras ``model_config``: a Sequential with an explicit InputLayer."""
    first = model.layers[0]
    shape = first.batch_input_shape or (None, model.input_dim)
    input_layer = {
        "class_name": "InputLayer",
        "config": {
            "batch_input_shape": list(shape),
            "dtype": first.dtype.name,
            "sparse": False,
            "ragged": False,
            "name": f"{first.name}_input",
        },
    }
    layers = [
        {"class_name": layer.class_name, "config": layer.get_config()} for layer in model.layers
    ]
    return {
        "class_name": "Sequential",
        "config": {"name": model.name, "layers": [input_layer, *layers]},
    }


def to_json(model: Model, **kwargs: Any) -> str:
    """The model's architecture as Keras's JSON (``Model.to_json``);
    ``kwargs`` go to `json.dumps`."""
    config = {**model_config(model), "keras_version": KERAS_VERSION, "backend": "tensorflow"}
    return json.dumps(config, **kwargs)


def training_config(model: Model) -> dict[str, Any] | None:
    """The Keras ``training_config`` (Keras 3 compiles the model from it)."""
    if model.loss is None or model.optimizer is None:
        return None
    config = model.optimizer.get_config()
    # Keras 3's optimizers take no `decay`; hookfit keeps it in its own group.
    keras_config = {k: v for k, v in config.items() if k != "decay"}
    return {
        "loss": model.loss.name,
        "metrics": ["accuracy"] if model.metrics else [],
        "weighted_metrics": None,
        "loss_weights": None,
        "optimizer_config": {"class_name": type(model.optimizer).__name__, "config": keras_config},
    }


# -- reading ----------------------------------------------------------------------

_IGNORED = {"trainable", "dtype", "batch_input_shape", "name"}
_UNSUPPORTED_NULL = (
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "noise_shape",
)
_KNOWN = {
    "Dense": {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer"},
    "Activation": {"activation"},
    "Dropout": {"rate", "seed"},
    "Flatten": {"data_format"},
}


def parse_model_config(config: Any, path: Any) -> tuple[str | None, list[Layer]]:
    """The model's name and layers from a Keras ``model_config``.

    Raises:
        FormatError: Not a Sequential, or a layer or setting hookfit lacks.
    """
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        kind = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise FormatError(f"{path}: hookfit loads Sequential models; this file holds {kind!r}.")
    body = config.get("config")
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        raise FormatError(f"{path}: model_config has no list of layers.")
    specs = body["layers"]
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise FormatError(f"{path}: model_config name must be text, got {name!r}.")
    batch_shape = None
    if specs and isinstance(specs[0], dict) and specs[0].get("class_name") == "InputLayer":
        inner = _settings(specs[0], f"{path}: model_config layer 0 (InputLayer)")
        batch_shape = inner.get("batch_input_shape") or inner.get("batch_shape")
        if batch_shape is not None:
            batch_shape = checks.input_shape(
                batch_shape, f"{path}: model_config layer 0 (InputLayer)"
            )
        specs = specs[1:]
    layers = [_layer(spec, i, path) for i, spec in enumerate(specs)]
    if layers and batch_shape and layers[0].input_dim is None:
        shape = tuple(batch_shape)
        if len(shape) > 1 and not layers[0].flattens:
            raise FormatError(f"{path}: input shape {shape} needs a Flatten layer first.")
        layers[0].batch_input_shape = (None, *shape)
        layers[0].input_dim = int(np.prod(shape))
    return name, layers


def _settings(spec: dict[str, Any], where: str) -> dict[str, Any]:
    config = spec.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise FormatError(f"{where}: config must be a table of settings, got {config!r}.")
    return config


def _layer(spec: Any, index: int, path: Any) -> Layer:
    where = f"{path}: model_config layer {index}"
    if not isinstance(spec, dict):
        raise FormatError(f"{where} is {spec!r}, not a table with class_name and config.")
    kind = spec.get("class_name")
    if kind == "Lambda":
        raise FormatError(
            f"{where} is a Lambda layer, which holds code; hookfit never runs stored code."
        )
    if kind not in _KNOWN:
        raise FormatError(
            f"{where} is {kind!r}{nearest(str(kind), _KNOWN)}, a layer hookfit does not have. "
            f"hookfit loads: {', '.join(_KNOWN)}."
        )
    config = dict(_settings(spec, where))
    for key in _UNSUPPORTED_NULL:
        if config.pop(key, None) is not None:
            raise FormatError(f"{where} ({kind}) sets {key}, which hookfit does not support.")
    # Keras 3 adds settings that are off by default (quantization_config,
    # lora_rank, ...): harmless while off, refused when on.
    unknown = {k: v for k, v in config.items() if k not in _KNOWN[kind] | _IGNORED}
    used = {k: v for k, v in unknown.items() if v not in (None, False)}
    if used:
        raise FormatError(f"{where} ({kind}) has settings hookfit does not know: {used}.")
    if isinstance(config.get("dtype"), dict):  # Keras 3's dtype policy
        config["dtype"] = (config["dtype"].get("config") or {}).get("name")
    kwargs = {k: config[k] for k in _KNOWN[kind] if k in config and k != "data_format"}
    shape = config.get("batch_input_shape")
    if shape:
        kwargs["input_shape"] = checks.input_shape(shape, f"{where} ({kind})")
    try:
        for key in ("kernel_initializer", "bias_initializer"):
            if isinstance(kwargs.get(key), dict):
                kwargs[key] = initializers.from_config(kwargs[key])
        # each setting checked against the layer's type hints, as from a config file
        kwargs = validate(LAYER_CLASSES[kind], {"name": config.get("name"), **kwargs})
        return LAYER_CLASSES[kind](dtype=_dtype(config.get("dtype")), **kwargs)
    except ArgumentError as exc:
        raise FormatError(f"{where} ({kind}): {exc.key}: {exc.problem}.") from None
    except (ConfigError, TypeError, ValueError) as exc:
        raise FormatError(f"{where} ({kind}): {exc}") from None


def _dtype(value: Any) -> str | None:
    if value is None or value in ("float32", "float64", "float16"):
        return value
    raise ConfigError(f"dtype must be float16, float32 or float64, got {value!r}")


def compile_from(model: Model, training: Any, path: Any) -> None:
    """Compile ``model`` as a Keras ``training_config`` says, or warn why not.

    Raises:
        FormatError: The training config is not shaped as Keras writes it.
    """
    where = f"{path}: training_config"
    training = checks.table(training, where)
    opt_config = checks.table(training.get("optimizer_config"), f"{where}.optimizer_config")
    config = checks.table(opt_config.get("config") or {}, f"{where}.optimizer_config.config")
    for key, wanted in (("loss", str), ("metrics", list | None)):
        if not isinstance(training.get(key), wanted):
            raise FormatError(f"{where}.{key}: unexpected value {training.get(key)!r}.")
    try:
        cls = type(optimizers.get(str(opt_config.get("class_name")).lower()))
        accepted, _ = parameters(cls)
        settings = {k: v for k, v in config.items() if k in accepted}
        # Keras 3's extras (weight_decay, clipnorm, centered, ...) are fine
        # while off; a setting that is on cannot be honoured.
        extras = {
            k: v
            for k, v in config.items()
            if k not in accepted and k != "name" and v not in (None, False, 0, 0.0)
        }
        if extras and set(extras) - {"ema_momentum", "steps_per_execution"}:
            raise ConfigError(f"the optimizer sets {extras}, which hookfit's {cls.__name__} lacks")
        loss = losses.get(training["loss"])
        metrics = [m for m in training.get("metrics") or [] if m in ("accuracy", "acc")]
        model.compile(cls(**validate(cls, settings)), loss, metrics=metrics)
    except ConfigError as exc:
        warnings.warn(
            f"{path}: the training config cannot be used ({exc}); the model is not compiled. "
            "Compile it yourself.",
            HookfitWarning,
            stacklevel=3,
        )


def parse_json(
    json_string: str | bytes, custom_objects: Any = None
) -> tuple[str | None, list[Layer]]:
    """The model's name and layers from `to_json`'s (or Keras 2's) JSON
    (`hookfit.models.model_from_json` builds the model).

    Raises:
        ConfigError: ``custom_objects`` is given.
        FormatError: Not JSON, or not a Sequential of hookfit's layers.
    """
    if custom_objects:
        raise ConfigError(
            f"model_from_json: hookfit loads only its own layers, got custom_objects="
            f"{custom_objects!r}; leave it None."
        )
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"model_from_json: not JSON ({exc}); pass model.to_json()'s string."
        ) from None
    except RecursionError:
        raise FormatError(
            "model_from_json: nested too deeply to be a model's JSON; pass model.to_json()'s "
            "string."
        ) from None
    except TypeError:
        raise FormatError(
            f"model_from_json: expected a JSON string, got {type(json_string).__name__}; "
            "pass model.to_json()'s string."
        ) from None
    if isinstance(config, dict) and isinstance(config.get("config"), list):
        # Keras 2.0 and 2.1 wrote a Sequential's config as its list of layers
        config = {**config, "config": {"layers": config["config"]}}
    return parse_model_config(config, "model_from_json")
