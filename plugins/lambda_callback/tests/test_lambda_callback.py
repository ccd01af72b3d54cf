"""LambdaCallback, installed alone with the core."""

import json
import multiprocessing
import re
import signal

import pytest

from hookfit import ConfigError
from hookfit.callbacks import LambdaCallback
from hookfit.hooks.dispatch import EVENTS, POSITIONAL, Run, hooks_of
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit.run.plan import Planned
from hookfit.testing import Recorder
from hookfit.utils import set_random_seed
from hookfit_lambda_callback import LambdaCallback as DirectLambdaCallback


def calls_of(recorder, hook):
    return [args for name, args in recorder.calls if name == hook]


def test_hookfit_callbacks_gives_the_plugin_class():
    assert LambdaCallback is DirectLambdaCallback


# -- the Keras documentation's three examples, with only the imports changed ----


def test_keras_docs_example_batch_printer(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    model = hookfit_model()

    # Print the batch number at the beginning of every batch.
    batch_print_callback = LambdaCallback(on_batch_begin=lambda batch, logs: print(batch))

    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[batch_print_callback])
    assert capsys.readouterr().out == "0\n1\n2\n3\n" * 2


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras's batch logs hold the epoch's running mean, without the batch's size",
)
def test_keras_docs_example_json_loss_log(
    hookfit_model, hookfit_data, tmp_path, monkeypatch, hookfit_host
):
    monkeypatch.chdir(tmp_path)
    x, y = hookfit_data
    model = hookfit_model()
    recorder = Recorder()

    # Stream the epoch loss to a file in JSON format. The file content
    # is not well-formed JSON but rather has a JSON object per line.
    import json

    json_log = open("loss_log.json", mode="wt", buffering=1)  # noqa: SIM115, UP015 - the docs' code
    json_logging_callback = LambdaCallback(
        on_epoch_end=lambda epoch, logs: json_log.write(
            json.dumps({"epoch": epoch, "loss": logs["loss"]}) + "\n"
        ),
        on_train_end=lambda logs: json_log.close(),
    )

    model.fit(
        x,
        y,
        batch_size=16,
        epochs=3,
        verbose=0,
        callbacks=[json_logging_callback, recorder],
    )
    assert json_log.closed
    # The trainer's epoch loss: the size-weighted mean of the batch losses.
    batches = [logs for _, logs in calls_of(recorder, "on_batch_end")]
    means = [sum(b["loss"] * b["size"] for b in batches[i : i + 4]) / 64 for i in range(0, 12, 4)]
    rel = 1e-6 if hookfit_host == "lightning" else 1e-12  # Lightning averages in float32
    lines = (tmp_path / "loss_log.json").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"epoch": 0, "loss": pytest.approx(means[0], rel=rel)},
        {"epoch": 1, "loss": pytest.approx(means[1], rel=rel)},
        {"epoch": 2, "loss": pytest.approx(means[2], rel=rel)},
    ]
    assert means[2] < means[0]


def test_keras_docs_example_json_log_of_val_loss(hookfit_model, hookfit_data, tmp_path):
    x, y = hookfit_data
    model = hookfit_model()
    recorder = Recorder()
    path = tmp_path / "loss_log.json"

    json_log = open(path, mode="wt", buffering=1)  # noqa: SIM115, UP015 - the docs' code
    json_logging_callback = LambdaCallback(
        on_epoch_end=lambda epoch, logs: json_log.write(
            json.dumps({"epoch": epoch, "val_loss": logs["val_loss"]}) + "\n"
        ),
        on_train_end=lambda logs: json_log.close(),
    )

    model.fit(
        x[:48],
        y[:48],
        batch_size=16,
        epochs=3,
        verbose=0,
        validation_data=(x[48:], y[48:]),
        callbacks=[json_logging_callback, recorder],
    )
    assert json_log.closed
    logged = [json.loads(line) for line in path.read_text().splitlines()]
    epochs = [(epoch, logs["val_loss"]) for epoch, logs in calls_of(recorder, "on_epoch_end")]
    assert [(d["epoch"], d["val_loss"]) for d in logged] == epochs
    assert [d["epoch"] for d in logged] == [0, 1, 2]
    assert logged[-1]["val_loss"] == pytest.approx(
        model.evaluate(x[48:], y[48:], batch_size=16, verbose=0)[0], rel=1e-6
    )


