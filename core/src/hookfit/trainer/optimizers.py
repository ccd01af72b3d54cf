"""Optimizers with the Keras 2 update rules, updating weights in place.

Each takes ``lr`` (Keras 2's name) or ``learning_rate`` and exposes it as a
settable ``optimizer.lr``, which is what the learning-rate plugins change.
It is a plain float that ``K.set_value(optimizer.lr, value)`` also sets, as
Keras 2 callbacks do (`hookfit.trainer.backend.track`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..errors import ConfigError, unknown_name
from . import backend

Array = np.ndarray


class Optimizer(ABC):
    """Base class: holds the learning rate, the step count and the slots.

    Updates run over the weights in chunks of `CHUNK` values, so that the
    several elementwise passes of one update find their data in the CPU
    cache instead of streaming whole arrays from memory for each pass.

    Args:
        lr: The learning rate.
        learning_rate: Keras 3's name for ``lr``; give one or the other.
        decay: Keras 2 time decay: the rate used at step t is
            ``lr / (1 + decay * t)``.

    Attributes:
        iterations: The number of updates applied so far.
        slots: Per-weight state arrays by slot name (``"m"``, ``"v"``, ...),
            each list parallel to the weights the optimizer updates.
    """

    name = "Optimizer"
    slot_names: tuple[str, ...] = ()
    # More scratch chunks, passed after the slots, for updates that need them.
    spare_buffers = 0
    default_lr = 0.01
    # Values per chunk: a chunk's temporaries stay in the CPU cache (a whole
    # buffer's would not); smaller chunks pay more Python overhead than they save.
    CHUNK = 1 << 18

    def __init__(
        self,
        lr: float | None = None,
        learning_rate: float | None = None,
        decay: float = 0.0,
    ) -> None:
        if lr is not None and learning_rate is not None and lr != learning_rate:
            raise ConfigError(
                f"{self.name}: got lr={lr!r} and learning_rate={learning_rate!r}; give one of them."
            )
        rate = lr if lr is not None else learning_rate
        self.lr = self.default_lr if rate is None else rate
        backend.track(self, "lr")
        self.decay = non_negative(self.name, "decay", decay)
        self.iterations = 0
        self.slots: dict[str, list[Array]] = {}
        self._shapes: list[tuple[int, ...]] = []
        self._chunks: list[tuple[Array, ...]] = []
        self._bound: list[Array] = []

    @property
    def lr(self) -> float:
        """The learning rate (settable): a float that ``K.set_value(lr, v)``
        also sets, as in Keras 2."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        # a float object of this optimizer's own, which K.set_value recognises
        self._lr = backend.own_float(non_negative(self.name, "lr", value))

    @property
    def learning_rate(self) -> float:
        """Keras 3's name for `lr`."""
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.lr = value

    def build(self, weights: list[Array]) -> None:
        """Create zeroed slots for ``weights`` (before the first update)."""
        self.slots = {name: [np.zeros_like(w) for w in weights] for name in self.slot_names}
        self._shapes = [w.shape for w in weights]
        self._chunks = []

    def apply(self, weights: list[Array], grads: list[Array]) -> None:
        """Update ``weights`` in place from ``grads``."""
        if self._shapes != [w.shape for w in weights]:
            self.build(weights)
        if not self._chunks or any(a is not b for a, b in zip(self._bound, weights, strict=True)):
            self._chunks = self._split(weights, grads)
            self._bound = list(weights)
        lr = self._lr
        if self.decay:
            lr = lr / (1.0 + self.decay * self.iterations)
        self.iterations += 1
        scalars = self._scalars(lr)
        step = self._step
        for chunk in self._chunks:
            step(*chunk, *scalars)

    def _split(self, weights: list[Array], grads: list[Array]) -> list[tuple[Array, ...]]:
        """(weight, gradient, scratch, *slots, *spares) views, chunk by chunk."""
        chunks = []
        scratch, *spares = np.empty(
            (1 + self.spare_buffers, min(max((w.size for w in weights), default=0), self.CHUNK)),
            dtype=weights[0].dtype if weights else np.float32,
        )
        for i, (w, g) in enumerate(zip(weights, grads, strict=True)):
            flat = [w.reshape(-1), g.reshape(-1)]
            slots = [self.slots[name][i].reshape(-1) for name in self.slot_names]
            for start in range(0, w.size, self.CHUNK):
                part = slice(start, start + self.CHUNK)
                size = min(self.CHUNK, w.size - start)
                chunks.append(
                    (
                        flat[0][part],
                        flat[1][part],
                        scratch[:size],
                        *(s[part] for s in slots),
                        *(spare[:size] for spare in spares),
                    )
                )
        return chunks

    def _scalars(self, lr: float) -> tuple[float, ...]:
        """The numbers every chunk of this step uses."""
        return (lr,)

    @abstractmethod
    def _step(self, w: Array, g: Array, t: Array, *rest: Any) -> None:
        """Update the weight chunk ``w`` from ``g``, with scratch space ``t``,
        the slot chunks, the `spare_buffers` chunks, then the `_scalars` of
        this step."""

    def get_config(self) -> dict[str, Any]:
        """The Keras config (``learning_rate`` and the hyper-parameters)."""
        return {"name": self.name, "learning_rate": self._lr, "decay": self.decay}


