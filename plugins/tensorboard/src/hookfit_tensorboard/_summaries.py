"""Summary protos and projector files for TensorBoard, built with the
``tensorboard`` package and without TensorFlow.

Importing this module imports tensorboard (and Pillow), so only
`TensorBoard.on_train_begin` imports it: discovering plugins stays fast.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from google.protobuf import text_format
from PIL import Image
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.types_pb2 import DT_STRING
from tensorboard.plugins.graph.metadata import PLUGIN_NAME_KERAS_MODEL
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from hookfit.saving import atomic_file, safe_file_name

__all__ = [
    "EventFileWriter",
    "event",
    "histogram",
    "image",
    "keras_model",
    "number",
    "pixels",
    "scalar",
    "write_projector",
]

HISTOGRAM_BINS = 30  # tf.summary.histogram's default bucket count


def event(step: int, values: Sequence[Summary.Value]) -> Event:
    """One event holding ``values`` at ``step``."""
    return Event(wall_time=time.time(), step=int(step), summary=Summary(value=list(values)))


def scalar(tag: str, value: float) -> Summary.Value:
    """A scalar (stored as float32, as TensorBoard keeps every scalar)."""
    return Summary.Value(tag=tag, simple_value=float(value))


def histogram(tag: str, array: Any) -> Summary.Value:
    """A histogram of the finite values of ``array`` in 30 equal buckets."""
    x = np.asarray(array, np.float64).ravel()
    x = x[np.isfinite(x)]
    counts, edges = np.histogram(x, bins=HISTOGRAM_BINS)
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    return Summary.Value(
        tag=tag,
        histo=HistogramProto(
            min=lo,
            max=hi,
            num=x.size,
            sum=float(x.sum()),
            sum_squares=float(np.dot(x, x)),
            bucket_limit=edges[1:].tolist(),
            bucket=counts.astype(np.float64).tolist(),
        ),
    )


def pixels(array: Any) -> np.ndarray:
    """The grayscale image of a 1-D or 2-D weight, as uint8.

    A vector becomes one row; a matrix is transposed when it has more rows
    than columns (Keras's rule for kernels). Values are scaled so that the
    smallest is 0 and the largest 255; a constant array is all 0, and
    values that are not finite count as 0.
    """
    a = np.asarray(array, np.float64)
    a = a.reshape(1, -1) if a.ndim == 1 else a
    if a.shape[0] > a.shape[1]:
        a = a.T
    a = np.where(np.isfinite(a), a, 0.0)
    lo, hi = a.min(), a.max()
    if hi == lo:
        return np.zeros(a.shape, np.uint8)
    return np.round((a - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def image(tag: str, array: Any) -> Summary.Value:
    """A PNG image of a weight (see `pixels`)."""
    grey = pixels(array)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG")
    height, width = grey.shape
    return Summary.Value(
        tag=tag,
        image=Summary.Image(
            height=height, width=width, colorspace=1, encoded_image_string=buffer.getvalue()
        ),
    )


def keras_model(tag: str, config: dict[str, Any]) -> Summary.Value:
    """The Keras model config as the Graphs tab's conceptual graph: what
    Keras's ``keras_model_summary`` writes (plugin ``graph_keras_model``,
    content ``b"1"``, a scalar string tensor holding the JSON)."""
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME_KERAS_MODEL, content=b"1")
    )
    tensor = TensorProto(
        dtype=DT_STRING, tensor_shape=TensorShapeProto(), string_val=[json.dumps(config).encode()]
    )
    return Summary.Value(tag=tag, metadata=metadata, tensor=tensor)


def number(value: Any) -> float | None:
    """A log value as a float, or None when it is not one number."""
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        return None
    try:
        scalar = np.asarray(value).reshape(()).item()
        try:
            return float(scalar)
        except OverflowError:  # an int beyond any float (10**400): as float32 would hold it
            return math.inf if scalar > 0 else -math.inf
    except (TypeError, ValueError):
        return None


def write_projector(log_dir: str, kernels: Sequence[tuple[str, str, Any, str | None]]) -> None:
    """Write ``embeddings/<layer>/tensors.tsv`` (the weight, one point a
    row), a copy of the label file as ``metadata.tsv``, and
    ``projector_config.pbtxt`` listing them, all under ``log_dir``.

    Args:
        log_dir: The log folder.
        kernels: (layer name, tensor name, 2-D array, label file or None).
    """
    config = ProjectorConfig()
    for layer, tensor, array, labels in kernels:
        folder = f"embeddings/{folder_name(layer)}"
        kernel = np.asarray(array, np.float32)
        with atomic_file(os.path.join(log_dir, folder, "tensors.tsv")) as temp:
            # 9 significant digits give every float32 back exactly
            np.savetxt(temp, kernel, fmt="%.9g", delimiter="\t")
        embedding = config.embeddings.add()
        embedding.tensor_name = tensor
        embedding.tensor_shape.extend(kernel.shape)
        embedding.tensor_path = f"{folder}/tensors.tsv"
        if labels is not None:
            embedding.metadata_path = f"{folder}/metadata.tsv"
            target = os.path.join(log_dir, embedding.metadata_path)
            # TensorBoard refuses files outside log_dir, hence the copy.
            if os.path.realpath(labels) != os.path.realpath(target):
                with atomic_file(target) as temp:
                    shutil.copyfile(labels, temp)
    with atomic_file(os.path.join(log_dir, "projector_config.pbtxt")) as temp:
        temp.write_text(text_format.MessageToString(config), encoding="utf-8")


def folder_name(layer: str) -> str:
    """The folder of a layer's projector files inside ``log_dir/embeddings``:
    the layer's name when it is plain, else a safe name with a hash of it,
    so that whatever a host names its layers, nothing is written outside
    ``log_dir`` and two layers never share a folder."""
    return safe_file_name(layer, fallback="layer")
