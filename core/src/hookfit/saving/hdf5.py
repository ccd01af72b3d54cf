"""Models as HDF5 files in the tf.keras 2.x legacy layout, read and written
with h5py (the ``hookfit[h5]`` extra), imported only here.

The layout is the one Keras 2 wrote and Keras 3 still loads: ``model_config``
(JSON, a ``Sequential`` with an explicit ``InputLayer``), ``training_config``,
``model_weights/<layer>/<layer>/<weight>:0`` with ``layer_names`` and
``weight_names`` attributes. hookfit's own state (optimizer slots, step
count, random generators) sits in a ``hookfit`` group that Keras ignores, so
``load_model`` then ``fit`` continues exactly where the saved model stopped.

Every write goes through `hookfit.saving.atomic`. Loading reads only arrays
and JSON (`hookfit.saving.keras_config` for the configs): links, external or
virtual datasets and shape mismatches are refused; no stored code runs.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..background import Jobs
from ..errors import ConfigError, FormatError, HookfitWarning, MissingDependencyError
from . import keras_config
from .atomic import atomic_file

if TYPE_CHECKING:
    from ..trainer.models import Model

_MAX_BYTES = 4 << 30  # Keras 3.15's "shape bomb" rule: declared size vs stored size
_SHAPE_BOMB_RATIO = 1000


def h5py() -> Any:
    """Import h5py, or say which extra to install."""
    try:
        import h5py as module
    except ImportError:
        raise MissingDependencyError(
            "Saving and loading models needs h5py: pip install 'hookfit[h5]'."
        ) from None
    return module


# -- writing --------------------------------------------------------------------


def _check_target(path: str | os.PathLike[str], overwrite: bool) -> Path:
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{target} is a directory; give a file path such as {target}/model.h5.")
    if target.suffix not in (".h5", ".hdf5"):
        raise ConfigError(f"{target}: hookfit saves HDF5 files; name the file with .h5 or .hdf5.")
    if target.exists() and not overwrite:
        raise ConfigError(f"{target} exists and overwrite=False.")
    if target.name.endswith(".weights.h5"):
        warnings.warn(
            f"{target}: Keras 3 reads '*.weights.h5' files in its own format, not this legacy "
            "layout; name the file '*.h5' if Keras must load it.",
            HookfitWarning,
            stacklevel=3,
        )
    return target


def save_model(
    model: Model,
    path: str | os.PathLike[str],
    overwrite: bool = True,
    include_optimizer: bool = True,
    metadata: dict[str, Any] | None = None,
    jobs: Jobs | None = None,
) -> None:
    """Write the model, its training config and hookfit's optimizer state.

    Args:
        model: A built model.
        path: The ``.h5`` file.
        overwrite: False refuses an existing file.
        include_optimizer: Also write the optimizer state and the random
            generators (what an exact resume needs).
        metadata: JSON-able data stored in the same file (read it back with
            `restore`), so that a backup and its bookkeeping are one
            atomic write.
        jobs: Write in the background: the model's state is copied now and
            the file is written by ``jobs``' thread (plugins use this).
    """
    target = _check_target(path, overwrite)
    copy = jobs is not None
    root = {
        "keras_version": keras_config.KERAS_VERSION.encode(),
        "backend": b"tensorflow",
        "model_config": json.dumps(keras_config.model_config(model)).encode(),
    }
    training = keras_config.training_config(model)
    if training is not None:
        root["training_config"] = json.dumps(training).encode()
    state = _state(model, copy) if include_optimizer else None
    if metadata is not None:
        state = {**(state or {"attrs": {}, "slots": {}})}
        state["attrs"] = {**state["attrs"], "metadata": json.dumps(metadata)}
    snapshot = (root, _weights(model, copy), state)
    if jobs is None:
        _write(target, *snapshot)
    else:
        jobs.submit(_write, target, *snapshot)


def save_weights(
    model: Model, path: str | os.PathLike[str], overwrite: bool = True, jobs: Jobs | None = None
) -> None:
    """Write the weights only, at the file's root (Keras 2's save_weights).

    Args:
        model: A built model.
        path: The ``.h5`` file.
        overwrite: False refuses an existing file.
        jobs: Write in the background, as `save_model` does.
    """
    target = _check_target(path, overwrite)
    weights = _weights(model, jobs is not None)
    if jobs is None:
        _write(target, None, weights, None)
    else:
        jobs.submit(_write, target, None, weights, None)


Weights = list[tuple[str, list[tuple[str, np.ndarray]]]]


def _weights(model: Model, copy: bool) -> Weights:
    """Every layer's name and its ``(dataset name, array)`` pairs."""
    return [
        (
            layer.name,
            [
                (f"{layer.name}/{name}:0", np.array(value, copy=copy))
                for name, value in zip(layer.weight_names, layer.weights, strict=True)
            ]
            if layer.weights
            else [],
        )
        for layer in model.layers
    ]


