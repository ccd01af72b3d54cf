"""Reading Keras's JSON model and training configs (hookfit's own, Keras
2's and Keras 3's) into hookfit models: a `Blueprint` holds the layers made
from a config before any weight exists, so a file's weights are checked
against it first. Only the layers and settings hookfit has are accepted:
nothing stored ever runs as code. Writing them is `hookfit.saving.keras_config`."""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, FormatError, HookfitWarning, nearest
from ..hooks.arguments import ArgumentError, parameters, validate
from ..trainer import initializers, optimizers
from ..trainer.layers import LAYER_CLASSES, Layer, graph
from . import checks

if TYPE_CHECKING:
    from ..trainer.models import Model

_IGNORED = {"trainable", "dtype", "batch_input_shape", "name", "batch_size"}
_UNSUPPORTED_NULL = (
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "embeddings_constraint",
    "beta_constraint",
    "gamma_constraint",
    "noise_shape",
)


# Keras 3's settings whose default is not None or False, at their default
_OFF: dict[str, Any] = {"groups": 1, "renorm_momentum": 0.99}


def _known(kind: str) -> set[str]:
    """The settings a layer class takes (its constructor's arguments)."""
    accepted: set[str] = set()
    for klass in LAYER_CLASSES[kind].__mro__:
        if "__init__" in vars(klass) and issubclass(klass, Layer) and klass is not Layer:
            accepted |= set(parameters(klass)[0])
    return accepted


class Blueprint:
    """A model read from a Keras ``model_config``, its layers made but no
    weights yet: `expected` says what weights it will have (to check a file
    against, before anything is allocated), `build` makes it.

    Attributes:
        name: The model's name.
        layers: A Sequential's layers; None for a functional model.
        inputs: A functional model's input tensors.
        outputs: Its output tensors.
    """

    def __init__(
        self, name: str | None, layers: list[Layer] | None, inputs: Any = None, outputs: Any = None
    ) -> None:
        self.name, self.layers, self.inputs, self.outputs = name, layers, inputs, outputs

    def expected(self, path: Any) -> checks.Expected:
        """The weight shapes of the model's layers with weights, in order.

        Raises:
            FormatError: No input shape, or weights over the memory budget.
        """
        if self.layers is not None:
            first = self.layers[0] if self.layers else None
            if first is None or first.declared_shape is None:
                raise FormatError(f"{path}: the model_config gives no input shape (no InputLayer).")
            pairs, shape = [], first.declared_shape
            for layer in self.layers:
                pairs.append((layer, shape))
                try:
                    shape = layer.compute_output_shape(shape)
                except ConfigError as exc:
                    raise FormatError(f"{path}: model_config: {exc}") from None
        else:
            found = graph.graph(self.inputs, self.outputs)
            pairs = [(c.layer, c.layer.call_shape) for c in found.calls]  # type: ignore[attr-defined]
            order = {id(layer): i for i, layer in enumerate(found.layers)}
            pairs.sort(key=lambda pair: order[id(pair[0])])
        return checks.expected(pairs, path)

    def build(self, path: Any) -> Model:
        """The model, with new weights.

        Raises:
            FormatError: A layer that cannot take its input, or weights over
                the memory budget.
        """
        from ..trainer.models import Model, Sequential

        try:
            if self.layers is not None:
                return Sequential(self.layers, name=self.name)
            return Model(self.inputs, self.outputs, name=self.name)
        except ConfigError as exc:
            raise FormatError(f"{path}: {exc}") from None


def parse_model_config(config: Any, path: Any) -> Blueprint:
    """The model a Keras ``model_config`` describes: a Sequential, or a
    functional model in Keras 2's or Keras 3's layout.

    Raises:
        FormatError: Not a model, or a layer or setting hookfit lacks.
    """
    kind = config.get("class_name") if isinstance(config, dict) else type(config).__name__
    if kind in ("Model", "Functional"):
        return _parse_functional(config, path)
    if kind != "Sequential":
        raise FormatError(
            f"{path}: hookfit loads Sequential and functional models; this file holds {kind!r}."
        )
    body = config.get("config")
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        raise FormatError(f"{path}: model_config has no list of layers.")
    specs = body["layers"]
    name = _name(body, path)
    batch_shape = None
    if specs and isinstance(specs[0], dict) and specs[0].get("class_name") == "InputLayer":
        batch_shape = _input_shape(specs[0], f"{path}: model_config layer 0 (InputLayer)")
        specs = specs[1:]
    layers = [_layer(spec, i, path) for i, spec in enumerate(specs)]
    if layers and batch_shape and layers[0].declared_shape is None:
        layers[0].declared_shape = tuple(batch_shape)
    return Blueprint(name, layers)


def _name(body: dict[str, Any], path: Any) -> str | None:
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise FormatError(f"{path}: model_config name must be text, got {name!r}.")
    return name


def _input_shape(spec: dict[str, Any], where: str) -> tuple[int, ...] | None:
    inner = _settings(spec, where)
    shape = inner.get("batch_input_shape") or inner.get("batch_shape")
    return None if shape is None else checks.input_shape(shape, where)


