"""An Xvfb server of the test's own, for tests that need a real X display (GLX), stopped when the block ends."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def xvfb_display(size: str = "1280x1024") -> Iterator[str]:
    """Start Xvfb on a free display (it picks one and tells it through ``-displayfd``); yields ``":N"``."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{size}x24", "-nolisten", "tcp",
                             "+extension", "GLX", "-noreset"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            display = pipe.readline().strip()  # Xvfb writes the display number once it listens
        assert display.isdigit(), "Xvfb did not start"
        yield f":{display}"
    finally:
        xvfb.terminate()
        xvfb.wait(10)