def _state(model: Model, copy: bool) -> dict[str, Any]:
    """hookfit's own state: random generators and optimizer slots."""
    rngs = {"model": model.rng.bit_generator.state}
    for layer in model.layers:
        rng = getattr(layer, "rng", None)  # Dropout's, when it has a seed of its own
        if rng is not None and rng is not model.rng:
            rngs[layer.name] = rng.bit_generator.state
    attrs = {"rng_states": json.dumps(rngs)}
    slots: dict[str, list[np.ndarray]] = {}
    opt = model.optimizer
    if opt is not None:
        stepped = opt.slot_names and len(opt.slots.get(opt.slot_names[0], ())) == len(
            model._weights
        )
        if opt.slot_names and not stepped:
            opt.build(model._weights)  # never stepped: save its zero slots all the same
        attrs["optimizer"] = json.dumps(
            {
                "class_name": type(opt).__name__,
                "config": opt.get_config(),
                "iterations": opt.iterations,
            }
        )
        slots = {
            name: [np.array(a, copy=copy) for a in arrays] for name, arrays in opt.slots.items()
        }
    return {"attrs": attrs, "slots": slots}


def _write(
    target: Path, root: dict[str, bytes] | None, weights: Weights, state: dict[str, Any] | None
) -> None:
    with atomic_file(target) as temp, h5py().File(temp, "w") as f:
        group = f
        if root is not None:  # a whole model; weights only go at the root
            for key, value in root.items():
                f.attrs[key] = value
            group = f.create_group("model_weights")
        group.attrs["keras_version"] = keras_config.KERAS_VERSION.encode()
        group.attrs["backend"] = b"tensorflow"
        group.attrs["layer_names"] = _names([name for name, _ in weights])
        for name, arrays in weights:
            g = group.create_group(name)
            g.attrs["weight_names"] = _names([n for n, _ in arrays])
            for dataset, array in arrays:
                g.create_dataset(dataset, data=array)
        if state is not None:
            own = f.create_group("hookfit")
            for key, value in state["attrs"].items():
                own.attrs[key] = value
            for slot, arrays in state["slots"].items():
                g = own.create_group(f"slots/{slot}")
                for i, array in enumerate(arrays):
                    g.create_dataset(str(i), data=array)


def _names(items: list[str]) -> np.ndarray:
    return np.array([s.encode() for s in items]) if items else np.array([], dtype="S1")


# -- reading --------------------------------------------------------------------


