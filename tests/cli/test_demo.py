"""``lightbox demo --no-gui``: demo studies cached, archive up as node DEMO, stopped on exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from workstation.net.association import Peer
from workstation.net.find import find


@pytest.mark.interop
def test_demo_no_gui_serves_the_demo_studies_and_stops(lightbox_home):
    env = {**os.environ, "LIGHTBOX_HOME": str(lightbox_home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation", "demo", "--no-gui", "--size", "small"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ready."):
                break
        assert lines and lines[-1].startswith("Ready."), "".join(lines)
        config = json.loads((lightbox_home / "config.json").read_text())
        node = next(n for n in config["nodes"] if n["name"] == "DEMO")
        assert node["host"] == "127.0.0.1"
        peer = Peer("127.0.0.1", node["port"], node["ae_title"], timeout=10)
        studies = list(find(peer, "LIGHTBOX", "STUDY", {"StudyInstanceUID": ""}))
        assert len(studies) == 10  # one row per study, however many instances the archive holds
        listed = subprocess.run(
            [sys.executable, "-m", "workstation", "studies", "--json"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        cached = json.loads(listed.stdout)
        assert {s["study_uid"] for s in cached} == {str(s.StudyInstanceUID) for s in studies}
        assert {s["patient_id"] for s in cached} == {"LBX-0001", "LBX-0002"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        # The archive process is gone with it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ps = subprocess.run(["pgrep", "-f", str(lightbox_home)], capture_output=True, text=True)
            if not ps.stdout.strip():
                break
            time.sleep(0.2)
        assert not ps.stdout.strip(), ps.stdout
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@pytest.mark.interop
def test_second_demo_start_reuses_generated_studies(lightbox_home):
    from workstation.config import load
    from workstation.demo.launcher import start_demo
    from workstation.home import Home

    home = Home.single(lightbox_home)
    messages: list[str] = []
    session = start_demo(home, load(home.config_file), size="small", say=messages.append)
    session.stop()
    assert any("Generating" in m for m in messages)
    messages.clear()
    session = start_demo(home, load(home.config_file), size="small", say=messages.append)
    try:
        assert not any("Generating" in m or "Loading" in m or "Imported" in m for m in messages), messages
        assert session.archive.running
    finally:
        session.stop()
    assert not session.archive.running
