"""The names a ModelCheckpoint gives its files: the filepath template,
checked when built, rendered at each save, and matched back to a name."""

from __future__ import annotations

import math
import os
import re
import string
from pathlib import Path
from typing import Any

from hookfit import ConfigError
from hookfit.hooks.host import HDF5_FILES, FileFormats
from hookfit.saving.atomic import too_long

# No name may be longer than 255 bytes (NAME_MAX): a wider field is a slip,
# refused before str.format is asked to build it.
WIDEST = 255
_INTEGER, _REAL = frozenset("bcdoxXn"), frozenset("eEfFgG%")
# sample values a name is rendered with, to check its length: long ones
_SAMPLES = {"epoch": 99999, "batch": 99999}
_SAMPLE = -1.2345678901234567e-300
WEIGHTS_H5 = ".weights.h5"


def has_extension(filepath: str | os.PathLike[str]) -> bool:
    """True for a name ending in an extension such as ``.h5`` (the
    ``filepath`` hint's check; which ones the host writes is checked when
    training begins, `check_format`)."""
    suffix = Path(os.fspath(filepath)).suffix
    return len(suffix) > 1 and suffix[1:].isalnum()


def extension(filepath: str) -> str:
    """The file's extension, Keras 3's ``.weights.h5`` as one."""
    return WEIGHTS_H5 if filepath.endswith(WEIGHTS_H5) else Path(filepath).suffix


def last_name(filepath: str) -> str:
    """The name of the file ``save_last`` writes: ``last`` and the extension."""
    return "last" + extension(filepath)


def check_format(filepath: str, host: Any, *, weights_only: bool) -> None:
    """Refuse a ``filepath`` whose extension ``host`` does not write for
    this kind of save: the endings it declares (`FileFormats`), or
    hookfit's ``.h5``/``.hdf5``.

    Raises:
        ConfigError: Naming the extension, the host, what it writes, and a
            name that works.
    """
    if isinstance(host, FileFormats):
        models, weights = tuple(host.model_formats), tuple(host.weights_formats)
    else:
        models = weights = HDF5_FILES
    valid = weights if weights_only else models
    # the longest ending names the format: "w.weights.h5" is not an ".h5" model
    ending = max((e for e in (*models, *weights) if filepath.endswith(e)), key=len, default="")
    if ending and ending in valid:
        return
    ending = ending or extension(filepath)
    what = "weights" if weights_only else "a model"
    other = models if weights_only else weights
    hint = (
        f"set save_weights_only={not weights_only}, or rename the file"
        if ending in other
        else "rename the file"
    )
    raise ConfigError(
        f"ModelCheckpoint: filepath {filepath!r} ends in {ending}, which "
        f"{type(host).__name__} does not save {what} to; it saves {what} to a file ending in "
        f"{' or '.join(valid)}. To fix it, {hint}, e.g. to "
        f"{filepath.removesuffix(ending) + valid[0]!r}."
    )


def check_filepath(
    filepath: str | os.PathLike[str], save_top_k: int | None, save_last: bool
) -> str:
    """Return ``filepath`` as a string, checked as a template.

    Its type and suffix are the hint's business; this checks what depends
    on the format string and on the other arguments.

    Raises:
        ConfigError: A bad format string, no placeholder with
            ``save_top_k``, or a file named like the one ``save_last`` writes.
    """
    path = os.fspath(filepath)
    names = placeholders(path)
    if save_top_k is not None and not names:
        raise _bad(
            "a name with a placeholder such as {epoch} when save_top_k is set (each save must "
            "get its own file)",
            path,
        )
    last = last_name(path)
    if save_last and Path(path).name == last:
        raise _bad(f"another name than {last} when save_last writes {last}", path)
    for _, field, given, _ in string.Formatter().parse(path):
        if field is None:
            continue
        spec = given or ""
        if "{" in spec:
            raise _bad(f"plain format specs, such as {{epoch:02d}}, not {{{field}:{spec}}}", path)
        if any(int(n) > WIDEST for n in re.findall(r"\d+", spec)):
            raise _bad(f"fields at most {WIDEST} characters wide, not {{{field}:{spec}}}", path)
    reason = too_long(_sample(path))
    if reason is not None:
        raise _bad(f"a template whose names fit the file system ({reason})", path)
    return path


def _sample(filepath: str) -> str:
    """``filepath`` with long sample values: what its names may grow to."""
    parts = []
    for text, field, given, conversion in string.Formatter().parse(filepath):
        parts.append(text)
        if field is None:
            continue
        spec = given or ""
        value = _SAMPLES.get(field, _SAMPLE)
        for candidate in (value, -_SAMPLES["epoch"]):
            try:
                parts.append(format(_convert(candidate, conversion), spec))
                break
            except (ValueError, TypeError):
                continue
        else:  # no number fits the spec: format_filepath will say so
            parts.append("x" * max((int(n) for n in re.findall(r"\d+", spec)), default=1))
    return "".join(parts)


def _convert(value: Any, conversion: str | None) -> Any:
    """``value`` after ``!r``, ``!s`` or ``!a``."""
    if conversion == "r":
        return repr(value)
    if conversion == "a":
        return ascii(value)
    return str(value) if conversion == "s" else value


