"""ProgbarLogger, installed alone with the core: in a pipe and in a terminal."""

import re
import sys
import textwrap

import pexpect
import pytest

from hookfit import Callback, ConfigError
from hookfit_progbar_logger import ProgbarLogger

# Keras 2.1+ says "/step" in both count modes: "60000/60000 [====] - 3s 50us/step"
FINAL = r"(\d+)/\1 \[={30}\] - \d+s \d+(us|ms|s)/step"
METRICS = r" - loss: \d\.\d{4} - acc: \d\.\d{4}"


def test_unknown_count_mode_is_refused():
    message = "ProgbarLogger: count_mode: expected one of 'samples', 'steps', got \"batches\"."
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        ProgbarLogger(count_mode="batches")


@pytest.mark.hookfit_not_on(
    "keras",
    "lightning",
    reason="Keras and Lightning draw their own progress bars: hookfit_keras.Plugins leaves "
    "ProgbarLogger out, hookfit_lightning.Plugins runs it with verbose=0",
)
def test_not_a_terminal_prints_one_line_per_epoch(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    hookfit_model().fit(x, y, batch_size=8, epochs=2, verbose=1, validation_split=0.25)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line in (lines[1], lines[3]):
        assert re.fullmatch(
            FINAL.replace(r"(\d+)/\1", "48/48")
            + METRICS
            + r" - val_loss: \d\.\d{4} - val_acc: \d\.\d{4}",
            line,
        ), line


@pytest.mark.hookfit_not_on(
    "keras",
    "lightning",
    reason="Keras and Lightning draw their own progress bars: hookfit_keras.Plugins leaves "
    "ProgbarLogger out, hookfit_lightning.Plugins runs it with verbose=0",
)
def test_verbose_2_prints_one_summary_line(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=2)
    assert re.fullmatch(r"Epoch 1/1\n - \d+s" + METRICS + r"\n", capsys.readouterr().out)


def test_verbose_0_prints_nothing(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=0)
    hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[ProgbarLogger()])
    assert capsys.readouterr().out == ""


@pytest.mark.hookfit_not_on(
    "keras",
    "lightning",
    reason="Keras and Lightning draw their own progress bars: hookfit_keras.Plugins leaves "
    "ProgbarLogger out, hookfit_lightning.Plugins runs it with verbose=0",
)
@pytest.mark.parametrize(
    ("count_mode", "count"), [("samples", "64/64"), ("steps", "4/4")], ids=["samples", "steps"]
)
def test_final_line_counts_by_mode_and_says_per_step(
    count_mode, count, hookfit_model, hookfit_data, capsys
):
    x, y = hookfit_data
    hookfit_model().fit(
        x, y, batch_size=16, epochs=1, verbose=1, callbacks=[ProgbarLogger(count_mode=count_mode)]
    )
    out = capsys.readouterr().out
    final = rf"^{count} \[={{30}}\] - \d+s \d+(us|ms|s)/step"
    assert re.search(final + METRICS + "$", out, re.M), out
    assert "/sample" not in out


@pytest.mark.hookfit_not_on(
    "keras",
    "lightning",
    reason="Keras and Lightning draw their own progress bars: hookfit_keras.Plugins leaves "
    "ProgbarLogger out, hookfit_lightning.Plugins runs it with verbose=0",
)
def test_keys_other_plugins_add_are_shown_last(hookfit_model, hookfit_data, capsys):
    class AddsLr(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["lr"] = 0.5

    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=2, callbacks=[AddsLr()])
    assert capsys.readouterr().out.rstrip().endswith(" - lr: 0.5000")


