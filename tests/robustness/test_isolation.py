"""Work that can abort the process runs in a forked child: its crash or hang is a refusal here."""

from __future__ import annotations

import os
import signal
import time

import pytest

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


def test_a_hanging_child_is_stopped():
    started = time.monotonic()
    with pytest.raises(IsolatedFailure, match="took longer than 1 s"):
        run_isolated(time.sleep, 60, timeout=1.0)
    assert time.monotonic() - started < 30
