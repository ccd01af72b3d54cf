"""How the trainer calls the hooks: counts, order, logs, errors, cost."""

import re

import numpy as np
import pytest

from hookfit import Callback, ConfigError, PluginValidationError, hookimpl, losses
from hookfit.hooks.dispatch import Run
from hookfit.run.plan import plan
from hookfit.testing import Recorder

NO_DEFAULTS = {
    "hookfit": {"autoload": False, "disable": ["history", "base_logger", "progbar_logger"]}
}


def test_hook_counts_for_a_small_fit(hookfit_model, hookfit_rng):
    x = hookfit_rng.normal(size=(10, 8)).astype("float32")
    y = np.eye(3, dtype="float32")[hookfit_rng.integers(0, 3, 10)]
    x_val, y_val = x[:4], y[:4]
    recorder = Recorder()
    hookfit_model().fit(
        x,
        y,
        batch_size=2,
        epochs=5,
        verbose=0,
        callbacks=[recorder],
        validation_data=(x_val, y_val),
        config=NO_DEFAULTS,
    )
    counts = {hook: recorder.count(hook) for hook in set(recorder.hooks())}
    assert counts == {
        "on_train_begin": 1,
        "on_train_end": 1,
        "on_epoch_begin": 5,
        "on_epoch_end": 5,
        "on_batch_begin": 25,
        "on_batch_end": 25,
        "on_train_batch_begin": 25,
        "on_train_batch_end": 25,
        "on_test_begin": 5,
        "on_test_end": 5,
        "on_test_batch_begin": 10,
        "on_test_batch_end": 10,
    }


def test_callback_subclass_counts(hookfit_model, hookfit_data):
    class Counter(Callback):
        def __init__(self):
            super().__init__()
            self.batches = self.epochs = 0

        def on_batch_end(self, batch, logs={}):  # noqa: B006 - Keras 2's style
            self.batches += 1

        def on_epoch_end(self, epoch, logs={}):  # noqa: B006
            self.epochs += 1

    counter = Counter()
    x, y = hookfit_data
    hookfit_model().fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[counter])
    assert (counter.batches, counter.epochs) == (12, 3)


