"""Warnings raised in hooks, reported at the user's line.

A plugin warns with ``warnings.warn(message, HookfitWarning, stacklevel=2)``,
which points one frame above its hook: into `hookfit.hooks.dispatch`, the
code that called the hook, not the user's ``model.fit(...)``. The user's
filters would then be matched against hookfit's module, and Python's
"once per location" would count every run of every script as one location.

What this module does instead, installed once per run (`install`, called by
`hookfit.hooks.dispatch.Run`) and costing nothing until a warning is raised:

1. A filter at the front of ``warnings.filters`` gives the action ``always``
   to a warning located in a hook site (a module that calls hooks,
   `hook_site`), and to nothing else, so no user filter is matched against
   hookfit's frames and no registry of hookfit's records it.
2. Python then shows it through ``warnings._showwarnmsg``, which this module
   wraps: a warning located in a hook site is issued again at once, with
   ``warnings.warn_explicit``, at the first frame outside hookfit (the
   user's call of ``fit``, ``evaluate`` or ``predict``, or their script's
   line), with that frame's module and registry, exactly as
   ``warnings.warn`` would have located it there. The user's filters, their
   "once per location" registries and ``-W error`` all apply there. Because
   it happens inside the plugin's ``warnings.warn`` call, an ``error``
   filter raises at the plugin's line, as Python does, not at the end of
   ``fit``. Every other warning goes on to the previous ``_showwarnmsg``
   untouched.

Why not ``warnings.catch_warnings`` around each hook call: it copies the
filter list and invalidates every warning registry on entry and on exit,
which costs microseconds per hook call on the batch path and resets
"once per location" for the whole process at every batch. Why not around
the whole ``fit``: recording hides ``-W error`` until ``fit`` returns, and
restoring the saved filters at the end undoes any filter a plugin or the
user set during the run. Why ``_showwarnmsg`` rather than the public
``showwarning``: ``catch_warnings(record=True)`` (pytest's capture) and
``logging.captureWarnings`` replace ``showwarning``, but call
``_showwarnmsg`` first.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from types import FrameType
from typing import Any

# The hookfit package: frames in these files are hookfit's, not the user's.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

_lock = threading.Lock()
_sites: dict[str, str] = {}  # module name -> file name, of the hook sites
_filter: tuple[Any, ...] | None = None  # ours, kept at the front of warnings.filters
_ours: list[tuple[Any, ...]] = []  # every filter we ever made, to take out stale ones
_previous: Any = None  # the _showwarnmsg ours forwards to
# The warnings module, for the private names typeshed leaves out
# (_showwarnmsg, _filters_mutated; both in CPython since 3.6). Without them
# `install` does nothing and warnings are reported where Python puts them.
_py: Any = warnings


def hook_site(module: str, filename: str) -> None:
    """Declare a module that calls hook implementations: a warning located in
    one of its frames comes from a hook and is reported at the user's line.

    Args:
        module: The module's ``__name__``.
        filename: Its ``__file__`` (what its code objects carry).
    """
    global _filter
    with _lock:
        _sites[module] = filename
        names = "|".join(re.escape(name) for name in sorted(_sites))
        _filter = ("always", None, Warning, re.compile(rf"(?:{names})\Z"), 0)
        _ours.append(_filter)


def install() -> None:
    """Make sure warnings from hooks are reported at the user's line: our
    filter first in ``warnings.filters`` and our ``_showwarnmsg`` in place.

    Cheap when both already are (two identity checks); otherwise it changes
    the filter list once, as ``warnings.filterwarnings`` does. Called for
    every run, because the user, pytest or ``catch_warnings`` may have put
    filters in front or restored an older list since the last one.
    """
    filters = _py.filters
    if filters and filters[0] is _filter and _py._showwarnmsg is _show:
        return
    global _previous
    with _lock:
        if _filter is None or not all(
            hasattr(_py, name) for name in ("_showwarnmsg", "_filters_mutated")
        ):
            return  # no hook site, or a warnings module that differs: leave it be
        if _py._showwarnmsg is not _show:
            _previous, _py._showwarnmsg = _py._showwarnmsg, _show
        filters = _py.filters
        if not (filters and filters[0] is _filter):
            # in place, as warnings.filterwarnings does, then the same bump
            # of the filters' version
            filters[:] = [_filter, *(f for f in filters if not any(f is o for o in _ours))]
            _py._filters_mutated()


def _show(msg: warnings.WarningMessage) -> None:
    """``warnings._showwarnmsg``: a warning from a hook site is issued again
    at the user's frame; any other goes on untouched."""
    if msg.filename not in _sites.values():
        _previous(msg)
        return
    frame = _user_frame(sys._getframe(1), msg.filename, msg.lineno)
    if frame is None or frame.f_code.co_filename in _sites.values():
        # not raised on this thread's stack (a warn_explicit by hand), or no
        # frame to move it to: shown where it is, never issued again in a loop
        _previous(msg)
        return
    module_globals = frame.f_globals
    module = module_globals.get("__name__")
    warnings.warn_explicit(
        msg.message,
        msg.category,
        frame.f_code.co_filename,
        frame.f_lineno,
        # what warnings.warn takes from a frame: its module and its registry
        # (no module_globals: that would read the source file at every call,
        # shown or not; the line is looked up by file name when shown, as
        # for warnings.warn)
        module=module if isinstance(module, str) else "<string>",
        registry=module_globals.setdefault("__warningregistry__", {}),
        source=msg.source,
    )


def _user_frame(frame: FrameType | None, filename: str, lineno: int) -> FrameType | None:
    """The first frame outside hookfit above the hook site's frame at
    ``filename:lineno``, found from ``frame`` (where the warning was raised)
    outwards; None when that frame is not on the stack."""
    while frame is not None and not (
        frame.f_code.co_filename == filename and frame.f_lineno == lineno
    ):
        frame = frame.f_back
    if frame is None:
        return None
    last = frame
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        last, frame = frame, frame.f_back
    if frame is None or frame.f_code.co_filename.startswith("<frozen "):
        # hookfit is the program (python -m hookfit train): its outermost frame
        return last
    return frame
