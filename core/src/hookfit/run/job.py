"""The job ``hookfit train`` runs: data, model and fit arguments from a config.

Everything is checked before training starts, and every refusal names the
key path and where it came from.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, cast

import numpy as np

from ..errors import ConfigError, nearest
from ..hooks.arguments import ArgumentError, shown, validate
from ..trainer import losses, optimizers
from ..trainer.layers import LAYER_CLASSES, Layer
from ..trainer.models import Sequential
from ..trainer.utils import set_random_seed, to_categorical
from .catalogue import Catalogue
from .data import Data, load_data
from .data import classes as data_classes
from .data import where as _where
from .plan import Plan
from .sources import Setting, from_mapping

RUN_DIR = "{run_dir}"
FIT_KEYS = (
    "batch_size",
    "epochs",
    "verbose",
    "validation_split",
    "shuffle",
    "initial_epoch",
    "threads",
)


@dataclass
class Job:
    """A model and its data, ready for `fit`.

    Attributes:
        model: The compiled model.
        x: Training inputs.
        y: Training targets.
        validation: ``(x_val, y_val)`` or None.
        fit_args: Keyword arguments for `fit` (``epochs``, ...).
    """

    model: Sequential
    x: np.ndarray
    y: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    fit_args: dict[str, Any] = field(default_factory=dict)


MAX_UNITS = 1_000_000
"""The widest layer ``hookfit train`` builds from a config."""

EXAMPLE = "bundled example"
JOB_SECTIONS = ("model", "fit", "data")


def _example_data() -> dict[str, Any]:
    text = resources.files("hookfit").joinpath("example.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def example(cat: Catalogue) -> list[Setting]:
    """The bundled example config, without the plugins that are not installed:
    what ``hookfit train`` runs when it finds no config file."""
    data = _example_data()
    data["callbacks"] = {k: v for k, v in data["callbacks"].items() if k in cat.plugins}
    return from_mapping(data, "file", EXAMPLE, cat)


def example_defaults(settings: list[Setting], cat: Catalogue) -> list[Setting]:
    """The bundled example's ``[model]``, ``[fit]`` and ``[data]`` keys that
    ``settings`` do not set, as defaults (the lowest rank, below a file;
    origin ``"bundled example: fit.epochs"``).

    So a config that only names plugins trains the example, and ``hookfit
    config`` shows each value it gets. The example's ``[callbacks]`` are not
    among them: a config file says which plugins run. ``[data]`` is taken
    whole or not at all, because its keys are alternatives (``dataset`` or
    ``path``, whose ``x``, ``y`` and ``label`` name its arrays).
    """
    data = _example_data()
    given = {s.path for s in settings if s.path[0] in JOB_SECTIONS}
    if any(path[0] == "data" for path in given):
        del data["data"]
    tables = {
        section: {k: v for k, v in data[section].items() if (section, k) not in given}
        for section in JOB_SECTIONS
        if section in data
    }
    return from_mapping(tables, "default", EXAMPLE, cat)


def from_example(setting: Setting) -> bool:
    """True for a default that `example_defaults` gave."""
    return setting.source == "default" and setting.origin.startswith(f"{EXAMPLE}: ")


def mentions_run_dir(value: Any) -> bool:
    """True when ``{run_dir}`` appears in ``value`` or in any string in it."""
    if isinstance(value, str):
        return RUN_DIR in value
    if isinstance(value, list):
        return any(mentions_run_dir(v) for v in value)
    if isinstance(value, dict):
        return any(mentions_run_dir(v) for v in value.values())
    return False


def substitute(settings: list[Setting], run_dir: str) -> list[Setting]:
    """The settings with ``{run_dir}`` in every string replaced by ``run_dir``."""
    return [replace(s, value=_replace(s.value, run_dir)) for s in settings]


def _replace(value: Any, run_dir: str) -> Any:
    if isinstance(value, str):
        return value.replace(RUN_DIR, run_dir)
    if isinstance(value, list):
        return [_replace(v, run_dir) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, run_dir) for k, v in value.items()}
    return value


def prepare(plan: Plan) -> Job:
    """Load the data and build the model the plan's config describes.

    Raises:
        ConfigError: A missing or unreadable data file, an unknown layer,
            loss or optimizer, or arguments they do not take.
    """
    fit = plan.values("fit")
    if "seed" in fit:
        set_random_seed(fit["seed"])
    model_cfg = plan.values("model")
    loss_fn = _named(
        plan,
        ("model", "loss"),
        model_cfg.get("loss", "sparse_categorical_crossentropy"),
        losses.get,
    )
    data = _class_ids(load_data(plan), loss_fn)
    x, y, validation = data.x, data.y, data.validation
    model = Sequential([_layer(plan, i, spec) for i, spec in enumerate(_layers(plan, data))])
    optimizer = _optimizer(plan, model_cfg.get("optimizer", "rmsprop"))
    _named(  # compile checks the metrics; a refusal names the key
        plan,
        ("model", "metrics"),
        model_cfg.get("metrics", ["accuracy"]),
        lambda metrics: model.compile(optimizer=optimizer, loss=loss_fn, metrics=metrics),
    )
    loss = cast(losses.Loss, model.loss)
    if loss.fuses_with == "softmax" and not loss.sparse and y.ndim == 1:
        # class labels for a one-hot loss: encode them for the model's outputs
        classes = model.output_dim or data_classes(y, data.labels)
        y = to_categorical(y, classes)
        if validation is not None:
            validation = (validation[0], to_categorical(validation[1], classes))
    return Job(model, x, y, validation, {k: fit[k] for k in FIT_KEYS if k in fit})


def _class_ids(data: Data, loss: losses.Loss) -> Data:
    """``data`` with class labels saved as a column, shape (samples, 1),
    read as class ids, shape (samples,), for a loss over classes: as one
    column they would size the model's softmax to one unit, whose output
    is always 1."""

    def ids(y: np.ndarray) -> np.ndarray:
        return y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y

    if loss.fuses_with != "softmax":
        return data
    validation = data.validation
    if validation is not None:
        validation = (validation[0], ids(validation[1]))
    return replace(data, y=ids(data.y), validation=validation)


def _layers(plan: Plan, data: Data) -> list[dict[str, Any]]:
    found = plan.section("model").get("layers")
    if found is not None and not from_example(found):
        layers: list[dict[str, Any]] = found.value
        if not layers:
            raise ConfigError(
                f"{found.origin}: no layers; give at least one, e.g. "
                'layers = [{type = "Dense", units = 10}].'
            )
        return layers
    # The example's output layer has one unit per digit; on the config's own
    # data it needs one per class of that data.
    hidden = found.value[:-1] if found else [{"type": "Dense", "units": 64, "activation": "relu"}]
    output = found.value[-1] if found else {"type": "Dense", "activation": "softmax"}
    if data.y.ndim == 1:
        classes = data_classes(data.y, data.labels)
        problem = f"holds one class only ({int(data.y.max())})"
    else:
        classes, problem = data.y.shape[1], "has one column"
    if classes < 2 and output.get("activation") == "softmax":
        raise ConfigError(
            f"{data.labels} {problem}; the bundled example's last layer is a softmax with one "
            "unit per class, and a softmax over one unit always outputs 1. Give class labels "
            "of at least two classes, or [model] layers whose last layer fits your targets "
            '(e.g. {type = "Dense", units = 1} with loss = "mse" for one number per sample).'
        )
    return [*hidden, {**output, "units": classes}]


def _build(cls: type, args: dict[str, Any], where: str) -> Any:
    """Build a layer or optimizer from config, each argument checked once."""
    try:
        return cls(**validate(cls, args))
    except ArgumentError as exc:
        raise exc.at(f"{where}.{exc.key}") from None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _layer(plan: Plan, index: int, spec: dict[str, Any]) -> Layer:
    where = f"{_where(plan, 'model', 'layers')}[{index}]"
    kind = spec.get("type")
    if kind not in LAYER_CLASSES:
        raise ConfigError(
            f"{where}.type: expected a layer type{nearest(str(kind), LAYER_CLASSES)}, got "
            f"{shown(kind)}. Valid types: {', '.join(LAYER_CLASSES)}."
        )
    units = spec.get("units")
    if isinstance(units, int) and not isinstance(units, bool) and units > MAX_UNITS:
        # before anything is allocated: 1e12 units would ask for petabytes
        raise ConfigError(
            f"{where}.units: expected an integer from 1 to {MAX_UNITS}, got {units}. A layer "
            "this wide would not fit in memory; use fewer units."
        )
    return cast(
        Layer, _build(LAYER_CLASSES[kind], {k: v for k, v in spec.items() if k != "type"}, where)
    )


def _named(plan: Plan, path: tuple[str, str], value: Any, get: Any) -> Any:
    try:
        return get(value)
    except ConfigError as exc:
        raise ConfigError(f"{_where(plan, *path)}: {exc}") from None


def _optimizer(plan: Plan, spec: Any) -> optimizers.Optimizer:
    if isinstance(spec, str):
        return _named(plan, ("model", "optimizer"), spec, optimizers.get)
    where = _where(plan, "model", "optimizer")
    if "name" not in spec:
        raise ConfigError(
            f"{where}.name: required, and not given. Name the optimizer, e.g. "
            'optimizer = {name = "sgd", lr = 0.01}.'
        )
    cls = type(_named(plan, ("model", "optimizer"), spec["name"], optimizers.get))
    args = {k: v for k, v in spec.items() if k != "name"}
    return cast(optimizers.Optimizer, _build(cls, args, where))