def test_keras_docs_example_process_cleanup(hookfit_model, hookfit_data):
    x, y = hookfit_data
    model = hookfit_model()
    never = multiprocessing.Event()
    finished = multiprocessing.Process(target=never.is_set)
    finished.start()
    finished.join()
    waiting = [multiprocessing.Process(target=never.wait) for _ in range(2)]
    for p in waiting:
        p.start()
    alive_while_training = []
    watch = LambdaCallback(
        on_epoch_end=lambda epoch, logs: alive_while_training.append(
            [p.is_alive() for p in waiting]
        )
    )

    # Terminate some processes after having finished model training.
    processes = [finished, *waiting]
    cleanup_callback = LambdaCallback(
        on_train_end=lambda logs: [p.terminate() for p in processes if p.is_alive()]
    )

    model.fit(x, y, epochs=2, verbose=0, callbacks=[watch, cleanup_callback])
    for p in waiting:
        p.join()
    assert alive_while_training == [[True, True], [True, True]]
    assert [p.exitcode for p in processes] == [0, -signal.SIGTERM, -signal.SIGTERM]


# -- only the hooks given are registered ----------------------------------------


def test_only_the_hooks_given_are_registered(hookfit_model):
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: None, on_test_begin=None)
    assert hooks_of(cb) == ["on_epoch_end"]
    assert [k for k in vars(cb) if k.startswith("on_")] == ["on_epoch_end"]
    cbl = Run([Planned("lambda_callback", None, True, "code", obj=cb)], hookfit_model(), {})
    assert [event for event in EVENTS if getattr(cbl, event)] == ["on_epoch_end"]


def test_no_function_registers_no_hook(hookfit_model, hookfit_data):
    cb = LambdaCallback()
    assert hooks_of(cb) == []
    cbl = Run([Planned("lambda_callback", None, True, "code", obj=cb)], hookfit_model(), {})
    assert [event for event in EVENTS if getattr(cbl, event)] == []
    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[cb])


# -- every hookfit hook, Keras 3 style through **kwargs ----------------------------


@pytest.mark.parametrize("hook", list(POSITIONAL))
def test_every_hook_can_be_given_and_fires_positionally(hook):
    calls = []
    cb = LambdaCallback(**{hook: lambda *args: calls.append(args)})
    assert hooks_of(cb) == [hook]
    run = Run([Planned("lambda_callback", None, True, "code", obj=cb)], None, {})
    (event,) = [event for event in EVENTS if getattr(run, event)]
    assert hook in EVENTS[event]
    logs = {"loss": 0.5}
    args = (logs,) if POSITIONAL[hook] == ("logs",) else (3, logs)
    run.fire(getattr(run, event), *args)
    assert calls == [args] and calls[0][-1] is logs


# hook -> the indices passed (epoch or batch), or the number of calls for the
# hooks that take only logs, in: fit on 48 samples in batches of 16 for two
# epochs validating on 16, then evaluate on 16, then predict on 16.
RUN = {
    "on_train_begin": 1,
    "on_train_end": 1,
    "on_test_begin": 3,
    "on_test_end": 3,
    "on_predict_begin": 1,
    "on_predict_end": 1,
    "on_epoch_begin": [0, 1],
    "on_epoch_end": [0, 1],
    "on_batch_begin": [0, 1, 2, 0, 1, 2],
    "on_batch_end": [0, 1, 2, 0, 1, 2],
    "on_train_batch_begin": [0, 1, 2, 0, 1, 2],
    "on_train_batch_end": [0, 1, 2, 0, 1, 2],
    "on_test_batch_begin": [0, 0, 0],
    "on_test_batch_end": [0, 0, 0],
    "on_predict_batch_begin": [0],
    "on_predict_batch_end": [0],
}


def _run_everything(model, x, y, cb):
    model.fit(
        x[:48],
        y[:48],
        batch_size=16,
        epochs=2,
        verbose=0,
        validation_data=(x[48:], y[48:]),
        callbacks=[cb],
    )
    model.evaluate(x[48:], y[48:], batch_size=16, verbose=0, callbacks=[cb])
    model.predict(x[:16], batch_size=16, callbacks=[cb])


def keras_model():
    set_random_seed(0)
    model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize(("hook", "expected"), list(RUN.items()), ids=list(RUN))
def test_every_hook_fires_in_a_fit_evaluate_and_predict(hook, expected, hookfit_data):
    # hookfit's Sequential whatever --hookfit-host says: the protocol asks no
    # host to fire the test batch and predict hooks, and MinimalHost does not.
    calls = []
    cb = LambdaCallback(**{hook: lambda *args: calls.append(args)})
    x, y = hookfit_data
    _run_everything(keras_model(), x, y, cb)
    assert all(isinstance(args[-1], dict) for args in calls)
    if isinstance(expected, int):
        assert [len(args) for args in calls] == [1] * expected
    else:
        assert [args[0] for args in calls] == expected
        assert all(len(args) == 2 for args in calls)