def test_keras_call_order_whatever_the_registration_order(hookfit_model):
    from hookfit_base_logger import BaseLogger
    from hookfit_progbar_logger import ProgbarLogger

    class A(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class B(A):
        pass

    model = hookfit_model()
    params = {"metrics": ["loss"], "verbose": 1, "epochs": 1, "samples": 1, "steps": 1}
    # Built-ins passed first and in reverse still end up in the Keras slots.
    members = plan([ProgbarLogger(), B(), BaseLogger(), A()], verbose=1).plugins
    cbl = Run(members, model, params)
    order = [member.name for _, member, _ in cbl.on_epoch_end]
    assert order == ["base_logger", "B", "A", "history", "progbar_logger"]


def test_defaults_follow_the_named_plugins(hookfit_model, hookfit_data):
    class AddsLr(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["lr"] = self.model.optimizer.lr
            self.seen_loss = logs["loss"]  # BaseLogger ran before

    x, y = hookfit_data
    plugin = AddsLr()
    history = hookfit_model().fit(x, y, epochs=2, verbose=0, callbacks=[plugin])
    assert history.history["lr"] == [0.01, 0.01]  # History ran after
    assert plugin.seen_loss == history.history["loss"][-1]


def test_tryfirst_and_trylast_move_single_hooks(hookfit_model):
    calls = []

    class Early:
        @hookimpl(tryfirst=True)
        def on_epoch_end(self, epoch):
            calls.append("early")

    class Plain:
        @hookimpl
        def on_epoch_end(self, epoch):
            calls.append("plain")

    class Late:
        @hookimpl(trylast=True)
        def on_epoch_end(self, epoch):
            calls.append("late")

    cbl = Run(plan([Late(), Plain(), Early()], verbose=0).plugins, None, {})
    cbl.fire(cbl.on_epoch_end, 0, {})
    assert calls == ["early", "plain", "late"]


def test_one_fresh_logs_dict_per_call_shared_within_the_call(hookfit_model, hookfit_data):
    seen = []

    class Writer(Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", id(logs), dict(logs)))

        def on_batch_end(self, batch, logs=None):
            assert "note" not in logs  # a new dict, not last batch's
            logs["note"] = batch
            seen.append(("end", id(logs), dict(logs)))

    class Reader(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(("reader", id(logs), logs["note"]))

    x, y = hookfit_data
    hookfit_model().fit(
        x[:4],
        y[:4],
        batch_size=2,
        epochs=1,
        verbose=0,
        callbacks=[Writer(), Reader()],
        config=NO_DEFAULTS,
    )
    begin, end, reader = seen[0], seen[1], seen[2]
    assert begin[2] == {"batch": 0, "size": 2}
    assert end[1] == reader[1] and reader[2] == 0  # same dict within the call
    assert begin[1] != end[1]  # a fresh dict per hook call


def test_logs_carry_exactly_the_seed_keys(hookfit_model, hookfit_data):
    recorder = Recorder()
    x, y = hookfit_data
    model = hookfit_model()
    model.fit(
        x,
        y,
        batch_size=16,
        epochs=1,
        verbose=0,
        callbacks=[recorder],
        validation_data=(x[:8], y[:8]),
    )
    keys = {hook: sorted(args[-1]) for hook, args in reversed(recorder.calls)}
    assert keys["on_batch_begin"] == ["batch", "size"]
    assert keys["on_batch_end"] == ["acc", "batch", "loss", "size"]
    assert keys["on_epoch_begin"] == []
    assert keys["on_epoch_end"] == ["acc", "loss", "val_acc", "val_loss"]
    assert keys["on_test_batch_end"] == ["acc", "batch", "loss", "size"]
    assert keys["on_test_end"] == ["acc", "loss"]
    assert keys["on_train_begin"] == []
    predict = Recorder()
    model.predict(x[:5], batch_size=4, callbacks=[predict], config=NO_DEFAULTS)
    assert predict.hooks() == [
        "on_predict_begin",
        "on_predict_batch_begin",
        "on_predict_batch_end",
        "on_predict_batch_begin",
        "on_predict_batch_end",
        "on_predict_end",
    ]
    outputs = predict.calls[2][1][1]["outputs"]
    assert outputs.shape == (4, 3)


def test_batch_logs_hold_the_real_batch_values(hookfit_model, hookfit_data):
    recorder = Recorder()
    x, y = hookfit_data
    model = hookfit_model()
    model.fit(
        x[:16],
        y[:16],
        batch_size=10,
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[recorder],
        config=NO_DEFAULTS,
    )
    sizes = [args[1]["size"] for hook, args in recorder.calls if hook == "on_batch_end"]
    assert sizes == [10, 6]
    again = hookfit_model()
    first = again.train_on_batch(x[:10], y[:10])
    logged = next(args[1] for hook, args in recorder.calls if hook == "on_batch_end")
    assert [logged["loss"], logged["acc"]] == first


def test_plugin_error_names_the_plugin_and_on_train_end_still_runs(hookfit_model, hookfit_data):
    recorder = Recorder()

    class Broken(Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("disk full")

    x, y = hookfit_data
    with pytest.raises(RuntimeError, match="disk full") as info:
        hookfit_model().fit(x, y, epochs=3, verbose=0, callbacks=[Broken(), recorder])
    assert any(
        "raised in on_epoch_end of plugin Broken (passed in code" in note
        for note in info.value.__notes__
    )
    assert recorder.hooks()[-1] == "on_train_end"
    assert recorder.count("on_epoch_end") == 0  # Broken ran first and stopped the call


def test_error_note_names_the_distribution(hookfit_model, hookfit_data, monkeypatch):
    from hookfit_history import History

    def explode(self, epoch, logs=None):
        raise KeyError("gone")

    monkeypatch.setattr(History, "on_epoch_end", explode)
    x, y = hookfit_data
    with pytest.raises(KeyError) as info:
        hookfit_model().fit(x, y, epochs=1, verbose=0)
    assert re.search(
        r"on_epoch_end of plugin history \(hookfit-history \d", info.value.__notes__[0]
    )


def test_on_train_end_failure_is_noted_on_the_first_error(hookfit_model, hookfit_data):
    class Twice(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            raise ValueError("first")

        def on_train_end(self, logs=None):
            raise OSError("second")

    x, y = hookfit_data
    with pytest.raises(ValueError, match="first") as info:
        hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[Twice()], config=NO_DEFAULTS)
    assert any("on_train_end then failed too: OSError('second')" in n for n in info.value.__notes__)


def test_callback_defaults_receive_the_real_arguments(hookfit_model, hookfit_data):
    class Defaults(Callback):
        def on_epoch_end(self, epoch=-1, logs={}):  # noqa: B006
            self.got = (epoch, dict(logs))

    plugin = Defaults()
    x, y = hookfit_data
    hookfit_model().fit(
        x, y, epochs=2, verbose=0, callbacks=[plugin], validation_split=0.25, config=NO_DEFAULTS
    )
    assert plugin.got[0] == 1 and "val_loss" in plugin.got[1]


def test_hookimpl_functions_take_any_subset_by_name(hookfit_model, hookfit_data):
    got = {}

    class Picky:
        @hookimpl
        def on_epoch_end(self, params, epoch, model):
            got["epoch_end"] = (epoch, params["epochs"], model)

        @hookimpl
        def on_batch_end(self, logs=None):
            got.setdefault("losses", []).append(logs["loss"])

        @hookimpl
        def on_train_begin(self):
            got["train_begin"] = True

    model = hookfit_model()
    x, y = hookfit_data
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[Picky()], config=NO_DEFAULTS)
    assert got["epoch_end"] == (1, 2, model)
    assert len(got["losses"]) == 4 and got["train_begin"]


def test_module_plugins_work(hookfit_model, hookfit_data, hookfit_site):
    hookfit_site.add(
        "modplug",
        {},
        {
            "modplug_hooks.py": """
        import hookfit
        calls = []

        @hookfit.hookimpl
        def on_epoch_begin(epoch):
            calls.append(epoch)
        """
        },
    )
    import modplug_hooks

    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=3, verbose=0, callbacks=[modplug_hooks], config=NO_DEFAULTS)
    assert modplug_hooks.calls == [0, 1, 2]


def test_two_instances_of_one_plugin_both_run(hookfit_model, hookfit_data):
    from hookfit_history import History

    first, second = History(), History()
    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=2, verbose=0, callbacks=[first, second])
    assert first.epoch == second.epoch == [0, 1]


class Misspelled:
    @hookimpl
    def on_epoch_ends(self, epoch):
        pass


class WrongArgument:
    @hookimpl
    def on_epoch_end(self, epoch, log):
        pass


class Wrapper:
    @hookimpl(wrapper=True)
    def on_epoch_end(self, epoch):
        yield


class MisspelledCallback(Callback):
    def on_epoch_ends(self, epoch, logs=None):
        pass


class Nothing:
    pass


def not_callable():
    plugin = Callback()
    plugin.on_epoch_end = 42
    return plugin


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (
            Misspelled(),
            r"implements 'on_epoch_ends', which is not a hookfit hook "
            r"\(did you mean 'on_epoch_end'\?\)",
        ),
        (
            WrongArgument(),
            r"asks for arguments the hook does not offer: 'log' \(did you mean "
            r"'logs'\?\)\. on_epoch_end offers: epoch, logs, model, params",
        ),
        (Wrapper(), r"marked as a wrapper.*use tryfirst=True or trylast=True"),
        (
            MisspelledCallback(),
            r"defines on_epoch_ends\(\), which is not a hookfit hook "
            r"\(did you mean 'on_epoch_end'\?\)",
        ),
        (Nothing(), r"implements no hookfit hook\. Subclass hookfit\.Callback"),
        (Recorder, r"got the class Recorder, not an instance\. Pass Recorder\(\.\.\.\) instead"),
        (not_callable(), r"distribution\): on_epoch_end is 42, not a method or function"),
    ],
    ids=[
        "misspelled-hook",
        "unknown-argument",
        "wrapper",
        "misspelled-method",
        "no-hooks",
        "class-not-instance",
        "hook-not-callable",
    ],
)
def test_wrong_plugins_are_refused_before_training(plugin, message, hookfit_model, hookfit_data):
    recorder = Recorder()
    x, y = hookfit_data
    with pytest.raises(PluginValidationError, match=message):
        hookfit_model().fit(x, y, verbose=0, callbacks=[recorder, plugin], config=NO_DEFAULTS)
    assert recorder.calls == []


