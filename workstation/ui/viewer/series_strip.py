"""The series strip: the open studies' display sets with thumbnails, and their presentation states.

Thumbnails (the middle image of each series) are made on a worker thread by
the Qt-free :func:`workstation.imaging.thumbnails.make_thumbnail`; only the
conversion to a pixmap happens on the GUI thread.  Double-click (or Enter)
shows a series in the active viewport; a series can also be dragged onto any
viewport.  Under each series its presentation states and key object
selections are listed; double-clicking one applies it.
"""

from __future__ import annotations

import queue
import threading

import numpy as np
from PySide6.QtCore import QMimeData, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QDrag, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from workstation.imaging.corner_text import person_name
from workstation.imaging.thumbnails import make_thumbnail
from workstation.imaging.viewport import DisplaySet
from workstation.store.queries import StudyRow
from workstation.ui.qvariant import tree_value

THUMB_SIZE = 96
THUMBNAIL_POLL_MS = 50
SERIES_MIME = "application/x-lightbox-series-uid"
ICONS_KEPT = 512  # thumbnails kept for studies listed again (about 36 KiB each)
ROLE_KIND = Qt.ItemDataRole.UserRole
ROLE_UID = Qt.ItemDataRole.UserRole + 1


class _ThumbnailThread:
    """Makes thumbnails on a daemon thread; the strip collects them on the GUI thread.

    No Qt object is touched off the GUI thread (results wait in a queue the
    strip's timer drains), and a daemon thread cannot hold the application
    at exit even if the strip is dropped without :meth:`SeriesStrip.stop`.
    """

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.go = threading.Event()  # cleared while a study opens: its first image comes first
        self.go.set()
        self._thread = threading.Thread(target=self.run, name="thumbnails", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def isRunning(self) -> bool:  # noqa: N802 - the QThread spelling its callers use
        return self._thread.is_alive()

    def wait(self, timeout_ms: int) -> bool:
        self._thread.join(timeout_ms / 1000)
        return not self._thread.is_alive()

    def run(self) -> None:
        while True:
            self.go.wait()
            job = self.jobs.get()
            if job is None:
                return
            uid, stack = job
            thumb = make_thumbnail(stack, THUMB_SIZE)
            self.results.put((uid, thumb.pixels, thumb.error or ""))


def pixmap_of(pixels: np.ndarray) -> QPixmap:
    """A pixmap of uint32 0xffRRGGBB pixels (copied: the array may go)."""
    h, w = pixels.shape
    image = QImage(np.ascontiguousarray(pixels).data, w, h, 4 * w, QImage.Format.Format_RGB32)
    return QPixmap.fromImage(image.copy())


class SeriesStrip(QTreeWidget):
    """Studies, their series (with thumbnails) and their presentation states.

    Signals
    -------
    series_chosen(str)
        The reader double-clicked a series (its Series Instance UID).
    object_chosen(str, str)
        The reader double-clicked a presentation state or key object selection
        (kind "PR" or "KO", SOP Instance UID).
    """

    series_chosen = Signal(str)
    object_chosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setIndentation(10)
        self.setMinimumWidth(THUMB_SIZE + 120)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.itemActivated.connect(self._on_activated)
        self.series_items: dict[str, QTreeWidgetItem] = {}
        self.thumbnails_made: set[str] = set()
        # Series UID -> its thumbnail, so a study listed again (opened anew, or added) gets its icons back.
        self._icons: dict[str, QIcon] = {}
        self._thread = _ThumbnailThread()
        self._thread.start()
        self._pending = 0
        self._collect_timer = QTimer(self)
        self._collect_timer.setInterval(THUMBNAIL_POLL_MS)
        self._collect_timer.timeout.connect(self._collect)

    def hold(self) -> None:
        """Make no thumbnails until :meth:`release` (a study's first image is being shown)."""
        self._thread.go.clear()

    def release(self) -> None:
        self._thread.go.set()

    def stop(self) -> None:
        """End the thumbnail thread (call before the widget goes)."""
        self._collect_timer.stop()
        self._thread.go.set()
        if self._thread.isRunning():
            self._thread.jobs.put(None)
            self._thread.wait(10_000)

    def set_content(self, studies: list[StudyRow], display_sets: list[DisplaySet], other_patient: set[str],
                    objects: dict[str, list[tuple[str, str, str]]]) -> None:
        """Show ``studies`` with their display sets; ``other_patient`` names studies to flag.

        ``objects`` maps a Series Instance UID to (kind, SOP Instance UID, label) of
        presentation states and key object selections that refer to it.
        """
        self.clear()
        self.series_items = {}
        for study in studies:
            top = QTreeWidgetItem([_study_label(study)])
            top.setData(0, ROLE_KIND, "study")
            top.setData(0, ROLE_UID, study.study_uid)
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if study.study_uid in other_patient:
                top.setForeground(0, QBrush(QColor("#ff7b72")))
                # The patient on a line of its own: the narrow strip must not elide the ID.
                top.setText(0, f"OTHER PATIENT\n{person_name(study.patient_name)} ({study.patient_id})\n{top.text(0)}")
            self.addTopLevelItem(top)
            for ds in display_sets:
                if ds.study.study_uid != study.study_uid:
                    continue
                item = QTreeWidgetItem([f"{ds.label}\n{ds.stack.series.modality}  {len(ds.stack)} im"])
                item.setData(0, ROLE_KIND, "series")
                item.setData(0, ROLE_UID, ds.series_uid)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                top.addChild(item)
                self.series_items[ds.series_uid] = item
                for kind, sop_uid, label in objects.get(ds.series_uid, []):
                    child = QTreeWidgetItem([label])
                    child.setData(0, ROLE_KIND, kind)
                    child.setData(0, ROLE_UID, sop_uid)
                    item.addChild(child)
                item.setExpanded(True)
                icon = self._icons.get(ds.series_uid)
                if icon is not None:
                    item.setIcon(0, icon)
                if ds.series_uid not in self.thumbnails_made:
                    self._thread.jobs.put((ds.series_uid, ds.stack))
                    self._pending += 1
                    self._collect_timer.start()
            top.setExpanded(True)

    def _collect(self) -> None:
        """Show the thumbnails made since the last look (GUI thread)."""
        while True:
            try:
                uid, pixels, error = self._thread.results.get_nowait()
            except queue.Empty:
                break
            self._pending -= 1
            self._on_thumbnail(uid, pixels, error)
        if self._pending <= 0:
            self._collect_timer.stop()

    def _on_thumbnail(self, uid: str, pixels, error: str) -> None:
        self.thumbnails_made.add(uid)
        item = self.series_items.get(uid)
        if pixels is not None:
            icon = QIcon(pixmap_of(pixels))
            self._icons[uid] = icon
            if len(self._icons) > ICONS_KEPT:  # the oldest goes; made again if its series is listed again
                oldest = next(iter(self._icons))
                del self._icons[oldest]
                self.thumbnails_made.discard(oldest)
            if item is not None:
                item.setIcon(0, icon)
        elif item is not None:
            item.setToolTip(0, error)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        kind, uid = tree_value(item, str, 0, ROLE_KIND), tree_value(item, str, 0, ROLE_UID)
        if uid is None:  # a row without a UID (none is made today) opens nothing
            return
        if kind == "series":
            self.series_chosen.emit(uid)
        elif kind in ("PR", "KO"):
            self.object_chosen.emit(kind, uid)

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        uid = tree_value(item, str, 0, ROLE_UID)
        if item is None or tree_value(item, str, 0, ROLE_KIND) != "series" or uid is None:
            return
        mime = QMimeData()
        mime.setData(SERIES_MIME, uid.encode())
        drag = QDrag(self)
        drag.setMimeData(mime)
        if not item.icon(0).isNull():
            drag.setPixmap(item.icon(0).pixmap(64, 64))
        drag.exec(Qt.DropAction.CopyAction)


def _study_label(study: StudyRow) -> str:
    date = study.study_date
    if len(date) == 8:
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return f"{date}  {study.modalities}\n{study.description or '(no description)'}"
