"""Arguments checked once, from the signature's type hints, for code and
config alike.

A plugin declares what it takes in its ``__init__`` hints: plain types,
``Literal[...]`` choices, and ``Annotated[int, Range(ge=0)]`` or
``Annotated[str, Check(test, "what it must be")]`` for anything finer. A
`hookfit.Callback` subclass's constructor is checked on every call; a run
built from a config checks and builds a class with `build`, whose call is
not checked a second time. The same check serves both, so a config and a
script get the same message, the config's with the file and key in front.

How one value is judged against one hint is `hookfit.hooks.hints`.
"""

from __future__ import annotations

import inspect
import typing
import weakref
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, nearest
from .hints import ANY, FINITE, Check, Range, check, describe, shown

__all__ = [
    "FINITE",
    "ArgumentError",
    "Check",
    "Parameter",
    "Range",
    "build",
    "check",
    "check_call",
    "closed",
    "describe",
    "parameters",
    "shown",
    "validate",
]


@dataclass(frozen=True)
class Parameter:
    """One constructor parameter a config may set.

    Attributes:
        name: The parameter's name.
        hint: Its type hint, or `ANY` when it has none.
        required: True when it has no default.
    """

    name: str
    hint: Any
    required: bool


def parameters(cls: type) -> tuple[dict[str, Parameter], bool]:
    """Return the keyword parameters ``cls(...)`` accepts, and whether it also
    accepts any other keyword (read once per class; the result is shared, so
    callers must not change it).

    ``**kwargs`` passed on to a base class (``Dense(**kwargs)`` -> ``Layer``)
    are looked up in the base's signature; ``**kwargs`` that reach a base
    taking no arguments (``Callback``, ``object``) accept anything.
    """
    # Reading hints evaluates their annotations: about 1 ms a class, which a
    # model file of thousands of layers would pay once per layer.
    known = _parameters.get(cls)
    if known is None or known[0] is not cls.__init__:  # type: ignore[misc]
        known = _parameters[cls] = (cls.__init__, *_read_parameters(cls))  # type: ignore[misc]
    return known[1], known[2]


_parameters: weakref.WeakKeyDictionary[type, tuple[Any, dict[str, Parameter], bool]] = (
    weakref.WeakKeyDictionary()
)


def _read_parameters(cls: type) -> tuple[dict[str, Parameter], bool]:
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
            hints = typing.get_type_hints(init, include_extras=True)
        except (TypeError, ValueError, NameError):
            return found, True
        params = list(signature.parameters.values())[1:]
        if forwarding and not params:
            return found, True
        for param in params:
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                found.setdefault(
                    param.name,
                    Parameter(param.name, hints.get(param.name, ANY), param.default is param.empty),
                )
        if not any(p.kind is p.VAR_KEYWORD for p in params) or getattr(init, CLOSED, False):
            return found, False
        forwarding = True
    return found, True


CLOSED = "__hookfit_closed__"
"""Set on an ``__init__`` whose ``**kwargs`` only catch unknown names to
refuse them itself (`closed`): its signature then accepts nothing more."""


def closed(init: Any) -> Any:
    """Mark ``init``'s ``**kwargs`` as a catch for names it refuses with
    its own message (`hookfit.trainer.layers.Layer` names the nearest), so
    that a config's unknown key is refused as one, before training."""
    setattr(init, CLOSED, True)
    return init


class ArgumentError(ConfigError):
    """A constructor refused an argument: unknown, missing, or of the wrong
    type or range.

    Attributes:
        owner: The class or function, e.g. ``"EarlyStopping"``.
        key: The argument's name.
        problem: What is wrong, e.g. ``"expected an integer >= 0, got -1"``.
    """

    def __init__(self, owner: str, key: str, problem: str) -> None:
        super().__init__(f"{owner}: {key}: {problem}.")
        self.owner, self.key, self.problem = owner, key, problem

    def at(self, origin: str) -> ConfigError:
        """The same error for a value from a config, named by ``origin``
        (``"hookfit.toml: callbacks.early_stopping.patience"``)."""
        if self.problem.startswith("unknown argument"):
            return ConfigError(f"{origin}: unknown key{self.problem[len('unknown argument') :]}.")
        return ConfigError(f"{origin}: {self.problem} ({self.owner}'s argument {self.key}).")