def test_a_hook_method_replaced_after_a_run_is_checked_again(hookfit_model, hookfit_data):
    """A class's hooks are checked once, by method: the next run of the same
    class skips the check, a method put in after that does not."""

    class Plugin(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    x, y = hookfit_data
    model = hookfit_model()
    for _ in range(2):
        model.fit(x, y, verbose=0, callbacks=[Plugin()], config=NO_DEFAULTS)
    Plugin.on_epoch_end = lambda self: None
    with pytest.raises(PluginValidationError, match=r"Plugin\.on_epoch_end cannot be called"):
        model.fit(x, y, verbose=0, callbacks=[Plugin()], config=NO_DEFAULTS)


class CountingLoss(losses.CategoricalCrossentropy):
    def __init__(self):
        self.calls = 0

    def __call__(self, y_true, y_pred):
        self.calls += 1
        return super().__call__(y_true, y_pred)

    def fused_value(self, y_true, y_pred):
        self.calls += 1
        return super().fused_value(y_true, y_pred)


@pytest.mark.parametrize("plugins", [[], [Recorder()]], ids=["no-batch-hook", "batch-hook"])
def test_the_batch_loss_is_computed_once_per_batch_whatever_plugins_run(plugins, hookfit_data):
    """The trainer owns the logs: it computes each batch's loss once, for
    the epoch's mean, and hands the same value to every batch hook."""
    expected = 8  # 64 samples in batches of 16, 2 epochs
    from hookfit.layers import Dense
    from hookfit.models import Sequential

    loss = CountingLoss()
    model = Sequential([Dense(3, activation="softmax", input_dim=8)])
    model.compile("sgd", loss)
    x, y = hookfit_data
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=plugins, config=NO_DEFAULTS)
    assert loss.calls == expected


