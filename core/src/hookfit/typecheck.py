"""Check config values against a constructor's signature and type hints.

Config values come from TOML (or ``--set``), so they are plain strings,
numbers, booleans, lists and tables. A parameter typed as a callable takes a
``"module:attribute"`` string naming it, the way entry points name objects.
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

from .errors import ConfigError, nearest

_ANY = object()


@dataclass(frozen=True)
class Parameter:
    """One constructor parameter a config may set.

    Attributes:
        name: The parameter's name.
        hint: Its type hint, or `_ANY` when it has none.
        required: True when it has no default.
    """

    name: str
    hint: Any
    required: bool


def parameters(cls: type) -> tuple[dict[str, Parameter], bool]:
    """Return the keyword parameters ``cls(...)`` accepts, and whether it also
    accepts any other keyword.

    ``**kwargs`` passed on to a base class (``Dense(**kwargs)`` -> ``Layer``)
    are looked up in the base's signature; ``**kwargs`` that reach a base
    taking no arguments (``Callback``, ``object``) accept anything.
    """
    found: dict[str, Parameter] = {}
    forwarding = False
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        if klass is object:
            return found, forwarding
        try:
            signature = inspect.signature(init)
            hints = typing.get_type_hints(init)
        except (TypeError, ValueError, NameError):
            return found, True
        params = list(signature.parameters.values())[1:]
        if forwarding and not params:
            return found, True
        for param in params:
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                found.setdefault(
                    param.name,
                    Parameter(
                        param.name, hints.get(param.name, _ANY), param.default is param.empty
                    ),
                )
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return found, False
        forwarding = True
    return found, True


def check(value: Any, hint: Any) -> tuple[bool, Any]:
    """Return (ok, converted value) for ``value`` against ``hint``.

    The conversion resolves ``"module:attr"`` strings for callables and
    turns lists into tuples where a tuple is expected.
    """
    if hint is _ANY or hint is Any or hint is inspect.Parameter.empty:
        return True, value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            ok, converted = check(value, option)
            if ok:
                return True, converted
        return False, value
    if hint is type(None) or hint is None:
        return value is None, value
    if origin is typing.Literal:
        return value in args, value
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
        return isinstance(value, str), value
    if origin is cabc.Callable or hint is cabc.Callable or hint is Callable:
        return _callable(value)
    if origin in (list, cabc.Sequence, cabc.Iterable, cabc.Collection, set, frozenset, tuple):
        return _sequence(value, origin, args)
    if origin in (dict, cabc.Mapping) or hint in (dict, cabc.Mapping):
        if not isinstance(value, dict):
            return False, value
        if len(args) == 2:
            for key, item in value.items():
                if not check(key, args[0])[0] or not check(item, args[1])[0]:
                    return False, value
        return True, value
    if hint in (list, tuple, set):
        return isinstance(value, list), hint(value) if isinstance(value, list) else value
    if inspect.isclass(hint):
        return isinstance(value, hint), value
    return True, value  # a hint we cannot judge: let the constructor decide


def _sequence(value: Any, origin: Any, args: tuple[Any, ...]) -> tuple[bool, Any]:
    if isinstance(value, str) or not isinstance(value, list):
        # A lone string is a Sequence[str] in Python, never what a config means.
        return False, value
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(args) != len(value):
            return False, value
        items = [check(v, a) for v, a in zip(value, args, strict=True)]
    else:
        item = args[0] if args else _ANY
        items = [check(v, item) for v in value]
    if not all(ok for ok, _ in items):
        return False, value
    converted = [v for _, v in items]
    if origin is tuple:
        return True, tuple(converted)
    if origin in (set, frozenset):
        return True, origin(converted)
    return True, converted


def _callable(value: Any) -> tuple[bool, Any]:
    if callable(value):
        return True, value
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
    if hint is _ANY:
        return "any value"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if hint is type(None):
        return "none (leave the key out)"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is cabc.Callable or hint in (cabc.Callable, Callable):
        return 'a "module:function" reference'
    if origin in (list, cabc.Sequence, cabc.Iterable, cabc.Collection, set, frozenset, tuple):
        return "a list of " + (_PLURAL.get(args[0], "values") if args else "values")
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


def shown(value: Any) -> str:
    """The value as it would be written in TOML, shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and not math.isfinite(value):
        text = str(value)
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {shown(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(shown(v) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_arguments(
    cls: type, args: dict[str, Any], origins: dict[str, str], owner: str, key_prefix: str
) -> dict[str, Any]:
    """Check keyword arguments from a config against ``cls``'s signature.

    Args:
        cls: The class to be built (a plugin, a layer, an optimizer).
        args: The arguments from the settings.
        origins: Where each argument came from (``"hookfit.toml:
            callbacks.x.key"``); used to start each message.
        owner: What is being built, for messages (``"Plugin x (dist 1.0)"``).
        key_prefix: The key path of ``args``, for arguments without an
            origin (``"callbacks.x"``).

    Returns:
        The arguments, converted (``"module:function"`` references resolved,
        lists made tuples where a tuple is expected).

    Raises:
        ConfigError: An argument the class does not take (with the nearest
            one), a value of the wrong type, or a required one missing.
    """
    params, open_ended = parameters(cls)
    name = cls.__name__
    out: dict[str, Any] = {}
    for key, value in args.items():
        where = origins.get(key, f"{key_prefix}.{key}")
        param = params.get(key)
        if param is None:
            if open_ended:
                out[key] = value
                continue
            raise ConfigError(
                f"{where}: unknown key{nearest(key, params)}. {name} takes: "
                f"{', '.join(params) or 'no arguments'}."
            )
        ok, converted = check(value, param.hint)
        if not ok:
            raise ConfigError(
                f"{where}: expected {describe(param.hint)}, got {shown(value)} "
                f"({name}'s argument {key})."
            )
        out[key] = converted
    missing = [p.name for p in params.values() if p.required and p.name not in args]
    if missing:
        raise ConfigError(
            f"{owner}: {name} needs {', '.join(missing)}. Set "
            + " and ".join(f"{key_prefix}.{m}" for m in missing)
            + " in the config file or with --set."
        )
    return out
