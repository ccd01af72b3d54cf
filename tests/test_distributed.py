"""Data-parallel training over MPI (hookfit.distributed), with real
``mpiexec -n 2`` processes: the ranks end with the weights one process
reaches, every plugin sees the same logs on every rank, writers run on rank
0 only, a stop or an error on one rank ends every rank. Plus the world of
one that a script gets outside mpiexec."""

import csv
import io
import json
import os
import re
import sys
import threading
import time

import numpy as np
import pytest

import hookfit
import hookfit.distributed as dist
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit.trainer import threads
from hookfit.utils import set_random_seed

# Every scenario in one script: SCENARIO OUT_DIR. Each rank writes
# OUT_DIR/rank<r>.json with what its plugins saw and its final weights.
SCRIPT = """
import json, sys
import numpy as np
import hookfit
import hookfit.distributed as dist
from hookfit.callbacks import BackupAndRestore, CSVLogger, EarlyStopping, ModelCheckpoint
from hookfit.layers import BatchNormalization, Dense, Dropout
from hookfit.models import Sequential
from hookfit.utils import set_random_seed

scenario, out = sys.argv[1], sys.argv[2]
dist.initialize()
rank = dist.rank()


class Record(hookfit.Callback):
    def on_train_begin(self, logs=None):
        self.plugins, self.batches, self.tests = sorted(self.model.plugins), [], []
        self.generators = []
        self.threads = None

    def on_epoch_begin(self, epoch, logs=None):
        from threadpoolctl import threadpool_info
        self.threads = max((p["num_threads"] for p in threadpool_info()), default=1)
        # what this epoch's shuffle order is drawn from
        self.generators.append(str(self.model.rng.bit_generator.state))

    def on_batch_end(self, batch, logs=None):
        self.batches.append(dict(logs))

    def on_test_batch_end(self, batch, logs=None):
        self.tests.append(dict(logs))


class StopOnOneRank(hookfit.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if rank == 1 and self.epoch == 1 and batch == 2:
            self.model.stop_training = True


class FailOnOneRank(hookfit.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if rank == 1 and epoch == 2:
            raise RuntimeError("boom on rank 1")


rng = np.random.default_rng(0)
x = rng.random((203, 8), dtype=np.float32)
y = x[:, :3].argmax(axis=1)
set_random_seed(3)
# dropout draws from the generator that shuffles: each rank the whole batch's mask
middle = {"stop": [Dropout(0.3)], "dropout": [Dropout(0.3)],
          "batchnorm": [BatchNormalization(momentum=0.5)]}.get(scenario, [])
model = Sequential([Dense(16, input_dim=8, activation="relu"), *middle,
                    Dense(3, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
plugins = {
    "exact": [CSVLogger(out + "/log.csv"), ModelCheckpoint(out + "/ckpt/w.{epoch:02d}.h5")],
    "dropout": [],
    "batchnorm": [],
    "weighted": [],
    "early": [EarlyStopping(monitor="val_loss", min_delta=1.0, patience=1)],
    "stop": [StopOnOneRank()],
    "fail": [FailOnOneRank()],
    "backup": [BackupAndRestore(out + "/backup", delete_checkpoint=False)],
    "resume": [BackupAndRestore(out + "/backup")],
}[scenario]
record = Record()
# a quarter of the samples weigh nothing: a share's mean divides by the whole batch's count
weights = np.where(rng.random(203) < 0.25, 0.0, rng.random(203) + 0.5).astype(np.float32)
history = model.fit(x, y, batch_size=20, epochs=2 if scenario == "backup" else 4,
                    validation_split=0.25, verbose=1, callbacks=[record, *plugins],
                    sample_weight=weights if scenario == "weighted" else None)
with open(f"{out}/rank{rank}.json", "w") as f:
    json.dump({
        "size": dist.size(),
        "history": history.history,
        "epochs": history.epoch,
        "batches": record.batches,
        "tests": record.tests,
        "plugins": record.plugins,
        "threads": record.threads,
        "generators": record.generators,
        "weights": np.concatenate([w.ravel() for w in model.get_weights()]).tolist(),
        "evaluate": model.evaluate(x, y, batch_size=50, verbose=0),
    }, f)
"""


