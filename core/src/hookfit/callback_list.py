"""The plugins taking part in one run, and the hook calls the trainer makes.

pluggy checks the plugins (hook names, argument names) when they are
registered. The calls themselves go through plain lists compiled once per
run: a hook that no plugin implements is an empty list, which the trainer
tests before it even builds the ``logs`` dict, so it costs nothing per batch.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy

from . import hookspecs
from .callback import Callback, overridden_hooks
from .errors import PluginValidationError, nearest
from .plugins import PluginInfo

# What the trainer passes positionally to each hook; model and params are
# fixed for a run and bound once.
_POSITIONAL = {
    **{name: ("logs",) for name in hookspecs.RUN_HOOKS},
    **{name: ("epoch", "logs") for name in hookspecs.EPOCH_HOOKS},
    **{name: ("batch", "logs") for name in hookspecs.BATCH_HOOKS},
}
_SPEC_ARGS = {name: (*pos, "model", "params") for name, pos in _POSITIONAL.items()}

# The Keras 2 and Keras 3 names of the training-batch hooks fire together.
EVENTS: dict[str, tuple[str, ...]] = {
    name: (name,)
    for name in hookspecs.ALL_HOOKS
    if name not in ("on_train_batch_begin", "on_train_batch_end")
}
EVENTS["on_batch_begin"] = ("on_batch_begin", "on_train_batch_begin")
EVENTS["on_batch_end"] = ("on_batch_end", "on_train_batch_end")

Entry = tuple[Callable[..., Any], "Member", str]


@dataclass
class Member:
    """One plugin taking part in a run.

    Attributes:
        name: The entry-point name (the config key), or for an object that no
            entry point names, its class name.
        obj: The plugin: a `Callback`, an object or a module with hook
            implementations.
        info: The installed plugin it came from, if any.
        why: Why it is on: ``"code"``, ``"default"``, or the config source.
    """

    name: str
    obj: Any
    info: PluginInfo | None = None
    why: str = "code"

    @property
    def label(self) -> str:
        """The plugin's name and distribution, for messages."""
        if self.info is None:
            return f"{self.name} (passed in code, from no installed distribution)"
        return self.info.label


class CallbackList:
    """The hook implementations of one `fit`, `evaluate` or `predict` call.

    Each event attribute (``on_epoch_end``, ``on_batch_end``, ...) is the
    ordered list of implementations to call: ``tryfirst`` implementations,
    then the others, then ``trylast`` ones; within each group, plugin order.

    Args:
        members: The plugins, in plugin order.
        model: The model of the run, passed to hooks that ask for ``model``.
        params: The run's parameters, passed as ``params``.

    Raises:
        PluginValidationError: A plugin implements a hook that does not
            exist, asks for an argument the hook does not offer, or is not a
            plugin at all.
    """

    def __init__(self, members: Sequence[Member], model: Any, params: dict[str, Any]) -> None:
        self.members = list(members)
        self.model = model
        self.params = params
        fixed = {"model": model, "params": params}
        found: dict[str, list[tuple[tuple[int, int, int], Entry]]] = {}
        for position, member, hook, fn, opts in _implementations(self.members):
            group = 0 if opts.get("tryfirst") else 2 if opts.get("trylast") else 1
            event = _event_of(hook)
            key = (group, position, EVENTS[event].index(hook))
            entry = (_bind(fn, _wanted(fn, hook), _POSITIONAL[hook], fixed), member, hook)
            found.setdefault(event, []).append((key, entry))
        for event in EVENTS:
            setattr(self, event, [entry for _, entry in sorted(found.get(event, []), key=_first)])
        for member in self.members:
            if isinstance(member.obj, Callback):
                member.obj.set_params(params)
                member.obj.set_model(model)

    # Declared for type checkers; filled in __init__ from EVENTS.
    on_train_begin: list[Entry]
    on_train_end: list[Entry]
    on_epoch_begin: list[Entry]
    on_epoch_end: list[Entry]
    on_batch_begin: list[Entry]
    on_batch_end: list[Entry]
    on_test_begin: list[Entry]
    on_test_end: list[Entry]
    on_test_batch_begin: list[Entry]
    on_test_batch_end: list[Entry]
    on_predict_begin: list[Entry]
    on_predict_end: list[Entry]
    on_predict_batch_begin: list[Entry]
    on_predict_batch_end: list[Entry]

    def get(self, name: str) -> Any:
        """Return the plugin object called ``name``, or None."""
        for member in self.members:
            if member.name == name:
                return member.obj
        return None

    @staticmethod
    def fire(entries: list[Entry], *args: Any) -> None:
        """Call each implementation in ``entries`` with ``args``.

        An exception leaves with a note naming the plugin, its distribution
        and the hook.
        """
        member = hook = None
        try:
            for fn, member, hook in entries:  # noqa: B007 - read in the handler
                fn(*args)
        except Exception as exc:
            if member is not None:
                exc.add_note(f"hookfit: raised in {hook} of plugin {member.label}")
            raise


