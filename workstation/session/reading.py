"""A reading session without widgets: the open studies, their display sets, the viewport grid.

Patient safety: the session belongs to one patient, the patient of the first
study opened.  A study of another patient is added only when the caller says
so explicitly (:class:`OtherPatient` is raised otherwise), and every viewport
showing it is flagged so the widget shows a warning banner.
"""

from __future__ import annotations

import logging
from pathlib import Path
from collections.abc import Callable

import numpy as np

from workstation import audit
from workstation.imaging.annotation_layer import AnnotationLayer
from workstation.imaging.cross_reference import FramePlane, plane_segment, reference_line
from workstation.session import saved_views
from workstation.imaging.frame_display import FrameDisplay
from workstation.imaging.interaction import remeasure
from workstation.session.key_image_sets import key_image_display_set
from workstation.session.parallel_stacks import ParallelStacks
from workstation.imaging.linking import ViewportLinks
from workstation.imaging.registrations import mapped_frame
from workstation.imaging.viewport import DisplaySet, ViewportModel
from workstation.model.stack import load_stack
from workstation.model.stack_pixels import StackLoader, StackPixels
from workstation.store import maintenance
from workstation.store.cache import StudyCache
from workstation.store.queries import StudyRow
from workstation.session.patient import OtherPatient, other_patient_message, same_patient
from workstation.session.study_work import DIRECTORY_NAME
from workstation.session.work_keeper import WorkKeeper

log = logging.getLogger(__name__)


MAX_GRID = 4
HOLDER = "viewer"


