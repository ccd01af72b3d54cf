"""Keras's merge layers (``keras.layers.merge``): `Add`, `Subtract`,
`Multiply`, `Average`, `Maximum`, `Concatenate` and `Dot`, and their
functions `add`, `subtract`, ..., `concatenate` and `dot`. Each takes a
list of tensors of the functional API."""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ...errors import ConfigError
from .base import Array, Layer, Shape


class _Merge(Layer):
    """Elementwise merges: inputs of one shape, output of that shape."""

    inputs_count = 0
    least = 2

    def compute_output_shape(self, input_shape: Any) -> Shape:
        if not isinstance(input_shape, list) or len(input_shape) < self.least:
            raise ConfigError(
                f"{self.name} ({self.class_name}) takes a list of at least {self.least} "
                f"tensors, got {input_shape!r}."
            )
        if any(s != input_shape[0] for s in input_shape):
            raise ConfigError(
                f"{self.name} ({self.class_name}) takes tensors of one shape, got "
                f"{', '.join(str(s) for s in input_shape)}."
            )
        return input_shape[0]

    def forward(self, x: list[Array], training: bool) -> Array:
        self._x = x
        out = self._buffer("y", *x[0].shape)
        self.combine(x, out)
        return out

    def combine(self, x: list[Array], out: Array) -> None:
        """Write the merge of ``x`` into ``out``."""
        np.copyto(out, x[0])
        for other in x[1:]:
            out += other

    def backward(self, dy: Array, need_dx: bool = True) -> list[Array] | None:
        # each input gets an array of its own: the layers before may write
        # into the gradient they are given
        return [dy.copy() for _ in self._x] if need_dx else None


class Add(_Merge):
    """The sum of its inputs."""

    class_name = "Add"


class Subtract(_Merge):
    """The first input minus the second."""

    class_name = "Subtract"

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shape = super().compute_output_shape(input_shape)
        if len(input_shape) != 2:
            raise ConfigError(
                f"{self.name} (Subtract) takes exactly 2 tensors, got {len(input_shape)}."
            )
        return shape

    def combine(self, x: list[Array], out: Array) -> None:
        np.subtract(x[0], x[1], out=out)

    def backward(self, dy: Array, need_dx: bool = True) -> list[Array] | None:
        return [dy.copy(), -dy] if need_dx else None


class Multiply(_Merge):
    """The elementwise product of its inputs."""

    class_name = "Multiply"

    def combine(self, x: list[Array], out: Array) -> None:
        np.copyto(out, x[0])
        for other in x[1:]:
            out *= other

    def backward(self, dy: Array, need_dx: bool = True) -> list[Array] | None:
        if not need_dx:
            return None
        grads = []
        for i in range(len(self._x)):
            g = dy.copy()
            for j, other in enumerate(self._x):
                if j != i:
                    g *= other
            grads.append(g)
        return grads


class Average(_Merge):
    """The elementwise mean of its inputs."""

    class_name = "Average"

    def combine(self, x: list[Array], out: Array) -> None:
        super().combine(x, out)
        out *= 1.0 / len(x)

    def backward(self, dy: Array, need_dx: bool = True) -> list[Array] | None:
        return [dy / len(self._x) for _ in self._x] if need_dx else None


class Maximum(_Merge):
    """The elementwise maximum of its inputs (ties: the first)."""

    class_name = "Maximum"

    def combine(self, x: list[Array], out: Array) -> None:
        self._winner = np.argmax(np.stack(x), axis=0)
        np.copyto(out, np.max(np.stack(x), axis=0))

    def backward(self, dy: Array, need_dx: bool = True) -> list[Array] | None:
        return (
            [np.where(self._winner == i, dy, 0) for i in range(len(self._x))] if need_dx else None
        )


