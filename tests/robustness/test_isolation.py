"""Work that can abort the process runs in a forked child: its crash or hang is a refusal here."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.net.helpers import process_gone
from workstation.dicom.isolation import IsolatedFailure, run_isolated


def _abort() -> None:
    os.kill(os.getpid(), signal.SIGABRT)  # as GDCM's uncaught C++ exception does


def test_result_comes_back():
    assert run_isolated(lambda n: list(range(n)), 5) == [0, 1, 2, 3, 4]


def test_an_aborting_child_is_a_refusal():
    with pytest.raises(IsolatedFailure, match="crashed on this image \\(SIGABRT\\)"):
        run_isolated(_abort, what="the GDCM decoder")


def test_a_raising_child_reports_its_first_line():
    def fail():
        raise ValueError("bad frame\nmore")

    with pytest.raises(IsolatedFailure, match="^bad frame$"):
        run_isolated(fail)


def test_a_hanging_child_is_stopped(monkeypatch):
    # The child would sleep for an hour: only being stopped ends it. Its pid is taken from the fork so
    # the test can see it is gone (killed and reaped), with no clock of its own.
    children: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(IsolatedFailure, match="took longer than 1 s and was stopped"):
        run_isolated(time.sleep, 3600, timeout=1.0)
    [child] = children
    assert process_gone(child)
    with pytest.raises(ChildProcessError):  # already reaped: no zombie left behind
        os.waitpid(child, os.WNOHANG)