def test_evaluate_and_predict_draw_their_own_bar(capsys):
    # Driven by hand: the hooks and params any host's evaluate and predict give.
    logger = ProgbarLogger()
    params = {"batch_size": 16, "steps": 4, "samples": 64, "verbose": 1}
    logger.set_params({**params, "metrics": ["loss", "acc"]})
    logger.on_test_begin({})
    for batch in range(4):
        logger.on_test_batch_end(batch, {"batch": batch, "size": 16, "loss": 1.0, "acc": 0.5})
    logger.on_test_end({"loss": 0.75, "acc": 0.25})
    logger.set_params(params)
    logger.on_predict_begin({})
    for batch in range(4):
        logger.on_predict_batch_end(batch, {"batch": batch, "size": 16, "outputs": None})
    logger.on_predict_end({})
    lines = capsys.readouterr().out.splitlines()
    final = FINAL.replace(r"(\d+)/\1", "64/64")
    assert re.fullmatch(final + " - loss: 0.7500 - acc: 0.2500", lines[0]), lines[0]
    assert re.fullmatch(final, lines[1]), lines[1]
    assert len(lines) == 2


def test_without_a_sample_count_the_bar_counts_steps(capsys):
    # fit_generator's params, as in Keras 2: steps, no samples
    logger = ProgbarLogger()
    logger.set_params({"epochs": 1, "steps": 3, "verbose": 1, "metrics": ["loss"]})
    logger.on_train_begin({})
    logger.on_epoch_begin(0, {})
    for batch in range(3):
        logger.on_batch_end(batch, {"batch": batch, "size": 32, "loss": 1.0})
    logger.on_epoch_end(0, {"loss": 1.0})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/1"
    assert re.fullmatch(FINAL.replace(r"(\d+)/\1", "3/3") + " - loss: 1.0000", lines[1]), lines


def test_stateful_metrics_show_their_last_value(capsys):
    logger = ProgbarLogger(stateful_metrics=["acc"])
    logger.set_params({"steps": 2, "samples": 32, "verbose": 2, "metrics": ["loss", "acc"]})
    logger.on_test_begin({})
    logger.on_test_batch_end(0, {"batch": 0, "size": 16, "loss": 1.0, "acc": 0.25})
    logger.on_test_batch_end(1, {"batch": 1, "size": 16, "loss": 0.5, "acc": 0.75})
    logger.on_test_end({})
    assert re.fullmatch(r" - \d+s - loss: 0.7500 - acc: 0.7500\n", capsys.readouterr().out)


def test_hookfit_evaluate_and_predict_fire_the_bar(hookfit_data, capsys):
    # About hookfit's trainer: its evaluate and predict fire the batch hooks
    # the bar counts. MinimalHost's fire none, hence no hookfit_model here.
    from hookfit.layers import Dense
    from hookfit.models import Sequential

    x, y = hookfit_data
    model = Sequential([Dense(3, activation="softmax", input_dim=8)])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    model.evaluate(x, y, batch_size=16, verbose=1)
    model.predict(x, batch_size=16, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(FINAL.replace(r"(\d+)/\1", "64/64") + METRICS, lines[0])
    assert re.fullmatch(FINAL.replace(r"(\d+)/\1", "64/64"), lines[1])


SCRIPT = textwrap.dedent("""
    import sys

    import numpy as np
    import hookfit_progbar_logger

    hookfit_progbar_logger._REDRAW = 0.0  # redraw on every batch
    x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    y = np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]
    if sys.argv[1] == "minimal":
        from hookfit.testing.host import MinimalHost

        model = MinimalHost(8, 2)
    else:
        from hookfit.layers import Dense
        from hookfit.models import Sequential

        model = Sequential([Dense(2, activation="softmax", input_dim=8)])
        model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=2, verbose=1)
    print("DONE")
""")


def test_a_real_terminal_gets_a_live_bar(hookfit_host, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    child = pexpect.spawn(
        sys.executable,
        [str(script), hookfit_host],
        dimensions=(24, 120),
        encoding="utf-8",
        timeout=120,
    )
    child.expect("DONE")
    out = child.before
    child.expect(pexpect.EOF)
    # The bar is redrawn in place with carriage returns, Keras-style...
    assert re.search(r"\r\d+/256 \[=+>\.+\] - ETA: [\d:?]+ - loss: \d\.\d{4} - acc: \d\.\d{4}", out)
    # ...and each epoch ends with one complete line.
    finals = re.findall(r"256/256 \[={30}\] - \d+s \d+(?:us|ms|s)/step" + METRICS, out)
    assert len(finals) == 2
    assert out.index("Epoch 1/2") < out.index("Epoch 2/2")
