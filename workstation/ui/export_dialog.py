"""File › Export…: copies of studies as patient media, de-identified copies, pictures and movies.

The dialog only gathers an :class:`~workstation.export.job.ExportRequest` and
runs :func:`~workstation.export.job.run_export` on a
:class:`~workstation.ui.background.BackgroundTask`; the work, the checks and
the report are in the Qt-free :mod:`workstation.export` package.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
    QLineEdit, QListWidget, QListWidgetItem, QPlainTextEdit, QProgressBar, QPushButton, QRadioButton, QVBoxLayout,
    QWidget,
)

from workstation.export.job import FORMATS, ExportRequest, run_export, study_files
from workstation.jobs.core import Cancelled, CancelToken
from workstation.store.cache import StudyCache
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import item_value, signal_value
from workstation.ui.study_format import format_da, format_person_name

#: The options of PS3.15 Annex E as the dialog names them.
OPTION_LABELS = (
    ("dates", "Retain longitudinal information (dates shifted)"),
    ("patient", "Retain patient characteristics (sex, age, size, weight)"),
    ("device", "Retain device identity"),
    ("descriptors", "Clean descriptors (keep descriptions without identifiers)"),
    ("pixels", "Clean pixel data (ultrasound text outside its regions)"),
)


class _Stop(CancelToken):
    """The background task's cancel event as the export's cancel token."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__()
        self._stop = event

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def raise_if_cancelled(self) -> None:
        if self._stop.is_set():
            raise Cancelled()


def _run(request: ExportRequest):
    def work(emit, cancel: threading.Event):
        return run_export(request, progress=lambda done, total: emit(("progress", done, total)),
                          cancel=_Stop(cancel), say=lambda line: emit(("line", line)))
    return work


class ExportDialog(QDialog):
    """Choose studies, destination, de-identification and format; export with progress and a report."""

    def __init__(self, cache: StudyCache, selected: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export studies")
        self.cache = cache
        self.task = BackgroundTask(self, name="export")
        self.task.item.connect(self._on_item)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)

        self.studies = QListWidget()
        self.studies.setMinimumHeight(150)  # several studies visible at once, also at 1280x1024
        for row in cache.studies():
            text = "  ".join(t for t in (format_person_name(row.patient_name), format_da(row.study_date),
                                         row.modalities.replace("\\", "/"), row.description) if t)
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, row.study_uid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if row.study_uid in selected else Qt.CheckState.Unchecked)
            self.studies.addItem(item)

        self.to_folder = QRadioButton("Folder or USB stick")
        self.to_iso = QRadioButton("ISO image (CD/DVD)")
        self.to_folder.setChecked(True)
        kinds = QButtonGroup(self)
        kinds.addButton(self.to_folder)
        kinds.addButton(self.to_iso)
        self.destination = QLineEdit()
        self.destination.setPlaceholderText("an empty folder, or the .iso file to write")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.destination, 1)
        where.addWidget(browse)

        self.format = QComboBox()
        self.format.addItems(["DICOM media (IHE PDI)", "PNG pictures", "JPEG pictures", "MP4 movies of cines"])
        self.corner_text = QCheckBox("Corner text on pictures and movies")
        self.corner_text.setChecked(True)
        self.key_images = QCheckBox("Pictures of the key images only")
        self.annotations = QCheckBox("Pictures as their presentation state shows them, with its annotations")
        self.annotations.setChecked(True)

        self.deidentify = QGroupBox("De-identify (PS3.15 basic profile)")
        self.deidentify.setCheckable(True)
        self.deidentify.setChecked(False)
        options = QVBoxLayout(self.deidentify)
        self.options: dict[str, QCheckBox] = {}
        for key, label in OPTION_LABELS:
            box = QCheckBox(label)
            self.options[key] = box
            options.addWidget(box)
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("new patient name (generated when empty)")
        self.new_id = QLineEdit()
        self.new_id.setPlaceholderText("new patient ID")
        identity = QHBoxLayout()
        identity.addWidget(self.new_name, 2)
        identity.addWidget(self.new_id, 1)
        options.addLayout(identity)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setPlaceholderText("What was written, left out and removed appears here.")
        self.report.setMinimumHeight(120)  # the report of removed attributes runs to several lines
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.task.cancel)
        close = QPushButton("Close")
        close.clicked.connect(self.close)

        form = QFormLayout()
        form.addRow("Studies", self.studies)
        dest_row = QHBoxLayout()
        dest_row.addWidget(self.to_folder)
        dest_row.addWidget(self.to_iso)
        form.addRow("Destination", dest_row)
        form.addRow("", where)
        form.addRow("Format", self.format)
        form.addRow("", self.corner_text)
        form.addRow("", self.key_images)
        form.addRow("", self.annotations)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.deidentify)
        layout.addWidget(self.progress)
        layout.addWidget(self.report, 1)
        layout.addLayout(buttons)
        self.status = QLabel("")
        layout.addWidget(self.status)
        self.resize(760, 720)

    # ---- reading the form ---------------------------------------------------------------------
    def chosen_studies(self) -> list[str]:
        """Study Instance UIDs of the ticked studies, in list order."""
        items = [self.studies.item(i) for i in range(self.studies.count())]
        return [uid for item in items if item.checkState() == Qt.CheckState.Checked
                and (uid := item_value(item, str)) is not None]

    def request(self) -> ExportRequest:
        """The request the form describes (not yet checked)."""
        path = Path(self.destination.text().strip()).expanduser() if self.destination.text().strip() else None
        iso = self.to_iso.isChecked()
        options = (tuple(k for k, box in self.options.items() if box.isChecked()) if self.deidentify.isChecked()
                   else None)
        name, new_id = self.new_name.text().strip(), self.new_id.text().strip()
        chosen = (name, new_id) if options is not None and (name or new_id) else None
        return ExportRequest(tuple(study_files(self.cache, self.chosen_studies())),
                             to_folder=None if iso else path, to_iso=path if iso else None, deidentify=options,
                             fmt=FORMATS[self.format.currentIndex()], corner_text=self.corner_text.isChecked(),
                             key_images_only=self.key_images.isChecked(), annotations=self.annotations.isChecked(),
                             new_patient=chosen)

    def _browse(self) -> None:
        if self.to_iso.isChecked():
            path, _ = QFileDialog.getSaveFileName(self, "ISO image to write", "", "ISO images (*.iso)")
        else:
            path = QFileDialog.getExistingDirectory(self, "An empty folder for the export")
        if path:
            self.destination.setText(path)

    # ---- running ------------------------------------------------------------------------------
    def start(self) -> bool:
        """Check the form and start the export in the background; False with the reason shown when it cannot."""
        if self.task.is_running():
            return False
        try:
            request = self.request()
            if request.to_folder is None and request.to_iso is None:
                raise ValueError("choose where to write the export")
            request.check()
            if request.deidentify is not None and request.new_patient is not None:
                from workstation.export.job import chosen_patients

                chosen_patients(request)  # refuse a merge of patients here, in the status line
            if request.to_folder is not None and request.to_folder.exists() and any(request.to_folder.iterdir()):
                raise ValueError("the folder is not empty: choose an empty folder")
        except (ValueError, KeyError) as exc:
            self.status.setText(str(exc))
            return False
        self.report.clear()
        self.status.setText("Exporting…")
        self.progress.setRange(0, max(1, len(request.files)))
        self.progress.setValue(0)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        return self.task.start(_run(request))

    def _on_item(self, payload: object) -> None:
        item = signal_value(payload, tuple)  # ("progress", done, total) or ("line", text)
        if item[0] == "progress":
            _kind, done, total = item
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(done)
        elif item[0] == "line":
            self.report.appendPlainText(item[1])

    def _on_finished(self, payload: object) -> None:
        self.progress.setValue(self.progress.maximum())
        for line in signal_value(payload, list):
            self.report.appendPlainText(line)
        self.status.setText("Export finished.")
        self._idle()

    def _on_failed(self, message: str) -> None:
        self.status.setText("Export cancelled." if message == "Cancelled" else f"Export failed: {message}")
        self._idle()

    def _idle(self) -> None:
        self.export_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.task.cancel()
        super().closeEvent(event)


