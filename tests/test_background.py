"""hookfit.background: each plugin's lane, bounded, never holding training
or another lane; real threads, held by events."""

import os
import re
import threading

import pytest

from hookfit import ConfigError, HookfitWarning
from hookfit.background import Jobs, drain
from hookfit.testing.faults import HostileServer


@pytest.fixture
def gate():
    """An event that holds a lane's first job; set at the end in any case."""
    event = threading.Event()
    yield event
    event.set()


def held(jobs, gate):
    """Occupy ``jobs``' thread until ``gate`` is set; returns once it runs."""
    running = threading.Event()
    jobs.submit(lambda: (running.set(), gate.wait()))
    assert running.wait(10)


def test_a_full_lane_drops_its_oldest_pending_job_and_warns_once(gate):
    jobs = Jobs("Writer", capacity=2)
    held(jobs, gate)
    done, dropped = [], []
    with pytest.warns(HookfitWarning) as record:
        for i in range(5):
            jobs.options(on_drop=lambda i=i: dropped.append(i)).submit(done.append, i)
    assert [str(w.message) for w in record] == [
        "Writer: its background work is slower than training; the oldest pending job was "
        "dropped so that training never waits for it. Further drops are not reported again."
    ]
    assert dropped == [0, 1, 2] and jobs.dropped == 3
    gate.set()
    jobs.wait()
    assert done == [3, 4]  # the newest, in order


def test_a_slow_lane_never_blocks_the_training_thread_or_another_lane(gate):
    slow, other = Jobs("Slow", capacity=1), Jobs("Other")
    held(slow, gate)
    # the "training thread": 100 submits to the held lane, then one to another
    finished = threading.Event()

    def train():
        for _ in range(100):
            slow.submit(lambda: None)
        other.submit(finished.set)

    trainer = threading.Thread(target=train)
    with pytest.warns(HookfitWarning):
        trainer.start()
        trainer.join(10)
    assert not trainer.is_alive()  # none of the submits waited for the held lane
    assert finished.wait(10)  # the other lane ran while Slow is still held
    assert not slow.wait(timeout=0)


def test_a_job_with_a_key_replaces_the_pending_one_silently(gate, recwarn):
    jobs = Jobs("Backup", capacity=1)
    held(jobs, gate)
    done = []
    for epoch in range(4):
        jobs.make_room(key="backup.h5")
        jobs.options(key="backup.h5").submit(done.append, epoch)
    gate.set()
    jobs.wait()
    assert done == [3] and jobs.dropped == 0
    assert not [w for w in recwarn if w.category is HookfitWarning]


def test_a_kept_job_is_never_dropped(gate):
    jobs = Jobs("Checkpoint", capacity=1)
    held(jobs, gate)
    done = []
    with pytest.warns(HookfitWarning):
        jobs.submit(done.append, "write 1")
        jobs.options(keep=True).submit(done.append, "delete old")
        jobs.submit(done.append, "write 2")
    gate.set()
    jobs.wait()
    assert done == ["delete old", "write 2"]


def test_wait_with_a_timeout_gives_up_what_is_still_pending(gate):
    jobs = Jobs("Poster", network=True)
    held(jobs, gate)
    done = []
    for i in range(3):
        jobs.submit(done.append, i)
    assert jobs.wait(timeout=0.05) is False
    assert jobs.abandoned == 3
    gate.set()
    assert jobs.wait() is True
    assert done == []


def test_drain_waits_for_every_lane():
    done = []
    lanes = [Jobs(f"Lane{i}") for i in range(3)]
    for i, jobs in enumerate(lanes):
        jobs.submit(done.append, i)
    drain()
    assert sorted(done) == [0, 1, 2]


def test_an_error_in_a_job_is_raised_once_at_the_next_wait():
    jobs = Jobs("Writer")
    jobs.submit(int, "x")
    with pytest.raises(ValueError, match="invalid literal") as info:
        jobs.wait()
    assert info.value.__notes__ == ["hookfit: raised in a background job of Writer"]
    assert jobs.wait() is True


@pytest.mark.parametrize("capacity", [0, -1, 2.5, True], ids=["zero", "negative", "float", "bool"])
def test_a_lane_needs_a_capacity_of_one_at_least(capacity):
    message = (
        "Jobs('Writer'): capacity must be an integer >= 1 (pending jobs the lane holds), "
        f"got {capacity!r}."
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        Jobs("Writer", capacity=capacity)


def test_a_hostile_server_kind_is_checked():
    with pytest.raises(ValueError, match=r"^HostileServer: kind must be one of ok, trickle, "):
        HostileServer("slowish")


def test_a_job_after_a_mark_waits_for_the_jobs_other_lanes_had_before(gate):
    from hookfit.background import mark

    writer, backup = Jobs("Checkpoint"), Jobs("Backup")
    held(writer, gate)
    order = []
    writer.submit(order.append, "checkpoint")
    backup.options(after=mark()).submit(order.append, "backup")
    writer.submit(order.append, "later checkpoint")  # after the mark: not waited for
    assert not backup.wait(timeout=0.05)  # held behind the checkpoint
    gate.set()
    backup.wait()
    writer.wait()
    assert order.index("checkpoint") < order.index("backup")


def test_the_next_lane_runs_on_the_thread_an_idle_lane_gave_back():
    """The lanes of the next run (new plugin instances) wake a waiting
    thread instead of starting one."""
    first, second = Jobs("First"), Jobs("Second")
    threads = []
    first.submit(lambda: threads.append(threading.current_thread()))
    first.wait()
    second.submit(lambda: threads.append(threading.current_thread()))
    second.wait()
    assert threads[0] is threads[1]
    assert threads[1].name == "hookfit-io-Second"


def test_lanes_busy_at_once_each_have_a_thread(gate):
    busy, other = Jobs("Busy"), Jobs("Other")
    held(busy, gate)
    threads = []
    other.submit(lambda: threads.append(threading.current_thread()))
    other.wait()
    busy.submit(lambda: threads.append(threading.current_thread()))
    gate.set()
    busy.wait()
    assert threads[0] is not threads[1]


def test_a_forked_child_runs_its_own_jobs_not_its_parents(gate):
    jobs = Jobs("Writer")
    held(jobs, gate)
    done = []
    jobs.submit(done.append, "parent's")  # pending while the lane is held
    pid = os.fork()
    if pid == 0:  # the child: no lane thread of the parent's is alive here
        jobs.submit(done.append, "child's")
        finished = jobs.wait(timeout=10)
        os._exit(0 if finished and done == ["child's"] else 1)
    _, status = os.waitpid(pid, 0)
    gate.set()
    jobs.wait()
    assert os.waitstatus_to_exitcode(status) == 0
    assert done == ["parent's"]