@pytest.fixture
def scenario(tmp_path, hookfit_mpiexec):
    """Run a scenario of SCRIPT: ``ranks`` processes under mpiexec, or
    plain Python (``ranks=None``); returns (process, [each rank's record])."""
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)

    def run(name, ranks=2, out=None, timeout=60.0):
        out = out or tmp_path / f"{name}-{ranks}"
        out.mkdir(exist_ok=True)
        if ranks is None:
            import subprocess

            process = subprocess.run(
                [sys.executable, str(script), name, str(out)],
                capture_output=True,
                text=True,
                check=False,
                timeout=timeout,
            )
        else:
            process = hookfit_mpiexec(
                sys.executable, str(script), name, str(out), n=ranks, timeout=timeout
            )
        records = [json.loads(p.read_text()) for p in sorted(out.glob("rank*.json"))]
        return process, records

    return run


@pytest.mark.mpi
@pytest.mark.parametrize("name", ["exact", "dropout", "batchnorm", "weighted"])
def test_two_ranks_end_with_one_process_weights_and_see_the_same_logs(scenario, name):
    single, (alone,) = scenario(name, ranks=None)
    assert single.returncode == 0, single.stderr
    process, ranks = scenario(name)
    assert process.returncode == 0, process.stderr
    first, second = ranks
    assert first["size"] == second["size"] == 2
    # every rank the same update: the same weights, bit for bit
    assert first["weights"] == second["weights"]
    # batch statistics summed over two ranks round differently from one process's
    # float32 sums, and Adam magnifies that for weights with tiny gradients
    np.testing.assert_allclose(
        first["weights"], alone["weights"], atol=1e-3 if name == "batchnorm" else 1e-4
    )
    # every plugin sees the global logs: the whole batch, the whole validation set
    assert first["history"] == second["history"]
    assert first["batches"] == second["batches"]
    assert first["tests"] == second["tests"]
    assert [b["size"] for b in first["batches"]] == [b["size"] for b in alone["batches"]]
    assert [t["size"] for t in first["tests"]] == [t["size"] for t in alone["tests"]]
    for key, values in alone["history"].items():
        np.testing.assert_allclose(first["history"][key], values, rtol=1e-5, err_msg=key)
    # evaluate too: each rank a share of each batch, the metrics over all of x
    assert first["evaluate"] == second["evaluate"]
    np.testing.assert_allclose(first["evaluate"], alone["evaluate"], rtol=1e-5)
    # one BLAS thread per rank: the processes are the parallelism
    assert first["threads"] == second["threads"] == 1


