"""Models as HDF5 files in the tf.keras 2.x legacy layout, read and written
with h5py (the ``hookfit[h5]`` extra), imported only here and in
`hookfit.saving.images`.

The layout is the one Keras 2 wrote and Keras 3 still loads: ``model_config``
(JSON, a ``Sequential`` with an explicit ``InputLayer``), ``training_config``,
``model_weights/<layer>/<layer>/<weight>:0`` with ``layer_names`` and
``weight_names`` attributes. hookfit's own state (optimizer slots, step
count, random generators) sits in a ``hookfit`` group that Keras ignores, so
``load_model`` then ``fit`` continues exactly where the saved model stopped.

A file is built in memory (`hookfit.saving.images`, which reuses one build
of a layout for the next saves) and its bytes written through
`hookfit.saving.atomic`, so a full disk is a clean `OSError` that leaves the
previous file and no temporary one. Loading reads only arrays and JSON
(`hookfit.saving.keras_config` and `blueprints` for the configs), each checked by
`hookfit.saving.checks` before anything is built: links, external or
virtual datasets, unsafe names, shape mismatches and undocumented optimizer
settings are refused; no stored code runs.
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

from ..background import Lane
from ..errors import ConfigError, FormatError, HookfitError, HookfitWarning
from ..trainer.layers import check_name
from . import atomic, blueprints, checks, keras_config
from .images import Weights, file_image, h5py

if TYPE_CHECKING:
    from ..trainer.models import Model


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
    jobs: Lane | None = None,
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
    model: Model, path: str | os.PathLike[str], overwrite: bool = True, jobs: Lane | None = None
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


def _weights(model: Model, copy: bool) -> Weights:
    """Every layer's name and its ``(dataset name, array)`` pairs.

    Raises:
        ConfigError: A layer renamed to a name that is not safe as an HDF5
            group (``../x``).
    """
    for layer in model.layers:
        try:
            check_name(layer.name)
        except ConfigError as exc:
            raise ConfigError(f"cannot save layer {layer.name!r}: {exc}") from None
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
            model.flat_weights
        )
        if opt.slot_names and not stepped:
            opt.build(model.flat_weights)  # never stepped: save its zero slots all the same
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
    # h5py crashes the process (SIGSEGV, h5py issue 914) when the disk fills
    # or the file-size limit is hit while it writes a file. So the file is
    # built in memory (`images`) and its bytes written with plain file I/O,
    # where a full disk is an ordinary OSError and the temporary file goes.
    try:
        atomic.write_bytes(target, file_image(root, weights, state))
    except OSError as exc:
        kept = "keeps its previous content" if target.exists() else "was not created"
        raise OSError(
            exc.errno,
            f"could not write the model file ({exc.strerror or exc}); {target.name} {kept}, and "
            f"no temporary file is left. {atomic.remedy(exc, 'save again')}",
            str(target),
        ) from exc


# -- reading --------------------------------------------------------------------


@contextmanager
def _open(path: str | os.PathLike[str]) -> Iterator[Any]:
    target = Path(path)
    if not target.is_file():
        raise FormatError(f"{target}: no such file.")
    try:
        with h5py().File(target, "r") as f:
            yield f
    except HookfitError:
        raise
    # what h5py raises for a file it cannot read (RuntimeError: a corrupt
    # attribute header, "ran off end of input buffer while decoding"); the
    # checks of `checks` give the rest their own messages
    except (
        OSError,
        KeyError,
        TypeError,
        ValueError,
        OverflowError,
        RecursionError,
        RuntimeError,
    ) as exc:
        raise FormatError(
            f"{target} is not a readable hookfit/Keras HDF5 model file (truncated, corrupt or "
            f"another format): {type(exc).__name__}: {exc}."
        ) from None


def load_model(path: str | os.PathLike[str], compile: bool = True) -> Model:
    """Rebuild a model saved by `save_model` (or by Keras 2 / tf.keras).

    Nothing is allocated before the weights in the file are found to match
    the config, in names, shapes and size (`hookfit.saving.checks`).

    Raises:
        FormatError: The file is not a model this loader accepts, with why.
    """
    with _open(path) as f:
        if "model_config" not in f.attrs:
            raise FormatError(
                f"{path} holds no model_config (a weights-only file?); build the model in code "
                "and call model.load_weights() on it."
            )
        config = checks.read_json(f.attrs["model_config"], path, "model_config")
        blueprint = blueprints.parse_model_config(config, path)
        datasets = checks.weight_datasets(
            checks.group(f, "model_weights", path), blueprint.expected(path), path
        )
        model = blueprint.build(f"{path}: model_config")
        _set_weights(model, datasets)
        if compile and "training_config" in f.attrs:
            training = checks.read_json(f.attrs["training_config"], path, "training_config")
            blueprints.compile_from(model, training, path)
        if "hookfit" in f:
            _read_state(checks.group(f, "hookfit", path), model, path)
    return model


def load_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """Load weights saved by `save_weights` or `save_model` into ``model``,
    matching the layers that have weights in order (as Keras does)."""
    with _open(path) as f:
        group = f if "layer_names" in f.attrs else checks.group(f, "model_weights", path)
        _read_weights(group, model, path)


def restore(model: Model, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load weights, optimizer state and random generators into ``model``,
    which must be built and compiled like the saved one (BackupAndRestore).

    Returns:
        The ``metadata`` given to `save_model`, or an empty dict.
    """
    with _open(path) as f:
        _read_weights(checks.group(f, "model_weights", path), model, path)
        state = checks.group(f, "hookfit", path)
        _read_state(state, model, path)
        metadata = state.attrs.get("metadata", "{}")
        return checks.table(
            checks.read_json(metadata, path, "hookfit/metadata", finite=False),
            f"{path}: hookfit/metadata",
        )


