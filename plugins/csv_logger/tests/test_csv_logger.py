"""CSVLogger, installed alone with the core."""

import contextlib
import csv
import json
import math
import os
import re
import subprocess
import sys
import textwrap
import threading
import types

import numpy as np
import pytest

from hookfit import Callback, ConfigError, HookfitError, HookfitWarning
from hookfit.testing import Recorder
from hookfit_csv_logger import CSVLogger

# Nothing on by default, so the epoch logs hold exactly the trainer's keys
# whichever plugins are installed.
BARE = {"hookfit": {"autoload": False}}
# The trainer's epoch logs, in the trainer's order; the file sorts them.
LOGGED = ["loss", "acc", "val_loss", "val_acc"]


def fit(model, data, callbacks, epochs=3, initial_epoch=0, validation=True):
    x, y = data
    model.fit(
        x[:48],
        y[:48],
        epochs=epochs,
        initial_epoch=initial_epoch,
        verbose=0,
        callbacks=callbacks,
        validation_data=(x[48:], y[48:]) if validation else None,
        config=BARE,
    )


def drive(logger, logs_per_epoch, first_epoch=0):
    """Run the hooks of a fit with synthetic epoch logs."""
    logger.on_train_begin({})
    for epoch, logs in enumerate(logs_per_epoch, start=first_epoch):
        logger.on_epoch_begin(epoch, {})
        logger.on_epoch_end(epoch, logs)
    logger.on_train_end({})


def epochs_in(path):
    with open(path, newline="") as f:
        return [row[0] for row in csv.reader(f)]


def epoch_logs(recorder):
    return [args[1] for hook, args in recorder.calls if hook == "on_epoch_end"]


def rows(seen, keys, sep=","):
    """The file's text for the epoch logs ``seen``: a header, then one row each."""
    lines = [["epoch", *keys]]
    lines += [[str(e), *(str(logs.get(k, "NA")) for k in keys)] for e, logs in seen]
    return "".join(sep.join(line) + "\n" for line in lines)


class AddKey(Callback):
    """Adds ``key`` to the epoch logs from epoch ``since`` on."""

    def __init__(self, key, since=0):
        super().__init__()
        self.key, self.since = key, since

    def on_epoch_end(self, epoch, logs=None):
        if epoch >= self.since:
            logs[self.key] = epoch / 10


def test_fit_writes_epoch_then_sorted_keys(hookfit_model, hookfit_data, tmp_path, hookfit_host):
    path = tmp_path / "log.csv"
    recorder = Recorder()
    fit(hookfit_model(), hookfit_data, [CSVLogger(path), recorder])
    seen = epoch_logs(recorder)
    # not sorted: the file sorts them (Keras hands every callback its logs sorted)
    order = sorted(LOGGED) if hookfit_host == "keras" else LOGGED
    assert [list(logs) for logs in seen] == [order] * 3
    assert path.read_text() == rows(enumerate(seen), sorted(LOGGED))


def test_exact_text_with_missing_values(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), [{"val_loss": 0.5, "acc": 0.25}, {"val_loss": 0.4}, {"acc": 0.75}])
    assert path.read_text() == "epoch,acc,val_loss\n0,0.25,0.5\n1,NA,0.4\n2,0.75,NA\n"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ([1, 2], '"""[1, 2]"""'),
        ((0.5,), '"""[0.5]"""'),
        (np.array([0.5, 1.5], dtype=np.float32), '"""[0.5, 1.5]"""'),
        (np.float32(0.1), "0.1"),
        (np.float64(0.25), "0.25"),
        (np.int64(3), "3"),
        (np.array(0.5), "0.5"),
        ("text", "text"),
        ("a,b", '"a,b"'),
        (math.nan, "nan"),
        (7, "7"),
    ],
    ids=[
        "list",
        "tuple",
        "1d-array",
        "float32",
        "float64",
        "int64",
        "0d-array",
        "str",
        "str-with-separator",
        "nan",
        "int",
    ],
)
def test_values_are_written_as_keras_writes_them(tmp_path, value, cell):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), [{"v": value}])
    assert path.read_text() == f"epoch,v\n0,{cell}\n"


