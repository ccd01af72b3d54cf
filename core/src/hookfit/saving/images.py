"""The bytes of a model's HDF5 file, built by h5py once per layout.

h5py spends about 2 milliseconds creating the groups, datasets and
attributes of even a small model's file, holding the GIL: a checkpoint every
epoch then slows the training thread beside it. Yet from one save to the
next only the arrays' values and a few JSON attributes change, and HDF5
writes the same objects in the same places every time. So the first save of
a layout keeps its file as a template, with the byte range of every array
(``Dataset.id.get_offset``) and of every JSON attribute, and the next saves
write the template with the new bytes in those ranges: the file h5py would
build, byte for byte (the tests check it), for the cost of writing it.

The JSON attributes of the ``hookfit`` group (random generators, optimizer
state, metadata) are padded with spaces to a multiple of `GRAIN` bytes, so a
number one digit longer keeps the layout. Anything else that changes (a
layer, a shape, the training config after a learning-rate change) is another
layout, built by h5py again.
"""

from __future__ import annotations

import io
import itertools
import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

from ..errors import MissingDependencyError
from . import keras_config

GRAIN = 64
"""The JSON attributes of the ``hookfit`` group are padded to a multiple of
this many bytes."""

TEMPLATES = 4
"""Layouts kept per process: a checkpoint and a backup of one model are two."""

TEMPLATE_BYTES = 64 * 2**20
"""A file larger than this is built by h5py every time: keeping a copy of it
would cost more memory than its build costs time."""

HEADER_LIMIT = 64512
"""The largest attribute written in place (HDF5 refuses an object header
message over 64 KiB); Keras splits lists of names at the same size."""

Weights = list[tuple[str, list[tuple[str, np.ndarray]]]]
# (byte offset, length, what goes there: an index into the save's values)
Range = tuple[int, int, int]


def h5py() -> Any:
    """Import h5py, or say which extra to install."""
    try:
        import h5py as module
    except ImportError:
        raise MissingDependencyError(
            "Saving and loading models needs h5py: pip install 'hookfit[h5]'."
        ) from None
    return module


def padded(text: str) -> bytes:
    """JSON text as UTF-8, padded with spaces to a multiple of `GRAIN` bytes
    (JSON readers ignore trailing whitespace)."""
    raw = text.encode()
    return raw + b" " * (-len(raw) % GRAIN)


def file_image(
    root: dict[str, bytes] | None, weights: Weights, state: dict[str, Any] | None
) -> list[Any]:
    """The bytes of the model file, as chunks to write one after another.

    Args:
        root: The root attributes of a whole model (None: weights only).
        weights: Each layer's name and its ``(dataset name, array)`` pairs.
        state: hookfit's own group: ``attrs`` (JSON text) and ``slots``
            (lists of arrays), or None.
    """
    attrs = {k: padded(v) for k, v in state["attrs"].items()} if state else {}
    slots = state["slots"] if state else None
    arrays = [np.ascontiguousarray(a) for _, pairs in weights for _, a in pairs]
    arrays += [np.ascontiguousarray(a) for group in (slots or {}).values() for a in group]
    key = (
        tuple(root.items()) if root is not None else None,
        tuple((layer, tuple(name for name, _ in pairs)) for layer, pairs in weights),
        tuple(slots or {}) if slots is not None else None,
        tuple((a.shape, a.dtype.str) for a in arrays),
        tuple((k, len(v)) for k, v in attrs.items()),
    )
    template = _cached(key)
    if template is None:
        template = _Template.build(root, weights, slots, attrs, arrays)
        if template.image is None or len(template.image) <= TEMPLATE_BYTES:
            _keep(key, template)
    if template.image is None:
        return [_built(root, weights, None if slots is None else (attrs, slots))]
    return template.fill([*arrays, *attrs.values()])