@pytest.mark.mpi
def test_writers_run_on_rank_zero_only(scenario, tmp_path):
    process, (first, second) = scenario("exact")
    assert process.returncode == 0, process.stderr
    writers = {"csv_logger", "model_checkpoint", "progbar_logger"}
    assert writers <= set(first["plugins"])
    assert not writers & set(second["plugins"])
    assert {"history", "base_logger"} <= set(second["plugins"])
    out = tmp_path / "exact-2"
    with open(out / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    assert float(rows[-1]["val_loss"]) == pytest.approx(first["history"]["val_loss"][-1])
    assert sorted(p.name for p in (out / "ckpt").iterdir()) == [
        f"w.{epoch:02d}.h5" for epoch in (1, 2, 3, 4)
    ]
    # one progress bar: rank 0's
    assert process.stdout.count("Epoch 1/4") == 1


@pytest.mark.mpi
def test_early_stopping_ends_both_ranks_at_the_same_epoch(scenario):
    process, (first, second) = scenario("early")
    assert process.returncode == 0, process.stderr
    assert first["epochs"] == second["epochs"] == [0, 1]


@pytest.mark.mpi
def test_a_stop_asked_on_one_rank_stops_both_at_the_same_batch(scenario):
    process, (first, second) = scenario("stop")
    assert process.returncode == 0, process.stderr
    assert first["epochs"] == second["epochs"] == [0, 1]
    assert first["batches"] == second["batches"]
    # epoch 1 ran batches 0, 1 and 2: rank 1 asked to stop after batch 2
    assert [b["batch"] for b in first["batches"]][-4:] == [7, 0, 1, 2]
    assert first["weights"] == second["weights"]
    # with dropout too, every epoch's shuffle comes from the same generator state
    assert first["generators"] == second["generators"]
    assert len(set(first["generators"])) == 2


@pytest.mark.mpi
def test_an_error_on_one_rank_ends_both_ranks_with_its_traceback(scenario):
    start = time.monotonic()
    failed, records = scenario("fail", timeout=60)
    assert time.monotonic() - start < 30  # not the timeout's kill: the ranks ended themselves
    assert failed.returncode != 0
    assert "RuntimeError: boom on rank 1" in failed.stderr
    assert records == []  # neither rank went on past fit


def test_an_aborting_rank_waits_until_its_output_pipe_is_read():
    # MPI_Abort does not read what is left in the rank's pipes: the error
    # line at the end of a traceback was lost in 1 run of 10 before the wait
    line = "RuntimeError: boom\n"
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb") as reader, os.fdopen(write_fd, "w") as stream:
        stream.write(line)
        stream.flush()
        assert dist._unread(write_fd) == len(line)
        assert not dist._wait_until_read(stream, timeout=0.01)  # nobody read it yet
        drained = threading.Thread(target=reader.read, args=(len(line),))
        drained.start()
        assert dist._wait_until_read(stream, timeout=60)
        drained.join()


def test_an_aborting_rank_does_not_wait_on_a_file_or_a_closed_stream(tmp_path):
    closed = io.StringIO()
    closed.close()
    with open(tmp_path / "log", "w") as file:
        file.write("unflushed")
        assert dist._wait_until_read(file, io.StringIO(), closed, timeout=0)


@pytest.mark.mpi
def test_backup_and_restore_resumes_every_rank_from_rank_zeros_backup(scenario, tmp_path):
    out = tmp_path / "backup-run"
    backed_up, _ = scenario("backup", out=out)
    assert backed_up.returncode == 0, backed_up.stderr
    assert (out / "backup" / "backup.h5").is_file()  # rank 0's: rank 1 has no BackupAndRestore
    resumed, (first, second) = scenario("resume", out=out)
    assert resumed.returncode == 0, resumed.stderr
    assert "backup_and_restore" not in second["plugins"]
    assert first["epochs"] == second["epochs"] == [2, 3]
    assert first["weights"] == second["weights"]
    # rank 1 resumed from rank 0's state: the uninterrupted run's weights
    _, (alone,) = scenario("exact", ranks=None)
    np.testing.assert_allclose(first["weights"], alone["weights"], atol=1e-4)


@pytest.mark.mpi
def test_hookfit_train_distributed_trains_the_bundled_example_once(hookfit_mpiexec, tmp_path):
    process = hookfit_mpiexec(
        sys.executable, "-m", "hookfit", "train", "--distributed", "--set", "fit.epochs=2"
    )
    assert process.returncode == 0, process.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    with open(run_dir / "log.csv", newline="") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1"]
    assert any((run_dir / "checkpoints").iterdir())
    assert process.stdout.count("training with bundled example") == 1
    assert process.stdout.count("Last epoch (2)") == 1


@pytest.mark.mpi
def test_hookfit_train_distributed_ends_every_rank_when_rank_zero_refuses_a_setting(
    hookfit_mpiexec, tmp_path
):
    # only rank 0 runs CSVLogger, so only rank 0 refuses; rank 1 must not wait for it
    (tmp_path / "a-file").write_text("")
    setting = "callbacks.csv_logger.filename=a-file/log.csv"
    process = hookfit_mpiexec(
        sys.executable, "-m", "hookfit", "train", "--distributed", "--set", setting
    )
    assert process.returncode == 2
    assert process.stderr.count("hookfit: error: command line: --set " + setting) == 1
    assert not (tmp_path / "runs").exists()


# -- a world of one: outside mpiexec --------------------------------------------------


def test_outside_mpiexec_the_world_has_one_process_and_fit_is_unchanged(
    hookfit_model, hookfit_data
):
    dist.initialize()
    dist.initialize()  # again: nothing more
    assert (dist.rank(), dist.size()) == (0, 1)
    assert dist.broadcast({"a": 1}) == {"a": 1}
    assert dist.any_rank(True) is True
    buffer = np.ones(3, dtype=np.float32)
    dist.allreduce(buffer)
    np.testing.assert_array_equal(buffer, 1)
    x, y = hookfit_data
    model = hookfit_model()
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.epoch) == 2


