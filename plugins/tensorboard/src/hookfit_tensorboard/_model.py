"""What TensorBoard reads of its model: the weights, the embedded layers and
the graph, through the plugin protocol (`hookfit.hooks.host.Host`) only.

Any host that implements the protocol gets the scalars, histograms, images
and projector files. Two things come from the protocol's optional parts,
when a host offers them: the weight names (``kernel``, ``bias``) of a layer
that is `NamedWeights`, and the Keras model config that the Graphs tab
draws, from a `DescribedHost`. Imported when training begins, like
`_summaries`: it imports numpy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from hookfit.errors import nearest
from hookfit.hooks.arguments import ArgumentError, shown
from hookfit.hooks.host import DescribedHost, NamedWeights

Embedded = tuple[str, str, int, str | None]
"""An embedded layer: (layer name, tensor name, weight index, label file)."""


def weight_names(layer: Any, count: int) -> list[str]:
    """The names of a layer's ``count`` weights: its own (``kernel``,
    ``bias``) when it names them, else ``weight_0``, ``weight_1``, ..."""
    if isinstance(layer, NamedWeights) and len(layer.weight_names) == count:
        return list(layer.weight_names)
    return [f"weight_{i}" for i in range(count)]


def weights(model: Any, images: bool) -> list[tuple[str, str, np.ndarray]]:
    """Copies of what the histograms (and images) show: (kind, tag, array)."""
    found = []
    for layer in model.layers:
        arrays = [np.asarray(w) for w in layer.get_weights()]
        for name, weight in zip(weight_names(layer, len(arrays)), arrays, strict=True):
            tag = f"{layer.name}/{name}"
            found.append(("histogram", f"{tag}/histogram", weight))
            if images and weight.ndim in (1, 2):
                found.append(("image", f"{tag}/image", weight))
    return found


def graph(model: Any) -> dict[str, Any] | None:
    """The Keras model config (``class_name`` and ``config``), or None when
    the host does not describe itself (`DescribedHost`)."""
    if not isinstance(model, DescribedHost):
        return None
    described = json.loads(model.to_json())
    return {"class_name": described["class_name"], "config": described["config"]}


def embedding_layers(
    model: Any, names: list[str] | None, metadata: str | dict[str, str] | None, log_dir: str
) -> tuple[list[Embedded], str]:
    """The layers to project, each by its first 2-D weight (a Dense layer's
    kernel: one row, one point), with its label file or None.

    Names that are not layers with a 2-D weight, and labels of layers that
    are not embedded, are left out, as Keras left them out.

    Returns:
        The embedded layers, and a sentence saying what was left out ("" if nothing).

    Raises:
        ArgumentError: A label file that does not exist.
    """
    found: dict[str, tuple[str, int]] = {}
    for layer in model.layers:
        arrays = layer.get_weights()
        index = next((i for i, w in enumerate(arrays) if np.ndim(w) == 2), None)
        if index is not None:
            name = weight_names(layer, len(arrays))[index]
            found[layer.name] = (f"{layer.name}/{name}", index)
    names = names or list(found)
    left_out = []
    unknown = [name for name in names if name not in found]
    if unknown:
        near = "".join(nearest(name, found) for name in unknown[:1])
        left_out.append(
            f"embeddings_layer_names: {shown(unknown)} left out{near}: not layers with a 2-D "
            f"weight ({', '.join(found) or 'none'})."
        )
    names = [name for name in names if name in found]
    if isinstance(metadata, dict):
        unknown = [name for name in metadata if name not in names]
        if unknown:
            left_out.append(
                f"embeddings_metadata: the labels of {shown(unknown)} left out: not embedded "
                f"layers ({', '.join(names) or 'none'})."
            )
    labels = metadata if isinstance(metadata, dict) else dict.fromkeys(names, metadata)
    embedded = [(name, *found[name], _find(labels.get(name), log_dir)) for name in names]
    return embedded, " ".join(left_out)


def kernels(model: Any, embedded: Sequence[Embedded]) -> list[tuple[str, str, Any, str | None]]:
    """Copies of the embedded weights: (layer name, tensor name, array, labels)."""
    layers = {layer.name: layer for layer in model.layers}
    return [
        (name, tensor, layers[name].get_weights()[index], labels)
        for name, tensor, index, labels in embedded
    ]


def _find(path: str | None, log_dir: str) -> str | None:
    # Keras writes the name into the config, where TensorBoard reads it
    # relative to log_dir; a path from the current folder is what Python
    # users expect: both are accepted, log_dir first.
    if path is None:
        return None
    tried = [path] if os.path.isabs(path) else [os.path.join(log_dir, path), path]
    for candidate in tried:
        if os.path.isfile(candidate):
            return candidate
    raise ArgumentError(
        "TensorBoard",
        "embeddings_metadata",
        f"the file {shown(path)} was not found (looked for {' and '.join(map(shown, tried))})",
    )