def _parse_functional(config: dict[str, Any], path: Any) -> Blueprint:
    """A functional model: each layer made, then called on its inbound
    tensors in the order listed (Keras writes them so)."""
    body = config.get("config")
    where = f"{path}: model_config"
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        raise FormatError(f"{where} has no list of layers.")
    tensors: dict[str, list[Any]] = {}
    for i, spec in enumerate(body["layers"]):
        here = f"{where} layer {i}"
        if not isinstance(spec, dict):
            raise FormatError(f"{here} is {spec!r}, not a table with class_name and config.")
        if spec.get("class_name") == "InputLayer":
            shape = _input_shape(spec, f"{here} (InputLayer)")
            if shape is None:
                raise FormatError(f"{here} (InputLayer) has no batch_input_shape.")
            name = str(_settings(spec, here).get("name") or spec.get("name"))
            tensor = graph.Input(shape=shape, name=name)
            tensors[tensor.node.layer.name] = [tensor]
            continue
        layer = _layer(spec, i, path)
        nodes = spec.get("inbound_nodes") or []
        if len(nodes) != 1:
            raise FormatError(
                f"{here} ({layer.name}) is called {len(nodes)} times; hookfit loads models whose "
                "layers are called once."
            )
        sources = [_source(entry, here) for entry in _node_entries(nodes[0], here)]
        try:
            found = [tensors[n][k] for n, _, k in sources]
        except (KeyError, IndexError):
            raise FormatError(
                f"{here} ({layer.name}) takes {sources}, which come later or not at all."
            ) from None
        try:
            out = layer(found if len(found) > 1 or layer.inputs_count != 1 else found[0])
        except ConfigError as exc:
            raise FormatError(f"{here} ({layer.name}): {exc}") from None
        tensors[layer.name] = out if isinstance(out, list) else [out]

    def ends(key: str) -> list[Any]:
        entries = body.get(key)
        if isinstance(entries, list) and entries and isinstance(entries[0], str):
            entries = [entries]  # Keras 3 writes one input or output unnested
        if not isinstance(entries, list) or not entries:
            raise FormatError(f"{where}: {key} must list [layer name, node, tensor] entries.")
        try:
            return [tensors[n][k] for n, _, k in (_source(e, f"{where}: {key}") for e in entries)]
        except (KeyError, IndexError):
            raise FormatError(
                f"{where}: {key} names layers the model lacks: {entries!r}."
            ) from None

    return Blueprint(_name(body, path), None, ends("input_layers"), ends("output_layers"))


def _node_entries(node: Any, where: str) -> list[Any]:
    if isinstance(node, dict):  # Keras 3: {"args": [tensor or [tensors]], "kwargs": {}}
        args = node.get("args") or []
        first = args[0] if args else []
        items = first if isinstance(first, list) else [first]
        return [
            (item.get("config") or {}).get("keras_history") if isinstance(item, dict) else item
            for item in items
        ]
    if not isinstance(node, list):
        raise FormatError(f"{where}: inbound_nodes entry {node!r} is not a list of sources.")
    return node


def _source(entry: Any, where: str) -> tuple[str, int, int]:
    if (
        not isinstance(entry, (list, tuple))
        or len(entry) < 3
        or not isinstance(entry[0], str)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in entry[1:3])
    ):
        raise FormatError(f"{where}: a source must be [layer name, node, tensor], got {entry!r}.")
    return entry[0], entry[1], entry[2]


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
    if kind not in LAYER_CLASSES or kind in ("InputLayer", "Lambda"):
        loadable = [k for k in LAYER_CLASSES if k not in ("InputLayer", "Lambda")]
        raise FormatError(
            f"{where} is {kind!r}{nearest(str(kind), loadable)}, a layer hookfit does not have. "
            f"hookfit loads: {', '.join(loadable)}."
        )
    known = _known(kind)
    config = dict(_settings(spec, where))
    for key in _UNSUPPORTED_NULL:
        if config.pop(key, None) is not None:
            raise FormatError(f"{where} ({kind}) sets {key}, which hookfit does not support.")
    # Keras 3 adds settings that are off by default (quantization_config,
    # lora_rank, ...): harmless while off, refused when on.
    unknown = {k: v for k, v in config.items() if k not in known | _IGNORED}
    used = {k: v for k, v in unknown.items() if v not in (None, False) and _OFF.get(k) != v}
    if used:
        raise FormatError(f"{where} ({kind}) has settings hookfit does not know: {used}.")
    if isinstance(config.get("dtype"), dict):  # Keras 3's dtype policy
        config["dtype"] = (config["dtype"].get("config") or {}).get("name")
    kwargs = {k: config[k] for k in known - _IGNORED if k in config and k != "data_format"}
    for key in ("target_shape", "pool_size", "strides", "kernel_size", "dilation_rate", "axes"):
        if isinstance(kwargs.get(key), list):  # JSON has no tuples
            kwargs[key] = tuple(kwargs[key])
    shape = config.get("batch_input_shape")
    if shape and any(d is not None for d in shape[1:]):
        kwargs["input_shape"] = checks.input_shape(shape, f"{where} ({kind})")
    try:
        for key in [k for k in kwargs if k.endswith("_initializer")]:
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
    for key, wanted in (("loss", str | list | dict), ("metrics", list | dict | None)):
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
        metrics = training.get("metrics") or []
        if isinstance(metrics, list):  # Keras 3 writes metric configs too: names only here
            metrics = [m for m in metrics if isinstance(m, str)]
        model.compile(
            cls(**validate(cls, settings)),
            training["loss"],
            metrics=metrics,
            loss_weights=training.get("loss_weights"),
        )
    except ConfigError as exc:
        warnings.warn(
            f"{path}: the training config cannot be used ({exc}); the model is not compiled. "
            "Compile it yourself.",
            HookfitWarning,
            stacklevel=3,
        )


def parse_json(json_string: str | bytes, custom_objects: Any = None) -> Blueprint:
    """The model `to_json`'s (or Keras 2's) JSON describes
    (`hookfit.models.model_from_json` builds it).

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
