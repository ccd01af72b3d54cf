"""Every plugin gets its end hook (on_train_end, on_test_end,
on_predict_end), also when another plugin's raises: files are closed and
writes waited for; the first error is raised afterwards, naming its plugin
and distribution, with the others as notes."""

import pytest

from hookfit import Callback
from hookfit.testing import Recorder

BOOM = """
from hookfit import Callback

class Boom(Callback):
    def on_train_end(self, logs=None):
        raise RuntimeError("first")

    def on_test_end(self, logs=None):
        raise RuntimeError("first")

    def on_predict_end(self, logs=None):
        raise RuntimeError("first")
"""

CALLS = {
    "on_train_end": lambda model, x, y, plugins: model.fit(
        x, y, epochs=1, verbose=0, callbacks=plugins
    ),
    "on_test_end": lambda model, x, y, plugins: model.evaluate(x, y, verbose=0, callbacks=plugins),
    "on_predict_end": lambda model, x, y, plugins: model.predict(x, verbose=0, callbacks=plugins),
}


class Late(Callback):
    """Raises in every end hook, after recording it."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def count(self, hook):
        return self.calls.count(hook)

    def on_train_end(self, logs=None):
        self.calls.append("on_train_end")
        raise ValueError("second")

    def on_test_end(self, logs=None):
        self.calls.append("on_test_end")
        raise ValueError("second")

    def on_predict_end(self, logs=None):
        self.calls.append("on_predict_end")
        raise ValueError("second")


@pytest.fixture
def boom(hookfit_site):
    """An installed plugin, ``boom`` from the distribution hookfit-boom 1.0."""
    hookfit_site.add("hookfit-boom", {"boom": "boom_plugin:Boom"}, {"boom_plugin.py": BOOM})
    return "boom"


@pytest.mark.parametrize("hook", list(CALLS))
def test_every_plugin_gets_its_end_hook_when_one_raises(
    hook, boom, hookfit_model, hookfit_data, tmp_path
):
    before, late, after = Recorder(), Late(), Recorder()
    x, y = hookfit_data
    with pytest.raises(RuntimeError, match=r"^first") as info:
        CALLS[hook](hookfit_model(), x, y, [before, boom, late, after])
    assert [r.count(hook) for r in (before, late, after)] == [1, 1, 1]
    assert info.value.__notes__ == [
        f"hookfit: raised in {hook} of plugin boom (hookfit-boom 1.0)",
        f"hookfit: {hook} of plugin Late (passed in code, from no installed distribution) "
        "then raised too: ValueError: second",
    ]


def test_the_csv_file_is_closed_when_an_earlier_plugin_s_train_end_raises(
    boom, hookfit_model, hookfit_data, tmp_path
):
    csv_logger = pytest.importorskip("hookfit_csv_logger")
    logger = csv_logger.CSVLogger(tmp_path / "log.csv")
    x, y = hookfit_data
    with pytest.raises(RuntimeError, match=r"^first"):
        hookfit_model().fit(x, y, epochs=2, verbose=0, callbacks=[boom, logger])
    assert logger.csv_file is None  # closed by its on_train_end
    assert (tmp_path / "log.csv").read_text().count("\n") == 3
