"""Keras 2's ``keras.layers.convolutional``: `Conv2D`, channels_last.

A convolution is one matrix product. The input's windows are copied once
into an im2col matrix of shape ``(batch * out_rows * out_cols,
kh * kw * channels)``, whose rows follow the output's (N, H, W) order and
whose columns follow the kernel's (kh, kw, in) order; times the kernel seen
as ``(kh * kw * in, filters)`` it gives the output in channels_last order
with no transpose. The backward pass is two more products (``cols.T @ dz``
for the kernel, ``dz @ kernel.T`` for the windows) and ``kh * kw`` shifted
adds that fold the windows' gradient back onto the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...errors import ConfigError, ModelError
from .. import activations, initializers
from .base import not_built
from .checks import int_tuple, positive_int
from .kernels import KernelLayer

Array = np.ndarray

PADDINGS = ("valid", "same")


def padding_mode(owner: str, value: Any) -> str:
    """Keras's ``padding``: ``'valid'`` or ``'same'``, in any case.

    Raises:
        ConfigError: Any other value (Conv1D's ``'causal'`` among them).
    """
    mode = value.lower() if isinstance(value, str) else value
    if mode not in PADDINGS:
        raise ConfigError(
            f"{owner}: padding must be 'valid' or 'same', got {value!r}; "
            "'valid' uses no padding, 'same' pads so that the output has ceil(size / stride) "
            "rows and columns."
        )
    return str(mode)


def channels_last(owner: str, value: Any) -> str:
    """Keras's ``data_format``: hookfit computes in ``'channels_last'`` only
    (None means Keras's default, which is that).

    Raises:
        ConfigError: ``'channels_first'`` or anything else.
    """
    if value is None or (isinstance(value, str) and value.lower() == "channels_last"):
        return "channels_last"
    raise ConfigError(
        f"{owner}: data_format must be 'channels_last' (or None), got {value!r}; hookfit "
        "supports channels_last only: give images as (rows, cols, channels), e.g. "
        "np.moveaxis(x, 1, -1) for (channels, rows, cols) arrays."
    )


def output_length(size: int, window: int, padding: str, stride: int) -> int:
    """The output length along one axis, as TensorFlow computes it:
    ``ceil(size / stride)`` for 'same', ``floor((size - window) / stride) + 1``
    for 'valid' (0 or less when the window does not fit)."""
    if padding == "same":
        return -(-size // stride)
    return (size - window) // stride + 1


def same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding along one axis, ``(before, after)``: the
    odd cell goes after (bottom, right)."""
    total = max((output_length(size, window, "same", stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def window_view(
    x: Array, window: tuple[int, int], strides: tuple[int, int], out: tuple[int, int]
) -> Array:
    """A no-copy view ``(N, out_rows, out_cols, wh, ww, C)`` of the windows of
    ``x`` ``(N, H, W, C)``: element ``[n, i, j, a, b, c]`` is
    ``x[n, i * sh + a, j * sw + b, c]``."""
    sn, sh, sw, sc = x.strides
    return as_strided(
        x,
        shape=(x.shape[0], *out, *window, x.shape[3]),
        strides=(sn, sh * strides[0], sw * strides[1], sh, sw, sc),
        writeable=False,
    )


def fold_windows(windows: Array, dx: Array, strides: tuple[int, int]) -> None:
    """Add the gradient of each window, ``windows`` ``(N, out_rows,
    out_cols, wh, ww, C)`` C-contiguous, onto ``dx`` ``(N, H, W, C)``
    C-contiguous where the windows were taken (the reverse of `window_view`).

    A window's row ``a`` is ``ww * C`` values in a row of ``dx``; windows
    ``g = ceil(ww / stride)`` columns apart do not overlap, so one add covers
    every g-th window: ``wh * g`` adds of runs of ``ww * C`` values, not
    ``wh * ww`` adds of runs of C.
    """
    n, out_rows, out_cols, wh, ww, channels = windows.shape
    rows_of = windows.reshape(n, out_rows, out_cols, wh, ww * channels)
    sn, sh, sw, sc = dx.strides
    group = -(-ww // strides[1])
    for a in range(wh):
        for r in range(min(group, out_cols)):
            count = len(range(r, out_cols, group))
            target = as_strided(
                dx[:, a:, r * strides[1] :],
                shape=(n, out_rows, count, ww * channels),
                strides=(sn, sh * strides[0], sw * strides[1] * group, sc),
            )
            target += rows_of[:, :, r::group, a, :]


def _refuse(owner: str, name: str, value: Any, supported: str) -> None:
    if value is not None:
        raise ConfigError(
            f"{owner}: {name} is not supported by hookfit, got {value!r}; {supported}"
        )


class Conv2D(KernelLayer):
    """2-D convolution over ``(rows, cols, channels)`` images (Keras 2).

    Args:
        filters: The number of output channels.
        kernel_size: An int or ``(rows, cols)`` of the window.
        strides: An int or ``(rows, cols)`` step between windows.
        padding: ``'valid'`` (no padding) or ``'same'`` (TensorFlow's: the
            output has ``ceil(size / stride)`` rows and columns; an odd
            padding cell goes to the bottom and the right).
        data_format: ``'channels_last'`` or None (the same).
        dilation_rate: ``(1, 1)`` only.
        activation: A Keras activation name, or None for linear.
        use_bias: Whether to add a bias per filter.
        kernel_initializer: A Keras initializer name or object; the kernel has
            shape ``(kernel_rows, kernel_cols, in_channels, filters)``.
        bias_initializer: A Keras initializer name or object.
        kernel_regularizer: A penalty on the kernel (`hookfit.regularizers`).
        bias_regularizer: A penalty on the bias.
        activity_regularizer: None only.
        kernel_constraint: None only.
        bias_constraint: None only.
        **kwargs: `Layer` arguments (``input_shape``, ``name``, ``dtype``, ...).

    Raises:
        ConfigError: A value outside those above, with what is supported.
    """

    class_name = "Conv2D"
    weight_names: tuple[str, ...] = ("kernel", "bias")
    CHUNK_BYTES = 4 << 20
    """The im2col chunk's size: a few samples' windows, well inside the
    last-level cache (4 MiB is 6 samples of mnist_cnn's second convolution)."""

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = (1, 1),
        activation: str | activations.ActivationFunction | None = None,
        use_bias: bool = True,
        kernel_initializer: str | initializers.Initializer = "glorot_uniform",
        bias_initializer: str | initializers.Initializer = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        owner = self.name
        self.filters = positive_int(owner, "filters", filters)
        kh, kw = int_tuple(owner, "kernel_size", kernel_size, 2)
        sh, sw = int_tuple(owner, "strides", strides, 2)
        self.kernel_size, self.strides = (kh, kw), (sh, sw)
        self.padding = padding_mode(owner, padding)
        self.data_format = channels_last(owner, data_format)
        if int_tuple(owner, "dilation_rate", dilation_rate, 2) != (1, 1):
            raise ConfigError(
                f"{owner}: dilation_rate must be (1, 1), got {dilation_rate!r}; hookfit "
                "supports undilated convolutions only."
            )
        self.dilation_rate = (1, 1)
        self.activation = activations.get(activation)
        _refuse(
            owner,
            "activity_regularizer",
            activity_regularizer,
            "hookfit penalizes weights only: use kernel_regularizer or bias_regularizer "
            "(hookfit.regularizers.l1, l2, l1_l2), or leave it None.",
        )
        no_constraints = "hookfit applies no weight constraints; leave it None (Keras's default)."
        _refuse(owner, "kernel_constraint", kernel_constraint, no_constraints)
        _refuse(owner, "bias_constraint", bias_constraint, no_constraints)
        self._kernel_settings(
            use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer
        )
        self._padded_x: Array | None = None
        self._y: Array | None = None
        self._geometry: tuple[int, ...] | None = None

    def _pads(self, input_shape: tuple[int, ...]) -> tuple[tuple[int, int], tuple[int, int]]:
        if self.padding == "valid":
            return (0, 0), (0, 0)
        return (
            same_pads(input_shape[0], self.kernel_size[0], self.strides[0]),
            same_pads(input_shape[1], self.kernel_size[1], self.strides[1]),
        )

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ConfigError(
                f"{self.name}: Conv2D takes samples of shape (rows, cols, channels), got "
                f"{shape!r}; give images a channel axis, e.g. x.reshape(-1, 28, 28, 1) and "
                "input_shape=(28, 28, 1)."
            )
        rows, cols = (
            output_length(n, k, self.padding, s)
            for n, k, s in zip(shape[:2], self.kernel_size, self.strides, strict=True)
        )
        if rows < 1 or cols < 1:
            raise ConfigError(
                f"{self.name}: the kernel {self.kernel_size} does not fit in the input "
                f"{shape[:2]} with padding 'valid'; use padding='same' or a smaller kernel_size."
            )
        return rows, cols, self.filters

    def weight_shapes(self, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
        kernel = (*self.kernel_size, int(input_shape[-1]), self.filters)
        return [kernel, (self.filters,)][: len(self.weight_names)]

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        self.compute_output_shape(input_shape)  # refuses a shape it cannot take first
        super().build(input_shape, rng)

    def _padded(self, x: Array) -> tuple[Array, tuple[int, int]]:
        """``x`` with the 'same' padding around it, and ``(top, left)``."""
        n, height, width, channels = x.shape
        (top, bottom), (left, right) = self._pads((height, width))
        if not (top or bottom or left or right):
            # the im2col view needs each row's (cols, channels) contiguous
            return np.ascontiguousarray(x, dtype=self.dtype), (0, 0)
        padded = self._buffer("padded", n, height + top + bottom, width + left + right, channels)
        padded[:, :top] = 0
        padded[:, top + height :] = 0
        padded[:, top : top + height, :left] = 0
        padded[:, top : top + height, left + width :] = 0
        padded[:, top : top + height, left : left + width] = x
        return padded, (top, left)

    def _chunks(self, n: int, rows: int, cols: int, k: int) -> tuple[int, Array]:
        """Samples per im2col chunk, and the chunk's buffer: the chunk's
        windows stay in cache from their copy through the products that use
        them, and the buffer is small whatever the batch."""
        per_sample = rows * cols * k * self.dtype.itemsize
        samples = max(1, min(n, self.CHUNK_BYTES // per_sample))
        return samples, self._buffer("cols", samples * rows * cols, k)

    def forward(self, x: Array, training: bool) -> Array:
        if x.ndim != 4:
            raise ModelError(
                f"Layer {self.name}: expected a batch of shape (batch, rows, cols, channels), "
                f"got {x.shape}."
            )
        n, height, width, channels = x.shape
        rows, cols, filters = self.compute_output_shape((height, width, channels))
        padded, origin = self._padded(x)
        kh, kw = self.kernel_size
        k = kh * kw * channels
        kernel = self.weights[0].reshape(k, filters)
        windows = self._windows(padded, rows, cols)
        samples, im2col = self._chunks(n, rows, cols, k)
        z = self._buffer("z", n * rows * cols, filters)
        per = rows * cols
        for start in range(0, n, samples):
            stop = min(n, start + samples)
            chunk = im2col[: (stop - start) * per]
            np.copyto(
                chunk.reshape(stop - start, rows, cols, kh, kw * channels), windows[start:stop]
            )
            out = z[start * per : stop * per]
            np.matmul(chunk, kernel, out=out)
            if self.use_bias:
                out += self.weights[1]
            y = self.activation.forward(out)
            if y is not out:
                out[...] = y
        self._padded_x = padded
        self._geometry = (height, width, *origin, rows, cols)
        self._y = z
        return z.reshape(n, rows, cols, filters)

    def _windows(self, padded: Array, rows: int, cols: int) -> Array:
        """The view ``(N, rows, cols, kh, kw * C)`` of ``padded``'s windows."""
        sn, sh, sw, sc = padded.strides
        kh, kw = self.kernel_size
        return as_strided(
            padded,
            shape=(len(padded), rows, cols, kh, kw * padded.shape[3]),
            strides=(sn, sh * self.strides[0], sw * self.strides[1], sh, sc),
            writeable=False,
        )

    def backward(
        self, dy: Array, need_dx: bool = True, pre_activation: bool = False
    ) -> Array | None:
        """See `Layer.backward`; ``pre_activation`` means ``dy`` is already
        d(loss)/d(convolution + bias) (the fused loss gradient)."""
        if self._padded_x is None or self._y is None or self._geometry is None:
            raise not_built(self)
        padded = self._padded_x
        height, width, top, left, rows, cols = self._geometry
        n, channels = len(padded), padded.shape[3]
        kh, kw = self.kernel_size
        k, filters, per = kh * kw * channels, self.filters, rows * cols
        kernel = self.weights[0].reshape(k, filters)
        grad_kernel = self.grads[0].reshape(k, filters)
        part_kernel = self._buffer("part_kernel", k, filters)
        part_bias = self._buffer("part_bias", filters)
        windows = self._windows(padded, rows, cols)
        samples, im2col = self._chunks(n, rows, cols, k)
        dy = dy.reshape(n * per, filters)
        dx = None
        if need_dx:
            dx = self._buffer("dx", *padded.shape)
        for start in range(0, n, samples):
            stop = min(n, start + samples)
            dz = dy[start * per : stop * per]
            if not pre_activation:
                dz = self.activation.backward(dz, self._y[start * per : stop * per])
            # the windows again (a copy from cache), not kept from forward: a
            # batch's im2col is kh * kw times the input
            chunk = im2col[: (stop - start) * per]
            np.copyto(
                chunk.reshape(stop - start, rows, cols, kh, kw * channels), windows[start:stop]
            )
            first = start == 0
            np.matmul(chunk.T, dz, out=grad_kernel if first else part_kernel)
            if self.use_bias:
                np.add.reduce(dz, axis=0, out=self.grads[1] if first else part_bias)
            if not first:
                grad_kernel += part_kernel
                if self.use_bias:
                    self.grads[1] += part_bias
            if dx is not None:
                np.matmul(dz, kernel.T, out=chunk)
                part = dx[start:stop]
                part[...] = 0
                fold_windows(
                    chunk.reshape(stop - start, rows, cols, kh, kw, channels), part, self.strides
                )
        if dx is None:
            return None
        return dx[:, top : top + height, left : left + width]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": self.activation.name,
            **self.kernel_config(),
        }


__all__ = ["Conv2D"]