def validate(target: Callable[..., Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """Check keyword arguments for ``target`` (a class or function) against
    its signature and hints, and return them converted.

    Raises:
        ArgumentError: An argument ``target`` does not take (with the nearest
            one), a value of the wrong type or range, or a required one
            missing.
    """
    cls = target if isinstance(target, type) else None
    if cls is not None:
        params, open_ended = parameters(cls)
    else:
        params, open_ended = _function_parameters(target)
    return _validate(_owner(target), params, open_ended, args, complete=True)


def _validate(
    owner: str,
    params: dict[str, Parameter],
    open_ended: bool,
    args: Mapping[str, Any],
    complete: bool,
    config: bool = True,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in args.items():
        param = params.get(key)
        if param is None:
            if open_ended:
                out[key] = value
                continue
            raise ArgumentError(
                owner,
                key,
                f"unknown argument{nearest(key, params)}. {owner} takes: "
                f"{', '.join(params) or 'no arguments'}",
            )
        ok, converted = check(value, param.hint, config)
        if not ok:
            raise ArgumentError(
                owner, key, f"expected {describe(param.hint)}, got {shown(value, key)}"
            )
        out[key] = converted
    if complete:
        for param in params.values():
            if param.required and param.name not in args:
                raise ArgumentError(owner, param.name, "required, and not given")
    return out


def _owner(target: Callable[..., Any]) -> str:
    return str(getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target)))


def _function_parameters(fn: Callable[..., Any]) -> tuple[dict[str, Parameter], bool]:
    signature = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except (TypeError, NameError):
        hints = {}
    found = {}
    for param in signature.parameters.values():
        if param.name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        found[param.name] = Parameter(
            param.name, hints.get(param.name, ANY), param.default is param.empty
        )
    return found, any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())


# The class whose construction `build` has just checked: its own check_call
# is skipped once. Only the outermost call: an object that __init__ builds
# in turn is checked as usual.
_validated: ContextVar[type | None] = ContextVar("hookfit_validated", default=None)


def build(cls: type, args: Mapping[str, Any]) -> Any:
    """Check keyword arguments from a config for ``cls`` once (`validate`)
    and build ``cls`` with the converted values.

    The construction does not check them again (`check_call` skips it), so
    each value is judged once, by the same hints as in code.

    Raises:
        ArgumentError: See `validate`.
    """
    values = validate(cls, args)
    if not values:  # a call without arguments is not checked anyway
        return cls()
    token = _validated.set(cls)
    try:
        return cls(**values)
    finally:
        _validated.reset(token)


_signatures: dict[type, tuple[list[str], dict[str, Parameter], bool]] = {}


def check_call(
    cls: type, args: tuple[Any, ...], kwargs: Mapping[str, Any], owner: str | None = None
) -> None:
    """Check the arguments of a call ``cls(*args, **kwargs)`` against the
    hints of ``cls.__init__`` (and of the bases it forwards ``**kwargs`` to).

    `hookfit.Callback` calls it for every subclass on construction, except
    for the call `build` makes with values it has checked. Missing
    arguments are left to Python's own error; a config's are reported by
    `validate`.

    Args:
        cls: The class being built.
        args: The call's positional arguments (without ``self``).
        kwargs: The call's keyword arguments.
        owner: The name messages give (default: the class's name).

    Raises:
        ArgumentError: See `validate`.
    """
    if _validated.get() is cls:
        _validated.set(None)
        return
    found = _signatures.get(cls)
    if found is None:
        params, open_ended = parameters(cls)
        try:
            signature = inspect.signature(cls.__init__)  # type: ignore[misc]
            names = [
                p.name
                for p in list(signature.parameters.values())[1:]
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            names = []
        found = _signatures[cls] = (names, params, open_ended)
    names, params, open_ended = found
    named = dict(zip(names, args, strict=False))
    named.update(kwargs)
    _validate(owner or cls.__name__, params, open_ended, named, complete=False, config=False)
