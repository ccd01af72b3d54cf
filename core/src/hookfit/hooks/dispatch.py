"""The hook calls of one run: which implementation runs, in which order,
with which arguments.

Everything is checked when the run is set up, before the first batch: hook
names, the arguments each implementation asks for, and that a `Callback`'s
methods can take what the trainer passes. The calls then go through plain
lists compiled once per run: a hook that no plugin implements is an empty
list, which the trainer tests before it even builds the ``logs`` dict, so it
costs nothing per batch.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..errors import PluginValidationError, nearest
from . import attribution, specs
from .callback import Callback, overridden_hooks

# A plugin's warnings.warn(..., stacklevel=2) points here, at the call of its
# hook: `attribution` reports it at the user's line instead.
attribution.hook_site(__name__, __file__)

# The hooks' arguments, as the hookspecs declare them (re-exported: the
# command line and plugin tests read them here).
POSITIONAL = specs.POSITIONAL
OFFERED = specs.OFFERED

# The Keras 2 and Keras 3 names of the training-batch hooks fire together.
EVENTS: dict[str, tuple[str, ...]] = {
    name: (name,)
    for name in specs.ALL_HOOKS
    if name not in ("on_train_batch_begin", "on_train_batch_end")
}
EVENTS["on_batch_begin"] = ("on_batch_begin", "on_train_batch_begin")
EVENTS["on_batch_end"] = ("on_batch_end", "on_train_batch_end")
_EVENT_OF = {hook: event for event, hooks in EVENTS.items() for hook in hooks}

_MARK = "hookfit_impl"  # the attribute pluggy's HookimplMarker("hookfit") sets


class PluginEntry(Protocol):
    """One plugin of a run, as the dispatch needs it (`hookfit.run.plan`
    resolves them).

    Attributes:
        name: The entry-point name, or a class name for an object that no
            entry point names; unique within the run.
        obj: The plugin: a `Callback`, or any object or module with
            ``@hookfit.hookimpl`` functions.
        label: The plugin's name and distribution, for messages.
    """

    @property
    def name(self) -> str: ...

    @property
    def obj(self) -> Any: ...

    @property
    def label(self) -> str: ...


Entry = tuple[Callable[..., Any], PluginEntry, str]
Impl = tuple[str, Any, dict[str, Any]]
"""One hook implementation: (hook name, function, hookimpl options)."""


class Run:
    """The hook implementations of one `fit`, `evaluate` or `predict` call.

    Each event attribute (``on_epoch_end``, ``on_batch_end``, ...) is the
    ordered list of implementations to call: ``tryfirst`` implementations,
    then the others, then ``trylast`` ones; within each group, plugin order.

    Args:
        plugins: The plugins, in plugin order.
        host: The model of the run, passed to hooks that ask for ``model``
            and given to every `Callback` by ``set_model``.
        params: The run's parameters, passed as ``params``.
        rank: This process's rank in a data-parallel run
            (`hookfit.distributed`). Plugins that declare ``writes = True``
            (files, the terminal, the network) run on rank 0 only; the
            others, which see the same logs on every rank, run everywhere.

    Raises:
        PluginValidationError: A plugin implements a hook that does not
            exist, asks for an argument the hook does not offer, has a hook
            method that cannot take the hook's arguments, or is not a plugin
            at all. Nothing has run yet.
    """

    def __init__(
        self, plugins: Sequence[PluginEntry], host: Any, params: dict[str, Any], rank: int = 0
    ) -> None:
        self.entries = [p for p in plugins if rank == 0 or not writes(p.obj)]
        self.host = host
        self.params = params
        self.plugins: Mapping[str, Any] = {p.name: p.obj for p in self.entries}
        fixed = dict(zip(specs.FIXED, (host, params), strict=True))
        found: dict[str, list[tuple[tuple[int, int, int], Entry]]] = {}
        for position, plugin in enumerate(self.entries):
            for hook, fn, opts in implementations(plugin):
                group = 0 if opts.get("tryfirst") else 2 if opts.get("trylast") else 1
                event = _EVENT_OF[hook]
                key = (group, position, EVENTS[event].index(hook))
                found.setdefault(event, []).append((key, (_bind(fn, hook, fixed), plugin, hook)))
        for event in EVENTS:
            ordered = sorted(found.get(event, []), key=lambda item: item[0])
            setattr(self, event, [entry for _, entry in ordered])
        for plugin in self.entries:
            if isinstance(plugin.obj, Callback):
                plugin.obj.set_params(params)
                plugin.obj.set_model(host)
        # once per run, nothing per hook call: see hookfit.hooks.attribution
        attribution.install()

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

    @staticmethod
    def fire(entries: list[Entry], *args: Any) -> None:
        """Call each implementation in ``entries`` with ``args``.

        An exception leaves with a note naming the plugin, its distribution
        and the hook. A warning a hook raises with ``stacklevel=2`` is
        reported at the user's line (`hookfit.hooks.attribution`), at no cost
        to this loop.
        """
        plugin = hook = None
        try:
            for fn, plugin, hook in entries:  # noqa: B007 - read in the handler
                fn(*args)
        except Exception as exc:
            if plugin is not None:
                exc.add_note(f"hookfit: raised in {hook} of plugin {plugin.label}")
            raise

    @staticmethod
    def fire_all(entries: list[Entry], *args: Any) -> None:
        """Call every implementation in ``entries``, also after one raises:
        for the end hooks (``on_train_end``, ``on_test_end``,
        ``on_predict_end``), where each plugin closes its files and waits for
        its writes.

        The first error is raised once all have run, with a note naming its
        plugin, distribution and hook; each later error is added to it as a
        note. A ``KeyboardInterrupt`` or ``SystemExit`` leaves at once.
        """
        first: Exception | None = None
        for fn, plugin, hook in entries:
            try:
                fn(*args)
            except Exception as exc:
                if first is None:
                    exc.add_note(f"hookfit: raised in {hook} of plugin {plugin.label}")
                    first = exc
                else:
                    first.add_note(
                        f"hookfit: {hook} of plugin {plugin.label} then raised too: "
                        f"{type(exc).__name__}: {exc}"
                    )
        if first is not None:
            raise first


def writes(obj: Any) -> bool:
    """Whether a plugin declares ``writes = True``: it writes files, the
    terminal or the network, so a data-parallel run gives it to rank 0 only."""
    return getattr(obj, "writes", False) is True


def hooks_of(obj: Any) -> list[str]:
    """The hooks a plugin object implements (what `Run` calls)."""
    if isinstance(obj, Callback):
        return sorted(overridden_hooks(obj))
    found = set()
    for attr in dir(obj):
        opts = getattr(getattr(obj, attr, None), _MARK, None)
        if isinstance(opts, dict):
            found.add(opts.get("specname") or attr)
    return sorted(found)


def implementations(plugin: PluginEntry) -> Iterable[Impl]:
    """Every hook implementation of one plugin: ``(hook, function, options)``.

    Raises:
        PluginValidationError: See `Run`.
    """
    obj = plugin.obj
    if isinstance(obj, type):
        raise PluginValidationError(
            f"Plugin {plugin.label}: got the class {obj.__name__}, not an instance. "
            f"Pass {obj.__name__}(...) instead."
        )
    if isinstance(obj, Callback):
        return list(_callback_impls(plugin))
    return list(_marked_impls(plugin))


# What `_callback_impls` found valid: reading signatures is slow next to a
# short run, so each class and method is checked once per process.
# Weak: classes and methods made at run time go with their last instance.
_checked_classes: weakref.WeakSet[type] = weakref.WeakSet()
_checked_methods: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


def _callback_impls(plugin: PluginEntry) -> Iterable[Impl]:
    """A `Callback`'s overridden hook methods; a method named like a
    misspelled hook is refused, and so is one that cannot take the hook's
    arguments (``def on_epoch_end(self)``)."""
    cb = plugin.obj
    if type(cb) not in _checked_classes:
        for attr in dir(type(cb)):
            if attr.startswith("on_") and attr not in OFFERED and callable(getattr(cb, attr)):
                hint = nearest(attr, OFFERED)
                if hint:
                    raise PluginValidationError(
                        f"Plugin {plugin.label} defines {attr}(), which is not a hookfit hook"
                        f"{hint}. It would never be called."
                    )
        _checked_classes.add(type(cb))
    for hook in overridden_hooks(cb):
        method = getattr(cb, hook)
        if not callable(method):
            raise PluginValidationError(
                f"Plugin {plugin.label}: {hook} is {method!r}, not a method or function."
            )
        _check_arguments(plugin, hook, method)
        # Called positionally, also when declared with defaults (logs={}),
        # which plain pluggy would not fill.
        yield hook, _Positional(method), getattr(method, _MARK, None) or {}


def _check_arguments(plugin: PluginEntry, hook: str, method: Callable[..., Any]) -> None:
    """Refuse a hook method that cannot take the hook's arguments."""
    function = getattr(method, "__func__", None)  # a method of a class: checked once
    if function in _checked_methods:
        return
    positional = POSITIONAL[hook]
    try:
        inspect.signature(method).bind(*positional)
    except TypeError as exc:
        raise PluginValidationError(
            f"Plugin {plugin.label}: {type(plugin.obj).__name__}.{hook} cannot be called with "
            f"the hook's arguments ({exc}). Declare it as def {hook}(self, "
            f"{', '.join(_keras_args(positional))})."
        ) from None
    except ValueError:  # no signature to read (a builtin): trust it
        pass
    if function is not None:
        _checked_methods.add(function)