@pytest.mark.parametrize("separator", [";", "\t", " "], ids=["semicolon", "tab", "space"])
def test_separator(tmp_path, separator):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path, separator=separator), [{"b": 2, "a": 1}, {"a": 3}])
    s = separator
    assert path.read_text() == f"epoch{s}a{s}b\n0{s}1{s}2\n1{s}3{s}NA\n"


def test_overwrites_without_append(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("old contents\n")
    drive(CSVLogger(path), [{"a": 1}])
    assert path.read_text() == "epoch,a\n0,1\n"


def test_append_continues_the_file_with_one_header(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), [{"a": 1}, {"a": 2}])
    drive(CSVLogger(path, append=True), [{"a": 3}, {"a": 4}], first_epoch=2)
    assert path.read_text() == "epoch,a\n0,1\n1,2\n2,3\n3,4\n"


@pytest.mark.parametrize("existing", [None, ""], ids=["missing", "empty"])
def test_append_writes_the_header_to_a_missing_or_empty_file(tmp_path, existing):
    path = tmp_path / "log.csv"
    if existing is not None:
        path.write_text(existing)
    drive(CSVLogger(path, append=True), [{"a": 1}])
    assert path.read_text() == "epoch,a\n0,1\n"


def test_append_keeps_a_keras_file_and_its_line_ends(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"epoch,a\r\n0,1\r\n")
    drive(CSVLogger(path, append=True), [{"a": 2}], first_epoch=1)
    assert path.read_bytes() == b"epoch,a\r\n0,1\r\n1,2\n"


