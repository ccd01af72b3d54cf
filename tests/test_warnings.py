"""A warning raised in a hook is reported at the user's line (the call of
fit, evaluate or predict), with the user's filters, "once per location" and
``-W error`` applied there; every other warning is left alone."""

import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import hookfit
from hookfit import Callback, HookfitWarning
from hookfit.hooks import dispatch
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit.testing import Recorder
from hookfit.testing.host import MinimalHost

HOSTS = ["hookfit", "minimal"]
X = np.random.default_rng(0).normal(size=(32, 8)).astype(np.float32)
Y = np.eye(3, dtype=np.float32)[(X[:, 0] > 0).astype(int)]


def build(host):
    if host == "minimal":
        return MinimalHost(8, 3)
    model = Sequential([Dense(3, activation="softmax", input_dim=8)])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    return model


def here():
    """The caller's line number."""
    return sys._getframe(1).f_lineno


class Warns(Callback):
    """Warns in one hook, as a plugin should: ``stacklevel=2``."""

    def __init__(self, hook="on_epoch_end", stacklevel=2, message="trouble in a hook"):
        super().__init__()
        self.message, self.stacklevel, self.after = message, stacklevel, 0

        def warn(*args):
            warnings.warn(self.message, HookfitWarning, stacklevel=self.stacklevel)
            self.after += 1  # not reached when a filter turns the warning into an error

        setattr(self, hook, warn)


def hookfit_warnings(caught):
    return [w for w in caught if issubclass(w.category, HookfitWarning)]


@pytest.mark.parametrize("host", HOSTS, ids=HOSTS)
@pytest.mark.parametrize(
    ("method", "hook"),
    [("fit", "on_epoch_end"), ("evaluate", "on_test_end"), ("predict", "on_predict_end")],
    ids=["fit", "evaluate", "predict"],
)
def test_a_hook_warning_is_reported_at_the_users_call(host, method, hook):
    model = build(host)
    args = (X, Y) if method != "predict" else (X,)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = here() + 1
        getattr(model, method)(*args, verbose=0, callbacks=[Warns(hook)])
    (w,) = hookfit_warnings(caught)
    assert (w.filename, w.lineno, str(w.message)) == (__file__, line, "trouble in a hook")


class Marked:
    """``@hookimpl`` functions asking for their arguments in three ways: the
    hook's own order, ``logs`` alone, and reordered with ``model``."""

    @hookfit.hookimpl
    def on_epoch_end(self, epoch, logs):
        warnings.warn("as declared", HookfitWarning, stacklevel=2)

    @hookfit.hookimpl
    def on_test_end(self, logs):
        warnings.warn("logs alone", HookfitWarning, stacklevel=2)

    @hookfit.hookimpl
    def on_train_end(self, model, logs):
        warnings.warn("reordered", HookfitWarning, stacklevel=2)


def test_hookimpl_functions_are_reported_at_the_users_call_whatever_they_ask_for():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = here() + 1
        build("hookfit").fit(X, Y, epochs=1, verbose=0, validation_split=0.25, callbacks=[Marked()])
    found = {str(w.message): (w.filename, w.lineno) for w in hookfit_warnings(caught)}
    assert found == {m: (__file__, line) for m in ("as declared", "logs alone", "reordered")}