# The batch logs each host gives: Keras's own (running means), Lightning's step loss.
BATCH_KEYS = {"keras": ["acc", "loss"], "lightning": ["batch", "loss", "size"]}


def test_batch_logs_reach_the_function(hookfit_model, hookfit_data, hookfit_host):
    seen = []
    cb = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(sorted(logs)))
    x, y = hookfit_data
    hookfit_model().fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[cb])
    assert seen == [BATCH_KEYS.get(hookfit_host, ["acc", "batch", "loss", "size"])] * 2


@pytest.mark.parametrize(
    ("k2", "k3"),
    [("on_batch_begin", "on_train_batch_begin"), ("on_batch_end", "on_train_batch_end")],
    ids=["begin", "end"],
)
def test_keras2_and_keras3_batch_hooks_given_together_both_fire(
    k2, k3, hookfit_model, hookfit_data
):
    calls = []
    cb = LambdaCallback(
        **{k2: lambda batch, logs: calls.append((k2, batch))},
        **{k3: lambda batch, logs: calls.append((k3, batch))},
    )
    x, y = hookfit_data
    hookfit_model().fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[cb])
    assert calls == [(k2, 0), (k3, 0), (k2, 1), (k3, 1)]


# -- other keywords and refusals -------------------------------------------------


def test_other_keywords_are_stored_on_the_instance():
    cb = LambdaCallback(on_epoch_end=print, note="run 3", on_disk=True)
    assert cb.note == "run 3" and cb.on_disk is True
    assert hooks_of(cb) == ["on_epoch_end"]


NAMED = (
    'expected a function (in a config file: a "module:function" reference) or None '
    "(in a config file: leave the key out)"
)


@pytest.mark.parametrize(
    ("hook", "value", "problem"),
    [
        ("on_epoch_end", 3, f"{NAMED}, got 3."),
        ("on_train_begin", "print", f'{NAMED}, got "print".'),
        # A reference names a function in a config file only.
        ("on_epoch_end", "json:dumps", f'{NAMED}, got "json:dumps".'),
        (
            "on_predict_batch_end",
            [print],
            "expected a function or None, got [<built-in function print>].",
        ),
    ],
    ids=["named-int", "named-str", "named-reference", "kwargs-list"],
)
def test_a_hook_that_is_not_callable_is_refused(hook, value, problem):
    message = f"LambdaCallback: {hook}: {problem}"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        LambdaCallback(**{hook: value})


def test_a_function_under_a_name_that_is_no_hook_is_refused():
    with pytest.raises(
        ConfigError,
        match=r"^LambdaCallback: on_epoch_ends: not a hookfit hook \(did you mean "
        r"'on_epoch_end'\?\), so the function given for it would never be called\. "
        r"Valid hooks: on_train_begin, .*, on_predict_batch_end\.$",
    ):
        LambdaCallback(on_epoch_ends=lambda epoch, logs: None)


# -- config files name functions as "module:function" ----------------------------


def test_config_builds_it_from_a_module_function_reference(
    hookfit_model, hookfit_data, hookfit_site, monkeypatch
):
    hookfit_site.add(
        "lambda-hooks",
        {},
        {
            "lambda_hooks.py": """
                seen = []

                def record(epoch, logs):
                    seen.append((epoch, logs["val_loss"]))
            """
        },
    )
    monkeypatch.chdir(hookfit_site.root)
    x, y = hookfit_data
    recorder = Recorder()
    config = {"callbacks": {"lambda_callback": {"on_epoch_end": "lambda_hooks:record"}}}
    hookfit_model().fit(
        x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[recorder], config=config
    )
    import lambda_hooks

    assert lambda_hooks.seen == [
        (epoch, logs["val_loss"]) for epoch, logs in calls_of(recorder, "on_epoch_end")
    ]
    assert [epoch for epoch, _ in lambda_hooks.seen] == [0, 1]


def test_config_refuses_a_reference_to_nothing_callable(
    hookfit_model, hookfit_data, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    x, y = hookfit_data
    config = {"callbacks": {"lambda_callback": {"on_epoch_end": "json:no_such_function"}}}
    expected = r'on_epoch_end: expected a function \(in a config file: a "module:function" '
    with pytest.raises(ConfigError, match=expected):
        hookfit_model().fit(x, y, epochs=1, verbose=0, config=config)