def test_empty_hook_lists_for_unimplemented_hooks(hookfit_model):
    class OnlyEpochs(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    only = plan([OnlyEpochs()], verbose=0, config=NO_DEFAULTS).plugins
    cbl = Run(only, None, {})
    assert len(cbl.on_epoch_end) == 1
    assert cbl.on_batch_begin == cbl.on_batch_end == cbl.on_train_begin == []


def test_stop_training_mid_epoch_still_validates_then_stops(hookfit_model, hookfit_data):
    recorder = Recorder()

    class StopAtBatchOne(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    x, y = hookfit_data
    hookfit_model().fit(
        x,
        y,
        batch_size=8,
        epochs=4,
        verbose=0,
        validation_split=0.25,
        callbacks=[StopAtBatchOne(), recorder],
        config=NO_DEFAULTS,
    )
    assert recorder.count("on_batch_end") == 2
    assert recorder.count("on_epoch_end") == 1
    epoch_logs = next(args[1] for hook, args in recorder.calls if hook == "on_epoch_end")
    assert "val_loss" in epoch_logs
    assert recorder.hooks()[-1] == "on_train_end"


def test_stop_training_is_reset_before_on_train_begin(hookfit_model, hookfit_data):
    recorder = Recorder()

    class StopAtStart(Callback):
        def on_train_begin(self, logs=None):
            self.model.stop_training = True

    model = hookfit_model()
    model.stop_training = True  # left over from an earlier run
    x, y = hookfit_data
    model.fit(x, y, epochs=2, verbose=0, callbacks=[recorder], config=NO_DEFAULTS)
    assert recorder.count("on_epoch_end") == 2
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[StopAtStart(), recorder := Recorder()],
        config=NO_DEFAULTS,
    )
    assert recorder.hooks() == ["on_train_begin", "on_train_end"]


def test_callbacks_get_model_params_and_validation_data(hookfit_model, hookfit_data):
    class Inspect(Callback):
        def on_train_begin(self, logs=None):
            self.snapshot = (self.model, dict(self.params), self.validation_data)

    plugin = Inspect()
    model = hookfit_model()
    x, y = hookfit_data
    model.fit(
        x,
        y,
        batch_size=10,
        epochs=3,
        verbose=0,
        validation_split=0.25,
        callbacks=[plugin],
        config=NO_DEFAULTS,
    )
    got_model, params, validation = plugin.snapshot
    assert got_model is model
    assert params == {
        "batch_size": 10,
        "epochs": 3,
        "steps": 5,
        "samples": 48,
        "verbose": 0,
        "do_validation": True,
        "metrics": ["loss", "acc", "val_loss", "val_acc"],
    }
    np.testing.assert_array_equal(validation[0], x[48:])


def test_a_resolved_plan_runs_as_it_is(hookfit_model, hookfit_data):
    from hookfit import plan

    x, y = hookfit_data
    recorder = Recorder()
    resolved = plan([recorder], verbose=0, config={"hookfit": {"disable": ["history"]}})
    assert hookfit_model().fit(x, y, epochs=2, verbose=0, callbacks=resolved) is None
    assert recorder.count("on_epoch_end") == 2
    with pytest.raises(
        ConfigError,
        match=r"^callbacks is already a resolved plan and config would be ignored: pass the "
        r"config to hookfit\.plan\(config=\.\.\.\) instead\.$",
    ):
        hookfit_model().fit(x, y, verbose=0, callbacks=resolved, config={})


def test_a_hook_an_instance_declares_it_does_not_need_is_never_registered(
    hookfit_model, hookfit_data
):
    class Saver(Callback):
        def __init__(self, every):
            super().__init__()
            self.every, self.batches = every, 0

        def needs_hook(self, hook):
            return hook != "on_batch_end" or self.every != "epoch"

        def on_batch_end(self, batch, logs=None):
            self.batches += 1

    model = hookfit_model()
    params = {"metrics": ["loss"], "verbose": 0, "epochs": 1, "samples": 1, "steps": 1}
    lazy, busy = Saver("epoch"), Saver(2)
    run = Run(plan([lazy], verbose=0, config=NO_DEFAULTS).plugins, model, params)
    assert run.on_batch_end == []  # the trainer builds no batch logs for it
    assert (
        len(Run(plan([busy], verbose=0, config=NO_DEFAULTS).plugins, model, params).on_batch_end)
        == 1
    )
    x, y = hookfit_data
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lazy, busy], config=NO_DEFAULTS)
    assert (lazy.batches, busy.batches) == (0, 4)


def test_the_hook_arguments_are_the_hookspecs_own():
    import inspect

    from hookfit.hooks import dispatch, specs

    for hook in specs.ALL_HOOKS:
        declared = tuple(inspect.signature(getattr(specs, hook)).parameters)
        assert dispatch.OFFERED[hook] == declared
        assert dispatch.POSITIONAL[hook] + specs.FIXED == declared
    assert dispatch.POSITIONAL["on_epoch_end"] == ("epoch", "logs")
    assert dispatch.POSITIONAL["on_predict_batch_end"] == ("batch", "logs")
    assert dispatch.POSITIONAL["on_train_begin"] == ("logs",)
