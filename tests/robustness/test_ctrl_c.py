"""Ctrl+C in a long command ends it cleanly with a summary, and leaves the cache tidy."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from pydicom.uid import generate_uid

from tests.net.helpers import make_ct

pytestmark = pytest.mark.timeout(300)


def test_ctrl_c_during_import_prints_the_summary_so_far(tmp_path, lightbox_cmd, lightbox_home):
    folder = tmp_path / "many"
    folder.mkdir()
    study, series = generate_uid(), generate_uid()
    for n in range(1, 1501):
        make_ct(("Ctrl^C", "CTC-1"), study, series, n, rows=64).save_as(folder / f"{n}.dcm", enforce_file_format=True)
    proc = subprocess.Popen([*lightbox_cmd, "import", str(folder), "--workers", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    cache = lightbox_home / "cache"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if cache.is_dir() and any(p.suffix == ".dcm" for p in cache.rglob("*.dcm")):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the import finished before Ctrl+C arrived")
    assert proc.returncode == 130, (out, err)
    assert "cancelled" in out and "Traceback" not in err, (out, err)
    verify = subprocess.run([*lightbox_cmd, "cache", "verify"], capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout
