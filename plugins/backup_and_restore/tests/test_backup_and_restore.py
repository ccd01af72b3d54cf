"""BackupAndRestore, installed alone with the core (or with every plugin)."""

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import hookfit
from hookfit import (
    Callback,
    ConfigError,
    FormatError,
    HookfitWarning,
    ModelError,
    PluginValidationError,
)
from hookfit.layers import Dense, Dropout
from hookfit.models import Sequential
from hookfit.testing import Recorder
from hookfit.testing.host import MinimalHost
from hookfit.utils import set_random_seed
from hookfit_backup_and_restore import BackupAndRestore

# A seeded run: shuffling (and, on hookfit's model, dropout) draw from the
# model's generator, Adam has slots, HalveLr changes the learning rate,
# EpochCounter has state. The host is hookfit's model or the minimal one.
SCRIPT = """
import json, os, signal, sys
import numpy as np
import hookfit
from hookfit import Callback
from hookfit.layers import Dense, Dropout
from hookfit.models import Sequential
from hookfit.testing.host import MinimalHost
from hookfit.utils import set_random_seed
from hookfit_backup_and_restore import BackupAndRestore

out, backup_dir, kill, host = sys.argv[1:5]


class EpochCounter(Callback):
    def on_train_begin(self, logs=None):
        self.seen, self.ran = 0, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen += 1
        self.ran.append(epoch)

    def state_dict(self):
        return {"seen": self.seen}

    def load_state_dict(self, state):
        self.seen = state["seen"]


class HalveLr(Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.optimizer.lr = self.model.optimizer.lr / 2


class KillAfterSave(Callback):
    # trylast and placed after BackupAndRestore: runs after the epoch's backup
    # was handed to hookfit's I/O thread, and waits until it is written
    @hookfit.hookimpl(trylast=True)
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2:
            hookfit.background.drain()
            os.kill(os.getpid(), signal.SIGKILL)


class KillBeforeSave(Callback):
    # runs before BackupAndRestore: the epoch's backup is never handed over;
    # the previous one, written in the background, has landed
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2:
            hookfit.background.drain()
            os.kill(os.getpid(), signal.SIGKILL)


class KillMidEpoch(Callback):
    # 3 batches per epoch: after batch 1 of epoch 3, once the backup written
    # in the background since epoch 2 ended has landed (it takes milliseconds)
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_batch_end(self, batch, logs=None):
        self.batches += 1
        if self.batches == 3 * 3 + 2:
            hookfit.background.drain()
            os.kill(os.getpid(), signal.SIGKILL)


KILLERS = {"after-save": KillAfterSave, "before-save": KillBeforeSave, "mid-epoch": KillMidEpoch}

rng = np.random.default_rng(1)
x = rng.normal(size=(64, 8)).astype(np.float32)
y = np.eye(3, dtype=np.float32)[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)]
if host == "minimal":
    model = MinimalHost(8, 3, seed=7)
else:
    set_random_seed(7)
    model = Sequential(
        [Dense(16, activation="relu", input_dim=8), Dropout(0.3), Dense(3, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
lr = model.optimizer.lr
counter = EpochCounter()
plugins = [counter, HalveLr()]
if backup_dir != "-":
    plugins.insert(0, BackupAndRestore(backup_dir))
if kill != "none":
    plugins.append(KILLERS[kill]())
model.fit(
    x, y, batch_size=16, epochs=6, verbose=0, validation_split=0.25, shuffle=True,
    callbacks=plugins,
)
np.savez(out, *model.get_weights())
state = {"seen": counter.seen, "ran": counter.ran, "lr": model.optimizer.lr, "lr0": lr}
with open(out + ".json", "w") as f:
    json.dump(state, f)
"""


def run_script(tmp_path, host, name, backup_dir, kill="none"):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = str(tmp_path / f"{name}.npz")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    proc = subprocess.run(
        [sys.executable, str(script), out, str(backup_dir), kill, host],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if kill != "none":
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        return None, None
    assert proc.returncode == 0, proc.stderr
    with np.load(out) as data:
        weights = [data[f"arr_{i}"] for i in range(len(data.files))]
    return weights, json.loads((tmp_path / f"{name}.npz.json").read_text())


def sequential(seed=7, units=16, optimizer="adam"):
    """hookfit's own model, as SCRIPT builds it (and variants): for the
    resume of dropout and for the refusals of its HDF5 reader."""
    set_random_seed(seed)
    model = Sequential(
        [Dense(units, activation="relu", input_dim=8), Dropout(0.3), Dense(3, activation="softmax")]
    )
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    return model


@pytest.fixture
def build(hookfit_model):
    """Models of the host under test, built alike: a backup of one resumes
    in another (on hookfit's model, with Adam's slots to restore)."""
    return lambda: hookfit_model(optimizer="adam")


def fit(model, data, plugins, epochs=4):
    x, y = data
    model.fit(
        x, y, batch_size=16, epochs=epochs, verbose=0, callbacks=plugins
    )  # 4 batches per epoch
    return model


class Counter(Callback):
    """A stateful plugin: counts epochs, reset at every fit."""

    def on_train_begin(self, logs=None):
        self.seen = 0

    def on_epoch_end(self, epoch, logs=None):
        self.seen += 1

    def state_dict(self):
        return {"seen": self.seen}

    def load_state_dict(self, state):
        self.seen = state["seen"]


class Raise(Callback):
    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch = epoch, batch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise RuntimeError("boom")

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch and self.batch is None:
            raise RuntimeError("boom")


def epochs_run(recorder):
    return [args[0] for hook, args in recorder.calls if hook == "on_epoch_begin"]


def saved_metadata(model, path):
    """The metadata of the backup at ``path``, read by a model like the saved one."""
    return model.restore(path)


# -- (1) killed with SIGKILL, resumed, equal to an uninterrupted run ------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize(
    ("kill", "first_resumed"),
    [("after-save", 3), ("before-save", 2), ("mid-epoch", 3)],
    ids=["epoch-end-after-backup", "epoch-end-before-backup", "mid-epoch"],
)
def test_killed_run_resumes_to_the_exact_weights_of_an_uninterrupted_run(
    tmp_path, hookfit_host, kill, first_resumed
):
    backup = tmp_path / "backup"
    reference, ref_state = run_script(tmp_path, hookfit_host, "reference", "-")
    run_script(tmp_path, hookfit_host, "killed", backup, kill=kill)
    assert os.listdir(backup) == ["backup.h5"]
    like_the_script = MinimalHost(8, 3) if hookfit_host == "minimal" else sequential()
    assert saved_metadata(like_the_script, backup / "backup.h5")["epoch"] == first_resumed
    weights, state = run_script(tmp_path, hookfit_host, "resumed", backup)
    for got, want in zip(weights, reference, strict=True):
        np.testing.assert_array_equal(got, want)
    assert state["ran"] == list(range(first_resumed, 6))
    assert state["seen"] == ref_state["seen"] == 6
    assert state["lr"] == ref_state["lr"] == state["lr0"] / 2**6
    assert not backup.exists()


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras saves no shuffling state: a resumed Keras fit draws other batch orders than the "
    "uninterrupted one, so its weights differ (Keras's own BackupAndRestore too)",
)
def test_resume_in_process_after_an_error_restores_the_plugin_state(tmp_path, hookfit_data, build):
    reference = fit(build(), hookfit_data, [], epochs=5).get_weights()
    with pytest.raises(RuntimeError, match="boom"):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), Counter(), Raise(3)], 5)
    counter, recorder = Counter(), Recorder()
    model = fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), counter, recorder], 5)
    assert epochs_run(recorder) == [3, 4]
    assert counter.seen == 5
    for got, want in zip(model.get_weights(), reference, strict=True):
        np.testing.assert_array_equal(got, want)