def _keras_args(positional: tuple[str, ...]) -> list[str]:
    return [f"{name}=None" if name == "logs" else name for name in positional]


def _marked_impls(plugin: PluginEntry) -> Iterable[Impl]:
    obj = plugin.obj
    marked = 0
    for attr in dir(obj):
        if attr.startswith("__"):
            continue
        fn = getattr(obj, attr, None)
        opts = getattr(fn, _MARK, None)
        if not isinstance(opts, dict) or fn is None:
            continue
        marked += 1
        hook = opts.get("specname") or attr
        if hook not in OFFERED:
            raise PluginValidationError(
                f"Plugin {plugin.label} implements {hook!r}, which is not a hookfit hook"
                f"{nearest(hook, OFFERED)}. Valid hooks: {', '.join(specs.ALL_HOOKS)}."
            )
        if opts.get("wrapper") or opts.get("hookwrapper"):
            raise PluginValidationError(
                f"Plugin {plugin.label}: {attr} is marked as a wrapper. hookfit hooks are "
                "notifications without results; use tryfirst=True or trylast=True to run "
                "before or after the other plugins."
            )
        offered = OFFERED[hook]
        unknown = [name for name in _parameter_names(fn) if name not in offered]
        if unknown:
            hints = "".join(f" {n!r}{nearest(n, offered) or ' is unknown'}." for n in unknown)
            raise PluginValidationError(
                f"Plugin {plugin.label}: its {hook} asks for arguments the hook does not "
                f"offer:{hints} {hook} offers: {', '.join(offered)}."
            )
        yield hook, fn, opts
    if not marked:
        raise PluginValidationError(
            f"Plugin {plugin.label}: {obj!r} implements no hookfit hook. Subclass "
            "hookfit.Callback, or mark functions with @hookfit.hookimpl."
        )


