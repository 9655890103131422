"""'lightbox cache verify' reports leftovers and exits non-zero while there are any; '--repair' tidies them."""

from __future__ import annotations

import subprocess

from pydicom.uid import generate_uid

from tests.net.helpers import make_ct


def test_verify_exits_non_zero_on_an_orphan_until_repaired(tmp_path, lightbox_cmd, lightbox_home):
    path = tmp_path / "one.dcm"
    make_ct(("Verify^Me", "VRF-1"), generate_uid(), generate_uid(), 1).save_as(path, enforce_file_format=True)
    subprocess.run([*lightbox_cmd, "import", str(path)], check=True, capture_output=True, timeout=120)
    clean = subprocess.run([*lightbox_cmd, "cache", "verify"], capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout
    orphan_dir = lightbox_home / "cache" / "1.2.3" / "1.2.3.4"
    orphan_dir.mkdir(parents=True)
    (orphan_dir / "1.2.3.4.5.dcm").write_bytes(path.read_bytes())  # a file no row points at
    dirty = subprocess.run([*lightbox_cmd, "cache", "verify"], capture_output=True, text=True, timeout=120)
    assert dirty.returncode == 1, dirty.stdout
    assert "orphaned 1" in dirty.stdout and "leftovers" in dirty.stdout
    repaired = subprocess.run([*lightbox_cmd, "cache", "verify", "--repair"], capture_output=True, text=True,
                              timeout=120)
    assert repaired.returncode == 0, repaired.stdout
    again = subprocess.run([*lightbox_cmd, "cache", "verify"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout
