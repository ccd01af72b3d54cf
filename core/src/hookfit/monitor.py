"""Watching one logged quantity for improvement: the logic EarlyStopping,
ReduceLROnPlateau and ModelCheckpoint share (``monitor``, ``mode``,
``min_delta``, ``baseline``), written once.

The arguments' rules are the hints below (`LogKey`, `Mode`, `MinDelta`,
`Baseline`). A plugin declares its own arguments with the same hints, so a
value is judged by one rule, with the same message from code and config.
"""

from __future__ import annotations

import math
import typing
import warnings
from typing import Annotated, Any, Literal

from .errors import ConfigError, HookfitWarning
from .hooks.arguments import FINITE, Check, Range, check_call

LogKey = Annotated[str, Check(bool, "a log key such as 'val_loss'")]
"""The hint of a ``monitor`` argument: a non-empty log key."""

Mode = Literal["auto", "min", "max"]
"""The hint of a ``mode`` argument (see `auto_mode`)."""

MinDelta = Annotated[float, Range(ge=0)]
"""The hint of a ``min_delta`` argument: a finite number >= 0."""

Baseline = Annotated[float, FINITE] | None
"""The hint of a ``baseline`` argument: a finite number, or None."""

MODES: tuple[str, ...] = typing.get_args(Mode)


def auto_mode(monitor: str) -> str:
    """``"max"`` for accuracy-like quantities, else ``"min"`` (tf.keras 2.15).

    Max when the name contains ``acc`` or ends in ``accuracy`` or ``auc``
    (``val_acc``, ``val_auc``), min otherwise (``loss``, ``val_loss``).
    """
    name = monitor.lower()
    return "max" if "acc" in name or name.endswith(("accuracy", "auc")) else "min"


class Monitor:
    """The best value so far of one log key, and whether a new one improves.

    Args:
        owner: The plugin's class name, for messages (``"EarlyStopping"``).
        monitor: The log key to watch, e.g. ``"val_loss"``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (see `auto_mode`).
        min_delta: How much a value must beat the reference by to count as
            an improvement (>= 0).
        baseline: A value to beat before anything counts as an improvement,
            or None.

    Raises:
        ArgumentError: An argument its hint refuses (a `ConfigError` named
            after ``owner``): an empty monitor, an unknown mode, a negative
            or non-finite min_delta, a baseline that is not a finite number.
    """

    def __init__(
        self,
        owner: str,
        monitor: LogKey,
        mode: Mode = "auto",
        min_delta: MinDelta = 0.0,
        baseline: Baseline = None,
    ) -> None:
        values = {"monitor": monitor, "mode": mode, "min_delta": min_delta, "baseline": baseline}
        check_call(Monitor, (), values, owner=owner)
        self._start(owner, monitor, mode, min_delta, baseline)

    @classmethod
    def of_checked(
        cls,
        owner: str,
        monitor: str,
        mode: str = "auto",
        min_delta: float = 0.0,
        baseline: float | None = None,
    ) -> Monitor:
        """A Monitor of values already judged by the hints above: a
        plugin's own arguments, declared with `LogKey`, `Mode`, `MinDelta`
        and `Baseline`, were checked when the plugin was built, so they are
        not judged a second time here."""
        made = cls.__new__(cls)
        made._start(owner, monitor, mode, min_delta, baseline)
        return made

    def _start(
        self, owner: str, monitor: str, mode: str, min_delta: float, baseline: float | None
    ) -> None:
        self.owner = owner
        self.monitor = monitor
        self.mode = auto_mode(monitor) if mode == "auto" else mode
        self.min_delta = float(min_delta)
        self.baseline = None if baseline is None else float(baseline)
        self.best: float | None = None
        self._warned = False

    def reset(self, best: float | None = None) -> None:
        """Forget the best value (start of a run) and warn again if needed."""
        self.best = best
        self._warned = False

    def get(self, logs: dict[str, Any], purpose: str) -> float | None:
        """Return the monitored value from ``logs``, or None when it is missing.

        A missing key warns once per run, naming the keys that are there.

        Args:
            logs: The epoch (or batch) logs.
            purpose: What depends on it, e.g. ``"Early stopping"``.
        """
        value = logs.get(self.monitor)
        if value is None:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"{purpose} conditioned on metric `{self.monitor}` which is not available. "
                    f"Available metrics are: {','.join(logs) or 'none'}.",
                    HookfitWarning,
                    # past the plugin's hook, to the hook call, which
                    # hookfit.hooks.attribution reports at the user's line
                    stacklevel=3,
                )
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{self.owner}: the monitored key {self.monitor!r} holds {value!r}, not a number."
            ) from None

    def improves(self, current: float, reference: float | None = None) -> bool:
        """True when ``current`` beats ``reference`` (default: the best so far)
        by more than ``min_delta`` in the monitor's direction.

        Nothing beats a missing reference except a NaN, which never improves.
        """
        if reference is None:
            reference = self.best
        if math.isnan(current):
            return False
        if reference is None:
            return True
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def beats_baseline(self, current: float) -> bool:
        """True when there is no baseline or ``current`` improves on it."""
        return self.baseline is None or self.improves(current, self.baseline)

    def state_dict(self) -> dict[str, Any]:
        """The state that must survive a restart (JSON-able)."""
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.best = state.get("best")


class Best:
    """Keras's ``best`` attribute for a plugin that keeps its `Monitor` as
    ``self.monitoring``: reads and writes go to the monitor's ``best``.

    Write ``best = Best()`` in the plugin's class body.
    """

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else obj.monitoring.best

    def __set__(self, obj: Any, value: float | None) -> None:
        obj.monitoring.best = value
