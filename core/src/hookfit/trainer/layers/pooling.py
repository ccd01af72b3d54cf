"""Keras 2's ``keras.layers.pooling``, channels_last.

Windows are strided views of the input (`convolutional.window_view`), so a
pooling layer reduces over its ``pool_rows * pool_cols`` offsets one
whole-batch array at a time and copies nothing. Max pooling remembers, per
output cell, the offset of the first maximum (a uint8), which routes the
gradient as TensorFlow does; 'same' padding pads with -inf for max and
averages only the cells inside the image, as TensorFlow does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import ConfigError, ModelError
from .base import Layer, not_built
from .checks import int_tuple, positive_int
from .convolutional import (
    channels_last,
    fold_windows,
    output_length,
    padding_mode,
    same_pads,
    window_view,
)

Array = np.ndarray


class _Pooling2D(Layer):
    """The window pooling of `MaxPooling2D` and `AveragePooling2D`."""

    rank = 2
    fill = 0.0  # the value of 'same' padding cells

    def __init__(
        self,
        pool_size: int | Sequence[int] = (2, 2),
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = self._normalized("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else self._normalized("strides", strides)
        self.padding = padding_mode(self.name, padding)
        self.data_format = channels_last(self.name, data_format)
        self._geometry: tuple[int, ...] | None = None

    def _normalized(self, name: str, value: Any) -> tuple[int, int]:
        if self.rank == 2:
            rows, cols = int_tuple(self.name, name, value, 2)
            return rows, cols
        if isinstance(value, (tuple, list)) and len(value) == 1:
            value = value[0]
        return positive_int(self.name, name, value), 1

    def _pads(self, size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
        if self.padding == "valid":
            return (0, 0), (0, 0)
        rows, cols = (same_pads(*a) for a in zip(size, self.pool_size, self.strides, strict=True))
        return rows, cols

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 1:
            what = "(rows, cols, channels)" if self.rank == 2 else "(steps, features)"
            raise ConfigError(
                f"{self.name}: {self.class_name} takes samples of shape {what}, got {shape!r}."
            )
        spatial = (*shape[: self.rank], 1)[:2]
        out = [
            output_length(n, k, self.padding, s)
            for n, k, s in zip(spatial, self.pool_size, self.strides, strict=True)
        ]
        if min(out) < 1:
            raise ConfigError(
                f"{self.name}: the pool {self.pool_size[: self.rank]} does not fit in the input "
                f"{shape[: self.rank]} with padding 'valid'; use padding='same' or a smaller "
                "pool_size."
            )
        return (*out[: self.rank], shape[-1])

    def forward(self, x: Array, training: bool) -> Array:
        if x.ndim != self.rank + 2:
            raise ModelError(
                f"Layer {self.name}: expected a batch of {self.rank + 1}-D samples, got {x.shape}."
            )
        images = x if self.rank == 2 else x[:, :, None, :]
        n, height, width, channels = images.shape
        (top, bottom), (left, right) = self._pads((height, width))
        if top or bottom or left or right:
            padded = self._buffer(
                "padded", n, height + top + bottom, width + left + right, channels
            )
            padded.fill(self.fill)
            padded[:, top : top + height, left : left + width] = images
        else:
            padded = images
        rows, cols = self.compute_output_shape(x.shape[1:])[: self.rank] + (1,) * (2 - self.rank)
        windows = window_view(padded, self.pool_size, self.strides, (rows, cols))
        out = self._buffer("y", n, rows, cols, channels)
        self._geometry = (n, height, width, channels, top, left, bottom, right)
        self._pool(windows, out)
        return out if self.rank == 2 else out[:, :, 0, :]

    def _offsets(self) -> list[tuple[int, int]]:
        return [(a, b) for a in range(self.pool_size[0]) for b in range(self.pool_size[1])]

    def _pool(self, windows: Array, out: Array) -> None:
        raise NotImplementedError

    def _window_grads(self, dy: Array, target: Array) -> None:
        """Write the gradient of each window's cells into ``target``
        ``(N, rows, cols, ph, pw, C)``."""
        raise NotImplementedError

    def _scratch(self, key: str, shape: tuple[int, ...], dtype: Any) -> Array:
        """A reused array that is not float (masks, offsets)."""
        scratch = self.__dict__.setdefault("_scratches", {})
        if key not in scratch or scratch[key].shape != shape:
            scratch[key] = np.empty(shape, dtype=dtype)
        return scratch[key]

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        if self._geometry is None:
            raise not_built(self)
        if not need_dx:
            return None
        n, height, width, channels, top, left, bottom, right = self._geometry
        images_dy = dy if self.rank == 2 else dy[:, :, None, :]
        rows, cols = images_dy.shape[1:3]
        dx = self._buffer("dx", n, height + top + bottom, width + left + right, channels)
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        if sh >= ph and sw >= pw:
            # windows do not overlap: each cell's gradient is written in place
            if (sh, sw) != (ph, pw) or rows * sh != dx.shape[1] or cols * sw != dx.shape[2]:
                dx[...] = 0  # cells outside every window
            sn, sr, sc, sf = dx.strides
            target = np.lib.stride_tricks.as_strided(
                dx,
                shape=(n, rows, cols, ph, pw, channels),
                strides=(sn, sr * sh, sc * sw, sr, sc, sf),
            )
            self._window_grads(images_dy, target)
        else:
            grads = self._buffer("window_grads", n, rows, cols, ph, pw, channels)
            self._window_grads(images_dy, grads)
            dx[...] = 0
            fold_windows(grads, dx, self.strides)
        dx = dx[:, top : top + height, left : left + width]
        return dx if self.rank == 2 else dx[:, :, 0, :]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": self.pool_size[: self.rank],
            "padding": self.padding,
            "strides": self.strides[: self.rank],
            "data_format": self.data_format,
        }


class MaxPooling2D(_Pooling2D):
    """The maximum of each window (Keras 2).

    Args:
        pool_size: An int or ``(rows, cols)``, the window.
        strides: An int, ``(rows, cols)``, or None for ``pool_size``.
        padding: ``'valid'`` or ``'same'`` (TensorFlow's; padding cells never win).
        data_format: ``'channels_last'`` or None (the same).
        **kwargs: `Layer` arguments.

    Raises:
        ConfigError: A value outside those above.
    """

    class_name = "MaxPooling2D"
    fill = -np.inf

    def _pool(self, windows: Array, out: Array) -> None:
        # the offset of the first maximum: strict > keeps the earlier one
        argmax = self._scratch("argmax", out.shape, np.uint8)
        greater = self._scratch("mask", out.shape, bool)
        later = self._scratch("later", out.shape, np.uint8)
        argmax.fill(0)
        np.copyto(out, windows[:, :, :, 0, 0, :])
        for k, (a, b) in enumerate(self._offsets()[1:], start=1):
            cell = windows[:, :, :, a, b, :]
            np.greater(cell, out, out=greater)
            # k exceeds every earlier offset: max() sets argmax where greater
            # (a masked copy is 5 times slower)
            np.multiply(greater, np.uint8(k), out=later)
            np.maximum(argmax, later, out=argmax)
            np.maximum(out, cell, out=out)

    def _window_grads(self, dy: Array, target: Array) -> None:
        argmax = self._scratch("argmax", dy.shape, np.uint8)
        hit = self._scratch("mask", dy.shape, bool)
        for k, (a, b) in enumerate(self._offsets()):
            np.equal(argmax, k, out=hit)
            np.multiply(dy, hit, out=target[:, :, :, a, b, :])


class AveragePooling2D(_Pooling2D):
    """The mean of each window (Keras 2); with 'same' padding the mean of
    the cells inside the image only, as TensorFlow computes it.

    Args:
        pool_size: An int or ``(rows, cols)``, the window.
        strides: An int, ``(rows, cols)``, or None for ``pool_size``.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or None (the same).
        **kwargs: `Layer` arguments.

    Raises:
        ConfigError: A value outside those above.
    """

    class_name = "AveragePooling2D"

    def _counts(self) -> Array:
        """How many image cells each window holds, ``(rows, cols, 1)``."""
        assert self._geometry is not None
        _, height, width, _, top, left, bottom, right = self._geometry
        counts = []
        for size, before, after, window, stride in zip(
            (height, width), (top, left), (bottom, right), self.pool_size, self.strides, strict=True
        ):
            inside = np.zeros(size + before + after)
            inside[before : before + size] = 1
            out = output_length(size, window, self.padding, stride)
            counts.append(
                np.array([inside[i * stride : i * stride + window].sum() for i in range(out)])
            )
        return np.multiply.outer(counts[0], counts[1])[:, :, None].astype(self.dtype)

    def _pool(self, windows: Array, out: Array) -> None:
        offsets = self._offsets()
        np.copyto(out, windows[:, :, :, 0, 0, :])
        for a, b in offsets[1:]:
            out += windows[:, :, :, a, b, :]
        if self.padding == "valid":
            self._divisor: Array | np.floating = self.dtype.type(len(offsets))
        elif getattr(self, "_counted", None) != self._geometry:
            self._divisor, self._counted = self._counts(), self._geometry
        out /= self._divisor

    def _window_grads(self, dy: Array, target: Array) -> None:
        share = np.divide(dy, self._divisor, out=self._buffer("share", *dy.shape))
        for a, b in self._offsets():
            target[:, :, :, a, b, :] = share


class _Steps(_Pooling2D):
    """The 1-D poolings' arguments: ints for ``(steps, features)`` samples,
    given to their 2-D pooling (one column)."""

    rank = 1

    def __init__(
        self,
        pool_size: int = 2,
        strides: int | None = None,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            pool_size=pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs
        )


class MaxPooling1D(_Steps, MaxPooling2D):
    """The maximum of each window of steps, ``(steps, features)`` samples.

    Args:
        pool_size: An int, the window.
        strides: An int, or None for ``pool_size``.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or None (the same).
        **kwargs: `Layer` arguments.
    """

    class_name = "MaxPooling1D"


class AveragePooling1D(_Steps, AveragePooling2D):
    """The mean of each window of steps, ``(steps, features)`` samples.

    Args:
        pool_size: An int, the window.
        strides: An int, or None for ``pool_size``.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or None (the same).
        **kwargs: `Layer` arguments.
    """

    class_name = "AveragePooling1D"


class _GlobalPooling(Layer):
    """Pools all steps (rank 1) or all rows and columns (rank 2) of each channel."""

    rank = 2

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = channels_last(self.name, data_format)
        self._shape: tuple[int, ...] | None = None

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 1:
            what = "(rows, cols, channels)" if self.rank == 2 else "(steps, features)"
            raise ConfigError(
                f"{self.name}: {self.class_name} takes samples of shape {what}, got {shape!r}."
            )
        return (shape[-1],)

    def _flat(self, x: Array) -> Array:
        if x.ndim != self.rank + 2:
            raise ModelError(
                f"Layer {self.name}: expected a batch of {self.rank + 1}-D samples, got {x.shape}."
            )
        self._shape = x.shape
        return x.reshape(len(x), -1, x.shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over rows and columns: ``(rows, cols, channels)`` to ``(channels,)``.

    Args:
        data_format: ``'channels_last'`` or None (the same).
        **kwargs: `Layer` arguments.
    """

    class_name = "GlobalAveragePooling2D"

    def forward(self, x: Array, training: bool) -> Array:
        flat = self._flat(x)
        out = self._buffer("y", len(x), x.shape[-1])
        return np.mean(flat, axis=1, out=out)

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        if self._shape is None:
            raise not_built(self)
        if not need_dx:
            return None
        dx = self._buffer("dx", *self._shape)
        flat = dx.reshape(len(dx), -1, dx.shape[-1])
        np.divide(dy[:, None, :], flat.shape[1], out=flat)
        return dx


class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over rows and columns: ``(rows, cols, channels)`` to ``(channels,)``.

    Args:
        data_format: ``'channels_last'`` or None (the same).
        **kwargs: `Layer` arguments.
    """

    class_name = "GlobalMaxPooling2D"

    def forward(self, x: Array, training: bool) -> Array:
        flat = self._flat(x)
        # the first maximum takes the gradient, as TensorFlow's
        self._argmax = np.argmax(flat, axis=1)[:, None, :]
        return np.take_along_axis(flat, self._argmax, axis=1)[:, 0, :]

    def backward(self, dy: Array, need_dx: bool = True) -> Array | None:
        if self._shape is None:
            raise not_built(self)
        if not need_dx:
            return None
        dx = self._buffer("dx", *self._shape)
        dx[...] = 0
        flat = dx.reshape(len(dx), -1, dx.shape[-1])
        np.put_along_axis(flat, self._argmax, dy[:, None, :], axis=1)
        return dx


class GlobalAveragePooling1D(GlobalAveragePooling2D):
    """The mean over steps: ``(steps, features)`` to ``(features,)``.

    Args:
        data_format: ``'channels_last'`` or None (the same).
        **kwargs: `Layer` arguments.
    """

    class_name = "GlobalAveragePooling1D"
    rank = 1


class GlobalMaxPooling1D(GlobalMaxPooling2D):
    """The maximum over steps: ``(steps, features)`` to ``(features,)``.

    Args:
        data_format: ``'channels_last'`` or None (the same).
        **kwargs: `Layer` arguments.
    """

    class_name = "GlobalMaxPooling1D"
    rank = 1


__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPooling1D",
    "MaxPooling2D",
]