def test_an_integer_save_freq_backs_up_every_n_batches(tmp_path, hookfit_data, build):
    backup = tmp_path / "b"
    with pytest.raises(RuntimeError, match="boom"):
        fit(build(), hookfit_data, [BackupAndRestore(backup, save_freq=3), Raise(1, batch=3)])
    # 8 batches ran: backups after the 3rd (epoch 0, batch 2) and 6th (epoch 1, batch 1)
    meta = saved_metadata(build(), backup / "backup.h5")
    assert (meta["epoch"], meta["batch"]) == (1, 1)
    recorder = Recorder()
    fit(build(), hookfit_data, [BackupAndRestore(backup, save_freq=3), recorder])
    assert epochs_run(recorder) == [1, 2, 3]


def test_an_integer_save_freq_writes_nothing_at_epoch_end(tmp_path, hookfit_data, build):
    with pytest.raises(RuntimeError, match="boom"):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b", save_freq=100), Raise(2)])
    assert not (tmp_path / "b").exists()


# -- (2) when the backup is deleted --------------------------------------------


def test_the_folder_is_removed_after_a_finished_run(tmp_path, hookfit_data, build):
    seen = []

    class Look(Callback):
        def on_epoch_end(self, epoch, logs=None):
            hookfit.background.drain()  # the backups are written in the background
            seen.append(sorted(os.listdir(tmp_path / "b")) if (tmp_path / "b").exists() else [])

    fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), Look()], epochs=3)
    assert seen == [[], ["backup.h5"], ["backup.h5"]]
    assert not (tmp_path / "b").exists()


def test_the_folder_is_removed_after_a_plugin_stopped_training(tmp_path, hookfit_data, build):
    class Stop(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), Stop()])
    assert not (tmp_path / "b").exists()


def test_the_backup_is_kept_after_an_exception(tmp_path, hookfit_data, build):
    with pytest.raises(RuntimeError, match="boom"):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), Raise(2)])
    assert os.listdir(tmp_path / "b") == ["backup.h5"]
    assert saved_metadata(build(), tmp_path / "b" / "backup.h5")["epoch"] == 2


def test_the_backup_is_kept_with_delete_checkpoint_false(tmp_path, hookfit_data, build):
    fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    meta = saved_metadata(build(), tmp_path / "b" / "backup.h5")
    assert (meta["epoch"], meta["batch"], meta["stop_training"]) == (4, None, False)


