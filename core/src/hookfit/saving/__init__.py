"""Saving: atomic files (`hookfit.saving.atomic`) and models as HDF5 files
in the Keras legacy layout (`hookfit.saving.hdf5`, which needs h5py)."""

from __future__ import annotations

from .atomic import (
    atomic_file,
    check_writable,
    fsync_folder,
    remove_stale_temp_files,
    safe_file_name,
)
from .hdf5 import load_model, load_weights, restore, save_model, save_weights
from .keras_config import model_config

__all__ = [
    "atomic_file",
    "check_writable",
    "fsync_folder",
    "load_model",
    "load_weights",
    "model_config",
    "remove_stale_temp_files",
    "restore",
    "safe_file_name",
    "save_model",
    "save_weights",
]
