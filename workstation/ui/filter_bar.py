"""The filter bar above the study list: name, ID, accession, modality, a date range and the reading status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from workstation.reporting.reading_status import READING_STATUSES
from workstation.store.queries import StudyFilter
from workstation.ui.flow_layout import FlowLayout
from workstation.ui.study_format import ANY, FilterInput, build_filter, modality_choices

# Typing pauses this long before the list is re-read.
DEBOUNCE_MS = 250

_ANY_DATE = QDate(1900, 1, 1)


class AnyDateEdit(QDateEdit):
    """A date field whose lowest value reads "any" and means no limit."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setMinimumDate(_ANY_DATE)
        self.setSpecialValueText(ANY)
        self.setDate(_ANY_DATE)

    def date_or_none(self) -> dt.date | None:
        """The chosen day, or ``None`` for "any"."""
        d = self.date()
        return None if d == _ANY_DATE else dt.date(d.year(), d.month(), d.day())

    def set_date_or_none(self, day: dt.date | None) -> None:
        self.setDate(_ANY_DATE if day is None else QDate(day.year, day.month, day.day))

    def mousePressEvent(self, event) -> None:
        super().mousePressEvent(event)
        # The popup opens on the field's date; for "any" that is 1900: show this month instead.
        if self.date() == _ANY_DATE and self.calendarWidget() is not None:
            today = QDate.currentDate()
            self.calendarWidget().setCurrentPage(today.year(), today.month())


class FilterBar(QWidget):
    """Fields that narrow the study list.

    Signals
    -------
    filter_changed(object)
        The new :class:`StudyFilter`, once typing pauses or a choice changes.
    """

    filter_changed = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.name_edit = self._line_edit("Patient name", "e.g. Müller, Anna  or  Mül*", 200)
        self.id_edit = self._line_edit("Patient ID", "Patient ID", 130)
        self.accession_edit = self._line_edit("Accession", "Accession", 130)
        self.modality_combo = QComboBox()
        self.modality_combo.setAccessibleName("Modality")
        self.modality_combo.setMinimumContentsLength(7)
        self.modality_combo.addItems(modality_choices())
        self.reading_combo = QComboBox()
        self.reading_combo.setAccessibleName("Reading status")
        self.reading_combo.setToolTip("Unread, draft, preliminary, final (signed) or amended")
        self.reading_combo.addItems([ANY, *READING_STATUSES])
        self.date_from_edit = AnyDateEdit()
        self.date_from_edit.setAccessibleName("Study date from")
        self.date_to_edit = AnyDateEdit()
        self.date_to_edit.setAccessibleName("Study date to")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Show all studies")

        # Fields wrap onto more rows when the window is narrow; each caption stays with its field.
        layout = FlowLayout(self, spacing=6)
        for label, widget in (
            ("Name", self.name_edit), ("ID", self.id_edit), ("Accession", self.accession_edit),
            ("Modality", self.modality_combo), ("Date from", self.date_from_edit), ("to", self.date_to_edit),
            ("Reading", self.reading_combo),
        ):
            caption = QLabel(label)
            caption.setBuddy(widget)
            pair = QWidget()
            pair_layout = QHBoxLayout(pair)
            pair_layout.setContentsMargins(0, 0, 0, 0)
            pair_layout.setSpacing(4)
            pair_layout.addWidget(caption)
            pair_layout.addWidget(widget)
            layout.addWidget(pair)
        layout.addWidget(self.clear_button)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit)
        for edit in (self.name_edit, self.id_edit, self.accession_edit):
            edit.textChanged.connect(self._debounce.start)
            edit.returnPressed.connect(self._emit)
        self.modality_combo.currentTextChanged.connect(self._emit)
        self.reading_combo.currentTextChanged.connect(self._emit)
        self.date_from_edit.dateChanged.connect(self._emit)
        self.date_to_edit.dateChanged.connect(self._emit)
        self.clear_button.clicked.connect(self.clear)
        self._last: StudyFilter = self.current_filter()

    def _line_edit(self, name: str, placeholder: str, width: int) -> QLineEdit:
        edit = QLineEdit()
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        edit.setMinimumWidth(width)
        return edit

    def filter_input(self) -> FilterInput:
        """The fields as plain values."""
        return FilterInput(
            patient_name=self.name_edit.text(),
            patient_id=self.id_edit.text(),
            accession=self.accession_edit.text(),
            modality=self.modality_combo.currentText(),
            date_from=self.date_from_edit.date_or_none(),
            date_to=self.date_to_edit.date_or_none(),
            reading_status=self.reading_combo.currentText(),
        )

    def current_filter(self) -> StudyFilter:
        return build_filter(self.filter_input())

    def add_modalities(self, seen: Iterable[str]) -> None:
        """Offer the modalities of cached studies too (the current choice is kept)."""
        wanted = modality_choices(seen)
        have = [self.modality_combo.itemText(i) for i in range(self.modality_combo.count())]
        if set(wanted) <= set(have):
            return
        current = self.modality_combo.currentText()
        merged = [ANY, *sorted((set(wanted) | set(have)) - {ANY})]
        self.modality_combo.blockSignals(True)
        self.modality_combo.clear()
        self.modality_combo.addItems(merged)
        self.modality_combo.setCurrentText(current)
        self.modality_combo.blockSignals(False)

    def clear(self) -> None:
        """Back to every study."""
        for w in (self.name_edit, self.id_edit, self.accession_edit, self.modality_combo,
                  self.date_from_edit, self.date_to_edit, self.reading_combo):
            w.blockSignals(True)
        self.name_edit.clear()
        self.id_edit.clear()
        self.accession_edit.clear()
        self.modality_combo.setCurrentText(ANY)
        self.date_from_edit.set_date_or_none(None)
        self.date_to_edit.set_date_or_none(None)
        self.reading_combo.setCurrentText(ANY)
        for w in (self.name_edit, self.id_edit, self.accession_edit, self.modality_combo,
                  self.date_from_edit, self.date_to_edit, self.reading_combo):
            w.blockSignals(False)
        self._emit()

    def _emit(self, *_args) -> None:
        self._debounce.stop()
        flt = self.current_filter()
        if flt != self._last:
            self._last = flt
            self.filter_changed.emit(flt)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            return
        super().keyPressEvent(event)
