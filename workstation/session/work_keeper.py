"""Keeps the reader's work of each open study saved with the study, and knows what is not saved yet.

Work is the measurements and annotations of the session's
:class:`~workstation.imaging.annotation_layer.AnnotationLayer` and its key-image
marks, sorted by study through the SOP Instance UIDs of the study's frames.

When it is saved
----------------
With :attr:`WorkKeeper.autosave` on (the default) every change is written to
the study's file under the home at once, as a reading workstation keeps
measurements in its local store while they are made: opening another study,
closing the study or a crash loses nothing, and the reader is never asked about
work that has not left the machine.  A change that cannot be written (the
home is full or read-only) stays unsaved, and closing asks about it.  With
autosave off (``Settings.extra["reading"]["autosave_measurements"] = false``)
work is saved when the reader says so, and closing asks first.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator

from workstation.imaging.annotation_layer import AnnotationLayer
from workstation.session.study_work import (
    Snapshot,
    StudyWork,
    WorkFileError,
    new_annotation_uid,
    read_work,
    set_aside,
    snapshot,
    work_file,
    write_work,
)
from workstation.store.cache import StudyCache

log = logging.getLogger(__name__)

FrameKey = tuple[str, int]
_NOTHING = snapshot([], [])


class WorkKeeper:
    """The reader's work per study: restore, save, discard, and what is unsaved.

    Parameters
    ----------
    cache : StudyCache
        Looks up the SOP Class of the images measured (for the report's measurements).
    annotations : AnnotationLayer
        The session's layer (shared, not copied).
    key_images : set of (str, int)
        The session's key-image marks (shared, not copied).
    directory : Path
        Where the studies' files are (``<home>/measurements``).
    """

    def __init__(self, cache: StudyCache, annotations: AnnotationLayer, key_images: set[FrameKey],
                 directory: Path) -> None:
        self.cache = cache
        self.annotations = annotations
        self.key_images = key_images
        self.directory = Path(directory)
        self.autosave = True
        self.notices: list[str] = []  # what the reader should be told (the window shows and empties it)
        self._study_of: dict[str, str] = {}  # SOP Instance UID -> Study Instance UID, for the open studies
        self._held: dict[str, StudyWork] = {}  # saved work on images not shown (rejected, not in the cache)
        self._saved: dict[str, Snapshot] = {}  # study UID -> snapshot of what its file holds
        self._uids: dict[int, str] = {}  # Annotation.id -> its identity in the files
        self._known: dict[str, set[str]] = {}  # study UID -> annotation identities read or written here
        self._known_marks: dict[str, set[FrameKey]] = {}
        self._quiet = 0
        # True while the reader is still drawing or dragging (the window tells): the work is saved
        # when the mouse lets go, not at every move (a file written per mouse move is waste).
        self.is_editing: Callable[[], bool] = lambda: False

    # Which study ---------------------------------------------------------------------------
    def track(self, study_uid: str, sop_instance_uids: Iterable[str]) -> None:
        """The study's frames are shown: work on them belongs to it."""
        for uid in sop_instance_uids:
            self._study_of[uid] = study_uid
        self._saved.setdefault(study_uid, _NOTHING)

    def study_of(self, frame_key: FrameKey) -> str | None:
        return self._study_of.get(frame_key[0])

    def studies(self) -> list[str]:
        return list(self._saved)

    def work(self, study_uid: str) -> StudyWork:
        """The study's work now: on its shown frames, and what was saved on frames not shown."""
        held = self._held.get(study_uid) or StudyWork(study_uid)
        annotations = [a for a in self.annotations if self._study_of.get(a.frame_key[0]) == study_uid]
        annotations += held.annotations
        return StudyWork(
            study_uid, annotations,
            {k for k in self.key_images if self._study_of.get(k[0]) == study_uid} | held.key_images,
            {a.id: self._uids[a.id] for a in annotations if a.id in self._uids},
        )

    def unsaved(self, study_uids: Iterable[str] | None = None) -> list[str]:
        """Studies whose work differs from what their files hold."""
        uids = self.studies() if study_uids is None else list(study_uids)
        return [u for u in uids if u in self._saved and self.work(u).snapshot() != self._saved[u]]

    # Files -----------------------------------------------------------------------------------
    def file_of(self, study_uid: str) -> Path:
        return work_file(self.directory, study_uid)

    def restore(self, study_uid: str) -> StudyWork | None:
        """Put a study's saved work back into the layer and the marks (after :meth:`track`)."""
        path = self.file_of(study_uid)
        try:
            work = read_work(path, study_uid)
        except WorkFileError as exc:
            aside = set_aside(path)
            log.warning("measurements file unreadable, set aside: %s", exc)
            self.notices.append(f"Saved measurements could not be read ({exc}); the file was kept as "
                                f"{aside.name if aside else path.name}")
            work = None
        except OSError as exc:
            log.warning("measurements file unreadable: %s", type(exc).__name__)
            self.notices.append(f"Saved measurements could not be read: {exc.strerror or exc}")
            return None
        if work is None:
            return None
        self._uids.update(work.uids)
        self._known.setdefault(study_uid, set()).update(work.uids.values())
        self._known_marks.setdefault(study_uid, set()).update(work.key_images)
        shown = [a for a in work.annotations if a.frame_key[0] in self._study_of]
        held = StudyWork(study_uid, [a for a in work.annotations if a.frame_key[0] not in self._study_of],
                         {k for k in work.key_images if k[0] not in self._study_of})
        with self.quiet():
            selected = self.annotations.selected
            for a in shown:
                self.annotations.add(a)
            self.annotations.selected = selected
            self.key_images |= {k for k in work.key_images if k[0] in self._study_of}
        if held:
            self._held[study_uid] = held
        self._saved[study_uid] = work.snapshot()
        if shown:
            self.annotations.changed()  # the views draw them (nothing to save: quiet is over, work is clean)
        return work

    def _lookup(self, sop_instance_uid: str) -> tuple[str, int] | None:
        row = self.cache.instance(sop_instance_uid)
        return (row.sop_class_uid, row.number_of_frames or 1) if row else None

    def save(self, study_uids: Iterable[str] | None = None) -> list[str]:
        """Write the work of studies that changed; returns the study UIDs written.

        Raises
        ------
        OSError
            A file could not be written; the studies not written stay unsaved.
        """
        written = []
        for uid in self.unsaved(study_uids):
            path = self.file_of(uid)
            self._take_in_others(uid, path)
            work = self.work(uid)
            if not work and not path.exists():
                self._saved[uid] = work.snapshot()  # nothing made, nothing to keep
                continue
            for a in work.annotations:
                self._uids.setdefault(a.id, new_annotation_uid())
            work = self.work(uid)
            write_work(path, work, self._lookup)
            self._known.setdefault(uid, set()).update(work.uids.values())
            self._known_marks.setdefault(uid, set()).update(work.key_images)
            self._saved[uid] = work.snapshot()
            written.append(uid)
        return written

    def _take_in_others(self, study_uid: str, path: Path) -> None:
        """Work another writer saved in the file meanwhile (a second monitor's viewer, another
        Lightbox on the same home) is taken in, never written over: annotations and marks in the
        file that this keeper never read nor wrote are added.  (One it removed is not brought back;
        one removed elsewhere may come back, so nothing is lost either way.)"""
        try:
            theirs = read_work(path, study_uid)
        except (WorkFileError, OSError):
            return  # restore() set an unreadable file aside; nothing readable to merge
        if theirs is None:
            return
        known = self._known.setdefault(study_uid, set())
        known_marks = self._known_marks.setdefault(study_uid, set())
        new = [a for a in theirs.annotations if theirs.uids[a.id] not in known]
        marks = theirs.key_images - known_marks
        if not new and not marks:
            return
        with self.quiet():
            held = self._held.setdefault(study_uid, StudyWork(study_uid))
            for a in new:
                self._uids[a.id] = theirs.uids[a.id]
                known.add(theirs.uids[a.id])
                if a.frame_key[0] in self._study_of:
                    selected = self.annotations.selected
                    self.annotations.add(a)
                    self.annotations.selected = selected
                else:
                    held.annotations.append(a)
            for k in marks:
                known_marks.add(k)
                (self.key_images if k[0] in self._study_of else held.key_images).add(k)

    def discard(self, study_uids: Iterable[str] | None = None) -> None:
        """Drop unsaved changes: the studies' work goes back to what their files hold."""
        for uid in self.unsaved(study_uids):
            with self.quiet():
                self._remove_shown(uid)
                self._held.pop(uid, None)
            self.restore(uid)
            if uid in self._saved and self.work(uid).snapshot() != self._saved[uid]:
                self._saved[uid] = self.work(uid).snapshot()  # the file was unreadable: nothing to go back to
        self.annotations.changed()

    def _remove_shown(self, study_uid: str) -> None:
        for a in [a for a in self.annotations if self._study_of.get(a.frame_key[0]) == study_uid]:
            self.annotations.remove(a)
        for k in [k for k in self.key_images if self._study_of.get(k[0]) == study_uid]:
            self.key_images.discard(k)

    def carry(self) -> dict[str, tuple[StudyWork, Snapshot]]:
        """The work and saved state of every study, to put back with :meth:`reinstate` after a re-open."""
        return {uid: (self.work(uid), self._saved[uid]) for uid in self.studies()}

    def reinstate(self, carried: dict[str, tuple[StudyWork, Snapshot]]) -> None:
        """Replace the restored work of re-opened studies by the work carried over (unsaved changes too)."""
        with self.quiet():
            for uid, (work, saved) in carried.items():
                if uid not in self._saved:
                    continue
                self._remove_shown(uid)
                self._held.pop(uid, None)
                shown = [a for a in work.annotations if a.frame_key[0] in self._study_of]
                for a in shown:
                    self.annotations.add(a)
                self.key_images |= {k for k in work.key_images if k[0] in self._study_of}
                held = StudyWork(uid, [a for a in work.annotations if a.frame_key[0] not in self._study_of],
                                 {k for k in work.key_images if k[0] not in self._study_of})
                if held:
                    self._held[uid] = held
                self._saved[uid] = saved
            self.annotations.selected = None
        self.annotations.changed()

    def forget(self) -> None:
        """The studies closed (their work was saved or discarded by then)."""
        self._study_of.clear()
        self._held.clear()
        self._saved.clear()
        self._uids.clear()
        self._known.clear()
        self._known_marks.clear()

    # Changes -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Changes made inside are not saved (restoring, closing)."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def changed(self) -> None:
        """The layer or the marks changed: save now when autosaving."""
        if self._quiet or not self.autosave or self.is_editing():
            return
        try:
            self.save()
        except OSError as exc:
            log.warning("measurements not saved: %s", type(exc).__name__)
            message = f"Measurements not saved: {exc.strerror or exc}"
            if message not in self.notices:
                self.notices.append(message)

