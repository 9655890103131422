"""Data at rest: the home is its user's only (0700); a patient's studies, or all of them, can be removed
from the cache, and each removal is an audit record naming the patients."""

from __future__ import annotations

import json
import os
import stat

from tests.audit.schema import validate
from tests.viewer_phantom import phantom_study
from workstation import audit
from workstation.cli import main
from workstation.home import Home
from workstation.store.cache import StudyCache


def _two_patients(home, tmp_path):
    cache = StudyCache.open(home)
    try:
        a = phantom_study(cache, tmp_path / "a", 2, patient_id="KEEP-1", patient_name="Keep^Kim")
        b1 = phantom_study(cache, tmp_path / "b1", 2, patient_id="GONE-2", patient_name="Ёлкин^Пётр")
        b2 = phantom_study(cache, tmp_path / "b2", 2, patient_id="GONE-2", patient_name="Ёлкин^Пётр")
        cache.set_pinned(b2, True)  # an explicit removal takes pinned studies too
    finally:
        cache.close()
    return a, b1, b2


def test_home_is_created_readable_by_its_user_only(tmp_path):
    home = Home.single(tmp_path / "new-home").ensure()
    for d in (home.config_dir, home.data_dir, home.log_dir, home.cache_dir):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
    # A home made before the rule is tightened when next used.
    os.chmod(home.data_dir, 0o755)
    home.ensure()
    assert stat.S_IMODE(os.stat(home.data_dir).st_mode) == 0o700


def test_prune_patient_removes_only_that_patient_and_records_it(lightbox_home, tmp_path, capsys):
    home = Home.single(lightbox_home)
    a, b1, b2 = _two_patients(home, tmp_path)
    assert main(["--home", str(lightbox_home), "cache", "prune", "--patient", "GONE-2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(out["removed_studies"]) == sorted([b1, b2])
    cache = StudyCache.open(home)
    try:
        assert [s.study_uid for s in cache.studies()] == [a]
    finally:
        cache.close()
    assert not (home.cache_dir / b1).exists() and not (home.cache_dir / b2).exists()
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110105"]
    assert rec["patients"] == ["GONE-2"] and sorted(rec["studies"]) == sorted([b1, b2]) and rec["action"] == "D"
    assert "Ёлкин^Пётр" in rec["xml"]
    validate(rec["xml"])
    assert main(["--home", str(lightbox_home), "cache", "prune", "--patient", "NOBODY"]) == 1
    assert "no study of patient ID 'NOBODY'" in capsys.readouterr().err


def test_purge_needs_yes_and_then_removes_everything_with_an_audit_record(lightbox_home, tmp_path, capsys):
    home = Home.single(lightbox_home)
    _two_patients(home, tmp_path)
    assert main(["--home", str(lightbox_home), "cache", "purge"]) == 2
    assert "add --yes" in capsys.readouterr().err
    assert main(["--home", str(lightbox_home), "cache", "purge", "--yes"]) == 0
    assert "Removed 3 studies" in capsys.readouterr().out
    cache = StudyCache.open(home)
    try:
        assert cache.studies() == []
    finally:
        cache.close()
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110105"]
    assert sorted(rec["patients"]) == ["GONE-2", "KEEP-1"] and len(rec["studies"]) == 3
    validate(rec["xml"])
    assert main(["--home", str(lightbox_home), "audit", "verify"]) == 0
