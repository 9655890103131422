"""Values read back across Qt's QVariant boundary come back as their Python type, or fail clearly."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QListWidgetItem, QTableWidgetItem, QTreeWidgetItem

from workstation.imaging.interaction import Tool
from workstation.ui import qvariant
from workstation.ui.qvariant import QVariantTypeError


class Number(enum.IntEnum):
    ONE = 1
    TWO = 2


@dataclass
class Row:
    uid: str


def test_a_str_enum_stored_in_an_action_comes_back_as_its_member(qtbot):
    action = QAction("Pan")
    action.setData(Tool.PAN)
    assert type(action.data()) is str  # what Qt hands back: the enum is lost (the broken toolbar's cause)
    value = qvariant.action_value(action, Tool)
    assert value is Tool.PAN


def test_an_int_enum_and_plain_values_round_trip(qtbot):
    action = QAction("x")
    action.setData(Number.TWO)
    assert qvariant.action_value(action, Number) is Number.TWO
    for value in ("日本語", 7, 2.5, (1, "a"), [1, 2], {"k": "v"}, Path("/tmp/x"), Row("1.2.3")):
        action.setData(value)
        assert qvariant.action_value(action, type(value)) == value


def test_a_wrong_type_is_named_in_the_error(qtbot):
    action = QAction("Distance")
    action.setData("Distance")
    with pytest.raises(QVariantTypeError, match=r"action 'Distance'.*expected list, got str 'Distance'"):
        qvariant.action_value(action, list)
    action.setData("not a tool")
    with pytest.raises(QVariantTypeError, match="expected Tool"):
        qvariant.action_value(action, Tool)
    action.setData(None)
    with pytest.raises(QVariantTypeError):  # an action's value is never optional
        qvariant.action_value(action, str)
    with pytest.raises(QVariantTypeError, match="no action"):
        qvariant.action_value(None, str)


def test_bool_is_not_taken_for_a_list():
    # A clicked(bool) reaching a slot that wanted a list: the payload check says so.
    with pytest.raises(QVariantTypeError, match="expected list, got bool False"):
        qvariant.signal_value(False, list)
    assert qvariant.signal_value(["a"], list) == ["a"]


def test_items_of_every_kind(qtbot):
    model = QStandardItemModel()
    std = QStandardItem("s")
    std.setData("1.2.3", Qt.ItemDataRole.UserRole)
    model.appendRow(std)
    assert qvariant.item_value(model.index(0, 0), str) == "1.2.3"
    assert qvariant.item_value(std, str) == "1.2.3"
    assert qvariant.item_value(model.index(5, 0), str) is None  # an invalid index holds nothing
    assert qvariant.item_value(None, str) is None
    assert qvariant.item_value(model.index(0, 0), str, Qt.ItemDataRole.DisplayRole) == "s"

    listed = QListWidgetItem("l")
    listed.setData(Qt.ItemDataRole.UserRole, Row("9"))
    assert qvariant.item_value(listed, Row) == Row("9")
    cell = QTableWidgetItem("t")
    assert qvariant.item_value(cell, int) is None  # no data is None, not an error
    cell.setData(Qt.ItemDataRole.UserRole, 42)
    assert qvariant.item_value(cell, int) == 42
    with pytest.raises(QVariantTypeError, match="expected str, got int 42"):
        qvariant.item_value(cell, str)

    tree = QTreeWidgetItem(["a", "b"])
    tree.setData(1, Qt.ItemDataRole.UserRole + 1, "series")
    assert qvariant.tree_value(tree, str, 1, Qt.ItemDataRole.UserRole + 1) == "series"
    assert qvariant.tree_value(tree, str) is None
    assert qvariant.tree_value(None, str) is None


def test_combo_entries(qtbot):
    combo = QComboBox()
    assert qvariant.combo_value(combo, str) is None  # no entry at all
    combo.addItem("(none)")
    combo.addItem("Pan", Tool.PAN)
    combo.addItem("Ω", "omega")
    assert qvariant.combo_value(combo, str) is None  # the current entry has no data
    assert qvariant.combo_value(combo, Tool, 1) is Tool.PAN
    combo.setCurrentIndex(2)
    assert qvariant.combo_value(combo, str) == "omega"
    with pytest.raises(QVariantTypeError, match="combo entry 'Ω'"):
        qvariant.combo_value(combo, int)


def test_every_qvariant_read_of_the_ui_goes_through_the_module():
    # One place converts values read back from Qt: a new .data()/currentData()/itemData() elsewhere is a finding.
    import re

    import workstation.ui

    root = Path(workstation.ui.__file__).parent
    read = re.compile(r"\.(data|currentData|itemData)\(")
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "qvariant.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            # A drop's bytes (QMimeData.data) are a QByteArray, not a QVariant.
            if read.search(code.replace("mimeData().data(", "")):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert found == []
