"""Checks of a model file before anything is built from it.

A file is data from anyone, so `hookfit.saving.hdf5` reads nothing it has
not checked here first: JSON within bounds, names that cannot become paths,
weight shapes that agree with the config and with the file's own size (so a
small file cannot make the loader allocate gigabytes), and only the
optimizer settings the optimizer documents, each type-checked. Every
refusal is a `FormatError` that names the file and what is wrong.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

import numpy as np

from ..errors import ConfigError, FormatError
from ..hooks.arguments import parameters, validate
from ..trainer.layers import NAME_PATTERN, Layer
from ..trainer.optimizers import Optimizer

# Weights may declare this much, or this many times the file's size,
# whichever is more: an uncompressed file holds every byte it declares, and
# Keras's writers do not compress. Beyond it a file is a "shape bomb".
_UNCHECKED_BYTES = 64 << 20
_DECLARED_PER_STORED = 1000
_MAX_DIM = 2**31 - 1
_MAX_ITERATIONS = 2**63 - 1
_INDEX = re.compile(r":\d+$")

Expected = list[tuple[str, list[tuple[int, ...]]]]
"""Each layer with weights: its name and the shapes of its weights."""


def text(value: Any, where: str) -> str:
    """An attribute's text (h5py gives bytes or str)."""
    if isinstance(value, bytes | np.bytes_):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            raise FormatError(f"{where} is not UTF-8 text.") from None
    if isinstance(value, str):
        return value
    raise FormatError(f"{where} must be text, got {_short(value)}.")


def read_json(value: Any, path: Any, key: str, *, finite: bool = True) -> Any:
    """Parse the JSON attribute ``key``.

    Args:
        value: The attribute's value.
        path: The file, for messages.
        key: The attribute's name, for messages.
        finite: Refuse NaN, infinities and numbers too large for a float
            (a model's settings have none; a plugin's metadata may).
    """
    where = f"{path}: {key}"

    def refuse(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):
            raise FormatError(
                f"{where} holds a number JSON cannot represent exactly ({number}); a model "
                "file's settings are finite numbers."
            )
        return value

    hooks: dict[str, Any] = {"parse_constant": refuse, "parse_float": refuse} if finite else {}
    try:
        return json.loads(text(value, where), **hooks)
    except RecursionError:
        raise FormatError(f"{where} is nested too deeply to be a model file's JSON.") from None
    except FormatError:
        raise
    except ValueError as exc:
        raise FormatError(f"{where} is not valid JSON: {exc}.") from None


def table(value: Any, where: str) -> dict[str, Any]:
    """``value`` if it is a JSON object."""
    if not isinstance(value, dict):
        raise FormatError(f"{where} must be a table, got {_short(value)}.")
    return value


def whole(value: Any, where: str, key: str, low: int, high: int) -> int:
    """``value`` if it is an integer in ``[low, high]`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FormatError(f"{where}: {key} must be an integer >= {low}, got {_short(value)}.")
    return value


def input_shape(value: Any, where: str) -> tuple[int, ...]:
    """The sample shape of a ``batch_input_shape`` such as ``[null, 8]``."""
    if (
        not isinstance(value, list)
        or len(value) < 2
        or any(
            isinstance(d, bool) or not isinstance(d, int) or not 0 < d <= _MAX_DIM
            for d in value[1:]
        )
        or math.prod(value[1:]) > _MAX_DIM
    ):
        raise FormatError(
            f"{where}: batch_input_shape must be [null, positive integers], got {_short(value)}."
        )
    return tuple(value[1:])


# -- groups, names and datasets ----------------------------------------------------


def group(parent: Any, name: str, path: Any) -> Any:
    """The plain group ``name`` in ``parent`` (no links)."""
    import h5py

    link = parent.get(name, getlink=True)
    if link is None:
        raise FormatError(f"{path}: no {name!r} group.")
    if not isinstance(link, h5py.HardLink):
        raise FormatError(
            f"{path}: {name!r} is a {type(link).__name__}; only plain groups are read."
        )
    found = parent[name]
    if not isinstance(found, h5py.Group):
        raise FormatError(f"{path}: {name!r} is not a group.")
    return found


def names(holder: Any, attr: str, path: Any, *, weights: bool = False) -> list[str]:
    """The names in ``holder``'s attribute ``attr`` (Keras splits long lists
    into ``attr0``, ``attr1``, ...), each checked against the safe pattern:
    a layer name, or for ``weights`` a ``layer/weight:0`` path of them."""
    where = f"{path}: {holder.name.strip('/')}/{attr}".replace(": /", ": ")
    if attr in holder.attrs:
        parts = [holder.attrs[attr]]
    else:
        parts, i = [], 0
        while f"{attr}{i}" in holder.attrs:
            parts.append(holder.attrs[f"{attr}{i}"])
            i += 1
    out = []
    for part in parts:
        if isinstance(part, np.ndarray) and part.shape == (0,):
            continue  # an empty list (a layer without weights), whatever its dtype
        if not isinstance(part, np.ndarray) or part.ndim != 1 or part.dtype.kind not in "SUO":
            raise FormatError(f"{where} must be names, got {_short(part)}.")
        for item in part:
            name = text(item, where)
            segments = _INDEX.sub("", name).split("/") if weights else [name]
            if not all(NAME_PATTERN.fullmatch(s) for s in segments):
                raise FormatError(
                    f"{where}: {name!r} is not a safe name (letters, digits, '_', '-', '.'"
                    f"{', joined by /' if weights else ''}); refused."
                )
            out.append(name)
    return out


def dataset(parent: Any, name: str, path: Any, shape: tuple[int, ...]) -> Any:
    """The plain float dataset ``name`` in ``parent``, of ``shape``; not read."""
    import h5py

    link = parent.get(name, getlink=True)
    where = f"{path}: {parent.name}/{name}"
    if link is None:
        raise FormatError(f"{where}: missing.")
    if not isinstance(link, h5py.HardLink):
        raise FormatError(f"{where} is a {type(link).__name__}; only plain datasets are read.")
    data = parent[name]
    if not isinstance(data, h5py.Dataset):
        raise FormatError(f"{where} is not a dataset.")
    if data.external or data.is_virtual:
        raise FormatError(f"{where} keeps its data outside the file; refused.")
    if data.dtype.kind != "f":
        raise FormatError(f"{where} holds {data.dtype}, not floats.")
    if tuple(data.shape) != tuple(shape):
        raise FormatError(f"{where} has shape {tuple(data.shape)}; the model needs {tuple(shape)}.")
    return data


def read(data: Any) -> np.ndarray:
    """A checked dataset's values as float32."""
    return np.asarray(data[()], dtype=np.float32)


