"""How many BLAS threads a fit uses: decided per fit, limited for its
duration only, and overridden by `fit(threads=N)` or `[fit] threads`. No
test here times anything: the thread counts are read from the BLAS library
itself through threadpoolctl."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from hookfit import Callback, ConfigError
from hookfit.layers import Dense
from hookfit.models import Sequential
from hookfit.trainer import threads as blas


def blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


class Probe(Callback):
    """Reads the BLAS thread count while training runs."""

    def on_epoch_end(self, epoch, logs=None):
        self.seen = blas_threads()


def test_fit_restores_the_callers_threads_and_honours_threads(hookfit_model, hookfit_data):
    x, y = hookfit_data
    before = blas_threads()
    probe = Probe()
    hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[probe], threads=1)
    assert probe.seen == {1}
    assert blas_threads() == before
    with threadpool_limits(limits=1, user_api="blas"):
        most = max(before)  # what this BLAS can give
        hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[probe], threads=most)
        assert probe.seen == {most}
        assert blas_threads() == {1}  # the caller's own limit is back
    assert blas_threads() == before


def test_a_tiny_step_uses_one_thread(hookfit_model, hookfit_data):
    x, y = hookfit_data
    probe = Probe()
    hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[probe])
    assert blas.step_flops(hookfit_model(), 32) < blas.PARALLEL_FLOPS
    assert probe.seen == {1}


class Recorder(Callback):
    """Every epoch's BLAS thread count."""

    def __init__(self):
        super().__init__()
        self.threads = []

    def on_epoch_begin(self, epoch, logs=None):
        (threads,) = blas_threads()
        self.threads.append(threads)


def big_model():
    model = Sequential([Dense(256, input_dim=256), Dense(10)])
    model.compile("sgd", "mean_squared_error")
    return model


@pytest.mark.parametrize(
    ("cpus", "others", "expected"),
    [(1, 0, 1), (4, 0, 4), (4, 1, 3), (4, 3, 1), (4, 9, 1), (4, None, 4)],
    ids=["one-cpu", "idle", "one-busy", "all-busy", "overloaded", "no-proc"],
)
def test_a_fit_uses_the_cores_other_processes_leave_idle(cpus, others, expected, monkeypatch):
    monkeypatch.setattr(blas, "cores", lambda: cpus)
    monkeypatch.setattr(blas, "others_running", lambda: others)
    assert blas.step_flops(big_model(), 128) > blas.PARALLEL_FLOPS
    assert blas.Policy(big_model(), 128).choose() == expected
    assert blas.Policy(big_model(), 128, threads=2).choose() == 2  # an explicit count wins


def fake_cpu_times(monkeypatch, *used):
    """Make `cpu_times` report, at each call, one more second in which other
    processes kept ``used[i]`` cores busy (and this process one)."""
    now = busy = own = 0.0
    samples = [(now, busy, own)]
    for cores in used:
        now, busy, own = now + 1.0, busy + cores + 1.0, own + 1.0
        samples.append((now, busy, own))
    monkeypatch.setattr(blas, "cpu_times", iter(samples).__next__)


def record_threads(epochs):
    recorder = Recorder()
    x = np.ones((128, 256), np.float32)
    y = np.zeros((128, 10), np.float32)
    big_model().fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=[recorder])
    return recorder.threads


@pytest.mark.parametrize(
    ("used", "taken"),
    [(0.0, 0), (0.3, 0), (1.0, 1), (99.0, 99)],
    ids=["idle", "a-moment", "one-core", "every-core"],
)
def test_the_policy_measures_the_last_epoch(used, taken, monkeypatch):
    # the first epoch counts the threads running now; the second, the CPU
    # time other processes took during the first
    most = max(blas_threads())
    monkeypatch.setattr(blas, "cores", lambda: most)
    monkeypatch.setattr(blas, "others_running", lambda: 0)
    fake_cpu_times(monkeypatch, used)
    assert record_threads(epochs=2) == [most, max(1, most - taken)]


def test_another_training_started_meanwhile_takes_its_cores(monkeypatch):
    most = max(blas_threads())
    monkeypatch.setattr(blas, "cores", lambda: most)
    monkeypatch.setattr(blas, "others_running", lambda: 0)
    fake_cpu_times(monkeypatch, most, 0.0)  # it ran during the first epoch, then ended
    assert record_threads(epochs=3) == [most, 1, most]


def test_an_epoch_too_short_to_measure_keeps_the_last_decision(monkeypatch):
    most = max(blas_threads())
    monkeypatch.setattr(blas, "cores", lambda: most)
    monkeypatch.setattr(blas, "others_running", lambda: most - 1)  # one thread for epoch 0
    samples = iter([(0.0, 0.0, 0.0), (blas.WINDOW / 2, 0.0, 0.0)])
    monkeypatch.setattr(blas, "cpu_times", samples.__next__)
    assert record_threads(epochs=2) == [1, 1]


def test_cpu_times_reads_the_kernel():
    first = blas.cpu_times()
    sum(i * i for i in range(200_000))  # some CPU time of this process
    second = blas.cpu_times()
    if first is None:  # no /proc here
        assert second is None
        return
    assert all(b >= a >= 0 for a, b in zip(first, second, strict=True))


def test_others_running_reads_the_kernel():
    others = blas.others_running()
    assert others is None or others >= 0


@pytest.mark.parametrize(
    "value", [0, -1, 1.5, True, "2"], ids=["zero", "neg", "float", "bool", "str"]
)
def test_a_bad_thread_count_is_refused_before_any_hook(value, hookfit_model, hookfit_data):
    x, y = hookfit_data
    probe = Probe()
    with pytest.raises(
        ConfigError,
        match=r"^fit: threads must be an integer >= 1 \(BLAS threads for this fit\) or None "
        rf"\(hookfit decides\), got {value!r}\.$".replace("'", "\\'"),
    ):
        hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=[probe], threads=value)
    assert not hasattr(probe, "seen")


def test_fit_generator_takes_threads_too(hookfit_model, hookfit_data):
    x, y = hookfit_data

    def batches():
        while True:
            yield x[:16], y[:16]

    probe = Probe()
    hookfit_model().fit_generator(
        batches(), steps_per_epoch=2, verbose=0, callbacks=[probe], threads=1
    )
    assert probe.seen == {1}
    with pytest.raises(ConfigError, match=r"^fit_generator: threads must be an integer >= 1"):
        hookfit_model().fit_generator(batches(), steps_per_epoch=2, verbose=0, threads=0)


def test_the_config_sets_threads(hookfit_cli):
    result = hookfit_cli("config", "--set", "fit.threads=1")
    assert "fit.threads = 1  # command line: --set fit.threads=1" in result.stdout, result.stderr
    refused = hookfit_cli("train", "--set", "fit.threads=0")
    assert refused.returncode == 2
    assert "fit.threads: expected an integer >= 1, got 0." in refused.stderr