def test_a_helper_warning_with_stacklevel_3_is_reported_at_the_users_call():
    class Helper(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self._warn()

        def _warn(self):
            warnings.warn("from a helper", HookfitWarning, stacklevel=3)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = here() + 1
        build("hookfit").fit(X, Y, epochs=1, verbose=0, callbacks=[Helper()])
    (w,) = hookfit_warnings(caught)
    assert (w.filename, w.lineno) == (__file__, line)


@pytest.mark.parametrize("host", HOSTS, ids=HOSTS)
def test_once_per_location_counts_the_users_lines(host):
    model = build(host)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own: once per location
        first = here() + 2
        for _ in range(2):  # one line, run twice, three warning epochs each
            model.fit(X, Y, epochs=3, verbose=0, callbacks=[Warns()])
        second = here() + 1
        model.fit(X, Y, epochs=3, verbose=0, callbacks=[Warns()])
    assert [(w.filename, w.lineno) for w in hookfit_warnings(caught)] == [
        (__file__, first),
        (__file__, second),
    ]


@pytest.mark.parametrize("host", HOSTS, ids=HOSTS)
def test_an_error_filter_raises_the_plugins_warning_at_once(host):
    plugin, recorder = Warns(), Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(HookfitWarning, match=r"\Atrouble in a hook\n") as raised:
            build(host).fit(X, Y, epochs=3, verbose=0, callbacks=[recorder, plugin])
    # raised in the first epoch's hook, at the plugin's warnings.warn, as
    # Python does, not when fit ends
    assert plugin.after == 0
    assert recorder.count("on_epoch_begin") == 1
    assert recorder.hooks()[-1] == "on_train_end"
    assert raised.value.__notes__[0].startswith("hookfit: raised in on_epoch_end of plugin Warns")


@pytest.mark.parametrize(
    ("action", "raised", "shown"),
    [("error", True, 0), ("ignore", False, 0), ("always", False, 3)],
    ids=["error", "ignore", "always"],
)
def test_the_users_filters_match_the_users_module(action, raised, shown):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        # a filter for this test module only: it applies because the
        # warning is located here, not in hookfit
        warnings.filterwarnings(action, category=HookfitWarning, module=re.escape(__name__) + "$")
        try:
            build("hookfit").fit(X, Y, epochs=3, verbose=0, callbacks=[Warns()])
        except HookfitWarning:
            assert raised
        else:
            assert not raised
    assert len(hookfit_warnings(caught)) == shown


def test_warnings_outside_hooks_are_untouched():
    class Own(Callback):
        def on_epoch_end(self, epoch, logs=None):
            # the plugin's own line, which is outside hookfit
            warnings.warn("at my line", HookfitWarning, stacklevel=1)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build("hookfit").fit(X, Y, epochs=1, verbose=0, callbacks=[Own()])
        line = here() + 1
        warnings.warn("from the script", UserWarning, stacklevel=1)
        # by hand, naming hookfit's dispatch: not on the stack, shown as given
        warnings.warn_explicit("by hand", UserWarning, dispatch.__file__, 7)
    found = [(str(w.message), w.filename, w.lineno) for w in caught]
    assert found == [
        ("at my line", __file__, Own.on_epoch_end.__code__.co_firstlineno + 2),
        ("from the script", __file__, line),
        ("by hand", dispatch.__file__, 7),
    ]


def test_each_run_puts_the_filter_first_once():
    model = build("hookfit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[Warns(message="first")])
        ours = warnings.filters[0]
        warnings.simplefilter("ignore", DeprecationWarning)  # the user's, in front
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[Warns(message="second")])
        assert warnings.filters[0] is ours
        assert sum(f is ours for f in warnings.filters) == 1
        for _ in range(2):
            warnings.warn("the user's own", UserWarning, stacklevel=1)
            # already first: the filters are left alone, so the registries
            # Python keeps for "once per location" stay valid
            model.evaluate(X, Y, verbose=0)
    assert [str(w.message) for w in caught] == ["first", "second", "the user's own"]


def test_with_no_frame_outside_hookfit_the_outermost_hookfit_frame_is_used():
    # `python -m hookfit train`: the frames above hookfit's are runpy's
    model, plugin = build("hookfit"), Warns()
    code = compile("model.fit(X, Y, epochs=1, verbose=0, callbacks=[plugin])", "<frozen x>", "exec")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(code, {"model": model, "plugin": plugin, "X": X, "Y": Y})
    (w,) = hookfit_warnings(caught)
    # the frame of the method called (fit may be a wrapper, e.g. for Keras 2.0's
    # deprecated argument names), not the frame of a hook's dispatch
    assert w.filename == Sequential.fit.__code__.co_filename
    assert w.filename.startswith(str(Path(hookfit.__file__).parent))
    assert w.filename != dispatch.__file__


SCRIPT = """\
import numpy as np
import warnings
from hookfit import Callback, HookfitWarning
from hookfit.testing.host import MinimalHost

class Warns(Callback):
    def on_epoch_end(self, epoch, logs=None):
        warnings.warn("trouble in a hook", HookfitWarning, stacklevel=2)

x = np.zeros((8, 2), np.float32)
y = np.eye(2, dtype=np.float32)[[0, 1] * 4]
MinimalHost(2, 2).fit(x, y, epochs=3, verbose=0, callbacks=[Warns()])
print("done")
"""


@pytest.mark.parametrize(
    ("options", "code", "err"),
    [
        ([], 0, r"\A{script}:12: HookfitWarning: trouble in a hook\n  MinimalHost\(2, 2\)\.fit"),
        (
            ["-W", "error::UserWarning"],
            1,
            r"\nhookfit\.errors\.HookfitWarning: trouble in a hook\n",
        ),
    ],
    ids=["default-filters", "W-error"],
)
def test_a_script_sees_its_own_line(tmp_path, options, code, err):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [sys.executable, *options, str(script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == code, done.stderr
    assert re.search(err.format(script=re.escape(str(script))), done.stderr), done.stderr
    # once per location: three epochs, one line
    assert done.stderr.count("HookfitWarning: trouble in a hook") == 1
    assert ("done" in done.stdout) == (code == 0)


def test_a_plugin_left_out_of_import_star_is_reported_at_the_import_line(hookfit_site):
    hookfit_site.add(
        "hookfit-broken",
        {"broken": "broken_plugin:Broken"},
        {"broken_plugin.py": "raise RuntimeError('boom at import')\n"},
    )
    code = compile("import os\nfrom hookfit.callbacks import *\n", "user_script.py", "exec")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(code, {})
    (warning,) = hookfit_warnings(caught)
    assert (warning.filename, warning.lineno) == ("user_script.py", 2)
    assert "Plugin 'broken' from hookfit-broken 1.0 failed to load" in str(warning.message)
