"""The system-wide default settings layer: hospital defaults users override but cannot break."""

from __future__ import annotations

import json
import subprocess

from workstation import config
from workstation.config_layers import merge_layers, system_config_file

SITE = {
    "ae_title": "RAD_WS1",
    "storage_port": 11200,
    "nodes": [{"name": "PACS", "ae_title": "PACS", "host": "pacs.hospital", "port": 104}],
    "reporting": {"destination": "PACS", "trust_store": ["/etc/lightbox/trust"]},
}


def _write(path, data):
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_system_file_gives_the_defaults(tmp_path, monkeypatch):
    system = _write(tmp_path / "site.json", SITE)
    monkeypatch.setenv("LIGHTBOX_SYSTEM_CONFIG", str(system))
    assert system_config_file() == system
    s = config.load(tmp_path / "missing.json")
    assert (s.ae_title, s.storage_port) == ("RAD_WS1", 11200)
    assert s.node("PACS").host == "pacs.hospital"
    assert s.extra["reporting"]["destination"] == "PACS"
    assert s.warnings == []


def test_user_overrides_key_by_key_and_nodes_by_name(tmp_path):
    system = _write(tmp_path / "site.json", SITE)
    user = _write(tmp_path / "config.json", {
        "storage_port": 11300,
        "nodes": [{"name": "pacs", "ae_title": "PACS2", "host": "other", "port": 104},
                  {"name": "HOME", "ae_title": "H", "host": "h", "port": 11112}],
        "reporting": {"radiologist_name": "Doe^Jane"},
    })
    s = config.load(user, system)
    assert (s.ae_title, s.storage_port) == ("RAD_WS1", 11300)
    assert sorted(n.name for n in s.nodes) == ["HOME", "pacs"]
    assert s.node("PACS").host == "other"
    assert s.extra["reporting"] == {"destination": "PACS", "trust_store": ["/etc/lightbox/trust"],
                                    "radiologist_name": "Doe^Jane"}


def test_locked_keys_stay_the_sites():
    merged = merge_layers({**SITE, "locked": ["ae_title"]}, {"ae_title": "MINE", "storage_port": 1})
    assert merged["ae_title"] == "RAD_WS1" and merged["storage_port"] == 1 and "locked" not in merged


def test_broken_user_file_falls_back_with_a_warning(tmp_path, caplog):
    system = _write(tmp_path / "site.json", SITE)
    for broken in ("{not json", json.dumps({"storage_port": 99999}), "[1, 2]"):
        user = _write(tmp_path / "config.json", broken)
        s = config.load(user, system)
        assert (s.ae_title, s.storage_port) == ("RAD_WS1", 11200)
        assert len(s.warnings) == 1 and "system-wide settings apply" in s.warnings[0]
        assert str(user) in s.warnings[0]
    assert "not usable" in caplog.text


def test_save_writes_only_the_users_differences_and_keeps_a_broken_file(tmp_path):
    system = _write(tmp_path / "site.json", SITE)
    user = _write(tmp_path / "config.json", "{broken")
    s = config.load(user, system)
    s.set("ae_title", "MINE")
    config.save(s, user, system)
    assert (tmp_path / "config.json.broken").read_text() == "{broken"
    written = json.loads(user.read_text())
    assert written["ae_title"] == "MINE"
    assert "nodes" not in written and "storage_port" not in written and "reporting" not in written
    # The site changes its archive later: the user sees the change.
    _write(system, {**SITE, "nodes": [{**SITE["nodes"][0], "host": "new-pacs"}]})
    again = config.load(user, system)
    assert again.ae_title == "MINE" and again.node("PACS").host == "new-pacs"


def test_broken_system_file_uses_built_in_defaults(tmp_path):
    system = _write(tmp_path / "site.json", "{oops")
    s = config.load(tmp_path / "none.json", system)
    assert s.ae_title == "LIGHTBOX" and "system settings ignored" in s.warnings[0]


def test_without_system_file_a_broken_user_file_is_still_an_error(tmp_path):
    user = _write(tmp_path / "config.json", "{broken")
    try:
        config.load(user)
    except config.ConfigError as exc:
        assert "cannot read settings" in str(exc)
    else:
        raise AssertionError("expected ConfigError")


def test_cli_warns_and_uses_the_site_settings(tmp_path, lightbox_cmd, lightbox_home, monkeypatch):
    system = _write(tmp_path / "site.json", SITE)
    monkeypatch.setenv("LIGHTBOX_SYSTEM_CONFIG", str(system))
    _write(lightbox_home / "config.json", "{broken")
    out = subprocess.run([*lightbox_cmd, "config", "show", "--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ae_title"] == "RAD_WS1"
    assert "warning" in out.stderr and "config.json" in out.stderr
