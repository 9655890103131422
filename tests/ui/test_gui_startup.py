"""The window starts on what the study list needs: composing the main window loads no network (pynetdicom),
HL7 (hl7apy), signing (cryptography), directory (ldap3), highdicom, VTK or SimpleITK, nor pydicom's code
dictionary; each is loaded by the action that uses it.  Start-up time is mostly imports (see bench.startup)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

DEFERRED = ("pynetdicom", "hl7apy", "cryptography", "ldap3", "highdicom", "vtkmodules", "vtk", "SimpleITK")

_PROBE = r"""
import json, sys
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.app import application, compose_main_window

app = application()
home = Home.single(sys.argv[1])
cache = StudyCache.open(home)
window = compose_main_window(home, cache, listen=False, background=False)
window.show()
app.processEvents()
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
codes = "pydicom.sr.codedict" in sys.modules
window.browser.stop()
if window.viewer is not None:
    window.viewer.shutdown()
window.close()
cache.close()
print(json.dumps({"loaded": loaded, "codedict": codes}))
"""


def test_composing_the_main_window_loads_none_of_the_deferred_packages(tmp_path):
    from tests.viewer_phantom import phantom_study
    from workstation.home import Home
    from workstation.store.cache import StudyCache

    cache = StudyCache.open(Home.single(tmp_path / "home"))
    try:
        phantom_study(cache, tmp_path / "ph", 3)  # a study in the list, as at a real start
    finally:
        cache.close()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "home"), json.dumps(DEFERRED)],
                         capture_output=True, text=True, timeout=180, env=env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"loaded": [], "codedict": False}


def test_the_rejection_code_keys_spelled_out_are_the_rejection_titles():
    from workstation.qc import codes

    titles = frozenset((c.value, c.scheme_designator) for c in codes.REJECTION_TITLES.values())
    assert titles == codes.REJECTION_CODE_KEYS
    assert codes.reason_name("113038", "DCM") == "worklist"
    assert codes.quality_reason("positioning").value == "111209"