def placeholders(filepath: str) -> set[str]:
    """The log keys ``filepath`` names (``{val_loss:.2f}`` -> ``val_loss``).

    Raises:
        ConfigError: A malformed format string or a positional ``{}``.
    """
    try:
        parsed = list(string.Formatter().parse(filepath))
    except ValueError as exc:
        raise _bad(f"a valid format string ({exc})", filepath) from None
    names = {re.split(r"[.\[]", field)[0] for _, field, _, _ in parsed if field is not None}
    if "" in names or any(name.isdigit() for name in names):
        raise _bad("a format string with named placeholders only, such as {epoch:02d}", filepath)
    return names


def format_filepath(filepath: str, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
    """The file to write: ``filepath`` with the 1-based ``epoch`` (and
    ``batch``) and every log key.

    Raises:
        ConfigError: The values do not fit the template, saying why.
    """
    values = {**logs, "epoch": epoch + 1}
    if batch is not None:
        values["batch"] = batch + 1
    try:
        return filepath.format(**values)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ConfigError(
            f"ModelCheckpoint: cannot format filepath {filepath!r} at epoch {epoch + 1} "
            f"with the keys {', '.join(values)}: {type(exc).__name__}: {exc}."
        ) from None


def check_placeholders(filepath: str, metrics: list[str], by_batch: bool) -> None:
    """Refuse a placeholder that names a key the logs will never hold.

    Epoch logs hold the run's metrics (``params["metrics"]``); batch logs
    hold the training ones (no ``val_``) and ``batch`` and ``size``.

    Raises:
        ConfigError: Naming the missing keys and the keys that exist.
    """
    keys = [m for m in metrics if not (by_batch and m.startswith("val_"))]
    keys += ["epoch", "batch", "size"] if by_batch else ["epoch"]
    missing = sorted(placeholders(filepath) - set(keys))
    if missing:
        raise ConfigError(
            f"ModelCheckpoint: filepath {filepath!r} names "
            f"{', '.join('{' + m + '}' for m in missing)}, which will never be in the "
            f"{'batch' if by_batch else 'epoch'} logs. Keys that exist: {', '.join(keys)}."
        )


def written_by(
    filepath: str,
    path: str,
    *,
    epochs: int | None = None,
    monitor: str | None = None,
    score: float | None = None,
) -> bool:
    """True when ``path`` is a name `format_filepath` can give ``filepath``:
    its text as it is, and each placeholder a text its format spec renders
    (``{epoch:02d}``: an epoch from 1 to ``epochs``, rendered back exactly;
    ``monitor``'s: ``score`` rendered; ``.2f``: a number; no spec: any text
    without a folder separator), and no ``..`` the template does not hold.
    What a ModelCheckpoint may delete, whatever a saved state says."""
    if ".." in Path(path).parts and ".." not in Path(filepath).parts:
        return False
    parsed = string.Formatter().parse(filepath)
    fields = [(f, spec or "", conv) for _, f, spec, conv in parsed if f is not None]
    match = _pattern(filepath).fullmatch(path)
    return match is not None and all(
        _renders(field, spec, conversion, text, epochs, monitor, score)
        for (field, spec, conversion), text in zip(fields, match.groups(), strict=True)
    )


def _renders(
    field: str,
    spec: str,
    conversion: str | None,
    text: str,
    epochs: int | None,
    monitor: str | None,
    score: float | None,
) -> bool:
    """True when the placeholder ``{field!conversion:spec}`` can render as ``text``."""
    kind = spec[-1:]
    if field != re.split(r"[.\[]", field)[0] or conversion is not None:
        return True  # an attribute or item of a value: any text
    if field in _SAMPLES:  # epoch, batch: 1-based counts
        number = _parse(int, text)
        top = epochs if field == "epoch" and epochs is not None else math.inf
        return number is not None and 1 <= number <= top and format(number, spec) == text
    if field == monitor:
        value = math.nan if score is None else score
        number = _parse(float, text.removesuffix("%"))
        # a value without a spec is the logs' own (a float32's shortest digits)
        near = (
            kind not in _REAL and number is not None and math.isclose(number, value, rel_tol=1e-6)
        )
        return format(value, spec) == text or near
    if kind in _INTEGER:
        number = _parse(int, text)
        return number is not None and format(number, spec) == text
    if kind in _REAL:
        number = _parse(float, text.removesuffix("%"))
        return number is not None and format(number / (100 if kind == "%" else 1), spec) == text
    return True


def _parse(kind: type[Any], text: str) -> Any:
    try:
        return kind(text)
    except (ValueError, OverflowError):
        return None


def _pattern(filepath: str) -> re.Pattern[str]:
    parsed = string.Formatter().parse(filepath)
    return re.compile(
        "".join(
            re.escape(text) + (r"([^/\\]*?)" if f is not None else "") for text, f, _, _ in parsed
        )
    )


def _bad(valid: str, got: Any) -> ConfigError:
    return ConfigError(f"ModelCheckpoint: filepath must be {valid}, got {got!r}.")
