"""ProgbarLogger, installed alone with the core: in a pipe and in a terminal."""

import re
import sys
import textwrap

import pexpect
import pytest

from hookfit import Callback, ConfigError
from hookfit_progbar_logger import ProgbarLogger

FINAL = r"(\d+)/\1 \[={30}\] - \d+s \d+(us|ms|s)/(sample|step)"
METRICS = r" - loss: \d\.\d{4} - acc: \d\.\d{4}"


def test_unknown_count_mode_is_refused():
    with pytest.raises(ConfigError, match=r"Unknown `count_mode`: 'batches'\. Use 'samples' or "):
        ProgbarLogger(count_mode="batches")


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


def test_verbose_2_prints_one_summary_line(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=2)
    assert re.fullmatch(r"Epoch 1/1\n - \d+s" + METRICS + r"\n", capsys.readouterr().out)


def test_verbose_0_prints_nothing(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=0)
    hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[ProgbarLogger()])
    assert capsys.readouterr().out == ""


def test_count_mode_steps_counts_batches(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    hookfit_model().fit(
        x, y, batch_size=16, epochs=1, verbose=1, callbacks=[ProgbarLogger(count_mode="steps")]
    )
    assert re.search(
        r"^4/4 \[={30}\] - \d+s \d+(us|ms|s)/step" + METRICS + "$", capsys.readouterr().out, re.M
    )


def test_keys_other_plugins_add_are_shown_last(hookfit_model, hookfit_data, capsys):
    class AddsLr(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["lr"] = 0.5

    x, y = hookfit_data
    hookfit_model().fit(x, y, epochs=1, verbose=2, callbacks=[AddsLr()])
    assert capsys.readouterr().out.rstrip().endswith(" - lr: 0.5000")


def test_evaluate_and_predict_draw_their_own_bar(hookfit_model, hookfit_data, capsys):
    x, y = hookfit_data
    model = hookfit_model()
    model.evaluate(x, y, batch_size=16, verbose=1)
    model.predict(x, batch_size=16, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(FINAL.replace(r"(\d+)/\1", "64/64") + METRICS, lines[0])
    assert re.fullmatch(FINAL.replace(r"(\d+)/\1", "64/64"), lines[1])


SCRIPT = textwrap.dedent("""
    import numpy as np
    import hookfit_progbar_logger
    from hookfit.layers import Dense
    from hookfit.models import Sequential

    hookfit_progbar_logger._REDRAW = 0.0  # redraw on every batch
    x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    y = np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]
    model = Sequential([Dense(2, activation="softmax", input_dim=8)])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=2, verbose=1)
    print("DONE")
""")


def test_a_real_terminal_gets_a_live_bar(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    child = pexpect.spawn(
        sys.executable, [str(script)], dimensions=(24, 120), encoding="utf-8", timeout=120
    )
    child.expect("DONE")
    out = child.before
    child.expect(pexpect.EOF)
    # The bar is redrawn in place with carriage returns, Keras-style...
    assert re.search(r"\r\d+/256 \[=+>\.+\] - ETA: [\d:?]+ - loss: \d\.\d{4} - acc: \d\.\d{4}", out)
    # ...and each epoch ends with one complete line.
    finals = re.findall(r"256/256 \[={30}\] - \d+s \d+(?:us|ms|s)/sample" + METRICS, out)
    assert len(finals) == 2
    assert out.index("Epoch 1/2") < out.index("Epoch 2/2")