def dead_pid():
    """The pid of a process that has ended (its temporary files are stale)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def test_the_cleanup_deletes_only_its_own_files(tmp_path, hookfit_data, build):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")
    (tmp_path / "b" / f".backup.h5.tmp-{dead_pid()}-0bad").write_bytes(b"half")  # a killed save
    # another writer's leftover, named as atomic files are: not BackupAndRestore's
    other = f".notes.txt.tmp-{dead_pid()}-0bad"
    (tmp_path / "b" / other).write_bytes(b"theirs")
    with pytest.warns(
        HookfitWarning,
        match=r"deleted .*backup\.h5; the folder '.*b' is kept: it holds other files\.$",
    ):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b")])
    assert sorted(os.listdir(tmp_path / "b")) == [other, "notes.txt"]


class Release(Callback):
    """Put first: its on_train_end lets the stuck disk write."""

    def __init__(self, host):
        super().__init__()
        self.host = host

    def on_train_end(self, logs=None):
        self.host.release.set()


def test_behind_a_stuck_disk_a_newer_backup_replaces_the_pending_one(tmp_path, hookfit_data):
    from hookfit.testing.faults import StuckDiskHost

    host = StuckDiskHost(8, 3)
    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    x, y = hookfit_data
    host.fit(x, y, epochs=20, verbose=0, callbacks=[Release(host), backup])  # no warning
    assert host.saves == 20
    assert host.most_copies <= 2  # the one being written, the newest waiting
    # the last backup written is the newest: a resume starts after epoch 20
    assert MinimalHost(8, 3).restore(tmp_path / "b" / "backup.h5")["epoch"] == 20


def test_a_stale_temporary_file_alone_means_no_backup(tmp_path, hookfit_data, build):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / f".backup.h5.tmp-{dead_pid()}-0bad").write_bytes(b"half")
    recorder = Recorder()
    fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), recorder])
    assert epochs_run(recorder) == [0, 1, 2, 3]
    assert not (tmp_path / "b").exists()


# -- (3) resuming a finished backup --------------------------------------------


def test_resuming_a_finished_backup_trains_nothing_more(tmp_path, hookfit_data, build):
    done = fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    recorder = Recorder()
    model = fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), recorder])
    assert epochs_run(recorder) == []
    assert recorder.hooks() == ["on_train_begin", "on_train_end"]
    for got, want in zip(model.get_weights(), done.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    assert not (tmp_path / "b").exists()


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras saves no shuffling state: a resumed Keras fit draws other batch orders than the "
    "uninterrupted one, so its weights differ (Keras's own BackupAndRestore too)",
)
def test_more_epochs_continue_a_finished_backup(tmp_path, hookfit_data, build):
    reference = fit(build(), hookfit_data, [], epochs=6).get_weights()
    fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    recorder = Recorder()
    model = fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), recorder], epochs=6)
    assert epochs_run(recorder) == [4, 5]
    for got, want in zip(model.get_weights(), reference, strict=True):
        np.testing.assert_array_equal(got, want)


def test_resuming_a_run_a_plugin_stopped_trains_nothing_more(tmp_path, hookfit_data, build):
    class StopAt1(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = epoch == 1

    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    fit(build(), hookfit_data, [backup, StopAt1()], epochs=6)
    assert saved_metadata(build(), tmp_path / "b" / "backup.h5")["stop_training"] is True
    recorder = Recorder()
    fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), recorder], epochs=6)
    assert epochs_run(recorder) == []


# -- (4) refusals -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backup_dir": ""}, 'backup_dir: expected a folder path, got "".'),
        ({"backup_dir": None}, "backup_dir: expected a folder path, got None."),
        ({"backup_dir": 3}, "backup_dir: expected a folder path, got 3."),
        (
            {"backup_dir": "b", "save_freq": 0},
            "save_freq: expected one of 'epoch' or an integer >= 1, got 0.",
        ),
        (
            {"backup_dir": "b", "save_freq": -2},
            "save_freq: expected one of 'epoch' or an integer >= 1, got -2.",
        ),
        (
            {"backup_dir": "b", "save_freq": "batch"},
            """save_freq: expected one of 'epoch' or an integer >= 1, got "batch".""",
        ),
        (
            {"backup_dir": "b", "save_freq": True},
            "save_freq: expected one of 'epoch' or an integer >= 1, got true.",
        ),
        (
            {"backup_dir": "b", "save_freq": 1.5},
            "save_freq: expected one of 'epoch' or an integer >= 1, got 1.5.",
        ),
        (
            {"backup_dir": "b", "delete_checkpoint": "yes"},
            'delete_checkpoint: expected true or false, got "yes".',
        ),
    ],
    ids=[
        "empty-dir",
        "none-dir",
        "int-dir",
        "zero-freq",
        "negative-freq",
        "word-freq",
        "bool-freq",
        "float-freq",
        "str-delete",
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(f'BackupAndRestore: {message}')}$"):
        BackupAndRestore(**kwargs)


def test_a_backup_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(ConfigError, match=r"backup_dir '.*taken' is a file; give a folder"):
        BackupAndRestore(tmp_path / "taken")


def test_a_folder_where_the_backup_file_goes_is_refused_before_training(
    tmp_path, hookfit_data, build
):
    (tmp_path / "b" / "backup.h5").mkdir(parents=True)
    recorder = Recorder()
    with pytest.raises(
        ConfigError,
        match=r"^BackupAndRestore: backup_dir: '.*b/backup\.h5', where the backup file goes, is a "
        r"folder; remove or rename it, or give another backup_dir\.",
    ):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), recorder])
    assert "on_batch_begin" not in recorder.hooks()


@pytest.mark.skipif(os.name != "posix", reason="needs symbolic links")
def test_a_backup_dir_that_is_a_symbolic_link_is_kept_and_said_so(tmp_path, hookfit_data, build):
    (tmp_path / "real").mkdir()
    (tmp_path / "b").symlink_to(tmp_path / "real")
    with pytest.warns(
        HookfitWarning,
        match=r"deleted .*backup\.h5; the folder '.*b' is a symbolic link to '.*real': the link "
        r"and the folder it leads to are kept\.$",
    ):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b")])
    assert (tmp_path / "b").is_symlink() and os.listdir(tmp_path / "real") == []


def make_backup(tmp_path, hookfit_data, model, plugins=()):
    """Leave the backup of ``model``'s run, stopped by an error at epoch 2."""
    with pytest.raises(RuntimeError, match="boom"):
        fit(model, hookfit_data, [BackupAndRestore(tmp_path / "b"), *plugins, Raise(2)])
    return tmp_path / "b" / "backup.h5"


