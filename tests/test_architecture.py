"""The layering rule, enforced: Qt only in the UI, VTK only in volume3d and the UI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency: pip install -e .[test]"
    res = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


def test_no_module_is_too_long():
    too_long = [
        (str(p.relative_to(ROOT)), n)
        for p in (ROOT / "workstation").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    ]
    assert not too_long, f"split these modules: {too_long}"
