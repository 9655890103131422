"""One settings source for the running program: saves notify, changes by another process are seen."""

from __future__ import annotations

import os

from workstation import config
from workstation.config import Node, SettingsSource


def test_saves_notify_and_outside_changes_are_read(tmp_path):
    path = tmp_path / "config.json"
    source = SettingsSource(path, system_path=tmp_path / "none.json")
    assert source.current().ae_title == "LIGHTBOX"  # no file yet: defaults
    told = []
    unsubscribe = source.subscribe(lambda: told.append(source.current().ae_title))
    source.update(lambda s: setattr(s, "ae_title", "READER1"))
    assert told == ["READER1"] and path.exists()
    copy = source.current()
    copy.ae_title = "CHANGED"  # a copy: the source is changed only by saving
    assert source.current().ae_title == "READER1"
    # Another process (the command line) changes the file: the next read sees it.
    other = config.load(path, tmp_path / "none.json")
    other.upsert_node(Node("PACS", "PACS", "127.0.0.1", 104))
    config.save(other, path, tmp_path / "none.json")
    os.utime(path, ns=(1, 1))  # a different stamp even within the file system's time resolution
    assert [n.name for n in source.current().nodes] == ["PACS"]
    unsubscribe()
    source.update(lambda s: setattr(s, "ae_title", "READER2"))
    assert told == ["READER1"]


def test_a_broken_file_keeps_the_last_good_settings(tmp_path):
    path = tmp_path / "config.json"
    source = SettingsSource(path, system_path=tmp_path / "none.json")
    source.update(lambda s: setattr(s, "ae_title", "GOOD"))
    path.write_text('{"ae_title": "far too long an AE title"}')
    os.utime(path, ns=(2, 2))
    assert source.current().ae_title == "GOOD" and "invalid AE title" in source.error


def test_poll_tells_subscribers_of_changes_made_elsewhere(tmp_path):
    path = tmp_path / "config.json"
    source = SettingsSource(path, system_path=tmp_path / "none.json")
    source.update(lambda s: setattr(s, "ae_title", "ONE"))
    told = []
    source.subscribe(lambda: told.append(source.current().ae_title))
    assert source.poll() is False and told == []
    other = config.load(path, tmp_path / "none.json")
    other.ae_title = "TWO"
    config.save(other, path, tmp_path / "none.json")
    os.utime(path, ns=(3, 3))
    assert source.poll() is True and told == ["TWO"]
    assert source.poll() is False and told == ["TWO"]