class Concatenate(_Merge):
    """Its inputs joined along ``axis`` (-1: the features).

    Args:
        axis: The sample axis to join along (Keras counts the batch axis: -1
            or a positive axis >= 1).
    """

    class_name = "Concatenate"

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int) or axis == 0:
            raise ConfigError(
                f"{self.name}: axis must be a non-zero integer (0 is the batch), got {axis!r}."
            )
        self.axis = axis

    def compute_output_shape(self, input_shape: Any) -> Shape:
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ConfigError(
                f"{self.name} (Concatenate) takes a list of at least 2 tensors, got "
                f"{input_shape!r}."
            )
        rank = len(input_shape[0])
        axis = self.axis - 1 if self.axis > 0 else rank + self.axis
        rest = {s[:axis] + s[axis + 1 :] for s in input_shape}
        if any(len(s) != rank for s in input_shape) or not 0 <= axis < rank or len(rest) != 1:
            raise ConfigError(
                f"{self.name} (Concatenate) needs tensors whose shapes match except on axis "
                f"{self.axis}, got {', '.join(str(s) for s in input_shape)}."
            )
        self._sample_axis = axis
        size = sum(s[axis] for s in input_shape)
        return (*input_shape[0][:axis], size, *input_shape[0][axis + 1 :])

    def forward(self, x: list[Array], training: bool) -> Array:
        self._sizes = np.cumsum([a.shape[self._sample_axis + 1] for a in x])[:-1]
        return np.concatenate(x, axis=self._sample_axis + 1)

    def backward(self, dy: Array, need_dx: bool = True) -> list[Array] | None:
        if not need_dx:
            return None
        return [part.copy() for part in np.split(dy, self._sizes, axis=self._sample_axis + 1)]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Dot(Layer):
    """The dot product of two tensors along ``axes``, sample by sample
    (Keras's ``batch_dot``).

    Args:
        axes: An axis of both inputs, or one axis of each (Keras counts the
            batch axis: -1 is the last).
        normalize: Keras's cosine option; not supported.
    """

    class_name = "Dot"
    inputs_count = 0

    def __init__(
        self, axes: int | tuple[int, int] | list[int], normalize: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if normalize:
            raise ConfigError(f"{self.name}: normalize=True is not supported; leave it False.")
        pair = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        if len(pair) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in pair):
            raise ConfigError(f"{self.name}: axes must be an integer or two, got {axes!r}.")
        self.axes = pair

    def compute_output_shape(self, input_shape: Any) -> Shape:
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ConfigError(f"{self.name} (Dot) takes a list of 2 tensors, got {input_shape!r}.")
        a, b = input_shape
        ia, ib = (ax % (len(s) + 1) - 1 for ax, s in zip(self.axes, input_shape, strict=True))
        if ia < 0 or ib < 0 or a[ia] != b[ib]:
            raise ConfigError(
                f"{self.name} (Dot): axes {self.axes} of shapes {a} and {b} must have one size."
            )
        letters = iter(string.ascii_lowercase[1:])
        la = [next(letters) for _ in a]
        lb = [next(letters) for _ in b]
        lb[ib] = la[ia]
        out = [c for i, c in enumerate(la) if i != ia] + [c for i, c in enumerate(lb) if i != ib]
        self._spec = ("z" + "".join(la), "z" + "".join(lb), "z" + "".join(out))
        shape = tuple(d for i, d in enumerate(a) if i != ia) + tuple(
            d for i, d in enumerate(b) if i != ib
        )
        return shape or (1,)  # Keras keeps a (batch, 1) result for two vectors

    def forward(self, x: list[Array], training: bool) -> Array:
        sa, sb, so = self._spec
        self._x = x
        out = np.einsum(f"{sa},{sb}->{so}", x[0], x[1])
        return out.reshape(len(out), *self.out_shape)

    def backward(self, dy: Array, need_dx: bool = True) -> list[Array] | None:
        if not need_dx:
            return None
        sa, sb, so = self._spec
        dy = dy.reshape(len(dy), *[d for d in self._dims(so)])
        a, b = self._x
        return [np.einsum(f"{so},{sb}->{sa}", dy, b), np.einsum(f"{so},{sa}->{sb}", dy, a)]

    def _dims(self, spec: str) -> list[int]:
        sa, sb, _ = self._spec
        size = dict(zip(sa[1:], self._x[0].shape[1:], strict=True))
        size.update(zip(sb[1:], self._x[1].shape[1:], strict=True))
        return [size[c] for c in spec[1:]]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes, "normalize": False}


def _merge(cls: type[Layer]) -> Any:
    def function(inputs: Any, **kwargs: Any) -> Any:
        return cls(**kwargs)(inputs)

    function.__name__ = cls.__name__.lower()
    function.__doc__ = f"``{cls.__name__}(**kwargs)(inputs)``: Keras's functional form."
    return function


add = _merge(Add)
subtract = _merge(Subtract)
multiply = _merge(Multiply)
average = _merge(Average)
maximum = _merge(Maximum)


def concatenate(inputs: Any, axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis)(inputs)``: Keras's functional form."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: Any, axes: Any, normalize: bool = False, **kwargs: Any) -> Any:
    """``Dot(axes)(inputs)``: Keras's functional form."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "multiply",
    "subtract",
]
