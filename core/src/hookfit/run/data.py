"""The ``[data]`` of ``hookfit train``: the bundled digits, or an ``.npz`` or
``.csv`` file, read and checked before anything trains.

A data file is checked the way a model file is: whatever it holds (another
format under the name, object or text arrays, NaN, labels of 1e300, arrays
of different lengths), the refusal names the config key, the file and the
array or column, never a traceback from numpy.
"""

from __future__ import annotations

import csv
import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, nearest
from .plan import Plan
from .sources import not_a_file

MAX_CLASSES = 100_000
"""Class labels run from 0 to this - 1: a label of 1e300 is a mistake, and
one-hot encoding it would need more memory than any machine has."""

_CHUNK = 1 << 20  # values checked at a time, so a check copies little
_UNCHECKED_BYTES = 64 << 20  # an array may declare this much whatever it stores
_DECLARED_PER_STORED = 1100  # beyond deflate's best ratio (about 1032)


@dataclass
class Data:
    """The arrays ``[data]`` describes.

    Attributes:
        x: Training inputs.
        y: Training targets.
        validation: ``(x_val, y_val)`` or None.
        labels: What to call ``y`` in messages
            (``"f.toml: data.path: array 'y' of d.npz"``).
    """

    x: np.ndarray
    y: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    labels: str


def where(plan: Plan, section: str, key: str) -> str:
    """The origin of a setting, for messages (``"f.toml: data.path"``)."""
    found = plan.section(section).get(key)
    return found.origin if found else f"{section}.{key}"


def load_data(plan: Plan) -> Data:
    """Read and check the data as the ``[data]`` section says.

    ``dataset = "digits"`` is the bundled set (its test split validates);
    ``path`` names an ``.npz`` file with arrays ``x``, ``y`` (and optionally
    ``x_val``, ``y_val``), or a ``.csv`` file with a header and a label
    column (``label``, default ``"label"``). ``scale`` multiplies the inputs.

    Raises:
        ConfigError: A missing, unreadable or unusable file, naming the key,
            the file and the array or column.
    """
    data = plan.values("data")
    if "dataset" in data and "path" in data:
        raise ConfigError(
            f"{where(plan, 'data', 'path')}: give data.dataset or data.path, not both."
        )
    if "path" in data:
        path = Path(data["path"])
        origin = where(plan, "data", "path")
        what = not_a_file(path)
        if what is not None:
            raise ConfigError(
                f"{origin}: {path} {what}, not a data file; give an .npz or .csv file."
            )
        if not path.is_file():
            raise ConfigError(f"{origin}: no such file: {path}.")
        if path.suffix == ".npz":
            found = _npz(path, data.get("x", "x"), data.get("y", "y"), origin)
        elif path.suffix == ".csv":
            found = _csv(path, data.get("label", "label"), origin)
        else:
            raise ConfigError(f"{origin}: expected a .npz or .csv file, got {path.name}.")
    else:
        name = data.get("dataset", "digits")
        if name != "digits":
            raise ConfigError(
                f"{where(plan, 'data', 'dataset')}: unknown data set {name!r}"
                f"{nearest(name, ['digits'])}; the bundled one is 'digits'."
            )
        from ..datasets import digits

        (x, y), (x_test, y_test) = digits.load_data()
        x = x.reshape(len(x), -1) / np.float32(16)
        validation = (x_test.reshape(len(x_test), -1) / np.float32(16), y_test)
        found = Data(x, y, validation, "the digits' labels")
    scale = data.get("scale")
    if scale is not None:
        with np.errstate(over="ignore"):  # checked below, with the key that caused it
            found.x = found.x * np.float32(scale)
            if found.validation is not None:
                found.validation = (found.validation[0] * np.float32(scale), found.validation[1])
        for x in [found.x] + ([found.validation[0]] if found.validation else []):
            if _first_bad(x, np.float32) is not None:
                raise ConfigError(
                    f"{where(plan, 'data', 'scale')}: scaling by {scale:g} makes the inputs of "
                    f"{data.get('path', 'the data')} infinite. Use a smaller scale."
                )
    return found


def classes(y: np.ndarray, what: str) -> int:
    """The number of classes that the class labels ``y`` need.

    Raises:
        ConfigError: A label that is not a whole number in ``[0, MAX_CLASSES)``.
    """
    if y.size == 0:
        return 1
    low, high = y.min(), y.max()
    bad = [v for v in (low, high) if not 0 <= v < MAX_CLASSES]
    if not bad and y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        bad = [y[np.argmax(np.mod(y, 1) != 0)]]
    if bad:
        raise ConfigError(
            f"{what}: class labels must be whole numbers from 0 to {MAX_CLASSES - 1}, got "
            f"{bad[0]:g}."
        )
    return int(high) + 1