def corrupt_truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def corrupt_garbage(path):
    path.write_bytes(b"not an HDF5 file at all")


@pytest.mark.parametrize(
    "spoil", [corrupt_truncated, corrupt_garbage], ids=["truncated", "garbage"]
)
def test_an_unreadable_backup_is_refused_and_kept(tmp_path, hookfit_data, spoil, build):
    path = make_backup(tmp_path, hookfit_data, build())
    spoil(path)
    with pytest.raises(FormatError, match=r"^BackupAndRestore: cannot resume: .*b/backup\.h5") as e:
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b")])
    assert str(e.value).endswith(f"Delete the folder {str(tmp_path / 'b')!r} to start over.")
    assert path.exists()


@pytest.mark.parametrize(
    ("spoil", "model", "message"),
    [
        (corrupt_truncated, {}, "is not a readable hookfit/Keras HDF5 model file"),
        (corrupt_garbage, {}, "is not a readable hookfit/Keras HDF5 model file"),
        (None, {"units": 12}, r"has shape \(8, 16\); the model needs \(8, 12\)"),
        (None, {"optimizer": "sgd"}, "holds Adam state; the model is compiled with SGD"),
    ],
    ids=["truncated", "garbage", "other-shapes", "other-optimizer"],
)
def test_hookfit_s_reasons_to_refuse_a_backup_are_passed_on(
    tmp_path, hookfit_data, spoil, model, message
):
    path = make_backup(tmp_path, hookfit_data, sequential())
    if spoil:
        spoil(path)
    with pytest.raises(FormatError, match=rf"^BackupAndRestore: cannot resume: .*{message}.*"):
        fit(sequential(**model), hookfit_data, [BackupAndRestore(tmp_path / "b")])
    assert path.exists()


class FailingHost(MinimalHost):
    """A host whose restore fails with ``error``, as another trainer's might."""

    def __init__(self, error):
        super().__init__(8, 3)
        self.error = error

    def restore(self, filepath):
        raise self.error


def test_another_host_s_read_error_is_a_format_error_with_the_way_out(tmp_path, hookfit_data):
    path = make_backup(tmp_path, hookfit_data, MinimalHost(8, 3))
    error = OSError("disk on fire")
    with pytest.raises(FormatError) as caught:
        fit(FailingHost(error), hookfit_data, [BackupAndRestore(tmp_path / "b")])
    assert str(caught.value) == (
        f"BackupAndRestore: cannot resume: {path}: OSError: disk on fire Delete the folder "
        f"{str(tmp_path / 'b')!r} to start over."
    )
    assert caught.value.__cause__ is error and path.exists()


def test_a_hookfit_error_that_is_not_about_the_file_passes_unchanged(tmp_path, hookfit_data):
    path = make_backup(tmp_path, hookfit_data, MinimalHost(8, 3))
    error = ModelError("restore() needs a built model")
    with pytest.raises(ModelError) as caught:
        fit(FailingHost(error), hookfit_data, [BackupAndRestore(tmp_path / "b")])
    assert caught.value is error and path.exists()


def test_a_model_file_that_is_not_a_backup_is_refused(tmp_path, hookfit_data, build):
    (tmp_path / "b").mkdir()
    build().save(tmp_path / "b" / "backup.h5")
    with pytest.raises(FormatError, match=r"backup\.h5 holds no BackupAndRestore backup\. Delete"):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b")])