def test_a_script_that_never_joins_does_not_load_mpi():
    import subprocess

    script = (
        "import sys, numpy as np\n"
        "from hookfit.layers import Dense\n"
        "from hookfit.models import Sequential\n"
        "model = Sequential([Dense(2, input_dim=3, activation='softmax')])\n"
        "model.compile('sgd', 'categorical_crossentropy')\n"
        "model.fit(np.ones((4, 3), 'float32'), np.eye(2, dtype='float32')[[0, 1, 0, 1]],"
        " verbose=0)\n"
        "print('mpi4py' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_without_mpi4py_initialize_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # what an uninstalled package does
    monkeypatch.setattr(dist, "_joined", False)
    with pytest.raises(hookfit.MissingDependencyError, match=r'pip install "hookfit\[mpi\]"'):
        dist.initialize()


def test_hookfit_train_distributed_without_mpi4py_says_what_to_install(monkeypatch, capsys):
    from hookfit.cli.main import main

    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(dist, "_joined", False)
    assert main(["train", "--distributed"]) == 2
    assert (
        "hookfit: error: hookfit.distributed.initialize() needs mpi4py" in capsys.readouterr().err
    )


def test_one_blas_thread_per_rank_unless_threads_is_given(monkeypatch):
    model = Sequential([Dense(512, input_dim=784), Dense(10)])
    monkeypatch.setattr(dist, "size", lambda: 2)
    assert threads.Policy(model, 128).choose() == 1
    assert threads.Policy(model, 128, threads=2).choose() == 2


def test_a_writer_is_left_out_on_the_other_ranks(hookfit_model):
    from hookfit.hooks.dispatch import Run

    class Entry:
        def __init__(self, obj):
            self.name, self.obj, self.label = type(obj).__name__, obj, type(obj).__name__

    class Writer(hookfit.Callback):
        writes = True

        def on_epoch_end(self, epoch, logs=None):
            pass

    class Control(hookfit.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class Printer:  # the hookimpl style declares it the same way
        writes = True

        @hookfit.hookimpl
        def on_epoch_end(self, epoch):
            pass

    model = hookfit_model()
    plugins = [Entry(Writer()), Entry(Control()), Entry(Printer())]
    assert list(Run(plugins, model, {}, rank=0).plugins) == ["Writer", "Control", "Printer"]
    assert list(Run(plugins, model, {}, rank=1).plugins) == ["Control"]


def test_fit_generator_under_mpi_says_to_use_fit_with_arrays(
    hookfit_model, hookfit_data, monkeypatch
):
    x, y = hookfit_data
    model = hookfit_model()
    monkeypatch.setattr(dist, "size", lambda: 2)  # refused before any MPI call

    def batches():
        while True:
            yield x[:8], y[:8]

    with pytest.raises(hookfit.ConfigError, match=r"fit_generator: not data-parallel under MPI"):
        model.fit_generator(batches(), steps_per_epoch=2, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "dtypes",
    [("float32", "float32"), ("float64", "float32")],
    ids=["one-flat-buffer", "several-dtypes"],
)
def test_a_data_parallel_step_in_a_world_of_one_is_the_plain_step(dtypes, hookfit_rng):
    from hookfit.trainer.parallel import MPIStep

    x = hookfit_rng.random((12, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[hookfit_rng.integers(0, 3, 12)]

    def model():
        set_random_seed(5)
        built = Sequential(
            [
                Dense(6, input_dim=4, activation="relu", dtype=dtypes[0]),
                Dense(3, activation="softmax", dtype=dtypes[1]),
            ]
        )
        built.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        return built

    plain, shared = model(), model()
    parallel = MPIStep(shared, batch_size=7, samples=21)
    assert parallel.packed is (dtypes[0] == dtypes[1])
    weights = np.array([1, 0, 2, 1, 1, 0.5, 1], dtype="float32")
    for start, sample_weight in ((0, None), (5, weights)):
        batch = (x[start : start + 7], y[start : start + 7], sample_weight)
        loss, acc = plain.fit_batch(*batch)
        size = parallel.batch_size(batch, False)
        shared_loss, shared_acc = parallel.update(batch)
        assert size == len(batch[0])
        assert shared_loss == pytest.approx(loss, rel=1e-6)
        assert shared_acc == pytest.approx(acc)
    for mine, theirs in zip(shared.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert parallel.batch_size((x[:7], y[:7], None), True) is None  # a stop: no update


# -- ranks that disagree or leave early: never a hang, never a silent status 0 --------

# CASE: rank 1 is given something else than rank 0, or leaves the fit early
LEAVE = """
import os, signal, sys
import numpy as np
import hookfit
import hookfit.distributed as dist
from hookfit.layers import Dense
from hookfit.models import Sequential

case = sys.argv[1]
dist.initialize()
rank = dist.rank()
other = rank == 1


class Leave(hookfit.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print(f"rank {rank} finished epoch {epoch}", flush=True)
        if other and epoch == 1:
            if case.startswith("sys-exit-"):
                sys.exit(int(case.rsplit("-", 1)[1]))
            if case == "os-exit-0":
                os._exit(0)
            if case in ("sigkill", "sigterm"):
                os.kill(os.getpid(), getattr(signal, case.upper()))

    def on_train_end(self, logs=None):
        if case == "weights" and other:
            self.model.layers[0].weights[0][0, 0] += 1.0  # on this rank only


rng = np.random.default_rng(0)
x = rng.random((200, 8), dtype=np.float32)[: 150 if case == "rows" and other else 200]
y = np.eye(3, dtype=np.float32)[x[:, :3].argmax(axis=1)]
hidden = Dense(9 if case == "weights-shapes" and other else 8, input_dim=8, activation="relu")
model = Sequential([hidden, Dense(3, activation="softmax")])
model.compile(
    "sgd" if case == "optimizer" and other else "adam",
    "mean_squared_error" if case == "loss" and other else "categorical_crossentropy",
    metrics=["accuracy"],
)
model.fit(
    x, y, batch_size=40 if case == "batch_size" and other else 20,
    epochs=3 if case == "epochs" and other else 4, verbose=0, callbacks=[Leave()],
)
print(f"rank {rank} fit returned", flush=True)
rows = 120 if case == "evaluate-rows" and other else len(x)
model.evaluate(x[:rows], y[:rows], batch_size=50, verbose=0)
print(f"rank {rank} evaluate returned", flush=True)
"""


@pytest.fixture
def leave(tmp_path, hookfit_mpiexec):
    """Run LEAVE's ``case`` under ``mpiexec -n 2``; (process, seconds it took)."""
    script = tmp_path / "leave.py"
    script.write_text(LEAVE)

    def run(case):
        start = time.monotonic()
        process = hookfit_mpiexec(sys.executable, str(script), case, timeout=60)
        return process, time.monotonic() - start

    return run


@pytest.mark.mpi
@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "rows",
            r"fit: the 2 MPI ranks were not given the same data: rank 0 has data=\(\(200, 8\) "
            r"float32, \(200, 3\) float32, None\), rank 1 has data=\(\(150, 8\) float32, "
            r"\(150, 3\) float32, None\)\. Under mpiexec every rank runs fit with the same data",
        ),
        ("batch_size", r"the same batch_size: rank 0 has batch_size=20, rank 1 has batch_size=40"),
        ("epochs", r"the same epochs: rank 0 has epochs=4, rank 1 has epochs=3"),
        (
            "optimizer",
            r"the same optimizer: rank 0 has optimizer=\{'name': 'Adam', 'learning_rate': "
            r"0\.001, .*\}, rank 1 has optimizer=\{'name': 'SGD', .*'momentum': 0\.0",
        ),
        (
            "loss",
            r"the same loss: rank 0 has loss=categorical_crossentropy, "
            r"rank 1 has loss=mean_squared_error",
        ),
        (
            "weights-shapes",
            r"the same weights: rank 0 has weights=\(8, 8\) float32, \(8,\) float32, "
            r"\(8, 3\) float32, \(3,\) float32, rank 1 has weights=\(8, 9\) float32, ",
        ),
    ],
    ids=["rows", "batch-size", "epochs", "optimizer", "loss", "weights-shapes"],
)
def test_ranks_given_different_data_or_settings_are_refused_before_the_first_epoch(
    leave, case, message
):
    process, seconds = leave(case)
    assert process.returncode != 0
    assert seconds < 30  # the ranks ended themselves: not the fixture's kill
    assert re.search(message, process.stderr), process.stderr
    assert "hookfit.errors.ConfigError" in process.stderr
    assert "finished epoch" not in process.stdout  # refused before any training
    assert "fit returned" not in process.stdout


@pytest.mark.mpi
@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("sys-exit-0", 1, "rank 1 of 2 left fit early by SystemExit(0); ending every rank"),
        ("sys-exit-3", 3, "rank 1 of 2 left fit early by SystemExit(3); ending every rank"),
        ("os-exit-0", 1, "rank 1 of 2 left fit early by os._exit(0); ending every rank"),
        ("sigkill", 9, "Killed (signal 9)"),  # hydra's own report
        ("sigterm", 15, "Terminated (signal 15)"),
    ],
    ids=["sys-exit-0", "sys-exit-3", "os-exit-0", "sigkill", "sigterm"],
)
def test_a_rank_that_leaves_the_fit_early_ends_every_rank_with_a_non_zero_status(
    leave, case, status, message
):
    process, seconds = leave(case)
    assert process.returncode == status
    assert seconds < 30
    assert message in process.stdout + process.stderr
    if "exit" in case:  # ours, which says what to do instead
        assert "set model.stop_training = True in a hook instead" in process.stderr
    assert "rank 0 finished epoch 3" not in process.stdout
    assert "fit returned" not in process.stdout


