"""The guard against PySide6 6.12.0 dropping references to None (see workstation.ui.qt_guard)."""

from __future__ import annotations

import subprocess
import sys

# Far more void Qt calls than None has references in a fresh interpreter.
_CODE = """
from workstation.ui.qt_guard import guard_none_refcount
guard_none_refcount()
from PySide6.QtCore import QObject
o = QObject()
for _ in range(200_000):
    o.setObjectName("x")
print("alive")
"""


def test_many_void_qt_calls_do_not_abort_the_interpreter():
    done = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "alive"