class _Template:
    """A built file and the byte ranges of its arrays and JSON attributes;
    without ``image``, a layout h5py builds every time."""

    def __init__(self, image: bytes | None, ranges: list[Range]) -> None:
        self.image = image
        self.ranges = ranges

    @classmethod
    def build(
        cls,
        root: dict[str, bytes] | None,
        weights: Weights,
        slots: dict[str, list[np.ndarray]] | None,
        attrs: dict[str, bytes],
        arrays: list[np.ndarray],
    ) -> _Template:
        """Build the file with h5py, each JSON attribute replaced by a random
        token of its length, found again in the bytes afterwards. Without a
        byte range for everything that changes (an array HDF5 stores in
        another form, a token found twice), no template.

        Args:
            root, weights: As `file_image` takes them.
            slots: The optimizer slots of its ``state``.
            attrs: The JSON attributes of its ``state``, padded.
            arrays: The weights then the slots, in `fill`'s order.
        """
        tokens = {k: secrets.token_hex(len(v))[: len(v)].encode() for k, v in attrs.items()}
        buffer = io.BytesIO()
        with h5py().File(buffer, "w") as f:
            made = _write_groups(f, root, weights, None if slots is None else (tokens, slots))
            offsets = [d.id.get_offset() for d in made]
        image = buffer.getvalue()
        ranges = []
        for index, (array, offset) in enumerate(zip(arrays, offsets, strict=True)):
            if not array.nbytes:
                continue
            if offset is None or image[offset : offset + array.nbytes] != array.tobytes():
                return cls(None, [])
            ranges.append((offset, array.nbytes, index))
        for index, token in enumerate(tokens.values(), start=len(arrays)):
            if image.count(token) != 1:
                return cls(None, [])
            ranges.append((image.find(token), len(token), index))
        ranges.sort()
        if any(a + size > b for (a, size, _), (b, _, _) in itertools.pairwise(ranges)):
            return cls(None, [])
        return cls(image, ranges)

    def fill(self, values: list[Any]) -> list[Any]:
        """The file with ``values`` (arrays, then JSON bytes) in its ranges."""
        view = memoryview(self.image or b"")
        chunks: list[Any] = []
        at = 0
        for start, size, index in self.ranges:
            value = values[index]
            if isinstance(value, np.ndarray):
                value = value.reshape(-1).view(np.uint8)
            chunks += [view[at:start], value]
            at = start + size
        chunks.append(view[at:])
        return chunks


def _built(
    root: dict[str, bytes] | None,
    weights: Weights,
    state: tuple[dict[str, bytes], dict[str, list[np.ndarray]]] | None,
) -> bytes:
    buffer = io.BytesIO()
    with h5py().File(buffer, "w") as f:
        _write_groups(f, root, weights, state)
    return buffer.getvalue()


_templates: OrderedDict[Hashable, _Template] = OrderedDict()
_lock = threading.Lock()  # two plugins' lanes save at once


def _cached(key: Hashable) -> _Template | None:
    with _lock:
        template = _templates.get(key)
        if template is not None:
            _templates.move_to_end(key)
        return template


def _keep(key: Hashable, template: _Template) -> None:
    with _lock:
        _templates[key] = template
        while len(_templates) > TEMPLATES:
            _templates.popitem(last=False)


def _write_groups(
    f: Any,
    root: dict[str, bytes] | None,
    weights: Weights,
    state: tuple[dict[str, bytes], dict[str, list[np.ndarray]]] | None,
) -> list[Any]:
    """Write the model into the open HDF5 file ``f``; return its datasets:
    the weights in order, then the optimizer slots. ``state`` is hookfit's
    own group: its JSON attributes and its optimizer slots."""
    datasets = []
    group = f
    if root is not None:  # a whole model; weights only go at the root
        for key, value in root.items():
            # a large text goes to the file's heap, as Keras writes str
            f.attrs[key] = value if len(value) <= HEADER_LIMIT else value.decode()
        group = f.create_group("model_weights")
    group.attrs["keras_version"] = keras_config.KERAS_VERSION.encode()
    group.attrs["backend"] = b"tensorflow"
    _set_names(group, "layer_names", [name for name, _ in weights])
    for name, pairs in weights:
        g = group.create_group(name)
        _set_names(g, "weight_names", [n for n, _ in pairs])
        for dataset, array in pairs:
            datasets.append(g.create_dataset(dataset, data=array))
    if state is not None:
        attrs, slots = state
        own = f.create_group("hookfit")
        for key, value in attrs.items():
            own.attrs[key] = value.decode()  # variable-length UTF-8, as Keras writes text
        for slot, arrays in slots.items():
            g = own.create_group(f"slots/{slot}")
            for i, array in enumerate(arrays):
                datasets.append(g.create_dataset(str(i), data=array))
    return datasets


def _set_names(group: Any, attr: str, items: list[str]) -> None:
    """Set a list of names as Keras does: split into ``attr0``, ``attr1``,
    ... when it is too large for one attribute (`HEADER_LIMIT`)."""
    names = np.array([s.encode() for s in items]) if items else np.array([], dtype="S1")
    if names.nbytes <= HEADER_LIMIT:
        group.attrs[attr] = names
        return
    per = HEADER_LIMIT // names.itemsize
    for i, chunk in enumerate(np.array_split(names, -(-len(names) // per))):
        group.attrs[f"{attr}{i}"] = chunk