def non_negative(owner: str, name: str, value: Any) -> float:
    """``value`` as a float, refused unless a finite number >= 0.

    Raises:
        ConfigError: Not a number, not finite, or negative.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{owner}: {name} must be a number, got {value!r}.") from None
    if not math.isfinite(number) or number < 0:
        raise ConfigError(f"{owner}: {name} must be a finite number >= 0, got {value!r}.")
    return number


def fraction(owner: str, name: str, value: Any) -> float:
    """``value`` as a float, refused unless in [0, 1).

    Raises:
        ConfigError: Not a number in [0, 1).
    """
    number = non_negative(owner, name, value)
    if number >= 1:
        raise ConfigError(f"{owner}: {name} must be in [0, 1), got {value!r}.")
    return number


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Args:
        lr: The learning rate (default 0.01).
        momentum: The momentum in [0, 1).
        decay: Time decay of the learning rate.
        nesterov: Use Nesterov momentum.
        learning_rate: Keras 3's name for ``lr``.
    """

    name = "SGD"

    def __init__(
        self,
        lr: float | None = None,
        momentum: float = 0.0,
        decay: float = 0.0,
        nesterov: bool = False,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, learning_rate, decay)
        self.momentum = fraction(self.name, "momentum", momentum)
        self.nesterov = bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()

    def _step(self, w: Array, g: Array, t: Array, *rest: Any) -> None:
        *slots, lr = rest
        np.multiply(g, lr, out=t)
        if not slots:
            w -= t
            return
        (v,) = slots
        v *= self.momentum
        v -= t
        if self.nesterov:  # w += momentum * v - lr * g
            w -= t
            np.multiply(v, self.momentum, out=t)
            w += t
        else:
            w += v

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square.

    Args:
        lr: The learning rate (default 0.001).
        rho: Decay of the running mean of squared gradients.
        epsilon: Added to the denominator (Keras's 1e-7).
        decay: Time decay of the learning rate.
        learning_rate: Keras 3's name for ``lr``.
    """

    name = "RMSprop"
    slot_names = ("rms",)
    default_lr = 0.001

    def __init__(
        self,
        lr: float | None = None,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        decay: float = 0.0,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, learning_rate, decay)
        self.rho = fraction(self.name, "rho", rho)
        self.epsilon = non_negative(self.name, "epsilon", epsilon)

    def _step(self, w: Array, g: Array, t: Array, *rest: Any) -> None:
        a, lr = rest
        np.multiply(g, g, out=t)
        t *= 1.0 - self.rho
        a *= self.rho
        a += t
        np.sqrt(a, out=t)
        t += self.epsilon
        np.divide(g, t, out=t)
        t *= lr
        w -= t

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam with Keras 2's bias correction folded into the step size.

    Args:
        lr: The learning rate (default 0.001).
        beta_1: Decay of the first-moment estimate.
        beta_2: Decay of the second-moment estimate.
        epsilon: Added to the denominator.
        decay: Time decay of the learning rate.
        amsgrad: Use the running maximum of the second moment.
        learning_rate: Keras 3's name for ``lr``.
    """

    name = "Adam"
    default_lr = 0.001

    def __init__(
        self,
        lr: float | None = None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        decay: float = 0.0,
        amsgrad: bool = False,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, learning_rate, decay)
        self.beta_1 = fraction(self.name, "beta_1", beta_1)
        self.beta_2 = fraction(self.name, "beta_2", beta_2)
        self.epsilon = non_negative(self.name, "epsilon", epsilon)
        self.amsgrad = bool(amsgrad)
        self.slot_names = ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def _scalars(self, lr: float) -> tuple[float, ...]:
        t = self.iterations
        return (lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t),)

    def _step(self, w: Array, g: Array, t: Array, *rest: Any) -> None:
        m, v, *vhat, step = rest
        m *= self.beta_1
        np.multiply(g, 1.0 - self.beta_1, out=t)
        m += t
        v *= self.beta_2
        np.multiply(g, g, out=t)
        t *= 1.0 - self.beta_2
        v += t
        if vhat:
            np.maximum(vhat[0], v, out=vhat[0])
            v = vhat[0]
        np.sqrt(v, out=t)
        t += self.epsilon
        np.divide(m, t, out=t)
        t *= step
        w -= t

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class Adagrad(Optimizer):
    """Adagrad: per-weight rates from the sum of squared gradients.

    Args:
        lr: The learning rate (default 0.01).
        epsilon: Added to the denominator.
        decay: Time decay of the learning rate.
        learning_rate: Keras 3's name for ``lr``.
    """

    name = "Adagrad"
    slot_names = ("accumulator",)

    def __init__(
        self,
        lr: float | None = None,
        epsilon: float = 1e-7,
        decay: float = 0.0,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, learning_rate, decay)
        self.epsilon = non_negative(self.name, "epsilon", epsilon)

    def _step(self, w: Array, g: Array, t: Array, *rest: Any) -> None:
        a, lr = rest
        np.multiply(g, g, out=t)
        a += t
        np.sqrt(a, out=t)
        t += self.epsilon
        np.divide(g, t, out=t)
        t *= lr
        w -= t

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


def registry() -> dict[str, type[Optimizer]]:
    """The optimizers by Keras name (``'sgd'``, ``'nadam'``, ...)."""
    # Keras 2's adaptive optimizers build on this module's base class.
    from .adaptive import Adadelta, Adamax, Nadam

    return {
        "sgd": SGD,
        "rmsprop": RMSprop,
        "adagrad": Adagrad,
        "adadelta": Adadelta,
        "adam": Adam,
        "adamax": Adamax,
        "nadam": Nadam,
    }


def get(identifier: str | Optimizer) -> Optimizer:
    """Return a new optimizer for a Keras name (``'rmsprop'``) or the object.

    Raises:
        ConfigError: An unknown name; the message names the nearest and
            lists the valid ones.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    known = registry()
    if isinstance(identifier, str) and identifier.lower() in known:
        return known[identifier.lower()]()
    error = unknown_name("optimizer", "optimizers", identifier, known)
    error.add_note("Or pass an optimizer object, e.g. SGD(lr=0.1, momentum=0.9).")
    raise error


__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "Optimizer",
    "RMSprop",
    "get",
]