class ReadingSession:
    """The studies open in the viewer and the viewports showing them.

    Parameters
    ----------
    cache : StudyCache
        Where the studies are.
    on_progress : callable, optional
        ``on_progress(series_uid, loaded, total)`` from loader threads.
    work_dir : Path, optional
        Where the reader's measurements, annotations and key-image marks are kept per study
        (default: ``measurements`` beside the index, i.e. ``<home>/measurements``); see
        :mod:`workstation.session.work_keeper` for when they are saved.
    """

    def __init__(self, cache: StudyCache,
                 on_progress: Callable[[str, int, int], None] | None = None,
                 work_dir: Path | None = None) -> None:
        self.cache = cache
        self.display = FrameDisplay()
        self.studies: list[StudyRow] = []
        self.display_sets: list[DisplaySet] = []
        self.viewports = [ViewportModel(self.display) for _ in range(MAX_GRID * MAX_GRID)]
        self.grid = (1, 1)
        self.active = 0
        self._on_progress = on_progress
        self._listeners: list[Callable[[str], None]] = []
        self.annotations = AnnotationLayer()
        self.saved: dict[str, list[saved_views.SavedObject]] = {}  # study UID -> its presentation states and KOS
        self.key_images: set[tuple[str, int]] = set()
        self.work = WorkKeeper(cache, self.annotations, self.key_images,
                               work_dir if work_dir is not None else cache.index_file.parent / DIRECTORY_NAME)
        self.annotations.subscribe(self.work.changed)
        self.show_reference_lines = True
        # Planes shown elsewhere (MPR views): source -> (Frame of Reference UID, [(centre, normal), ...])
        self.external_planes: dict[str, tuple[str, list[tuple[np.ndarray, np.ndarray]]]] = {}
        # Instances rejected by rejection notes (IOCM) are left out unless the reader asks to see them.
        self.show_rejected = False
        self.hidden_counts: dict[str, int] = {}  # study UID -> instances left out as rejected
        self.corner_text_overrides: dict[str, dict[str, list[str]]] = {}
        # True: background readers wait for resume_background() (the viewer calls it once the first
        # image is painted, so opening a study shows an image before anything else competes).
        self.defer_background = False  # a site's corner layouts per modality (settings "corner_text")
        self.links = ViewportLinks(lambda: self.visible)
        self._parallel = ParallelStacks()  # a grid of axial series draws no reference lines, asked once per pair
        for vp in self.viewports:
            vp.subscribe(self.links.on_change)

    # Observers -----------------------------------------------------------------------
    def subscribe(self, callback: Callable[[str], None]) -> None:
        """``callback(what)`` on "studies", "grid", "active" changes."""
        self._listeners.append(callback)

    def _changed(self, what: str) -> None:
        for cb in list(self._listeners):
            cb(what)

    # Studies -------------------------------------------------------------------------
    @property
    def patient(self) -> StudyRow | None:
        """The first study opened: the session's patient."""
        return self.studies[0] if self.studies else None

    def open_study(self, study_uid: str) -> list[DisplaySet]:
        """Close everything and open one study; its first display sets go into the viewports.

        Raises
        ------
        KeyError
            The study is not in the cache.
        """
        study = self.cache.study(study_uid)
        if study is None:
            raise KeyError(f"study {study_uid} is not in the cache")
        self.close(notify=False)
        self._add(study)
        self.cache.mark_opened(study_uid)
        self.hang()
        self._changed("studies")
        return self.display_sets

    def add_study(self, study_uid: str, *, allow_other_patient: bool = False) -> list[DisplaySet]:
        """Add a study (a prior, say) to the session; returns its display sets.

        Raises
        ------
        OtherPatient
            The study is another patient's and ``allow_other_patient`` is False.
        KeyError
            The study is not in the cache.
        """
        study = self.cache.study(study_uid)
        if study is None:
            raise KeyError(f"study {study_uid} is not in the cache")
        if any(s.study_uid == study_uid for s in self.studies):
            return [d for d in self.display_sets if d.study.study_uid == study_uid]
        if self.patient is not None and not same_patient(self.patient, study) and not allow_other_patient:
            raise OtherPatient(other_patient_message(self.patient, study))
        added = self._add(study)
        if self.patient is None:
            self.hang()
        self._changed("studies")
        return added

    def _hidden(self, study_uid: str) -> set[str]:
        if self.show_rejected:
            self.hidden_counts[study_uid] = 0
            return set()
        from workstation.qc import hidden_sop_uids  # QC reads the rejection notes

        try:
            hidden = set(hidden_sop_uids(self.cache, study_uid))
        except Exception:  # an unreadable note must not keep a study from opening
            log.exception("rejection notes of study %s could not be read", study_uid)
            hidden = set()
        self.hidden_counts[study_uid] = len(hidden)
        return hidden

    def _rejection_notes(self, study_uid: str) -> set[str]:
        """Rejection notes are never shown as key images, whether rejected images are shown or not."""
        from workstation.qc import rejection_note_uids

        try:
            return set(rejection_note_uids(self.cache, study_uid))
        except Exception:
            log.exception("rejection notes of study %s could not be read", study_uid)
            return set()

    def set_show_rejected(self, show: bool) -> list[DisplaySet]:
        """Show or hide rejected instances; the open studies are opened again."""
        if show == self.show_rejected:
            return self.display_sets
        self.show_rejected = show
        return self.reopen()

    def reopen(self) -> list[DisplaySet]:
        """Open the open studies again (the first one hung anew), keeping the reader's work as it is."""
        uids = [s.study_uid for s in self.studies]
        if not uids:
            return self.display_sets
        carried = self.work.carry()
        self.open_study(uids[0])
        for uid in uids[1:]:
            self.add_study(uid, allow_other_patient=True)
        self.work.reinstate(carried)
        return self.display_sets

    def _add(self, study: StudyRow) -> list[DisplaySet]:
        maintenance.hold(self.cache, study.study_uid, HOLDER)
        audit.study_opened(study)  # DICOM Instances Accessed: who looked at this patient
        self.studies.append(study)
        added = []
        hidden = self._hidden(study.study_uid)
        for series in self.cache.series(study.study_uid):
            stack = load_stack(self.cache, series, hidden)
            if len(stack):
                added.append(DisplaySet(study, stack, StackPixels(stack)))
        added.extend(self._key_image_sets(study, added, hidden | self._rejection_notes(study.study_uid)))
        self.display_sets.extend(added)
        self.work.track(study.study_uid, (f.key[0] for d in added for f in d.stack.frames))
        self.work.restore(study.study_uid)
        log.info("study opened: %d display sets", len(added))
        return added

    # Following the index -------------------------------------------------------------------
    def follow_index(self) -> list[str]:
        """Bring the open studies in line with the index: images that arrived or were rejected.

        A series whose frames changed gets a new display set, shown in the viewports
        that showed the old one (at the same image when it is still there); the
        others are left alone.  Observers hear "studies" when anything changed.

        Returns
        -------
        list of str
            The study UIDs whose display sets changed.
        """
        changed = []
        for i, old in enumerate(list(self.studies)):
            row = self.cache.study(old.study_uid)
            if row is None:
                continue
            self.studies[i] = row  # the report state and counts as they are now
            if (row.num_instances, row.num_series, row.num_rejected) != (
                    old.num_instances, old.num_series, old.num_rejected):
                self._reload(row)
                changed.append(row.study_uid)
        if changed:
            self._changed("studies")
        return changed

    def _reload(self, study: StudyRow) -> None:
        uid = study.study_uid
        hidden = self._hidden(uid)
        old_sets = [d for d in self.display_sets if d.study.study_uid == uid]
        by_series = {d.series_uid: d for d in old_sets if not d.key}
        fresh: list[DisplaySet] = []
        for series in self.cache.series(uid):
            stack = load_stack(self.cache, series, hidden)
            if not len(stack):
                continue
            old = by_series.get(series.series_uid)
            if old is not None and [f.key for f in old.stack.frames] == [f.key for f in stack.frames]:
                fresh.append(old)
            else:
                fresh.append(DisplaySet(study, stack, StackPixels(stack)))
        fresh.extend(self._key_image_sets(study, fresh, hidden | self._rejection_notes(uid)))
        kept = {id(d) for d in fresh}
        gone = [d for d in old_sets if id(d) not in kept]
        position = next((i for i, d in enumerate(self.display_sets) if d.study.study_uid == uid),
                        len(self.display_sets))
        others = [d for d in self.display_sets if d.study.study_uid != uid]
        self.display_sets = others[:position] + fresh + others[position:]
        self.work.track(uid, (f.key[0] for d in fresh for f in d.stack.frames))
        for i, vp in enumerate(self.viewports):
            old = vp.display_set
            if old is None or id(old) in kept or old.study.study_uid != uid:
                continue
            frame = vp.frame
            replacement = next((d for d in fresh if d.series_uid == old.series_uid), None)
            index = None
            if replacement is not None and frame is not None:
                index = replacement.stack.index_of(*frame.key)
                if index is None:
                    index = min(vp.index, len(replacement.stack) - 1)
            self.show(replacement, i, index)
        for d in gone:
            if d.loader is not None:
                d.loader.cancel()
        log.info("study changed in the index: %d display sets", len(fresh))

    def _key_image_sets(self, study: StudyRow, series_sets: list[DisplaySet],
                        hidden: set[str] | frozenset[str] = frozenset()) -> list[DisplaySet]:
        """A display set for each key object selection of the study (rejection notes are not key images)."""
        out = []
        objects = saved_views.saved_objects(self.cache, study.study_uid)
        self.saved[study.study_uid] = objects
        series_rows = {s.series_uid: s for s in self.cache.series(study.study_uid)}
        for obj in objects:
            if obj.kind != saved_views.KO or obj.sop_instance_uid in hidden:
                continue
            try:
                kos = saved_views.read_object(self.cache, obj.sop_instance_uid)
            except Exception:  # an unreadable document is left out; the study still opens
                log.warning("cannot read a key object selection")
                continue
            series = series_rows.get(str(kos.get("SeriesInstanceUID", "")))
            if series is None:
                continue
            ks = key_image_display_set(self.cache, kos, study, series, series_sets + self.display_sets)
            if ks is not None:
                out.append(ks)
        return out

    # Presentation states and key images ----------------------------------------------
    def objects_by_series(self) -> dict[str, list[tuple[str, str, str]]]:
        """(kind, SOP Instance UID, label) of the presentation states and KOS, under each series they refer to."""
        out: dict[str, list[tuple[str, str, str]]] = {}
        for objects in self.saved.values():
            for obj in objects:
                for uid in obj.series_uids:
                    out.setdefault(uid, []).append((obj.kind, obj.sop_instance_uid, obj.label))
        return out

    def refresh_saved(self, study_uid: str) -> None:
        self.saved[study_uid] = saved_views.saved_objects(self.cache, study_uid)
        self._changed("saved")

    def save_presentation_state(self, *, description: str = "",
                                destination: str | None = None) -> saved_views.SavedObject:
        """Save the active viewport's view of its series as a presentation state (see saved_views)."""
        vp = self.active_viewport
        saved = saved_views.save_presentation_state(self.cache, vp, self.annotations, description=description,
                                                    destination=destination)
        if vp.display_set is not None:  # always: a viewport without images is refused above
            self.refresh_saved(vp.display_set.study.study_uid)
        return saved

    def save_key_images(self, *, description: str = "",
                        destination_of: Callable[[str], str | None] = lambda study_uid: None
                        ) -> list[saved_views.SavedObject]:
        """Save the marked key images, one Key Object Selection per study."""
        saved = saved_views.save_key_images(self.cache, self.display_sets, self.key_images,
                                            description=description, destination_of=destination_of)
        studies = {d.study.study_uid for d in self.display_sets if any(f.key in self.key_images
                                                                          for f in d.stack.frames)}
        for uid in studies:
            self.refresh_saved(uid)
            study = next(s for s in self.studies if s.study_uid == uid)
            added = self._key_image_sets(study, [d for d in self.display_sets if d.study.study_uid == uid])
            known = {d.series_uid for d in self.display_sets}
            self.display_sets.extend(d for d in added if d.series_uid not in known)
        self._changed("studies")
        return saved

    def apply_presentation_state(self, sop_instance_uid: str, viewport: int | None = None) -> None:
        """Show the series a presentation state refers to as it says, in a viewport (default: the active one)."""
        state = saved_views.load_state(self.cache, sop_instance_uid)
        refs = state.referenced
        target = next((d for r in refs for d in self.display_sets
                       if not d.key and d.series_uid == r.series_instance_uid), None)
        if target is None:
            raise saved_views.SaveError("the images of this presentation state are not open")
        saved_views.check_state_patient(self.cache, sop_instance_uid, target.study)  # another patient's: refused
        i = self.active if viewport is None else viewport
        vp = self.viewports[i]
        if vp.display_set is not target:
            first = target.stack.index_of(refs[0].sop_instance_uid, (refs[0].frames or (1,))[0] - 1)
            self.show(target, i, first)
        target.pixels.load(vp.index)
        saved_views.apply_state(vp, state, self.annotations, lambda k, a: remeasure(vp, a, k))

    def is_other_patient(self, display_set: DisplaySet) -> bool:
        return self.patient is not None and not same_patient(self.patient, display_set.study)

    def display_set(self, series_uid: str) -> DisplaySet | None:
        return next((d for d in self.display_sets if d.series_uid == series_uid), None)

    # Viewports -----------------------------------------------------------------------
    @property
    def visible(self) -> list[ViewportModel]:
        """The viewports of the current grid, row by row."""
        rows, cols = self.grid
        return self.viewports[: rows * cols]

    @property
    def active_viewport(self) -> ViewportModel:
        return self.viewports[self.active]

    def set_active(self, index: int) -> None:
        if 0 <= index < len(self.visible) and index != self.active:
            self.active = index
            self._changed("active")

    def set_grid(self, rows: int, cols: int) -> None:
        """Show ``rows`` x ``cols`` viewports (1 to 4 each); new ones get the next display sets."""
        rows, cols = min(max(rows, 1), MAX_GRID), min(max(cols, 1), MAX_GRID)
        before = len(self.visible)
        self.grid = (rows, cols)
        shown = {vp.display_set.series_uid for vp in self.visible[:before] if vp.display_set}
        unshown = [d for d in self.display_sets if d.series_uid not in shown]
        for vp in self.visible[before:]:
            if vp.display_set is None and unshown:
                self.show(unshown.pop(0), self.viewports.index(vp))
        if self.active >= len(self.visible):
            self.active = 0
        self._changed("grid")

    def hang(self) -> None:
        """Put the first display sets into the visible viewports, one each."""
        for i, _vp in enumerate(self.visible):
            self.show(self.display_sets[i] if i < len(self.display_sets) else None, i)

    def show(self, display_set: DisplaySet | None, viewport: int | None = None, index: int | None = None) -> None:
        """Show a display set in a viewport (default: the active one) and start reading it."""
        i = self.active if viewport is None else viewport
        vp = self.viewports[i]
        if display_set is not None:
            start = index if index is not None else 0
            self.start_loading(display_set, start)
        vp.set_display_set(display_set, index)
        vp.other_patient = display_set is not None and self.is_other_patient(display_set)
        patient = self.patient
        vp.expected_patient = (patient.patient_name, patient.patient_id) if patient is not None else None
        vp.replaced_names, vp.replaced_ids = (self._recorded_identity(display_set.study) if display_set is not None
                                              else (frozenset(), frozenset()))

    def _recorded_identity(self, study: StudyRow) -> tuple[frozenset[str], frozenset[str]]:
        """Names and IDs the RIS corrected or merged away for the study: images carrying one show the index's."""
        from workstation.worklist.patients import recorded_identity

        try:
            recorded = recorded_identity(self.cache, study.study_uid, study.patient_id, study.issuer)
        except Exception:  # noqa: BLE001 - a busy index must not stop an image from showing
            log.exception("patient corrections unavailable")
            return frozenset(), frozenset()
        return recorded.names, recorded.patient_ids

    def start_loading(self, display_set: DisplaySet, first: int = 0) -> None:
        """Read frame ``first`` now (the first image shows at once) and the rest in the background."""
        n = len(display_set.stack)
        first = min(max(first, 0), n - 1)
        display_set.pixels.load(first)
        if display_set.loader is None:
            uid = display_set.series_uid
            callback = None
            if self._on_progress is not None:
                callback = lambda done, total: self._on_progress(uid, done, total)  # noqa: E731
            display_set.loader = StackLoader(display_set.pixels, callback)
            display_set.loader.start(first, paused=self.defer_background)
        else:
            display_set.loader.set_focus(first)

    def resume_background(self) -> None:
        """Let every paused background reader go."""
        for d in self.display_sets:
            if d.loader is not None:
                d.loader.resume()

    # Cross-referencing ----------------------------------------------------------------
    def reference_lines(self, index: int) -> list[tuple[tuple[float, float], tuple[float, float], bool]]:
        """Lines of the other visible viewports' current frames on viewport ``index``'s image.

        Returns (start, end, from the active viewport) in image coordinates; only frames of
        the same Frame of Reference that are not parallel to this one count.
        """
        target = self.viewports[index]
        target_frame, target_stack = target.frame, target.stack
        if not self.show_reference_lines or target_frame is None or target_stack is None:
            return []
        uid = target_stack.frame_of_reference_uid
        out: list[tuple[tuple[float, float], tuple[float, float], bool]] = []
        others = [vp.stack for i, vp in enumerate(self.visible) if i != index]
        if not self.external_planes and self._parallel.all_parallel(index, target_stack, others):
            return out  # a grid of parallel series: nothing to look at frame by frame
        for i, vp in enumerate(self.visible):
            frame, stack = vp.frame, vp.stack
            if i == index or frame is None or stack is None or not uid:
                continue
            source: FramePlane = frame
            if stack.frame_of_reference_uid == uid and self._parallel.parallel(target_stack, stack):
                continue  # no frame of one cuts a frame of the other
            if stack.frame_of_reference_uid != uid:
                # A registered prior's plane, carried into this viewport's frame of reference.
                m = self.links.registrations.matrix(stack.frame_of_reference_uid, uid)
                moved = mapped_frame(frame, m) if m is not None else None
                if moved is None:
                    continue
                source = moved
            line = reference_line(source, target_frame, uid)
            if line is not None:
                out.append((line[0], line[1], i == self.active))
        for frame_uid, planes in self.external_planes.values():
            if frame_uid != uid:
                continue
            for centre, normal in planes:
                segment = plane_segment(target_frame, centre, normal)
                if segment is not None:
                    out.append((segment[0], segment[1], False))
        return out

    def set_external_planes(self, source: str, frame_of_reference_uid: str,
                            planes: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Show planes of another view (``source``, e.g. the MPR views) as reference lines; [] removes them."""
        if planes:
            self.external_planes[source] = (frame_of_reference_uid, [(np.asarray(c, float), np.asarray(n, float))
                                                                     for c, n in planes])
        else:
            self.external_planes.pop(source, None)

    def place_cursor(self, source: ViewportModel, point: np.ndarray) -> None:
        """The 3D cursor: mark ``point`` (patient mm) and take the other viewports to it.

        Viewports in ``source``'s Frame of Reference go to the frame nearest the point;
        the point is marked in every one of them.
        """
        uid = source.stack.frame_of_reference_uid if source.stack is not None else ""
        for vp in self.visible:
            # A registered prior gets the point mapped into its own frame of reference.
            mapped = None if vp.stack is None else self.links.registrations.map_point(
                point, uid, vp.stack.frame_of_reference_uid)
            if mapped is None and (vp.stack is None or not uid or vp.stack.frame_of_reference_uid != uid):
                vp.cursor_point = None
                continue
            vp.cursor_point = np.asarray(point if mapped is None else mapped, dtype=float)
            if vp is not source:
                nearest = vp.stack.nearest_index(vp.cursor_point) if vp.stack is not None else None
                if nearest is not None and not vp.set_index(nearest):
                    vp.changed("view")
            else:
                vp.changed("view")

    # Key images ------------------------------------------------------------------------
    def toggle_key_image(self, vp: ViewportModel | None = None) -> bool | None:
        """Mark or unmark the frame shown in ``vp`` (default: the active viewport) as a key image.

        Returns True when it is now a key image, False when unmarked, None without a frame.
        """
        vp = vp or self.active_viewport
        f = vp.frame
        if f is None:
            return None
        if f.key in self.key_images:
            self.key_images.discard(f.key)
            marked = False
        else:
            self.key_images.add(f.key)
            marked = True
        self.work.changed()
        vp.changed("view")
        self._changed("key_images")
        return marked

    def is_key_image(self, key: tuple[str, int]) -> bool:
        return key in self.key_images

    def close(self, timeout: float = 5.0, *, notify: bool = True) -> None:
        """Stop the readers, empty the viewports and release the studies.

        Observers hear "studies" when studies were open (not when ``notify`` is False:
        :meth:`open_study` tells them once the new study is in).
        """
        had_studies = bool(self.studies)
        for d in self.display_sets:
            if d.loader is not None:
                d.loader.cancel()
        for d in self.display_sets:
            if d.loader is not None:
                d.loader.join(timeout)
        for vp in self.viewports:
            vp.set_display_set(None)
            vp.other_patient = False
        for s in self.studies:
            try:
                maintenance.release(self.cache, s.study_uid, HOLDER)
            except Exception:  # the index may already be closed at exit; the hold is harmless then
                log.warning("could not release a study hold")
        self.studies, self.display_sets = [], []
        self.active = 0
        with self.work.quiet():  # what was unsaved was decided on before closing (see session.unsaved)
            self.annotations.clear()
            self.key_images.clear()
        self.work.forget()
        self.saved.clear()
        self.links.set_scroll(False)
        if notify and had_studies:
            self._changed("studies")
