"""The protocol library is read at every hanging: a file is parsed again only when it changed."""

from __future__ import annotations

import os

from workstation.hanging import library
from workstation.hanging.library import ProtocolLibrary, user_dir
from workstation.home import Home

from tests.hanging.test_library import YAML_PROTOCOL


def _count_parses(monkeypatch) -> list[str]:
    parsed: list[str] = []
    real = library.parse_protocol

    def counting(data, source):
        parsed.append(os.path.basename(source))
        return real(data, source)

    monkeypatch.setattr(library, "parse_protocol", counting)
    return parsed


def test_unchanged_files_are_not_parsed_again_changed_ones_are(lightbox_home, monkeypatch):
    home = Home.single(lightbox_home)
    folder = user_dir(home)
    folder.mkdir(parents=True)
    mine = folder / "mine.yaml"
    mine.write_text(YAML_PROTOCOL, encoding="utf-8")
    first = ProtocolLibrary.load(home)  # built-ins may be parsed already: whatever this process did before
    parsed = _count_parses(monkeypatch)
    again = ProtocolLibrary.load(home)
    assert parsed == []
    assert [p.id for p in again.protocols] == [p.id for p in first.protocols]
    assert again.get("my-ct-chest").name == "My CT chest"

    # Edited in place to a text of the same length (its times may not move within a clock tick): read again.
    mine.write_text(YAML_PROTOCOL.replace("My CT chest", "My CT thora"), encoding="utf-8")
    edited = ProtocolLibrary.load(home)
    assert parsed == ["mine.yaml"]
    assert edited.get("my-ct-chest").name == "My CT thora"


def test_a_broken_file_is_reported_at_every_load(lightbox_home):
    home = Home.single(lightbox_home)
    folder = user_dir(home)
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    for _ in range(2):
        lib = ProtocolLibrary.load(home)
        assert [e.source.rsplit("/", 1)[-1] for e in lib.errors] == ["broken.json"]
