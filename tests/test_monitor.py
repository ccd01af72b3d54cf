"""The monitor/mode/min_delta logic shared by the monitoring plugins."""

import math

import pytest

from hookfit import ConfigError, HookfitWarning
from hookfit.monitor import Monitor, auto_mode


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("acc", "max"),
        ("val_acc", "max"),
        ("val_accuracy", "max"),
        ("val_auc", "max"),
        ("mean_squared_error", "min"),
    ],
    ids=str,
)
def test_auto_mode(key, mode):
    assert auto_mode(key) == mode
    assert Monitor("X", key).mode == mode


@pytest.mark.parametrize(
    ("mode", "current", "reference", "expected"),
    [
        ("min", 0.94, 1.0, True),
        ("min", 0.96, 1.0, False),
        ("min", 0.95, 1.0, False),
        ("max", 1.06, 1.0, True),
        ("max", 1.05, 1.0, False),
        ("min", 5.0, None, True),
        ("min", math.nan, None, False),
        ("max", math.nan, 1.0, False),
    ],
    ids=[
        "min-beats",
        "min-within-delta",
        "min-exactly-delta",
        "max-beats",
        "max-exactly-delta",
        "no-reference",
        "nan-first",
        "nan-later",
    ],
)
def test_improvement_needs_more_than_min_delta(mode, current, reference, expected):
    assert Monitor("X", "q", mode, min_delta=0.05).improves(current, reference) is expected


def test_best_baseline_and_state():
    monitor = Monitor("X", "val_acc", baseline=0.75)
    assert monitor.mode == "max" and not monitor.beats_baseline(0.74)
    assert monitor.beats_baseline(0.81)
    monitor.best = 0.8
    assert not monitor.improves(0.79) and monitor.improves(0.81)
    state = monitor.state_dict()
    monitor.reset()
    assert monitor.best is None
    monitor.load_state_dict(state)
    assert monitor.best == 0.8


def test_a_missing_key_warns_once_per_run_and_names_the_keys():
    monitor = Monitor("EarlyStopping", "val_loss")
    with pytest.warns(
        HookfitWarning,
        match=r"^Early stopping conditioned on metric `val_loss` "
        r"which is not available\. Available metrics are: "
        r"loss,acc\.$",
    ) as caught:
        assert monitor.get({"loss": 1.0, "acc": 0.5}, "Early stopping") is None
        assert monitor.get({"loss": 1.0, "acc": 0.5}, "Early stopping") is None
    assert len(caught) == 1
    monitor.reset()
    with pytest.warns(HookfitWarning):
        monitor.get({}, "Early stopping")
    assert monitor.get({"val_loss": 2}, "Early stopping") == 2.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"monitor": ""}, r"^X: monitor: expected a log key such as 'val_loss', got \"\"\.$"),
        (
            {"monitor": "val_acc", "mode": "maximum"},
            r"^X: mode: expected one of 'auto', 'min', 'max', got \"maximum\"\.$",
        ),
        (
            {"monitor": "loss", "min_delta": -0.1},
            r"^X: min_delta: expected a number >= 0, got -0\.1",
        ),
        ({"monitor": "loss", "min_delta": math.inf}, r"^X: min_delta: expected a number >= 0"),
        (
            {"monitor": "loss", "baseline": "high"},
            r"^X: baseline: expected a finite number or None .*, got \"high\"",
        ),
        ({"monitor": "loss", "baseline": math.nan}, r"^X: baseline: expected a finite number"),
    ],
    ids=[
        "empty-monitor",
        "unknown-mode",
        "negative-min-delta",
        "infinite-min-delta",
        "baseline",
        "nan-baseline",
    ],
)
def test_bad_arguments_are_refused_by_the_hints_named_after_the_owner(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Monitor("X", **kwargs)


def test_a_non_numeric_monitored_value_is_refused():
    with pytest.raises(ConfigError, match=r"X: the monitored key 'lr' holds 'fast', not a number"):
        Monitor("X", "lr").get({"lr": "fast"}, "Watching")


def test_best_reads_and_writes_the_public_monitoring():
    from hookfit.monitor import Best

    class Watcher:
        best = Best()

        def __init__(self):
            self.monitoring = Monitor("Watcher", "val_loss")

    watcher = Watcher()
    watcher.best = 0.5
    assert watcher.monitoring.best == 0.5 == watcher.best
    assert isinstance(Watcher.best, Best)


def test_a_monitor_of_checked_values_takes_them_as_they_are():
    monitor = Monitor.of_checked("X", "val_acc", "auto", 0.1, 0.5)
    assert (monitor.owner, monitor.mode, monitor.min_delta, monitor.baseline) == (
        "X",
        "max",
        0.1,
        0.5,
    )


def test_the_monitor_hints_are_the_ones_a_plugin_declares():
    from hookfit.hooks.arguments import parameters
    from hookfit.monitor import Baseline, LogKey, MinDelta, Mode

    declared, _ = parameters(Monitor)
    assert [declared[name].hint for name in ("monitor", "mode", "min_delta", "baseline")] == [
        LogKey,
        Mode,
        MinDelta,
        Baseline,
    ]
