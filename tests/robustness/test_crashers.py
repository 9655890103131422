"""Every file that once aborted or exhausted the process is now a handled refusal.

Run in child processes: a regression here would abort the test run itself.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.robustness.crashers import CRASHERS, write_crasher

pytestmark = pytest.mark.timeout(300)

_DECODE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from workstation.dicom.pixels import decode_pixels
from pydicom import dcmread
r = decode_pixels(sys.argv[1])
assert r.array is None and r.error, r
r2 = decode_pixels(dcmread(sys.argv[1]), 0)
if sys.argv[2] == "first-frame-absent":
    assert r2.array is None and r2.error, r2
print(r.error)
"""


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_decoding_refuses_with_a_reason(tmp_path, name):
    path = write_crasher(name, tmp_path)
    # A million frames declared over one: the first frame is there and may be shown; all of them are not.
    mode = "first-frame-present" if name == "jpeg-frames-1e6" else "first-frame-absent"
    done = subprocess.run([sys.executable, "-c", _DECODE, str(path), mode], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()


@pytest.mark.parametrize("name", ["jpeg-bits-allocated-1", "jpegls-columns-65535", "j2k-samples-per-pixel-1",
                                  "rle-65535-squared"])
def test_lightbox_render_refuses_cleanly(tmp_path, lightbox_cmd, lightbox_home, name):
    path = write_crasher(name, tmp_path)
    done = subprocess.run([*lightbox_cmd, "render", str(path), "--out", str(tmp_path / "out.png")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert done.stderr.startswith(f"lightbox: cannot render {path.name}:"), done.stderr
    assert "Traceback" not in done.stderr
    log_dir = lightbox_home / "logs"
    logs = "".join(p.read_text() for p in log_dir.glob("*.log*")) if log_dir.exists() else ""
    assert "Traceback" not in logs and "Zyxplant" not in logs
