"""Running a command a test waits on, with a bound that detects a hang."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

import pytest


def run_bounded(
    args: Sequence[str], *, cwd: Any, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``cwd`` in a session of its own, with the ``HOOKFIT_*``
    switches of the test's environment cleared and ``env`` added; return the
    finished process (text output captured).

    A run still going after ``timeout`` seconds is a hang: every process of
    its session is killed and the test fails with the end of its stderr.
    """
    full = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
    full.update(env or {})
    with subprocess.Popen(
        list(args),
        cwd=cwd,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            pytest.fail(f"{' '.join(args)} still ran after {timeout} s (a hang):\n{err[-3000:]}")
    return subprocess.CompletedProcess(list(args), process.returncode, out, err)


__all__ = ["run_bounded"]