def _parameter_names(fn: Callable[..., Any]) -> list[str]:
    params = inspect.signature(fn).parameters.values()
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


class _Positional:
    """Marks a Callback method: it takes the hook's positional arguments."""

    __slots__ = ("method",)

    def __init__(self, method: Any) -> None:
        self.method = method


def _bind(fn: Any, hook: str, fixed: dict[str, Any]) -> Callable[..., Any]:
    """Return a callable taking the hook's positional arguments only.

    A hookimpl function receives the arguments it names, in its own order,
    including ones declared with a default (plain pluggy would leave those
    unfilled), so ``def on_epoch_end(epoch, logs=None)`` gets the real logs.
    """
    positional = POSITIONAL[hook]
    if isinstance(fn, _Positional):
        return fn.method
    wanted = tuple(_parameter_names(fn))
    if wanted == positional:
        return fn
    if wanted == ("logs",) and len(positional) == 2:
        return lambda _, logs: fn(logs)
    index = {name: i for i, name in enumerate(positional)}
    plan = [(index[n], None) if n in index else (-1, fixed[n]) for n in wanted]

    def call(*args: Any) -> Any:
        return fn(*[args[i] if i >= 0 else value for i, value in plan])

    return call


# -- how a trainer gets the plugins of a run ----------------------------------------

Planner = Callable[..., Sequence[PluginEntry]]
_planner: list[Planner] = []


def use_planner(planner: Planner) -> None:
    """Set the function that resolves ``callbacks=`` and ``config=`` into a
    run's plugins (`hookfit.plan`, which the package registers on import).

    The trainer calls it through `plugins_for`, so it never imports run
    resolution: data flows from the plan to the trainer, never back.
    """
    _planner[:] = [planner]


def plugins_for(callbacks: Any, *, config: Any, verbose: int) -> Sequence[PluginEntry]:
    """The plugins of one run, as the registered planner resolves them."""
    (planner,) = _planner
    return planner(callbacks, config=config, verbose=verbose)
