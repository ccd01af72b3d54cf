"""hookfit.background: each plugin's lane, bounded, never holding training
or another lane; real threads, held by events."""

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