class ViewportPictureDialog(QDialog):
    """The active viewport's image as a PNG/JPEG: corner text, annotations, de-identified (no patient text)."""

    def __init__(self, viewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save the viewport as a picture")
        self.viewport = viewport
        self.path = QLineEdit()
        self.path.setPlaceholderText("picture.png or picture.jpg")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.corner_text = QCheckBox("Corner text")
        self.corner_text.setChecked(True)
        self.annotations = QCheckBox("Annotations of the presentation state shown")
        self.annotations.setChecked(True)
        self.deidentify = QCheckBox("De-identify (no patient name, ID, birth date or institution)")
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        self.status = QLabel("")
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        for box in (self.corner_text, self.annotations, self.deidentify):
            layout.addWidget(box)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.resize(560, 220)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save picture", "", "Pictures (*.png *.jpg *.jpeg)")
        if path:
            self.path.setText(path)

    def save(self) -> bool:
        """Write the picture; the status line says where, or why not."""
        from workstation.export.images import save_picture, viewport_picture

        text = self.path.text().strip()
        if not text:
            self.status.setText("choose a file to write")
            return False
        try:
            pixels = viewport_picture(self.viewport, corner_text=self.corner_text.isChecked(),
                                      deidentify=self.deidentify.isChecked(),
                                      annotations=self.annotations.isChecked())
            out = save_picture(pixels, Path(text).expanduser())
        except (ValueError, OSError) as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText(f"Saved {out.name}")
        return True


def attach_export(window, cache: StudyCache) -> QAction:
    """File › Export… on ``window`` (before Quit); the dialog opens with the study selected in the list ticked."""
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
    action = QAction("&Export…", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+E"))  # Ctrl+E is "end of line" in the filter fields
    action.setToolTip("Copy studies to a folder, USB stick or ISO image (optionally de-identified), or as pictures")

    def show(_checked: bool = False) -> ExportDialog:
        uid = window.browser.selected_study_uid()
        dialog = ExportDialog(cache, [uid] if uid else [], window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        window.export_dialog = dialog
        dialog.show()
        return dialog

    def show_picture(_checked: bool = False) -> ViewportPictureDialog | None:
        viewer = getattr(window, "viewer", None)
        if viewer is None or not viewer.session.studies:
            window.statusBar().showMessage("Open a study first: the picture is of the active viewport", 8000)
            return None
        dialog = ViewportPictureDialog(viewer.session.active_viewport, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        window.picture_dialog = dialog
        dialog.show()
        return dialog

    action.triggered.connect(show)
    picture = QAction("Save &viewport as picture…", window)
    picture.setToolTip("The active viewport's image as PNG or JPEG, with or without corner text and annotations")
    picture.triggered.connect(show_picture)
    file_menu.insertAction(window.quit_action, action)
    file_menu.insertAction(window.quit_action, picture)
    file_menu.insertSeparator(window.quit_action)
    window.export_action = action
    window.viewport_picture_action = picture
    return action
