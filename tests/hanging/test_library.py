"""The protocol library: built-ins and the user's, YAML and JSON, invalid files skipped, saving."""

from __future__ import annotations

import json
import logging

from workstation.hanging.engine import build_plan
from workstation.hanging.library import (
    BUILTIN_DIR,
    ProtocolLibrary,
    delete_user_protocol,
    read_file,
    save_user_protocol,
    user_dir,
)
from workstation.hanging.protocol import parse_protocol
from workstation.home import Home

from tests.hanging.conftest import series, study

YAML_PROTOCOL = """\
# a reader's own CT chest protocol
id: my-ct-chest
name: My CT chest
rules:
  - {attribute: ModalitiesInStudy, constraint: {equals: CT}, required: true, weight: 2}
  - {attribute: BodyPartExamined, constraint: {equals: CHEST}, weight: 3}
  - {attribute: StudyDescription, constraint: {regex: CHEST}, weight: 2}
  - {attribute: RelevantPriorCount, constraint: {range: {min: 1}}}
stages:
  - name: Lung only
    layout: {rows: 1, columns: 1}
    viewports:
      - displaySet: {rules: [{attribute: SeriesDescription, constraint: {contains: LUNG}}]}
        window: Lung
"""


def test_invalid_user_files_are_skipped_with_file_and_field(lightbox_home, caplog):
    home = Home.single(lightbox_home)
    folder = user_dir(home)
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    (folder / "bad-field.yaml").write_text(YAML_PROTOCOL.replace("window: Lung", "window: Lungs"), encoding="utf-8")
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        lib = ProtocolLibrary.load(home)
    assert {p.id for p in lib.protocols} == {p.stem for p in BUILTIN_DIR.glob("*.json")}
    errors = {e.source.rsplit("/", 1)[-1]: e for e in lib.errors}
    assert set(errors) == {"broken.json", "bad-field.yaml"}
    assert "not valid JSON" in errors["broken.json"].message
    assert errors["bad-field.yaml"].field == "stages[0].viewports[0].window"
    assert "bad-field.yaml: stages[0].viewports[0].window" in caplog.text


def test_yaml_user_protocol_wins_for_similar_studies(lightbox_home):
    home = Home.single(lightbox_home)
    user_dir(home).mkdir(parents=True)
    (user_dir(home) / "mine.yaml").write_text(YAML_PROTOCOL, encoding="utf-8")
    lib = ProtocolLibrary.load(home)
    mine = lib.get("my-ct-chest")
    assert mine.origin == "user" and mine.source.endswith("mine.yaml")
    ct = study(series=(series("a", 1, Modality="CT", SeriesDescription="SOFT"),
                       series("b", 2, Modality="CT", SeriesDescription="LUNG")),
               ModalitiesInStudy="CT", BodyPartExamined="CHEST", StudyDescription="CT CHEST")
    plan = build_plan(ct, [], lib.protocols)
    # the built-in ct-chest scores the same 7 here; the user's protocol wins the tie
    assert plan.protocol_id == "my-ct-chest" and plan.origin == "user"
    assert [c.score for c in plan.candidates[:2]] == [7.0, 7.0]
    assert plan.stages[0].viewports[0].series_uid == "b"


def test_user_protocol_replaces_builtin_of_same_id_and_save_delete(lightbox_home):
    home = Home.single(lightbox_home)
    builtin = ProtocolLibrary.load(home).get("us-cine")
    edited = parse_protocol({**builtin.to_dict(), "name": "My ultrasound"})
    path = save_user_protocol(home, edited)
    assert path == user_dir(home) / "us-cine.json"
    assert json.loads(path.read_text(encoding="utf-8"))["name"] == "My ultrasound"
    lib = ProtocolLibrary.load(home)
    assert lib.get("us-cine").name == "My ultrasound" and lib.get("us-cine").origin == "user"
    assert len([p for p in lib.protocols if p.id == "us-cine"]) == 1
    assert delete_user_protocol(home, "us-cine") == 1
    assert ProtocolLibrary.load(home).get("us-cine").origin == "builtin"


def test_saving_replaces_a_yaml_original(lightbox_home):
    home = Home.single(lightbox_home)
    user_dir(home).mkdir(parents=True)
    (user_dir(home) / "mine.yaml").write_text(YAML_PROTOCOL, encoding="utf-8")
    p = ProtocolLibrary.load(home).get("my-ct-chest")
    save_user_protocol(home, p)
    assert sorted(f.name for f in user_dir(home).iterdir()) == ["my-ct-chest.json"]
    assert read_file(user_dir(home) / "my-ct-chest.json")["id"] == "my-ct-chest"


def test_duplicate_ids_in_one_folder(lightbox_home):
    home = Home.single(lightbox_home)
    user_dir(home).mkdir(parents=True)
    (user_dir(home) / "a.yaml").write_text(YAML_PROTOCOL, encoding="utf-8")
    (user_dir(home) / "b.yaml").write_text(YAML_PROTOCOL, encoding="utf-8")
    lib = ProtocolLibrary.load(home)
    assert lib.get("my-ct-chest").source.endswith("a.yaml")
    assert [e.field for e in lib.errors] == ["id"]
