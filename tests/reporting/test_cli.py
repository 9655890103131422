"""The reporting commands end to end in a private home (no network)."""

from __future__ import annotations

import json
import subprocess

from tests.reporting.conftest import measurements_on


def run(cmd, *args, ok=True):
    out = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)
    if ok:
        assert out.returncode == 0, out.stderr
    return out


def test_cert_config_create_list_outbox(lightbox_cmd, study, home, tmp_path):
    cache, study_uid, headers = study
    made = json.loads(run(lightbox_cmd, "cert", "create-test", "--use", "--name", "Jane Doe", "--json").stdout)
    assert made["used_for_signing"] and made["key"].startswith(str(home.config_dir))  # outside the cache
    shown = json.loads(run(lightbox_cmd, "cert", "show", "--json").stdout)
    assert shown["subject"] == "O=Lightbox Demo,CN=Jane Doe" and shown["days_left"] >= 364 and not shown["warning"]
    config = json.loads(run(lightbox_cmd, "report", "config", "--destination", "PACS", "--json").stdout)
    assert config["radiologist_name"] == "Doe^Jane" and config["destination"] == "PACS"
    assert "passphrase" not in home.config_file.read_text()

    mfile = tmp_path / "m.json"
    mfile.write_text(json.dumps([m.as_dict() for m in measurements_on(headers[0])]))
    bad = run(lightbox_cmd, "report", "create", "--study", study_uid, "--field", "nodule_diameter=big", ok=False)
    assert bad.returncode == 2 and "not a number" in bad.stderr
    created = json.loads(run(lightbox_cmd, "report", "create", "--study", study_uid, "--field", "lungs=Rundherd",
                             "--with-measurements", str(mfile), "--json").stdout)
    assert created["state"] == "preliminary" and created["destination"] == "PACS"
    final = json.loads(run(lightbox_cmd, "report", "create", "--study", study_uid, "--field", "impression=ok",
                           "--final", "--json").stdout)
    assert final["signed"]
    listed = json.loads(run(lightbox_cmd, "report", "list", "--study", study_uid, "--json").stdout)
    assert listed["status"] == "final"
    assert [(r["state"], r["signature"], r["delivery"]) for r in listed["reports"]] == [
        ("preliminary", "unsigned", "queued"), ("final", "valid", "queued")]
    shown = run(lightbox_cmd, "report", "show", created["sop_instance_uid"]).stdout
    assert "Length: 8.5 mm" in shown and "[from] Image Region: POLYLINE" in shown
    box = json.loads(run(lightbox_cmd, "outbox", "--json").stdout)
    assert [i["state"] for i in box] == ["queued", "queued"] and all(i["destination"] == "PACS" for i in box)
    # no node named PACS: the round fails the items with a reason, and --retry queues one again
    run(lightbox_cmd, "outbox", "--send")
    box = json.loads(run(lightbox_cmd, "outbox", "--json").stdout)
    assert {i["state"] for i in box} == {"failed"} and "no node named 'PACS'" in box[0]["last_error"]
    run(lightbox_cmd, "outbox", "--retry", final["sop_instance_uid"])
    box = {i["sop_instance_uid"]: i for i in json.loads(run(lightbox_cmd, "outbox", "--json").stdout)}
    assert box[final["sop_instance_uid"]]["state"] == "queued"
    text = run(lightbox_cmd, "outbox").stdout
    assert "failed" in text and "queued" in text
