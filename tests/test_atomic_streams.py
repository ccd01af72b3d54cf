"""Atomic files (`hookfit.saving.atomic`) on what is not a regular file: a
device or a pipe is written in place, never replaced nor fsync'ed; and the
messages of a write that fails say what the system said."""

import contextlib
import errno
import os
import stat
import threading
import types

import pytest

from hookfit.saving import atomic
from hookfit.saving.atomic import is_stream, remedy, too_long

posix = pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")


@posix
@pytest.mark.parametrize(
    ("path", "stream"),
    [("/dev/null", True), ("/dev/stdout", True), ("/dev/fd/1", True), ("/dev", False)],
    ids=["device", "stdout", "fd", "folder"],
)
def test_devices_and_other_processes_files_are_streams(path, stream, tmp_path):
    # under pytest, stdout is a file reached through /proc: still a stream
    assert is_stream(path) is stream
    (tmp_path / "f").write_text("")
    assert not is_stream(tmp_path / "f") and not is_stream(tmp_path / "missing")


@posix
def test_writing_dev_null_atomically_leaves_the_device_in_place(monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", synced.append)
    atomic.write_bytes("/dev/null", [b"rows\n"])
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert synced == []
    assert not any(name.startswith(".null.tmp-") for name in os.listdir("/dev"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    guard = unblock_after(fifo, 30)
    atomic.write_bytes(fifo, [b"a", b"b\n"])
    reader.join(timeout=30)
    guard.cancel()
    assert received == [b"ab\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_model_saved_to_a_full_device_says_no_space(tmp_path):
    os.symlink("/dev/full", tmp_path / "m.h5")
    from hookfit.layers import Dense
    from hookfit.models import Sequential

    pytest.importorskip("h5py")
    with pytest.raises(OSError, match=r"No space left on device.*Free disk space, then save"):
        Sequential([Dense(2, input_dim=3)]).save(tmp_path / "m.h5")
    assert os.readlink(tmp_path / "m.h5") == "/dev/full"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_a_save_where_no_file_can_be_made_says_what_the_system_said():
    from hookfit.layers import Dense
    from hookfit.models import Sequential

    pytest.importorskip("h5py")
    with pytest.raises(OSError) as info:
        Sequential([Dense(2, input_dim=3)]).save("/proc/m.h5")
    message = str(info.value)
    assert "Free disk space" not in message and "file-size limit" not in message
    assert "no temporary file is left. The system said: " in message
    assert message.endswith("; fix that, then save again: '/proc/m.h5'")


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        (errno.ENOSPC, "Free disk space, then retry"),
        (errno.EFBIG, "Raise the file-size limit (ulimit -f), then retry"),
        (errno.EACCES, "The system said: Permission denied (/x/y); fix that, then retry"),
    ],
    ids=["no-space", "too-large", "other"],
)
def test_the_remedy_matches_the_cause(code, advice):
    assert remedy(OSError(code, os.strerror(code), "/x/y"), "retry") == advice


def test_a_name_too_long_for_the_file_system_is_told(tmp_path):
    assert too_long(tmp_path / "w.h5") is None
    reason = too_long(tmp_path / ("w" * 250 + ".h5"))
    assert reason is not None and reason.startswith(
        "the name 'wwwwwwwwwwwwwwwwwwwwwwww'... has 253"
    )
    assert "the path has" in (too_long(tmp_path / ("d/" * 2100 + "w.h5")) or "")


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
