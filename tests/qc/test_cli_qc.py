"""``lightbox qc …`` and ``lightbox tags`` as a technologist types them (run in-process)."""

from __future__ import annotations

import json

import pytest

from workstation.cli import main
from workstation.qc import rejected_sop_uids


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_prints_the_checklist_and_exits_2_on_failure(capsys, cache, ct_series):
    code, out, _ = run(capsys, "qc", "check", ct_series.study_uid)
    assert code == 0 and out.startswith(f"QC of study {ct_series.study_uid}: PASS")
    assert "[info] Complete against the archive: Not checked" in out and "QC done: not marked" in out
    run(capsys, "qc", "reject", ct_series.sop_uids[4], "--reason", "quality")
    code, out, _ = run(capsys, "qc", "check", ct_series.study_uid, "--json")
    data = json.loads(out)
    assert code == 2 and data["overall"] == "fail"
    series = next(i for i in data["items"] if i["series_uid"] == ct_series.series_uid)
    assert series["status"] == "fail" and "1 slice missing" in series["message"]


def test_correct_dry_run_then_apply(capsys, cache, ct_series):
    code, out, _ = run(capsys, "qc", "correct", ct_series.study_uid, "--set", "PatientName=Doe^Jane",
                       "--set", "AccessionNumber=A1", "--reason", "wrong patient", "--dry-run")
    assert code == 0 and "Patient's Name: 'Test^Patient' -> 'Doe^Jane' (8 instances)" in out
    assert out.rstrip().endswith("dry run: nothing changed") and rejected_sop_uids(cache, ct_series.study_uid) == set()
    code, out, _ = run(capsys, "qc", "correct", ct_series.study_uid, "--set", "PatientName=Doe^Jane",
                       "--reason", "wrong patient", "--operator", "tech9", "--json")
    data = json.loads(out)
    assert code == 0 and data["applied"] and data["outcome"]["copies"] == 8 and data["plan"]["operator"] == "tech9"
    assert rejected_sop_uids(cache, ct_series.study_uid) == set(ct_series.sop_uids)
    assert cache.study(ct_series.study_uid).patient_name == "Doe^Jane"


@pytest.mark.parametrize("argv,message", [
    (["--set", "Modality=MR", "--reason", "x"], "'Modality' cannot be corrected here"),
    (["--set", "PatientBirthDate=19801", "--reason", "x"], "not a valid DA value"),
])
def test_correct_refuses_bad_input_in_one_line(capsys, cache, ct_series, argv, message):
    code, _out, err = run(capsys, "qc", "correct", ct_series.study_uid, *argv)
    assert code == 1 and err.startswith("lightbox: ") and message in err and err.count("\n") == 1
    assert rejected_sop_uids(cache, ct_series.study_uid) == set()


def test_correct_needs_a_reason(capsys, cache, ct_series):
    with pytest.raises(SystemExit):
        main(["qc", "correct", ct_series.study_uid, "--set", "PatientName=A^B"])
    assert "the following arguments are required: --reason" in capsys.readouterr().err


def test_reject_with_quality_reason(capsys, cache, ct_series):
    code, out, _ = run(capsys, "qc", "reject", *ct_series.sop_uids[:2], "--reason", "quality",
                       "--quality-reason", "positioning", "--comment", "cut off")
    assert code == 0 and "2 instance(s) rejected" in out
    code, out, err = run(capsys, "qc", "rejected", ct_series.study_uid)
    assert out.count("Rejected for Quality Reasons") == 2 and "2 rejected instance(s)" in err
    code, _out, err = run(capsys, "qc", "reject", "1.2.3", "--reason", "quality")
    assert code == 1 and "not in the cache: 1.2.3" in err


def test_split_and_merge(capsys, cache, tmp_path, ct_series):
    code, out, _ = run(capsys, "qc", "split", ct_series.series_uid, "--by", "instances",
                       ",".join(ct_series.sop_uids[6:]))
    assert code == 0 and "selected: 2 instances -> new series 2 'axial selected'" in out
    new_series = out.strip().splitlines()[-1].split()[-1]
    code, out, _ = run(capsys, "qc", "merge", ct_series.series_uid, new_series, "--reason", "back together")
    assert code == 0 and "merged: 8 instances -> new series 1 'axial'" in out
    code, _out, err = run(capsys, "qc", "split", ct_series.series_uid, "--by", "colour")
    assert code == 1 and "--by colour: one of orientation" in err
    code, _out, err = run(capsys, "qc", "split", ct_series.series_uid, "--by", "orientation", "1.2.3")
    assert code == 1 and "takes no UIDs" in err


def test_done_and_undo(capsys, cache, ct_series):
    code, out, _ = run(capsys, "qc", "done", ct_series.study_uid, "--operator", "tech1")
    assert code == 0 and "marked QC done by tech1" in out
    _, out, _ = run(capsys, "qc", "check", ct_series.study_uid)
    assert "by tech1 (pass)" in out
    code, out, _ = run(capsys, "qc", "done", ct_series.study_uid, "--undo")
    assert code == 0 and out.strip() == "QC done mark removed"


def test_send_to_an_unknown_node_is_refused_before_anything_else(capsys, cache, ct_series):
    code, _out, err = run(capsys, "qc", "reject", ct_series.sop_uids[0], "--reason", "quality", "--send", "NOPE")
    assert code == 1 and "NOPE" in err
    code, _out, err = run(capsys, "qc", "correct", ct_series.study_uid, "--set", "PatientName=A^B", "--reason", "x",
                          "--send", "NOPE")
    assert code == 1 and "NOPE" in err
    assert rejected_sop_uids(cache, ct_series.study_uid) == set()


def test_tags_tree_search_and_diff(capsys, cache, ct_series, tmp_path):
    code, out, _ = run(capsys, "tags", ct_series.sop_uids[0])
    assert code == 0 and "(0010,0010) PN Patient's Name: Test^Patient" in out
    code, out, err = run(capsys, "tags", str(ct_series.paths[0]), "--search", "patientname")
    assert out.strip() == "(0010,0010) PN Patient's Name: Test^Patient" and "1 match(es)" in err
    code, out, _ = run(capsys, "tags", ct_series.sop_uids[0], "--diff", ct_series.sop_uids[1], "--json")
    keywords = {d["keyword"] for d in json.loads(out)}
    assert {"SOPInstanceUID", "InstanceNumber", "ImagePositionPatient"} <= keywords
    code, _out, err = run(capsys, "tags", "nothing-here")
    assert code == 1 and "neither a file nor a cached SOP Instance UID" in err
