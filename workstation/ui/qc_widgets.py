"""Pieces the QC dialogs share: a picker of series and instances, node choice, status colours."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QTreeWidget, QTreeWidgetItem

from workstation.config import Node, Settings
from workstation.qc.checks import FAIL, INFO, PASS, WARN
from workstation.qc.notes import rejected_sop_uids, rejection_note_uids
from workstation.qc.sending import send
from workstation.store.cache import StudyCache
from workstation.ui.qvariant import combo_value, tree_value

#: Status colours on the dark theme: readable, not glaring.
STATUS_COLORS = {PASS: "#6cc070", WARN: "#e0b050", FAIL: "#ff7b72", INFO: "#8a8a8a"}
STATUS_TEXT = {PASS: "PASS", WARN: "WARN", FAIL: "FAIL", INFO: "—"}
UID_ROLE = Qt.ItemDataRole.UserRole + 1

SettingsLoader = Callable[[], Settings]


def send_after(outcome, node: Node | None, ae_title: str, produced=None) -> dict:
    """Send what a QC operation produced (runs on the worker thread).

    A send failure does not undo anything: the objects are in the cache and can be sent later.
    """
    result = {"outcome": outcome, "sent": None, "send_error": ""}
    if node is not None:
        from workstation.net.association import NetworkError  # pynetdicom: loaded at the first send

        try:
            result["sent"] = send(outcome.produced if produced is None else produced, node, ae_title)
        except NetworkError as exc:
            result["send_error"] = str(exc)
    return result


def sent_text(result: dict) -> str:
    """" Sent …" or " Not sent …" for a status line ("" when nothing was to be sent)."""
    if result.get("send_error"):
        return f" Not sent ({result['send_error']}): stored in the cache, send it later."
    sent = result.get("sent")
    if sent is None:
        return ""
    return f" Sent: {sent.summary()}" if sent.ok else f" Sending incomplete: {sent.summary()}"


def status_color(status: str) -> QColor:
    return QColor(STATUS_COLORS.get(status, STATUS_COLORS[INFO]))


def fill_node_combo(combo: QComboBox, nodes: list[Node], none_label: str) -> None:
    """``none_label`` (no node) first, then the configured nodes by name."""
    combo.clear()
    combo.addItem(none_label, None)
    for node in nodes:
        combo.addItem(f"{node.name} ({node.ae_title}@{node.host}:{node.port})", node.name)


def chosen_node(combo: QComboBox, nodes: list[Node]) -> Node | None:
    name = combo_value(combo, str)
    return next((n for n in nodes if n.name == name), None)


class InstancePicker(QTreeWidget):
    """The study's series with their instances, each checkable; rejected ones shown but not offered."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Series / image", "Instances"])
        self.setUniformRowHeights(True)

    def load(self, cache: StudyCache, study_uid: str, *, checked: AbstractSet[str] = frozenset()) -> None:
        self.clear()
        hidden = rejected_sop_uids(cache, study_uid) | rejection_note_uids(cache, study_uid)
        for s in cache.series(study_uid):
            rows = [r for r in cache.instances(s.series_uid) if r.sop_instance_uid not in hidden]
            if not rows:
                continue
            number = "" if s.series_number is None else f" {s.series_number}"
            top = QTreeWidgetItem([f"Series{number} {s.description} [{s.modality}]", str(len(rows))])
            top.setData(0, UID_ROLE, s.series_uid)
            top.setFlags(top.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
            top.setCheckState(0, Qt.CheckState.Unchecked)
            for r in rows:
                label = f"image {r.instance_number}" if r.instance_number is not None else r.sop_instance_uid
                child = QTreeWidgetItem([label, r.sop_instance_uid])
                child.setData(0, UID_ROLE, r.sop_instance_uid)
                child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                on = r.sop_instance_uid in checked
                child.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                top.addChild(child)
            self.addTopLevelItem(top)
        self.resizeColumnToContents(0)

    def series_items(self) -> list[QTreeWidgetItem]:
        return [t for i in range(self.topLevelItemCount()) if (t := self.topLevelItem(i)) is not None]

    @staticmethod
    def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
        return [c for i in range(item.childCount()) if (c := item.child(i)) is not None]

    @staticmethod
    def _uids(items: list[QTreeWidgetItem]) -> list[str]:
        return [uid for t in items if (uid := tree_value(t, str, 0, UID_ROLE)) is not None]

    def checked_series(self) -> list[str]:
        """Series whose every instance is checked."""
        return self._uids([t for t in self.series_items() if t.checkState(0) == Qt.CheckState.Checked])

    def checked_instances(self) -> list[str]:
        return self._uids([c for t in self.series_items() for c in self._children(t)
                           if c.checkState(0) == Qt.CheckState.Checked])

    def set_checked(self, uids: AbstractSet[str]) -> None:
        """Check exactly the series or instances whose UIDs are given."""
        for t in self.series_items():
            if tree_value(t, str, 0, UID_ROLE) in uids:
                t.setCheckState(0, Qt.CheckState.Checked)
                continue
            for c in self._children(t):
                on = tree_value(c, str, 0, UID_ROLE) in uids
                c.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
