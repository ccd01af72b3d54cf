"""A Keras model's files, written atomically in Keras's own formats.

The extension picks the format, as in Keras: ``.keras`` (the zip Keras 3
writes), ``.weights.h5`` (weights only) and ``.h5``/``.hdf5`` (the legacy
HDF5 file, which `keras.saving.load_model` also reads). Each file is written
under a temporary name that ends like the target (Keras checks the
extension) and renamed into place by `hookfit.saving.atomic.atomic_file`.

What a resume needs besides the weights (the optimizer's variables and the
plugins' metadata) goes into a ``hookfit`` group of an HDF5 file, or a
``hookfit.json`` and ``hookfit.npz`` member of a ``.keras`` zip; Keras's own
readers ignore both.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hookfit import FormatError
from hookfit.saving.atomic import atomic_file

WEIGHTS = (".weights.h5",)
HDF5 = (".h5", ".hdf5")
MODEL = (".keras", *HDF5)


def suffix(filepath: str | os.PathLike[str], *, weights_only: bool) -> str:
    """The Keras format ``filepath`` names.

    Raises:
        FormatError: An extension Keras cannot write for this kind of file.
    """
    name = os.fspath(filepath).lower()
    valid = (*WEIGHTS, *HDF5) if weights_only else (*MODEL, *WEIGHTS)
    found = next((s for s in valid if name.endswith(s)), None)
    if found is None:
        what = "weights" if weights_only else "a model"
        raise FormatError(
            f"{os.fspath(filepath)!r}: Keras saves {what} to a file ending in "
            f"{', '.join(valid)}; got another extension. Rename the file (for "
            "ModelCheckpoint: its filepath), e.g. to 'model.keras'."
        )
    return found


def write(
    model: Any,
    filepath: str | os.PathLike[str],
    *,
    overwrite: bool,
    weights_only: bool,
    include_optimizer: bool,
    metadata: Mapping[str, Any] | None,
) -> None:
    """Write ``model`` to ``filepath`` atomically, in the format its extension names."""
    kind = suffix(filepath, weights_only=weights_only)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)!r} exists and overwrite is False.")
    state = _optimizer_state(model) if include_optimizer and not weights_only else None
    with atomic_file(filepath) as temp:
        staged = temp.with_name(temp.name + kind)
        try:
            if kind in WEIGHTS or (weights_only and kind in HDF5):
                _save_weights(model, staged, legacy=kind not in WEIGHTS)
            elif kind in HDF5:
                with warnings.catch_warnings():
                    # Keras calls .h5 legacy on every save; the user chose it
                    warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy")
                    model.save(staged, include_optimizer=include_optimizer)
            else:
                model.save(staged)
            if kind not in WEIGHTS and (metadata is not None or state is not None):
                _add_resume_state(staged, kind, dict(metadata or {}), state)
            os.replace(staged, temp)
        finally:
            staged.unlink(missing_ok=True)


def _save_weights(model: Any, path: Path, *, legacy: bool) -> None:
    if not legacy:
        model.save_weights(path)
        return
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    # the layout `model.load_weights("x.h5")` reads (Keras 2's weights file)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _optimizer_state(model: Any) -> list[np.ndarray] | None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not optimizer.built:
        # no step taken: nothing to resume, and no slots to match a built one
        return None
    return [np.asarray(keras.ops.convert_to_numpy(v)) for v in optimizer.variables]


def _add_resume_state(
    path: Path, kind: str, metadata: dict[str, Any], state: list[np.ndarray] | None
) -> None:
    text = json.dumps(metadata)
    if kind in HDF5:
        import h5py

        with h5py.File(path, "a") as f:
            group = f.create_group("hookfit")
            group.attrs["metadata"] = text
            if state is not None:
                optimizer = group.create_group("optimizer")
                for i, value in enumerate(state):
                    optimizer.create_dataset(str(i), data=value)
        return
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {str(i): value for i, value in enumerate(state or [])}
    np.savez(buffer, **arrays)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(
            "hookfit.json", json.dumps({"metadata": metadata, "optimizer": state is not None})
        )
        z.writestr("hookfit.npz", buffer.getvalue())


def restore(model: Any, filepath: str | os.PathLike[str]) -> dict[str, Any]:
    """Load the weights, then the optimizer's variables, that `write` put in
    ``filepath``, and return its metadata (empty for a file Keras wrote alone).

    Raises:
        FormatError: The file cannot be read or holds another model's weights.
    """
    kind = suffix(filepath, weights_only=False)
    if kind in WEIGHTS:
        raise FormatError(
            f"{os.fspath(filepath)!r}: a weights file holds no training state to resume "
            "from; save the model to .keras or .h5 instead."
        )
    try:
        model.load_weights(filepath)
        metadata, state = _read_resume_state(Path(filepath), kind)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise FormatError(
            f"{os.fspath(filepath)!r}: not a backup of this Keras model ({type(exc).__name__}: "
            f"{exc})."
        ) from None
    if state is not None:
        _load_optimizer_state(model, state, filepath)
    return metadata


def _read_resume_state(path: Path, kind: str) -> tuple[dict[str, Any], list[np.ndarray] | None]:
    if kind in HDF5:
        import h5py

        with h5py.File(path, "r") as f:
            if "hookfit" not in f:
                return {}, None  # Keras's own file: weights, no resume state
            group = f["hookfit"]
            metadata = json.loads(group.attrs["metadata"])
            if "optimizer" not in group:
                return metadata, None
            optimizer = group["optimizer"]
            return metadata, [np.array(optimizer[str(i)]) for i in range(len(optimizer))]
    with zipfile.ZipFile(path) as z:
        if "hookfit.json" not in z.namelist():
            return {}, None
        info = json.loads(z.read("hookfit.json"))
        if not info["optimizer"]:
            return info["metadata"], None
        with np.load(io.BytesIO(z.read("hookfit.npz")), allow_pickle=False) as arrays:
            return info["metadata"], [arrays[str(i)] for i in range(len(arrays.files))]


def _load_optimizer_state(model: Any, state: list[np.ndarray], filepath: Any) -> None:
    optimizer = model.optimizer
    if not optimizer.built:
        # a fresh process: the slots are made at the first step, too late
        optimizer.build(model.trainable_variables)
    variables = optimizer.variables
    shapes = [tuple(v.shape) for v in variables]
    if shapes != [value.shape for value in state]:
        raise FormatError(
            f"{os.fspath(filepath)!r}: its optimizer state ({len(state)} arrays) does not fit "
            f"this model's {type(optimizer).__name__} ({len(variables)} variables); build and "
            "compile the model as the run that saved it did."
        )
    for variable, value in zip(variables, state, strict=True):
        variable.assign(value)