def expected(pairs: list[tuple[Layer, Any]], path: Any) -> Expected:
    """The weight shapes the layers will have once built, each for the
    input shape paired with it, without allocating anything.

    Raises:
        FormatError: The weights would go over the memory budget
            (`Layer.check_budget`).
    """
    out: Expected = []
    declared = 0
    for layer, shape in pairs:
        try:
            declared = layer.check_budget(shape, declared)
        except ConfigError as exc:
            raise FormatError(f"{path}: model_config: {exc}") from None
        shapes = layer.weight_shapes(shape)
        if shapes:
            out.append((layer.name, shapes))
    return out


def weight_datasets(group_: Any, wanted: Expected, path: Any) -> list[list[Any]]:
    """Match the file's weights to ``wanted`` (layers with weights, in order,
    as Keras does) and return their datasets, unread.

    Raises:
        FormatError: Other counts or shapes, unsafe names, or more declared
            bytes than a file of this size can hold.
    """
    stored = [
        (name, names(group(group_, name, path), "weight_names", path, weights=True))
        for name in names(group_, "layer_names", path)
    ]
    stored = [(name, weight_names) for name, weight_names in stored if weight_names]
    if len(stored) != len(wanted):
        raise FormatError(
            f"{path} holds weights for {len(stored)} layers; the model has {len(wanted)} layers "
            f"with weights ({', '.join(name for name, _ in wanted)})."
        )
    out, declared = [], 0
    for (layer, shapes), (name, weight_names) in zip(wanted, stored, strict=True):
        if len(weight_names) != len(shapes):
            raise FormatError(
                f"{path}: layer {name} holds {len(weight_names)} weights; {layer} has "
                f"{len(shapes)}."
            )
        g = group(group_, name, path)
        found = [dataset(g, wn, path, s) for wn, s in zip(weight_names, shapes, strict=True)]
        declared += sum(int(d.dtype.itemsize) * math.prod(d.shape) for d in found)
        out.append(found)
    size = os.path.getsize(group_.file.filename)
    if declared > max(_UNCHECKED_BYTES, _DECLARED_PER_STORED * size):
        raise FormatError(
            f"{path}: model_weights declares {declared} bytes of weights but the file holds "
            f"{size} bytes; refused: a file this small cannot hold them (crafted or damaged)."
        )
    return out


# -- hookfit's own state -------------------------------------------------------------


def optimizer_state(opt: Optimizer, saved: Any, path: Any) -> tuple[dict[str, Any], int]:
    """The settings and step count to give ``opt`` from its saved state.

    Only the parameters ``type(opt)`` documents (its constructor's) are
    read, each checked by its type hint and by the constructor itself.

    Returns:
        The checked settings by attribute name, and the step count.
    """
    where = f"{path}: hookfit/optimizer"
    saved = table(saved, where)
    kind = type(opt).__name__
    if saved.get("class_name") != kind:
        raise FormatError(
            f"{path} holds {saved.get('class_name')} state; the model is compiled with {kind}."
        )
    config = {k: v for k, v in table(saved.get("config", {}), f"{where}: config").items()}
    config.pop("name", None)
    accepted, _ = parameters(type(opt))
    for key in config:
        if key not in accepted:
            raise FormatError(
                f"{where}: {kind} has no setting {key!r}; a file may set only "
                f"{', '.join(accepted)}."
            )
    try:
        fresh = type(opt)(**validate(type(opt), config))
    except ConfigError as exc:
        raise FormatError(f"{where}: {exc}") from None
    settings = {key: getattr(fresh, key) for key in config}
    settings["slot_names"] = fresh.slot_names
    iterations = whole(saved.get("iterations", 0), where, "iterations", 0, _MAX_ITERATIONS)
    return settings, iterations


def _short(value: Any) -> str:
    """``value`` for a message, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
