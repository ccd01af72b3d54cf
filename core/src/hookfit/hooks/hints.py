"""Checking one value against a type hint, and saying what a hint wants.

Config values come from TOML (or ``--set``), so they are plain strings,
numbers, booleans, lists and tables. A parameter typed as a callable takes,
in a config, a ``"module:attribute"`` string naming it, the way entry points
name objects. ``Annotated`` hints carry a `Range` or a `Check` for anything
finer than a type.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib
import inspect
import math
import os
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .redaction import masked, masked_text

ANY = object()
"""The hint of a parameter that has none: any value."""


def finite(value: Any) -> bool:
    """True for an int or float (not a bool) that is neither NaN nor infinite:
    what every hookfit check means by "a finite number"."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Range:
    """A numeric range for ``Annotated``: ``Annotated[int, Range(ge=0)]``.

    NaN and infinities are outside every range (`finite`), so ``Range()``
    is any finite number, described as "a number"; `FINITE` says "a finite
    number".
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def test(self, value: Any) -> bool:
        """True when ``value`` is a finite number inside the range."""
        if not finite(value):
            return False
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )

    @property
    def description(self) -> str:
        """``">= 0"``, ``"> 0 and < 1"``, ..."""
        bounds = [(">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt)]
        return " and ".join(f"{op} {_number(b)}" for op, b in bounds if b is not None)


@dataclass(frozen=True)
class Check:
    """A validator for ``Annotated``: ``Annotated[str, Check(test, "a
    single character")]``; ``test(value)`` returns True for a good value."""

    predicate: Callable[[Any], bool]
    description: str

    def test(self, value: Any) -> bool:
        """True when the predicate accepts ``value``."""
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False


FINITE = Check(finite, "a finite number")
"""``Annotated[float, FINITE]``: any finite number (no NaN, no infinity)."""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check(value: Any, hint: Any, config: bool = True) -> tuple[bool, Any]:
    """Return (ok, converted value) for ``value`` against ``hint``.

    The conversion turns lists into tuples where a tuple is expected and,
    for a value from a config (``config``), resolves ``"module:attr"``
    strings for callables; code must pass the callable itself.
    """
    if hint is ANY or hint is Any or hint is inspect.Parameter.empty:
        return True, value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        ok, converted = check(value, args[0], config)
        rules = [rule for rule in hint.__metadata__ if isinstance(rule, Range | Check)]
        return ok and all(rule.test(converted) for rule in rules), converted
    if origin in (typing.Union, types.UnionType):
        for option in args:
            ok, converted = check(value, option, config)
            if ok:
                return True, converted
        return False, value
    if hint is type(None) or hint is None:
        return value is None, value
    if origin is typing.Literal:
        # True == 1 in Python, but a config's true is not the choice 1
        return any(value == a and type(value) is type(a) for a in args), value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if hint is str:
        return isinstance(value, str), value
    if origin is os.PathLike or (inspect.isclass(hint) and issubclass(hint, os.PathLike)):
        return isinstance(value, str | os.PathLike), value
    if origin is cabc.Callable or hint is cabc.Callable or hint is Callable:
        return _callable(value, config)
    if origin in (list, cabc.Sequence, cabc.Iterable, cabc.Collection, set, frozenset, tuple):
        return _sequence(value, origin, args, config)
    if origin in (dict, cabc.Mapping) or hint in (dict, cabc.Mapping):
        if not isinstance(value, dict):
            return False, value
        if len(args) == 2:
            for key, item in value.items():
                if not check(key, args[0], config)[0] or not check(item, args[1], config)[0]:
                    return False, value
        return True, value
    if hint in (list, tuple, set):
        return isinstance(value, list), hint(value) if isinstance(value, list) else value
    if inspect.isclass(hint):
        return isinstance(value, hint), value
    return True, value  # a hint we cannot judge: let the constructor decide


def _sequence(value: Any, origin: Any, args: tuple[Any, ...], config: bool) -> tuple[bool, Any]:
    if not isinstance(value, list | tuple | set | frozenset):
        # A lone string is a Sequence[str] in Python, never what is meant.
        return False, value
    if isinstance(value, set | frozenset) and origin in (list, tuple, cabc.Sequence):
        return False, value  # an order is expected
    value = list(value)
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(args) != len(value):
            return False, value
        items = [check(v, a, config) for v, a in zip(value, args, strict=True)]
    else:
        item = args[0] if args else ANY
        items = [check(v, item, config) for v in value]
    if not all(ok for ok, _ in items):
        return False, value
    converted = [v for _, v in items]
    if origin is tuple:
        return True, tuple(converted)
    if origin in (set, frozenset):
        return True, origin(converted)
    return True, converted


def _callable(value: Any, config: bool) -> tuple[bool, Any]:
    if callable(value) or not config:  # "module:function" strings come from configs only
        return callable(value), value
    if not isinstance(value, str) or ":" not in value:
        return False, value
    module, _, attr = value.partition(":")
    try:
        obj: Any = importlib.import_module(module.strip())
        for part in attr.strip().split("."):
            obj = getattr(obj, part)
    except Exception:
        return False, value
    return callable(obj), obj


def describe(hint: Any) -> str:
    """A short, readable name for a type hint."""
    if hint is ANY:
        return "any value"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        rules = [rule for rule in hint.__metadata__ if isinstance(rule, Range | Check)]
        checks = [rule.description for rule in rules if isinstance(rule, Check)]
        if checks:
            return " and ".join(checks)
        return " ".join([describe(args[0]), *(r.description for r in rules if r.description)])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if hint is type(None):
        return "None (in a config file: leave the key out)"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is os.PathLike or (inspect.isclass(hint) and issubclass(hint, os.PathLike)):
        return "a path"
    if origin is cabc.Callable or hint in (cabc.Callable, Callable):
        return 'a function (in a config file: a "module:function" reference)'
    if origin in (list, cabc.Sequence, cabc.Iterable, cabc.Collection, set, frozenset, tuple):
        item = args[0] if args else None
        if typing.get_origin(item) in (dict, cabc.Mapping) or item in (dict, cabc.Mapping):
            return "a list of tables"
        return "a list of " + (_PLURAL.get(item, "values") if item is not None else "values")
    if origin in (dict, cabc.Mapping):
        return "a table"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


_PLURAL: dict[Any, str] = {
    str: "strings",
    int: "integers",
    float: "numbers",
    bool: "true/false values",
}


def shown(value: Any, key: object = None) -> str:
    """The value as it would be written in TOML, shortened, with its secrets
    masked (`hookfit.hooks.redaction`).

    Every message that repeats a user's value goes through here, so that a
    password or a token never reaches a terminal or a log.

    Args:
        value: The value to show.
        key: The key or dotted path it sits under (``"headers"``,
            ``"callbacks.remote_monitor.root"``): a credential-like key
            masks the whole value.
    """
    return _toml(masked(value, key))


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and not math.isfinite(value):
        text = str(value)
    elif isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        for char, code in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            escaped = escaped.replace(char, code)
        text = f'"{escaped}"'
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_toml(v) for v in value) + "]"
    else:
        text = masked_text(repr(value))
    # long enough for a whole path; a huge value (a list of thousands) is cut
    return text if len(text) <= 240 else text[:237] + "..."