def _read_weights(group: Any, model: Model, path: Any) -> None:
    wanted = [(ly.name, [w.shape for w in ly.weights]) for ly in model.layers if ly.weights]
    _set_weights(model, checks.weight_datasets(group, wanted, path))


def _set_weights(model: Model, datasets: list[list[Any]]) -> None:
    # every array is read before any layer changes: a bad file changes nothing
    values = [[checks.read(d) for d in found] for found in datasets]
    weighted = [layer for layer in model.layers if layer.weights]
    for layer, arrays in zip(weighted, values, strict=True):
        layer.set_weights(arrays)


def _read_state(group: Any, model: Model, path: Any) -> None:
    where = f"{path}: hookfit/rng_states"
    rngs = checks.table(
        checks.read_json(group.attrs.get("rng_states", "{}"), path, "hookfit/rng_states"), where
    )
    for layer in [None, *model.layers]:
        key = "model" if layer is None else layer.name
        rng = model.rng if layer is None else getattr(layer, "rng", None)
        if key in rngs and rng is not None and (layer is None or rng is not model.rng):
            try:
                rng.bit_generator.state = rngs[key]
            except (TypeError, ValueError, KeyError, OverflowError) as exc:
                raise FormatError(f"{path}: bad random generator state for {key}: {exc}.") from None
    if "optimizer" not in group.attrs or model.optimizer is None:
        return
    opt = model.optimizer
    saved = checks.read_json(group.attrs["optimizer"], path, "hookfit/optimizer")
    # hookfit's own copy of the settings is complete (Keras's has no decay),
    # and it holds the rate a plugin may have changed during training.
    settings, iterations = checks.optimizer_state(opt, saved, path)
    slots = checks.group(group, "slots", path) if settings["slot_names"] else None
    arrays = {
        slot: [
            checks.read(checks.dataset(checks.group(slots, slot, path), str(i), path, w.shape))
            for i, w in enumerate(model.flat_weights)
        ]
        for slot in settings["slot_names"]
    }
    for key, value in settings.items():  # all checked and read: now change the optimizer
        setattr(opt, key, value)
    opt.iterations = iterations
    opt.build(model.flat_weights)
    for slot, values in arrays.items():
        for target, value in zip(opt.slots[slot], values, strict=True):
            target[...] = value


__all__ = [
    "load_model",
    "load_weights",
    "restore",
    "save_model",
    "save_weights",
]