def _npz(path: Path, x_key: str, y_key: str, origin: str) -> Data:
    try:
        arrays = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"{origin}: cannot read {path.name} as .npz: {exc}.") from None
    if not isinstance(arrays, np.lib.npyio.NpzFile):
        raise ConfigError(
            f"{origin}: {path.name} is a .npy file (one array), not a .npz archive; save the "
            "arrays with numpy.savez(path, x=x, y=y)."
        )
    with arrays:
        names = list(arrays.files)
        for key in (x_key, y_key):
            if key not in names:
                raise ConfigError(
                    f"{origin}: {path.name} has no array {key!r}{nearest(key, names)}; it has "
                    f"{', '.join(names) or 'none'}. Name them with data.x and data.y."
                )
        keys = [x_key, y_key]
        if f"{x_key}_val" in names and f"{y_key}_val" in names:
            keys += [f"{x_key}_val", f"{y_key}_val"]
        read = {}
        for key in keys:
            try:
                _check_declared(arrays, key, f"{origin}: array {key!r} of {path.name}")
                read[key] = arrays[key]
            except ConfigError:
                raise
            except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise ConfigError(
                    f"{origin}: cannot read array {key!r} of {path.name}: {exc}."
                ) from None
    what = {key: f"{origin}: array {key!r} of {path.name}" for key in keys}
    x, y = _pair(read, x_key, y_key, what, f"{origin}: {path.name}")
    validation = None
    if len(keys) == 4:
        validation = _pair(read, keys[2], keys[3], what, f"{origin}: {path.name}")
    return Data(x, y, validation, what[y_key])


def _check_declared(arrays: Any, key: str, what: str) -> None:
    """Refuse an array whose header declares far more bytes than its file
    stores, before numpy allocates them (a few hundred bytes can declare
    400 GB). Deflate packs at most about 1032 bytes into one, so a genuine
    ``savez_compressed`` array is never refused."""
    # numpy reads a member by its own name first, then with ".npy" added
    member = key if key in arrays.zip.namelist() else f"{key}.npy"
    info = arrays.zip.getinfo(member)
    with arrays.zip.open(info) as f:
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(f)
    declared = math.prod(shape) * dtype.itemsize
    if declared > max(_UNCHECKED_BYTES, _DECLARED_PER_STORED * info.compress_size):
        raise ConfigError(
            f"{what} declares {declared} bytes but the file stores {info.compress_size}; refused "
            "(a damaged or crafted file)."
        )


def _pair(
    read: dict[str, np.ndarray], x_key: str, y_key: str, what: dict[str, str], file: str
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets, checked alone and against each other."""
    # inputs train as float32, where 1e300 is infinite
    x, y = _checked(read[x_key], what[x_key], np.float32), _checked(read[y_key], what[y_key])
    if x.ndim < 2:
        raise ConfigError(
            f"{what[x_key]} has shape {x.shape}; inputs need (samples, features). Reshape it, "
            "e.g. x.reshape(-1, 1) for one feature."
        )
    if len(x) != len(y):
        raise ConfigError(
            f"{file}: array {x_key!r} has {len(x)} samples but array {y_key!r} has {len(y)}; "
            "they must match."
        )
    return x, y


def _checked(array: np.ndarray, what: str, dtype: Any = None) -> np.ndarray:
    """``array`` if it holds finite numbers (as ``dtype``) for at least one
    sample."""
    if array.dtype.kind not in "biuf":
        raise ConfigError(
            f"{what} holds {array.dtype} values, not numbers; save it as a float or integer array."
        )
    if array.ndim == 0 or len(array) == 0:
        raise ConfigError(f"{what} holds no samples (shape {array.shape}); give at least one.")
    if array.ndim > 1 and array[0].size == 0:
        raise ConfigError(f"{what} holds no values per sample (shape {array.shape}).")
    bad = _first_bad(array, dtype)
    if bad is not None:
        raise ConfigError(
            f"{what} holds NaN or infinite values (the first in sample {bad}); hookfit trains "
            "on finite numbers only."
        )
    return array


def _first_bad(array: np.ndarray, dtype: Any = None) -> int | None:
    """The first sample holding NaN or an infinity (as ``dtype``, the type
    training will use), or None. Checked a chunk at a time, so that a large
    array is not copied whole."""
    width = int(np.prod(array.shape[1:]))
    if array.dtype.kind != "f" or array.ndim == 0 or width == 0:
        return None
    rows = max(1, _CHUNK // width)
    for start in range(0, len(array), rows):
        with np.errstate(over="ignore"):  # too large for float32: infinite, refused below
            block = np.asarray(array[start : start + rows], dtype=dtype).reshape(-1, width)
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            return start + int(np.argmin(finite))
    return None


def _csv(path: Path, label: str, origin: str) -> Data:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{origin}: {path.name} is not UTF-8 text ({exc.reason} at byte {exc.start}); save "
            "it as UTF-8."
        ) from None
    except csv.Error as exc:  # a field past csv's size limit, a NUL byte, ...
        raise ConfigError(
            f"{origin}: cannot read {path.name} as CSV: {exc} (line {reader.line_num}). Save it "
            "as comma-separated numbers, one sample per line."
        ) from None
    if not rows:
        raise ConfigError(f"{origin}: {path.name} is empty.")
    header, body = rows[0], rows[1:]
    if label not in header:
        raise ConfigError(
            f"{origin}: {path.name} has no column {label!r}{nearest(label, header)}; its columns "
            f"are {', '.join(header)}. Name the label column with data.label."
        )
    column = header.index(label)
    try:
        table = np.array([[float(v) for v in row] for row in body], dtype=np.float64)
    except ValueError as exc:
        raise ConfigError(
            f"{origin}: {path.name} holds a value that is not a number: {exc}."
        ) from None
    if table.ndim != 2 or table.shape[1] != len(header):
        raise ConfigError(f"{origin}: every row of {path.name} needs {len(header)} values.")
    x = np.delete(table, column, axis=1)
    x = _checked(x, f"{origin}: the feature columns of {path.name}", np.float32)
    x = x.astype(np.float32)
    labels = f"{origin}: column {label!r} of {path.name}"
    return Data(x, _checked(table[:, column], labels), None, labels)
