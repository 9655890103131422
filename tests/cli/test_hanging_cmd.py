"""``lightbox protocols ...`` and ``lightbox hang`` as a user runs them, on the demo studies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.hanging.conftest import demo  # noqa: F401 - the session's demo cache
from workstation.cli import main
from workstation.demo.plan import demo_uid
from workstation.hanging.library import BUILTIN_DIR


def run(args, home: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """The command in its own process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "workstation", "--home", str(home), *args],
                          env={**os.environ}, capture_output=True, text=True, timeout=timeout)


def call(args, home: Path, capsys) -> subprocess.CompletedProcess:
    """The command in this process (faster; same parser and handlers)."""
    capsys.readouterr()
    code = main(["--home", str(home), *args])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def test_hang_json_on_the_demo(demo, capsys):  # noqa: F811
    res = run(["hang", demo.uids["mg-screening-2024"], "--json"], demo.home.config_dir)
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)
    assert plan["protocol"]["id"] == "mg-screening" and plan["protocol"]["score"] > 0
    assert [p["study_uid"] for p in plan["priors"]] == [demo.uids["mg-screening-2023"]]
    first = plan["stages"][0]["viewports"]
    assert [v["series_uid"] for v in first] == [demo_uid("small", "mg-screening-2024", k)
                                                for k in ("rcc", "lcc", "rmlo", "lmlo")]
    assert all(v["status"] == "filled" for v in first)
    # the protocol can be forced, and "protocols match" says the same
    res = call(["protocols", "match", demo.uids["ct-chest-2024"], "--protocol", "default"],
               demo.home.config_dir, capsys)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("Protocol: Default") and "chosen by the user" in res.stdout
    text = call(["protocols", "match", demo.uids["mr-brain-2024"]], demo.home.config_dir, capsys).stdout
    assert "(empty)" in text and "DWI" in text and "T2 AX" in text


def test_hang_errors_are_one_line(demo, capsys):  # noqa: F811
    res = call(["hang", "1.2.3.4"], demo.home.config_dir, capsys)
    assert res.returncode == 1 and "no study 1.2.3.4 in the cache" in res.stderr and "Traceback" not in res.stderr
    res = call(["hang", demo.uids["ct-chest-2024"], "--protocol", "nope"], demo.home.config_dir, capsys)
    assert res.returncode == 1 and "no hanging protocol 'nope'" in res.stderr


def test_list_show_and_validate(lightbox_home, capsys):
    mine = lightbox_home / "hanging_protocols"
    mine.mkdir()
    (mine / "broken.yaml").write_text("id: broken\nname: Broken\nstages: []\n", encoding="utf-8")
    res = call(["protocols", "list", "--json"], lightbox_home, capsys)
    assert res.returncode == 0
    listed = json.loads(res.stdout)
    assert {p["id"] for p in listed["protocols"]} == {p.stem for p in BUILTIN_DIR.glob("*.json")}
    assert listed["errors"][0]["field"] == "stages" and listed["errors"][0]["file"].endswith("broken.yaml")
    assert "broken.yaml: stages" in call(["protocols", "list"], lightbox_home, capsys).stderr
    shown = json.loads(call(["protocols", "show", "ct-chest"], lightbox_home, capsys).stdout)
    assert shown["id"] == "ct-chest" and len(shown["stages"]) == 3
    res = call(["protocols", "validate", str(BUILTIN_DIR / "ct-chest.json"), str(mine / "broken.yaml")],
               lightbox_home, capsys)
    assert res.returncode == 1
    assert "ct-chest.json: valid (ct-chest)" in res.stdout
    assert f"{mine / 'broken.yaml'}: stages: expected a non-empty list" in res.stderr


def test_snapshot_renders_the_hung_layout(demo, tmp_path):  # noqa: F811
    from PIL import Image

    out = tmp_path / "ct.png"
    env_display = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    res = subprocess.run([sys.executable, "-m", "workstation", "--home", str(demo.home.config_dir), "snapshot",
                          demo.uids["ct-chest-2024"], "--out", str(out), "--size", "900x500", "--stage", "2",
                          "--json"], env=env_display, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert result["protocol"] == "ct-chest" and result["stage"] == 2
    assert [v["series_uid"] for v in result["viewports"]] == [demo_uid("small", "ct-chest-2024", "soft"),
                                                              demo_uid("small", "ct-chest-2023", "soft")]
    image = Image.open(out).convert("L")
    assert image.size == (900, 500)
    # both halves of the viewing area show a bright body on black
    assert image.crop((250, 100, 500, 450)).getextrema()[1] > 150
    assert image.crop((550, 100, 800, 450)).getextrema()[1] > 150


def test_export_and_import_a_dicom_hanging_protocol(lightbox_home, tmp_path, capsys):
    out = tmp_path / "mg.dcm"
    res = call(["protocols", "export", "mg-screening", "--out", str(out)], lightbox_home, capsys)
    assert res.returncode == 0 and out.exists()
    assert "valid (mg-screening)" in call(["protocols", "validate", str(out)], lightbox_home, capsys).stdout
    res = call(["protocols", "import", str(out)], lightbox_home, capsys)
    assert res.returncode == 0 and "imported mg-screening" in res.stdout
    listed = json.loads(call(["protocols", "list", "--json"], lightbox_home, capsys).stdout)
    assert {p["id"]: p["origin"] for p in listed["protocols"]}["mg-screening"] == "user"
    res = call(["protocols", "import", str(tmp_path / "missing.dcm")], lightbox_home, capsys)
    assert res.returncode == 1 and "missing.dcm" in res.stderr


def test_snapshot_of_a_cine_is_the_same_frame_on_every_run(demo, tmp_path):  # noqa: F811
    from PIL import Image, ImageChops

    env_display = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    outs = []
    for run_number in range(2):
        out = tmp_path / f"us-{run_number}.png"
        res = subprocess.run([sys.executable, "-m", "workstation", "--home", str(demo.home.config_dir), "snapshot",
                              demo.uids["us-carotid-2024"], "--out", str(out), "--size", "640x480", "--json"],
                             env=env_display, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["protocol"] == "us-cine"
        outs.append(Image.open(out).convert("RGB"))
    assert ImageChops.difference(*outs).getbbox() is None
