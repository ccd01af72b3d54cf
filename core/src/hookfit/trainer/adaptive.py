"""Keras 2's other adaptive optimizers: Adadelta, Adamax and Nadam.

Same machinery as `hookfit.trainer.optimizers` (chunked in-place updates,
per-weight slots that saving writes and restores), Keras 2.2.4's rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from .optimizers import Array, Optimizer, fraction, non_negative


def _epsilon(owner: str, epsilon: float | None) -> float:
    """Keras 2's ``epsilon=None``: the backend's fuzz factor."""
    return backend.epsilon() if epsilon is None else non_negative(owner, "epsilon", epsilon)


class Adadelta(Optimizer):
    """Adadelta: steps scaled by running averages of squared gradients and
    of squared updates.

    Args:
        lr: The learning rate (default 1.0, as Keras recommends keeping).
        rho: Decay of both running averages.
        epsilon: Fuzz factor; None is ``K.epsilon()`` (1e-7).
        decay: Time decay of the learning rate.
        learning_rate: Keras 3's name for ``lr``.
    """

    name = "Adadelta"
    slot_names = ("accumulator", "delta_accumulator")
    spare_buffers = 1
    default_lr = 1.0

    def __init__(
        self,
        lr: float | None = None,
        rho: float = 0.95,
        epsilon: float | None = None,
        decay: float = 0.0,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, learning_rate, decay)
        self.rho = fraction(self.name, "rho", rho)
        self.epsilon = _epsilon(self.name, epsilon)

    def _step(self, w: Array, g: Array, t: Array, *rest: Any) -> None:
        a, d, u, lr = rest
        eps = self.epsilon
        np.multiply(g, g, out=t)  # a = rho * a + (1 - rho) * g^2
        t *= 1.0 - self.rho
        a *= self.rho
        a += t
        np.add(a, eps, out=t)  # update = g * sqrt(d + eps) / sqrt(a + eps), the old d
        np.sqrt(t, out=t)
        np.divide(g, t, out=t)
        np.add(d, eps, out=u)
        np.sqrt(u, out=u)
        t *= u
        np.multiply(t, lr, out=u)
        w -= u
        np.multiply(t, t, out=u)  # d = rho * d + (1 - rho) * update^2
        u *= 1.0 - self.rho
        d *= self.rho
        d += u

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    Args:
        lr: The learning rate (default 0.002).
        beta_1: Decay of the first-moment estimate.
        beta_2: Decay of the infinity norm.
        epsilon: Fuzz factor; None is ``K.epsilon()`` (1e-7).
        decay: Time decay of the learning rate.
        learning_rate: Keras 3's name for ``lr``.
    """

    name = "Adamax"
    slot_names = ("m", "u")
    default_lr = 0.002

    def __init__(
        self,
        lr: float | None = None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = None,
        decay: float = 0.0,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, learning_rate, decay)
        self.beta_1 = fraction(self.name, "beta_1", beta_1)
        self.beta_2 = fraction(self.name, "beta_2", beta_2)
        self.epsilon = _epsilon(self.name, epsilon)

    def _scalars(self, lr: float) -> tuple[float, ...]:
        return (lr / (1.0 - self.beta_1**self.iterations),)

    def _step(self, w: Array, g: Array, t: Array, *rest: Any) -> None:
        m, u, step = rest
        m *= self.beta_1  # m = beta_1 * m + (1 - beta_1) * g
        np.multiply(g, 1.0 - self.beta_1, out=t)
        m += t
        u *= self.beta_2  # u = max(beta_2 * u, |g|)
        np.abs(g, out=t)
        np.maximum(u, t, out=u)
        np.add(u, self.epsilon, out=t)
        np.divide(m, t, out=t)
        t *= step
        w -= t

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum and Keras 2's warming momentum
    schedule. Like Keras 2's, it has no learning-rate ``decay``.

    The schedule's running product (Keras's ``m_schedule`` variable) is a
    function of the step count, so restoring ``iterations`` restores it.

    Args:
        lr: The learning rate (default 0.002).
        beta_1: Decay of the first-moment estimate.
        beta_2: Decay of the second-moment estimate.
        epsilon: Fuzz factor; None is ``K.epsilon()`` (1e-7).
        schedule_decay: How fast the momentum warms up to ``beta_1``.
        learning_rate: Keras 3's name for ``lr``.
    """

    name = "Nadam"
    slot_names = ("m", "v")
    spare_buffers = 1
    default_lr = 0.002

    def __init__(
        self,
        lr: float | None = None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = None,
        schedule_decay: float = 0.004,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, learning_rate)
        self.beta_1 = fraction(self.name, "beta_1", beta_1)
        self.beta_2 = fraction(self.name, "beta_2", beta_2)
        self.epsilon = _epsilon(self.name, epsilon)
        self.schedule_decay = non_negative(self.name, "schedule_decay", schedule_decay)
        self._schedule: tuple[tuple[int, float, float], float] = ((0, 0.0, 0.0), 1.0)

    def _momentum(self, t: int) -> float:
        """The momentum of step ``t`` (Keras's ``momentum_cache_t``)."""
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.schedule_decay))

    def _m_schedule(self, t: int) -> float:
        """The product of the momenta of steps 1 to ``t``."""
        (done, beta_1, decay), product = self._schedule
        if (beta_1, decay) != (self.beta_1, self.schedule_decay) or done > t:
            done, product = 0, 1.0  # settings or step count restored: start over
        for step in range(done + 1, t + 1):
            product *= self._momentum(step)
        self._schedule = ((t, self.beta_1, self.schedule_decay), product)
        return product

    def _scalars(self, lr: float) -> tuple[float, ...]:
        t = self.iterations
        momentum, following = self._momentum(t), self._momentum(t + 1)
        schedule = self._m_schedule(t)
        # m_bar = (1 - momentum) * g / (1 - schedule)
        #         + following * m / (1 - schedule * following)
        g_factor = (1.0 - momentum) / (1.0 - schedule)
        m_factor = following / (1.0 - schedule * following)
        return (lr, g_factor, m_factor, 1.0 / (1.0 - self.beta_2**t))

    def _step(self, w: Array, g: Array, t: Array, *rest: Any) -> None:
        m, v, s, lr, g_factor, m_factor, v_factor = rest
        m *= self.beta_1  # m = beta_1 * m + (1 - beta_1) * g
        np.multiply(g, 1.0 - self.beta_1, out=t)
        m += t
        v *= self.beta_2  # v = beta_2 * v + (1 - beta_2) * g^2
        np.multiply(g, g, out=t)
        t *= 1.0 - self.beta_2
        v += t
        np.multiply(v, v_factor, out=t)  # sqrt(v / (1 - beta_2^t)) + epsilon
        np.sqrt(t, out=t)
        t += self.epsilon
        # w -= lr * m_bar / t, one term of m_bar at a time
        np.divide(g, t, out=s)
        s *= lr * g_factor
        w -= s
        np.divide(m, t, out=s)
        s *= lr * m_factor
        w -= s

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["decay"]  # Keras 2's Nadam has none
        return {
            **config,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "schedule_decay": self.schedule_decay,
        }


__all__ = ["Adadelta", "Adamax", "Nadam"]