def hooks_of(obj: Any) -> list[str]:
    """The hooks a plugin object implements (what `CallbackList` registers)."""
    if isinstance(obj, Callback):
        return sorted(overridden_hooks(obj))
    found = set()
    for attr in dir(obj):
        opts = getattr(getattr(obj, attr, None), "hookfit_impl", None)
        if isinstance(opts, dict):
            found.add(opts.get("specname") or attr)
    return sorted(found)


def _implementations(
    members: list[Member],
) -> list[tuple[int, Member, str, Any, dict[str, Any]]]:
    """Every hook implementation: (plugin position, member, hook, function, opts).

    A `Callback`'s overridden methods are read directly (their names and
    arguments are known to fit); other plugins go through pluggy, which
    checks their hook and argument names. Only they pay for its scan.
    """
    found = []
    pm = None
    # pluggy calls the last registered first; registering in reverse keeps
    # pm.hook calls in plugin order too.
    for position, member in reversed(list(enumerate(members))):
        if isinstance(member.obj, Callback):
            found += [(position, member, *impl) for impl in _callback_impls(member)]
            continue
        if pm is None:
            pm = pluggy.PluginManager("hookfit")
            pm.add_hookspecs(hookspecs)
        _register(pm, member)
        for caller in pm.get_hookcallers(pm.get_plugin(member.name)) or ():
            for hi in caller.get_hookimpls():
                if hi.plugin_name == member.name:
                    found.append((position, member, caller.name, hi.function, dict(hi.opts)))
    return found


def _first(item: tuple[tuple[int, int, int], Entry]) -> tuple[int, int, int]:
    return item[0]


def _event_of(hook: str) -> str:
    return {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}.get(
        hook, hook
    )


def _wanted(fn: Callable[..., Any], hook: str) -> tuple[str, ...]:
    """The spec arguments ``fn`` takes, including ones declared with a default.

    Plain pluggy never fills a parameter that has a default; hookfit does,
    so ``def on_epoch_end(epoch, logs=None)`` receives the real logs.
    """
    target = getattr(fn, "_hookfit_target", None)
    if target is not None:
        return _POSITIONAL[hook]
    spec = _SPEC_ARGS[hook]
    params = inspect.signature(fn).parameters.values()
    return tuple(
        p.name
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name in spec
    )


def _bind(
    fn: Callable[..., Any],
    wanted: tuple[str, ...],
    positional: tuple[str, ...],
    fixed: dict[str, Any],
) -> Callable[..., Any]:
    """Return a callable taking the hook's positional arguments only."""
    fn = getattr(fn, "_hookfit_target", fn)
    if wanted == positional:
        return fn
    if wanted == ("logs",) and len(positional) == 2:
        return lambda _, logs: fn(logs)
    index = {name: i for i, name in enumerate(positional)}
    plan = [(index[n], None) if n in index else (-1, fixed[n]) for n in wanted]

    def call(*args: Any) -> Any:
        return fn(*[args[i] if i >= 0 else value for i, value in plan])

    return call