def test_a_plugin_that_refuses_its_saved_state_is_named(tmp_path, hookfit_data, build):
    make_backup(tmp_path, hookfit_data, build(), [Counter()])

    def load_state_dict(self, state):
        self.seen = state["count"]

    # Named like the saved plugin, with another state layout.
    picky = type("Counter", (Counter,), {"load_state_dict": load_state_dict})()
    with pytest.raises(
        FormatError,
        match=r"^BackupAndRestore: plugin 'Counter' refused its state from .*backup\.h5 "
        r"\(KeyError: 'count'\)\. Delete the folder",
    ):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), picky])


def test_a_state_dict_that_json_cannot_hold_is_refused(tmp_path, hookfit_data, build):
    class Arrays(Counter):
        def state_dict(self):
            return {"seen": np.zeros(2)}

    with pytest.raises(PluginValidationError, match=r"plugin 'Arrays'.s state_dict\(\) must"):
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), Arrays()])


# -- (5) plugins that do not match ---------------------------------------------


def test_plugins_missing_on_either_side_warn_and_are_skipped(tmp_path, hookfit_data, build):
    class Other(Counter):
        pass

    make_backup(tmp_path, hookfit_data, build(), [Counter()])
    other = Other()
    with pytest.warns(HookfitWarning) as caught:
        fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), other])
    path = tmp_path / "b" / "backup.h5"
    assert sorted(str(w.message) for w in caught) == [
        f"BackupAndRestore: plugin 'Counter' is not in this run; its saved state is ignored "
        f"({path}).",
        f"BackupAndRestore: plugin 'Other' of this run has no saved state; it starts afresh "
        f"({path}).",
    ]
    assert other.seen == 2  # started afresh: epochs 2 and 3 only


def test_matching_plugins_resume_without_warnings(tmp_path, hookfit_data, recwarn, build):
    make_backup(tmp_path, hookfit_data, build(), [Counter()])
    counter = Counter()
    fit(build(), hookfit_data, [BackupAndRestore(tmp_path / "b"), counter])
    assert counter.seen == 4
    assert not [w for w in recwarn if issubclass(w.category, HookfitWarning)]


# -- config file ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "meta"),
    [({}, (4, None)), ({"save_freq": 3}, (3, 2))],  # the 15th of 16 batches
    ids=["epoch", "every-3-batches"],
)
def test_enabled_from_the_config_file(tmp_path, hookfit_data, settings, meta, build):
    x, y = hookfit_data
    section = {"backup_dir": str(tmp_path / "b"), "delete_checkpoint": False, **settings}
    config = {"callbacks": {"backup_and_restore": section}}
    build().fit(x, y, batch_size=16, epochs=4, verbose=0, config=config)
    saved = saved_metadata(build(), tmp_path / "b" / "backup.h5")
    assert (saved["epoch"], saved["batch"]) == meta


def test_a_bad_config_value_is_refused_before_training(tmp_path, hookfit_data, build):
    x, y = hookfit_data
    config = {"callbacks": {"backup_and_restore": {"backup_dir": "", "save_freq": 2}}}
    recorder = Recorder()
    message = (
        'callbacks.backup_and_restore.backup_dir: expected a folder path, got "" '
        "(BackupAndRestore's argument backup_dir)."
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        build().fit(x, y, epochs=1, verbose=0, callbacks=[recorder], config=config)
    assert recorder.calls == []


def test_backup_and_restore_a_destination_that_cannot_be_written_stops_before_the_first_batch(
    hookfit_fit, tmp_path
):
    (tmp_path / "somefile.txt").write_text("not a folder")
    recorder = Recorder()
    with pytest.raises(
        ConfigError,
        match=r"BackupAndRestore: backup_dir: cannot write files in the folder "
        r"'.*somefile\.txt/backup': "
        r"'.*somefile\.txt' is a file, not a folder\. Give a path in a folder",
    ):
        hookfit_fit(recorder, BackupAndRestore(str(tmp_path / "somefile.txt" / "backup")))
    assert "on_batch_begin" not in recorder.hooks()
