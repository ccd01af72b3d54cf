"""pytorch_lightning or lightning.pytorch, whichever is installed."""

import importlib
import sys

import pytest

from hookfit.errors import MissingDependencyError
from hookfit_lightning import _framework


@pytest.fixture
def without_pytorch_lightning(monkeypatch):
    """pytorch_lightning fails to import; the same Lightning answers as
    lightning.pytorch, as the ``lightning`` distribution installs it."""
    real = importlib.import_module("pytorch_lightning")
    lightning = type(sys)("lightning")
    lightning.pytorch = real
    monkeypatch.setitem(sys.modules, "pytorch_lightning", None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "lightning", lightning)
    monkeypatch.setitem(sys.modules, "lightning.pytorch", real)
    yield real
    monkeypatch.undo()
    importlib.reload(_framework)


def test_pytorch_lightning_is_taken_first():
    assert _framework.pl.__name__ == "pytorch_lightning"


def test_lightning_pytorch_is_taken_when_pytorch_lightning_is_missing(
    without_pytorch_lightning, monkeypatch
):
    imported = []
    real_import = importlib.import_module

    def spy(name, package=None):
        imported.append(name)
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", spy)
    assert _framework.load() is without_pytorch_lightning
    assert imported == ["pytorch_lightning", "lightning.pytorch"]


def test_no_lightning_at_all_is_refused_with_what_to_install(monkeypatch):
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'hookfit-lightning\["):
        _framework.load()