def _register(pm: pluggy.PluginManager, member: Member) -> None:
    obj = member.obj
    if isinstance(obj, type):
        raise PluginValidationError(
            f"Plugin {member.label}: got the class {obj.__name__}, not an instance. "
            f"Pass {obj.__name__}(...) instead."
        )
    _check_marked(pm, member)
    try:
        pm.register(obj, name=member.name)
    except pluggy.PluginValidationError as exc:
        raise PluginValidationError(_explain(member, str(exc))) from exc


def _check_marked(pm: pluggy.PluginManager, member: Member) -> None:
    obj = member.obj
    marked = 0
    for attr in dir(obj):
        if attr.startswith("__"):
            continue
        opts = pm.parse_hookimpl_opts(obj, attr)
        if opts is None:
            continue
        marked += 1
        hook = opts.get("specname") or attr
        if hook not in _SPEC_ARGS:
            raise PluginValidationError(
                f"Plugin {member.label} implements {hook!r}, which is not a hookfit hook"
                f"{nearest(hook, _SPEC_ARGS)}. Valid hooks: {', '.join(hookspecs.ALL_HOOKS)}."
            )
        if opts.get("wrapper") or opts.get("hookwrapper"):
            raise PluginValidationError(
                f"Plugin {member.label}: {attr} is marked as a wrapper. hookfit hooks are "
                "notifications without results; use tryfirst=True or trylast=True to run "
                "before or after the other plugins."
            )
    if not marked:
        raise PluginValidationError(
            f"Plugin {member.label}: {obj!r} implements no hookfit hook. Subclass "
            "hookfit.Callback, or mark functions with @hookfit.hookimpl."
        )


def _callback_impls(member: Member) -> list[tuple[str, Any, dict[str, Any]]]:
    """A `Callback`'s hooks: (hook, method, hookimpl options) for each method
    it overrides; a method named like a misspelled hook is refused."""
    cb = member.obj
    for attr in dir(type(cb)):
        if attr.startswith("on_") and attr not in _SPEC_ARGS and callable(getattr(cb, attr)):
            hint = nearest(attr, _SPEC_ARGS)
            if hint:
                raise PluginValidationError(
                    f"Plugin {member.label} defines {attr}(), which is not a hookfit hook"
                    f"{hint}. It would never be called."
                )
    impls = []
    for hook in overridden_hooks(cb):
        method = getattr(cb, hook)
        if not callable(method):
            raise PluginValidationError(
                f"Plugin {member.label}: {hook} is {method!r}, not a method or function."
            )
        impls.append((hook, _Positional(method), getattr(method, "hookfit_impl", None) or {}))
    return impls


class _Positional:
    """A Callback method: called with the hook's positional arguments, even
    when declared with defaults (``logs={}``), which plain pluggy would not fill."""

    __slots__ = ("_hookfit_target",)

    def __init__(self, method: Any) -> None:
        self._hookfit_target = method


def _explain(member: Member, pluggy_message: str) -> str:
    """Turn pluggy's argument complaint into one that names the fix."""
    hook = re.search(r"for hook '(\w+)'", pluggy_message)
    bad = re.search(r"Argument\(s\) \{(.*?)\}", pluggy_message)
    if not (hook and bad and hook.group(1) in _SPEC_ARGS):
        return f"Plugin {member.label} does not fit the hook specification: {pluggy_message}"
    offered = _SPEC_ARGS[hook.group(1)]
    names = [n.strip(" '\"") for n in bad.group(1).split(",")]
    hints = "".join(f" {n!r}{nearest(n, offered) or ' is unknown'}." for n in names)
    return (
        f"Plugin {member.label}: its {hook.group(1)} asks for arguments the hook does not "
        f"offer:{hints} {hook.group(1)} offers: {', '.join(offered)}."
    )
