"""The protocol manager dialog: list, edit rules in the form, validation naming the field, save, delete."""

from __future__ import annotations

from workstation.hanging.library import ProtocolLibrary, user_dir
from workstation.ui.protocol_editor import ProtocolEditorDialog


def make(qtbot, home) -> ProtocolEditorDialog:
    d = ProtocolEditorDialog(home)
    qtbot.addWidget(d)
    d.show()
    return d


def select(dialog, protocol_id: str) -> None:
    for i in range(dialog.list.count()):
        if dialog.list.item(i).data(0x0100) == protocol_id:
            dialog.list.setCurrentRow(i)
            return
    raise AssertionError(protocol_id)


def test_lists_builtins_and_reports_skipped_files(qtbot, home):
    user_dir(home).mkdir(parents=True, exist_ok=True)
    (user_dir(home) / "bad.json").write_text('{"id": "bad", "name": "Bad", "stages": "none"}', encoding="utf-8")
    d = make(qtbot, home)
    assert d.list.count() == len(ProtocolLibrary.load().protocols)
    assert "bad.json: stages: expected a non-empty list" in d.skipped.text()
    select(d, "ct-chest")
    assert d.id_edit.text() == "ct-chest" and d.rules.rowCount() == 4
    assert "Built-in" in d.origin_label.text() and not d.delete_button.isEnabled()


def test_edit_a_rule_in_the_form_and_save_a_copy_that_wins(qtbot, home):
    d = make(qtbot, home)
    select(d, "mr-brain")
    d.duplicate_current()
    assert d.id_edit.text() == "mr-brain-copy"
    d.name_edit.setText("Brain, my way")
    d.rules.cellWidget(1, 3).setValue(10)  # BodyPartExamined weighs more in my copy
    saved = d.save()
    assert saved is not None and "Saved" in d.status.text()
    lib = ProtocolLibrary.load(home)
    mine = lib.get("mr-brain-copy")
    assert mine.origin == "user" and mine.name == "Brain, my way" and mine.rules[1].weight == 10
    assert d.current.id == "mr-brain-copy" and d.delete_button.isEnabled()
    assert d.delete_current() and ProtocolLibrary.load(home).get("mr-brain-copy") is None


def test_invalid_edits_are_refused_with_the_field(qtbot, home):
    d = make(qtbot, home)
    select(d, "us-cine")
    d.rules.add_row()
    d.rules.cellWidget(1, 1).setCurrentText("regex")
    d.rules.cellWidget(1, 2).setText("(unclosed")
    assert d.save() is None
    assert "rules[1].constraint.regex" in d.status.text()
    d.rules.setCurrentCell(1, 0)
    d.rules.remove_current()
    d.body.setPlainText(d.body.toPlainText().replace("rows: 1", "rows: 9", 1))
    assert d.save() is None and "stages[0].layout.rows" in d.status.text()
    assert not user_dir(home).exists() or not any(user_dir(home).iterdir())


def test_new_import_export(qtbot, home, tmp_path):
    d = make(qtbot, home)
    d.new_protocol()
    d.rules.cellWidget(0, 2).setText("OT")
    assert d.save().id == "my-protocol"
    assert d.export_file(str(tmp_path / "mine.yaml"))
    assert d.delete_current()
    imported = d.import_file(str(tmp_path / "mine.yaml"))
    assert imported is not None and imported.id == "my-protocol"
    assert d.import_file(str(tmp_path / "missing.json")) is None and "Not imported" in d.status.text()
