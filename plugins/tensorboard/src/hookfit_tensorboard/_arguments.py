"""The checks of TensorBoard's arguments (kept apart: the plugin module stays short)."""

from __future__ import annotations

import os
from typing import Any

from hookfit import ConfigError


def checked(
    log_dir: Any,
    histogram_freq: Any,
    batch_size: Any,
    write_graph: Any,
    write_grads: Any,
    write_images: Any,
    embeddings_freq: Any,
    embeddings_layer_names: Any,
    embeddings_metadata: Any,
    update_freq: Any,
) -> tuple[str, list[str] | None, Any, int]:
    """Check TensorBoard's arguments.

    Returns:
        The log folder as a string, the embeddings layer names as a list (or
        None), the metadata (paths made strings), and the batch interval
        (0 for ``update_freq='epoch'``).

    Raises:
        ConfigError: A bad argument, named in the message.
    """
    if not isinstance(log_dir, (str, os.PathLike)) or not os.fspath(log_dir):
        raise _error("log_dir must be a non-empty folder path such as './logs'", log_dir)
    folder = os.fspath(log_dir)
    if os.path.isfile(folder):
        raise _error("log_dir must be a folder, not a file", folder)
    for name, value, low in (
        ("histogram_freq", histogram_freq, 0),
        ("batch_size", batch_size, 1),
        ("embeddings_freq", embeddings_freq, 0),
    ):
        if not _is_int(value) or value < low:
            raise _error(f"{name} must be an integer >= {low}", value)
    for name, value in (
        ("write_graph", write_graph),
        ("write_grads", write_grads),
        ("write_images", write_images),
    ):
        if not isinstance(value, bool):
            raise _error(f"{name} must be True or False", value)
        if value and name != "write_graph" and not histogram_freq:
            raise ConfigError(
                f"TensorBoard: {name}=True needs histogram_freq >= 1 (it is written with the "
                "weight histograms, every histogram_freq epochs), got histogram_freq=0."
            )
    names = embeddings_layer_names
    if isinstance(names, str):
        names = [names]
    elif names is not None:
        if not _strings(names):
            raise _error("embeddings_layer_names must be None or a list of layer names", names)
        names = list(names)
    metadata = embeddings_metadata
    if isinstance(metadata, os.PathLike):
        metadata = os.fspath(metadata)
    if not (metadata is None or isinstance(metadata, str) or _path_dict(metadata)):
        raise _error(
            "embeddings_metadata must be None, a file name (for every layer) or a dict of "
            "layer name to file name",
            metadata,
        )
    if update_freq in ("epoch", "batch"):
        every = 0 if update_freq == "epoch" else 1
    elif isinstance(update_freq, int) and _is_int(update_freq) and update_freq >= 1:
        every = update_freq
    else:
        raise _error(
            "update_freq must be 'epoch', 'batch' or an integer N >= 1 (every N batches)",
            update_freq,
        )
    return folder, names, metadata, every


def _error(what: str, got: Any) -> ConfigError:
    return ConfigError(f"TensorBoard: {what}, got {got!r}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


def _path_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, (str, os.PathLike)) for k, v in value.items()
    )