def test_every_row_is_flushed_and_fsynced(hookfit_model, hookfit_data, tmp_path, monkeypatch):
    path = tmp_path / "log.csv"
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))

    class Reader(Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_epoch_begin(self, epoch, logs=None):
            self.seen.append((epoch, epochs_in(path)))

    reader = Reader()
    fit(hookfit_model(), hookfit_data, [CSVLogger(path), reader])
    # every row is in the file (flushed) before the next epoch starts...
    assert reader.seen == [(0, []), (1, ["epoch", "0"]), (2, ["epoch", "0", "1"])]
    # ...and fsync'ed on hookfit's I/O thread, all done when fit returns
    assert len(synced) == 3


def test_parent_folders_are_created(tmp_path):
    path = tmp_path / "run" / "deep" / "log.csv"
    drive(CSVLogger(path), [{"a": 1}])
    assert path.read_text() == "epoch,a\n0,1\n"


def test_path_like_filename_is_kept_as_a_string(tmp_path):
    assert CSVLogger(tmp_path / "log.csv").filename == str(tmp_path / "log.csv")


def test_one_instance_serves_two_fits(hookfit_model, hookfit_data, tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    model = hookfit_model()
    recorder = Recorder()
    fit(model, hookfit_data, [logger, recorder], epochs=2, validation=False)
    assert path.read_text() == rows(enumerate(epoch_logs(recorder)), ["acc", "loss"])
    assert logger.csv_file is None
    recorder = Recorder()
    fit(model, hookfit_data, [logger, recorder], epochs=1)
    assert path.read_text() == rows(enumerate(epoch_logs(recorder)), sorted(LOGGED))


def test_one_appending_instance_continues_over_two_fits(hookfit_model, hookfit_data, tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path, append=True)
    model = hookfit_model()
    fit(model, hookfit_data, [logger], epochs=2)
    fit(model, hookfit_data, [logger], epochs=4, initial_epoch=2)
    assert epochs_in(path) == ["epoch", "0", "1", "2", "3"]


def test_a_late_key_rewrites_the_file_with_its_column(hookfit_model, hookfit_data, tmp_path):
    path = tmp_path / "log.csv"
    recorder = Recorder()
    fit(hookfit_model(), hookfit_data, [AddKey("lr", since=2), CSVLogger(path), recorder], epochs=4)
    seen = epoch_logs(recorder)
    assert [logs.get("lr") for logs in seen] == [None, None, 0.2, 0.3]
    assert path.read_text() == rows(enumerate(seen), sorted([*LOGGED, "lr"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_the_rewrite_keeps_the_file_mode(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,a\n0,1\n")
    path.chmod(0o640)
    drive(CSVLogger(path, append=True), [{"a": 2, "b": 3}], first_epoch=1)
    assert path.read_text() == "epoch,a,b\n0,1,NA\n1,2,3\n"
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o640


def test_an_existing_header_with_other_keys_is_widened(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,lr,val_loss\n0,0.1,0.5\n")
    drive(CSVLogger(path, append=True), [{"val_acc": 0.75, "val_loss": 0.25}], first_epoch=1)
    assert path.read_text() == "epoch,lr,val_acc,val_loss\n0,0.1,NA,0.5\n1,NA,0.75,0.25\n"


def test_a_header_without_an_epoch_column_gets_one(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("a\n1\n")
    drive(CSVLogger(path, append=True), [{"a": 2}], first_epoch=1)
    assert path.read_text() == "epoch,a\nNA,1\n1,2\n"


def _fail(*args, **kwargs):
    raise OSError("disk full")


@pytest.mark.parametrize(
    "target",
    [(csv.DictWriter, "writerows"), (os, "replace")],
    ids=["writing-the-temporary-file", "replacing-the-file"],
)
def test_a_failed_rewrite_loses_no_row(hookfit_model, hookfit_data, tmp_path, monkeypatch, target):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.text = path.read_text()
                monkeypatch.setattr(*target, _fail)

    snapshot = Snapshot()
    with pytest.raises(OSError, match="disk full") as info:
        fit(hookfit_model(), hookfit_data, [AddKey("lr", since=2), logger, snapshot], epochs=4)
    assert any("CSVLogger: rewriting" in note for note in info.value.__notes__)
    assert epochs_in(path) == ["epoch", "0", "1"]
    assert path.read_text() == snapshot.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]
    assert logger.csv_file is None


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras calls no on_train_end after an error (its fit has no finally), so the file stays "
    "open",
)
def test_a_failed_fit_keeps_its_rows_and_closes_the_file(hookfit_model, hookfit_data, tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)

    class Boom(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fit(hookfit_model(), hookfit_data, [logger, Boom()], epochs=4)
    assert epochs_in(path) == ["epoch", "0", "1"]
    assert logger.csv_file is None


def test_append_keeps_every_earlier_row_like_keras(hookfit_model, hookfit_data, tmp_path):
    # Keras 2 users fit one epoch at a time in a loop: every fit's row stays.
    path = tmp_path / "log.csv"
    model = hookfit_model()
    for _ in range(3):
        fit(model, hookfit_data, [CSVLogger(path, append=True)], epochs=1)
    assert epochs_in(path) == ["epoch", "0", "0", "0"]
    drive(CSVLogger(path, append=True), [{"acc": 1}], first_epoch=2)
    assert epochs_in(path) == ["epoch", "0", "0", "0", "2"]


def test_a_resumed_run_drops_the_rows_written_after_its_backup(tmp_path):
    # BackupAndRestore saves state_dict() with its backup and, when it
    # resumes the run, hands it back after on_train_begin.
    path = tmp_path / "log.csv"
    path.write_text("epoch,a\n0,0\n0,1\n")  # an earlier fit's rows
    logger = CSVLogger(path, append=True)
    logger.on_train_begin({})
    for epoch in range(4):
        logger.on_epoch_begin(epoch, {})
        logger.on_epoch_end(epoch, {"a": 10 + epoch})
        if epoch == 1:
            state = json.loads(json.dumps(logger.state_dict()))  # the backup after epoch 1
    logger.on_train_end({})  # killed after epoch 3: epochs 2 and 3 are redone
    resumed = CSVLogger(path, append=True)
    resumed.on_train_begin({})
    resumed.load_state_dict(state)
    for epoch in (2, 3):
        resumed.on_epoch_begin(epoch, {})
        resumed.on_epoch_end(epoch, {"a": 20 + epoch})
    resumed.on_train_end({})
    assert path.read_text() == "epoch,a\n0,0\n0,1\n0,10\n1,11\n2,22\n3,23\n"


@pytest.mark.parametrize("rows", [-1, "2", True, None], ids=["negative", "str", "bool", "none"])
def test_a_bad_saved_row_count_is_refused(tmp_path, rows):
    logger = CSVLogger(tmp_path / "log.csv", append=True)
    with pytest.raises(ValueError, match=r"^rows must be a count of rows, got "):
        logger.load_state_dict({"rows": rows})


def test_a_torn_last_row_is_dropped(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,a\n0,1\n1,")
    drive(CSVLogger(path, append=True), [{"a": 5}], first_epoch=1)
    assert path.read_text() == "epoch,a\n0,1\n1,5\n"


SCRIPT = """
import os, signal, sys
import numpy as np
from hookfit import Callback
from hookfit_csv_logger import CSVLogger

class Kill(Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 3:
            os.kill(os.getpid(), signal.SIGKILL)

rng = np.random.default_rng(0)
x = rng.normal(size=(64, 8)).astype(np.float32)
y = np.eye(3, dtype=np.float32)[(x[:, 0] > 0).astype(int)]
if sys.argv[2] == "minimal":
    from hookfit.testing.host import MinimalHost

    model = MinimalHost(8, 3)
else:
    from hookfit.layers import Dense
    from hookfit.models import Sequential

    model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
# CSVLogger before Kill: epoch 3's row is written before the process dies.
model.fit(x, y, epochs=6, verbose=0, validation_split=0.25,
          callbacks=[CSVLogger(sys.argv[1]), Kill()], config={"hookfit": {"autoload": False}})
"""


@pytest.mark.skipif(not hasattr(os, "kill") or os.name != "posix", reason="needs SIGKILL")
@pytest.mark.parametrize("initial_epoch", [3, 4], ids=["redo-epoch-3", "resume-after-3"])
def test_a_killed_run_leaves_whole_rows_and_append_continues_after_them(
    hookfit_host, hookfit_model, hookfit_data, tmp_path, initial_epoch
):
    path = tmp_path / "run" / "log.csv"
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    done = subprocess.run(
        [sys.executable, str(script), str(path), hookfit_host],
        env=env,
        capture_output=True,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    before = path.read_text().splitlines(keepends=True)
    # CSVLogger ran before the kill: epoch 3's row was written and synced.
    assert epochs_in(path) == ["epoch", "0", "1", "2", "3"]
    fit(
        hookfit_model(),
        hookfit_data,
        [CSVLogger(path, append=True)],
        epochs=6,
        initial_epoch=initial_epoch,
    )
    after = path.read_text().splitlines(keepends=True)
    # no BackupAndRestore: a plain append, as in Keras
    assert epochs_in(path) == ["epoch", "0", "1", "2", "3", *map(str, range(initial_epoch, 6))]
    assert after[: len(before)] == before
    assert after[0] == "epoch,acc,loss,val_acc,val_loss\n"
    assert all(line.count(",") == 4 and "NA" not in line for line in after)


def test_epoch_end_outside_a_run_is_refused(tmp_path):
    with pytest.raises(HookfitError, match=r"CSVLogger: '.*log.csv' is not open"):
        CSVLogger(tmp_path / "log.csv").on_epoch_end(0, {"a": 1})


def test_named_in_config(hookfit_model, hookfit_data, tmp_path):
    path = tmp_path / "log.csv"
    x, y = hookfit_data
    config = {
        "hookfit": {"autoload": False},
        "callbacks": {"csv_logger": {"filename": str(path), "separator": ";"}},
    }
    recorder = Recorder()
    model = hookfit_model()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[recorder], config=config)
    seen = epoch_logs(recorder)
    assert path.read_text() == rows(enumerate(seen), sorted(LOGGED), sep=";")


PATH_HINT = 'expected a non-empty path such as "run/log.csv"'
SEPARATOR_HINT = "expected exactly one character other than a quote or a line break"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filename": ""}, f'filename: {PATH_HINT}, got "".'),
        ({"filename": None}, f"filename: {PATH_HINT}, got None."),
        ({"filename": b"log.csv"}, f"filename: {PATH_HINT}, got b'log.csv'."),
        ({"filename": "DIR"}, 'filename: expected a file, got "DIR", which is a directory.'),
        ({"separator": ""}, f'separator: {SEPARATOR_HINT}, got "".'),
        ({"separator": ";;"}, f'separator: {SEPARATOR_HINT}, got ";;".'),
        ({"separator": 1}, f"separator: {SEPARATOR_HINT}, got 1."),
        ({"separator": '"'}, f'separator: {SEPARATOR_HINT}, got "\\"".'),
        ({"separator": "\n"}, f'separator: {SEPARATOR_HINT}, got "\\n".'),
        ({"append": "yes"}, 'append: expected true or false, got "yes".'),
        ({"append": 1}, "append: expected true or false, got 1."),
    ],
    ids=[
        "empty-filename",
        "no-filename",
        "bytes-filename",
        "directory",
        "empty-separator",
        "two-char-separator",
        "non-str-separator",
        "quote-separator",
        "newline-separator",
        "append-str",
        "append-int",
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, message):
    kwargs = {"filename": str(tmp_path / "log.csv"), **kwargs}
    if kwargs["filename"] == "DIR":
        kwargs["filename"] = str(tmp_path)
        message = message.replace("DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=f"^{re.escape('CSVLogger: ' + message)}$"):
        CSVLogger(**kwargs)


def test_csv_logger_a_destination_that_cannot_be_written_stops_before_the_first_batch(
    hookfit_fit, tmp_path
):
    (tmp_path / "somefile.txt").write_text("not a folder")
    recorder = Recorder()
    with pytest.raises(
        ConfigError,
        match=r"CSVLogger: filename: cannot write files in the folder '.*somefile\.txt/logs': "
        r"'.*somefile\.txt' is a file, not a folder\. Give a path in a folder",
    ):
        hookfit_fit(recorder, CSVLogger(str(tmp_path / "somefile.txt" / "logs" / "log.csv")))
    assert "on_batch_begin" not in recorder.hooks()


def test_a_torn_header_is_cut_so_the_file_starts_afresh(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,lo")
    drive(CSVLogger(path, append=True), [{"loss": 5}])
    assert path.read_text() == "epoch,loss\n0,5\n"


FULL_DISK = """
import resource, signal, sys
from hookfit_csv_logger import CSVLogger

# past the limit a write fails with EFBIG (SIGXFSZ ignored), as on a full disk
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
logger = CSVLogger(sys.argv[1], append=sys.argv[3] == "append")
logger.on_train_begin({})
try:
    for epoch in range(1000):
        logger.on_epoch_end(epoch, {"loss": 2.3245814659e-08})
except OSError as exc:
    print(exc)
finally:
    logger.on_train_end({})
"""


def write_until_full(path, limit, append=False):
    """Run FULL_DISK in a child with a file-size limit of ``limit`` bytes."""
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path), str(limit), "append" if append else "w"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(os.name != "posix", reason="needs RLIMIT_FSIZE")
def test_a_row_that_does_not_fit_on_the_disk_leaves_no_part_of_itself(tmp_path):
    path = tmp_path / "log.csv"
    # header (11 bytes) + 4 whole rows (21 bytes each) + 9 bytes of a fifth
    said = write_until_full(path, 11 + 4 * 21 + 9)
    assert path.read_text() == "epoch,loss\n" + "".join(
        f"{epoch},2.3245814659e-08\n" for epoch in range(4)
    )
    assert re.fullmatch(
        r"\[Errno 27\] CSVLogger: could not write epoch 4's row \(File too large\); the file "
        r"keeps its 4 whole rows and nothing of this one\. Raise the file-size limit "
        r"\(ulimit -f\), then train again with append=True: '.*log\.csv'\n",
        said,
    )
    # given room again, appending continues after the last whole row
    write_until_full(path, 11 + 6 * 21, append=True)
    assert epochs_in(path) == ["epoch", "0", "1", "2", "3", "0", "1"]


@pytest.mark.skipif(os.name != "posix", reason="needs RLIMIT_FSIZE")
def test_a_header_that_does_not_fit_leaves_an_empty_file(tmp_path):
    path = tmp_path / "log.csv"
    said = write_until_full(path, 20)
    assert path.read_bytes() == b""
    assert "could not write epoch 0's row (File too large); the file keeps its 0 whole" in said


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_dev_null_takes_the_rows_without_fsync(hookfit_model, hookfit_data, monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", synced.append)
    fit(hookfit_model(), hookfit_data, [CSVLogger("/dev/null")], epochs=2)
    assert synced == []
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_late_key_on_a_stream_gets_no_column_and_one_warning():
    with pytest.warns(
        HookfitWarning,
        match=r"^CSVLogger: 'lr' first appeared at epoch 1; '/dev/null' is a stream, whose "
        r"header cannot be rewritten, so they get no column \(as in Keras\)\.",
    ) as seen:
        drive(CSVLogger("/dev/null"), [{"a": 1}, {"a": 2, "lr": 0.1}, {"a": 3, "lr": 0.2}])
    assert len(seen) == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_dev_full_is_refused_with_what_the_system_said(hookfit_model, hookfit_data):
    with pytest.raises(
        ConfigError,
        match=r"^CSVLogger: filename: cannot write epoch 0's row to \"/dev/full\", a character "
        r"device: No space left on device\. Give a regular file, or /dev/null to discard the "
        r"rows\.",
    ):
        fit(hookfit_model(), hookfit_data, [CSVLogger("/dev/full")], epochs=2)


def test_dev_stdout_redirected_to_a_file_gets_the_rows(capfd):
    # under capfd, stdout is a file that /dev/stdout reaches through /proc:
    # appended to, never replaced
    drive(CSVLogger("/dev/stdout"), [{"a": 1}, {"a": 2}])
    assert capfd.readouterr().out == "epoch,a\n0,1\n1,2\n"
    assert os.path.islink("/dev/stdout")


def test_dev_stdout_through_a_pipe_gets_the_rows():
    script = (
        "from hookfit_csv_logger import CSVLogger\n"
        "logger = CSVLogger('/dev/stdout', separator=';')\n"
        "logger.on_train_begin({})\n"
        "for epoch in range(3):\n"
        "    logger.on_epoch_end(epoch, {'loss': epoch / 4, 'acc': 1})\n"
        "logger.on_train_end({})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "epoch;acc;loss\n0;1;0.0\n1;1;0.25\n2;1;0.5\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_gets_the_rows(tmp_path):
    fifo = tmp_path / "rows"
    os.mkfifo(fifo)
    received = []

    def read():
        with open(fifo) as f:  # the logger's open waits for this one
            received.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    guard = unblock_after(fifo, 30)
    drive(CSVLogger(fifo, append=True), [{"a": 1}, {"a": 2}])
    reader.join(timeout=30)
    guard.cancel()
    assert received == ["epoch,a\n0,1\n1,2\n"]


def unblock_after(fifo, seconds):
    """Every ``seconds`` until cancelled, open ``fifo`` at both ends without
    waiting and close it: code under test that waits on it forever (opening
    it to read as well, or writing with no reader left) gets an end of file
    or an error, and the test fails instead of hanging."""
    done = threading.Event()

    def unblock():
        while not done.wait(seconds):
            for flags in (os.O_WRONLY, os.O_RDONLY):
                with contextlib.suppress(OSError):  # no one at the other end
                    os.close(os.open(fifo, flags | os.O_NONBLOCK))

    threading.Thread(target=unblock, daemon=True).start()
    return types.SimpleNamespace(cancel=done.set)