@pytest.mark.mpi
def test_ranks_that_end_a_fit_with_different_weights_fail_instead_of_returning(leave):
    process, seconds = leave("weights")
    assert process.returncode != 0
    assert seconds < 30
    assert re.search(
        r"TrainingError: fit: the MPI ranks ended with different weights "
        r"\(rank 0 #[0-9a-f]{8}, rank 1 #[0-9a-f]{8}\); every rank applies the same updates",
        process.stderr,
    ), process.stderr
    assert "fit returned" not in process.stdout


@pytest.mark.mpi
def test_ranks_that_evaluate_different_data_are_refused(leave):
    process, seconds = leave("evaluate-rows")
    assert process.returncode != 0
    assert seconds < 30
    assert re.search(
        r"evaluate: the 2 MPI ranks were not given the same data: rank 0 has data=\(\(200, 8\) "
        r"float32, \(200, 3\) float32, None\), rank 1 has data=\(\(120, 8\) float32, .*\)\. "
        r"Under mpiexec every rank runs evaluate",
        process.stderr,
    ), process.stderr
    assert process.stdout.count("fit returned") == 2
    assert "evaluate returned" not in process.stdout


@pytest.mark.mpi
def test_hookfit_train_under_mpiexec_without_distributed_is_refused_once(hookfit_mpiexec, tmp_path):
    process = hookfit_mpiexec(sys.executable, "-m", "hookfit", "train", "--set", "fit.epochs=1")
    assert process.returncode == 2
    refusal = (
        "hookfit: error: hookfit train was started by an MPI launcher (mpiexec) as one of 2 "
        "processes, without --distributed: each would train the same model alone. Add "
        "--distributed to train one model over the 2 processes (mpiexec -n 2 hookfit train "
        "--distributed ...), or run it without mpiexec."
    )
    assert process.stderr.count(refusal) == 1  # rank 0's only
    assert "training with" not in process.stdout
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("environ", "world"),
    [
        ({"PMI_RANK": "1", "PMI_SIZE": "2"}, (1, 2)),
        ({"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "4"}, (0, 4)),
        ({"MV2_COMM_WORLD_RANK": "2", "MV2_COMM_WORLD_SIZE": "3"}, (2, 3)),
        ({"PMI_RANK": "0", "PMI_SIZE": "1"}, None),
        ({"PMI_SIZE": "two"}, None),
        ({"SLURM_NTASKS": "4", "SLURM_PROCID": "0"}, None),
        ({}, None),
    ],
    ids=["mpich", "open-mpi", "mvapich", "one-process", "not-a-number", "slurm-batch", "none"],
)
def test_a_process_started_by_an_mpi_launcher_knows_it_from_its_environment(environ, world):
    assert dist.launched_world(environ) == world


class FakeWorld:
    """Every rank's answer to ``allgather``, given in advance (no MPI)."""

    def __init__(self, answers):
        self.answers = answers

    def allgather(self, obj):
        return self.answers(obj)


def test_ranks_that_disagree_hear_every_ranks_value_grouped(monkeypatch):
    def answers(mine):
        theirs = {**mine, "batch_size": "64"}
        return [mine, theirs, mine, mine, {**mine, "epochs": "2"}]

    monkeypatch.setattr(dist, "_comm", FakeWorld(answers))
    facts = {"batch_size": "32", "epochs": "3", "shuffle": "True"}
    with pytest.raises(
        hookfit.ConfigError,
        match=r"^fit: the 5 MPI ranks were not given the same batch_size, epochs: "
        r"ranks 0, 2, 3 and 4 have batch_size=32, rank 1 has batch_size=64; "
        r"ranks 0-3 have epochs=3, rank 4 has epochs=2\. ",
    ):
        dist.agree("fit", facts)
    monkeypatch.setattr(dist, "_comm", FakeWorld(lambda mine: [mine, mine]))
    dist.agree("fit", facts)  # the same everywhere: nothing to say


def test_ranks_that_end_with_different_weights_are_named_with_their_checksums(
    hookfit_model, monkeypatch
):
    from hookfit.trainer.parallel import MPIStep

    shared = MPIStep(hookfit_model(), batch_size=32)
    monkeypatch.setattr(dist, "_comm", FakeWorld(lambda mine: [mine, mine + 1]))
    with pytest.raises(
        hookfit.TrainingError,
        match=r"^fit: the MPI ranks ended with different weights \(rank 0 #[0-9a-f]{8}, "
        r"rank 1 #[0-9a-f]{8}\)",
    ):
        shared.check_weights("fit")
    monkeypatch.setattr(dist, "_comm", FakeWorld(lambda mine: [mine, mine]))
    shared.check_weights("fit")