@contextmanager
def _open(path: str | os.PathLike[str]) -> Iterator[Any]:
    target = Path(path)
    if not target.is_file():
        raise FormatError(f"{target}: no such file.")
    try:
        with h5py().File(target, "r") as f:
            yield f
    except (OSError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(
            f"{target} is not a readable hookfit/Keras HDF5 model file (truncated, corrupt or "
            f"another format): {type(exc).__name__}: {exc}."
        ) from None


def load_model(path: str | os.PathLike[str], compile: bool = True) -> Model:
    """Rebuild a model saved by `save_model` (or by Keras 2 / tf.keras).

    Raises:
        FormatError: The file is not a model this loader accepts, with why.
    """
    from ..trainer.models import Sequential

    with _open(path) as f:
        if "model_config" not in f.attrs:
            raise FormatError(
                f"{path} holds no model_config (a weights-only file?); build the model in code "
                "and call model.load_weights() on it."
            )
        config = json.loads(_text(f.attrs["model_config"]))
        name, layers = keras_config.parse_model_config(config, path)
        model = Sequential(layers, name=name)
        if not model.built:
            raise FormatError(f"{path}: the model_config gives no input shape (no InputLayer).")
        _read_weights(_group(f, "model_weights", path), model, path)
        if compile and "training_config" in f.attrs:
            keras_config.compile_from(model, json.loads(_text(f.attrs["training_config"])), path)
        if "hookfit" in f:
            _read_state(_group(f, "hookfit", path), model, path)
    return model


def load_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """Load weights saved by `save_weights` or `save_model` into ``model``,
    matching the layers that have weights in order (as Keras does)."""
    with _open(path) as f:
        group = f if "layer_names" in f.attrs else _group(f, "model_weights", path)
        _read_weights(group, model, path)


def restore(model: Model, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load weights, optimizer state and random generators into ``model``,
    which must be built and compiled like the saved one (BackupAndRestore).

    Returns:
        The ``metadata`` given to `save_model`, or an empty dict.
    """
    with _open(path) as f:
        _read_weights(_group(f, "model_weights", path), model, path)
        state = _group(f, "hookfit", path)
        _read_state(state, model, path)
        return dict(json.loads(_text(state.attrs.get("metadata", "{}"))))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | np.bytes_) else str(value)


def _group(parent: Any, name: str, path: Any) -> Any:
    link = parent.get(name, getlink=True)
    if link is None:
        raise FormatError(f"{path}: no {name!r} group.")
    if not isinstance(link, h5py().HardLink):
        raise FormatError(
            f"{path}: {name!r} is a {type(link).__name__}; only plain groups are read."
        )
    group = parent[name]
    if not isinstance(group, h5py().Group):
        raise FormatError(f"{path}: {name!r} is not a group.")
    return group


def _dataset(parent: Any, name: str, path: Any, shape: tuple[int, ...]) -> np.ndarray:
    link = parent.get(name, getlink=True)
    where = f"{path}: {parent.name}/{name}"
    if link is None:
        raise FormatError(f"{where}: missing.")
    if not isinstance(link, h5py().HardLink):
        raise FormatError(f"{where} is a {type(link).__name__}; only plain datasets are read.")
    data = parent[name]
    if not isinstance(data, h5py().Dataset):
        raise FormatError(f"{where} is not a dataset.")
    if data.external or data.is_virtual:
        raise FormatError(f"{where} keeps its data outside the file; refused.")
    if data.dtype.kind != "f":
        raise FormatError(f"{where} holds {data.dtype}, not floats.")
    if tuple(data.shape) != tuple(shape):
        raise FormatError(f"{where} has shape {tuple(data.shape)}; the model needs {tuple(shape)}.")
    stored = data.id.get_storage_size()
    if data.nbytes > _MAX_BYTES and data.nbytes > _SHAPE_BOMB_RATIO * max(stored, 1):
        raise FormatError(f"{where} declares {data.nbytes} bytes but stores {stored}; refused.")
    return np.asarray(data[()], dtype=np.float32)


def _names_attr(group: Any, name: str) -> list[str]:
    if name in group.attrs:
        return [_text(n) for n in group.attrs[name]]
    out, i = [], 0  # Keras splits long name lists into name0, name1, ...
    while f"{name}{i}" in group.attrs:
        out += [_text(n) for n in group.attrs[f"{name}{i}"]]
        i += 1
    return out


def _read_weights(group: Any, model: Model, path: Any) -> None:
    weighted = [layer for layer in model.layers if layer.weights]
    stored = [
        (name, _names_attr(_group(group, name, path), "weight_names"))
        for name in _names_attr(group, "layer_names")
    ]
    stored = [(name, names) for name, names in stored if names]
    if len(stored) != len(weighted):
        raise FormatError(
            f"{path} holds weights for {len(stored)} layers; the model has {len(weighted)} layers "
            f"with weights ({', '.join(ly.name for ly in weighted)})."
        )
    values = []
    for layer, (name, weight_names) in zip(weighted, stored, strict=True):
        if len(weight_names) != len(layer.weights):
            raise FormatError(
                f"{path}: layer {name} holds {len(weight_names)} weights; {layer.name} has "
                f"{len(layer.weights)}."
            )
        g = _group(group, name, path)
        values.append(
            [
                _dataset(g, wn, path, w.shape)
                for wn, w in zip(weight_names, layer.weights, strict=True)
            ]
        )
    for layer, arrays in zip(weighted, values, strict=True):
        layer.set_weights(arrays)


def _read_state(group: Any, model: Model, path: Any) -> None:
    rngs = json.loads(_text(group.attrs.get("rng_states", "{}")))
    for layer in [None, *model.layers]:
        key = "model" if layer is None else layer.name
        rng = model.rng if layer is None else getattr(layer, "rng", None)
        if key in rngs and rng is not None and (layer is None or rng is not model.rng):
            try:
                rng.bit_generator.state = rngs[key]
            except (TypeError, ValueError, KeyError) as exc:
                raise FormatError(f"{path}: bad random generator state for {key}: {exc}.") from None
    if "optimizer" not in group.attrs or model.optimizer is None:
        return
    saved = json.loads(_text(group.attrs["optimizer"]))
    opt = model.optimizer
    if saved.get("class_name") != type(opt).__name__:
        raise FormatError(
            f"{path} holds {saved.get('class_name')} state; the model is compiled with "
            f"{type(opt).__name__}."
        )
    # hookfit's own copy of the settings is complete (Keras's has no decay),
    # and it holds the rate a plugin may have changed during training.
    for key, value in saved.get("config", {}).items():
        if key != "name" and hasattr(opt, key):
            setattr(opt, key, value)
    opt.iterations = int(saved.get("iterations", 0))
    opt.build(model._weights)
    if not opt.slots:
        return
    slots = _group(group, "slots", path)
    for slot, arrays in opt.slots.items():
        for i, array in enumerate(arrays):
            array[...] = _dataset(_group(slots, slot, path), str(i), path, array.shape)


__all__ = [
    "load_model",
    "load_weights",
    "restore",
    "save_model",
    "save_weights",
]
