"""Hanging plans applied to the 2D viewer: the protocol chooser, stages, empty-viewport notes, late priors.

The plan comes from the Qt-free engine (:func:`workstation.hanging.service.plan_study`);
this module only turns it into calls on the viewer's public API: the
session's ``set_grid``/``show``/``add_study``, each viewport's view state,
the link actions of the toolbar and cine.  It adds to the viewer's toolbar
a protocol chooser (each protocol with its score) and stage buttons, and
takes two keys on the viewports: ``.`` (or Ctrl+Page Down) for the next
stage, ``,`` (or Ctrl+Page Up) for the previous one.

With ``auto=True`` every study the viewer opens is hung by its best
protocol.  Priors only an archive holds are fetched in the background
(:meth:`HangingController.start_prefetch`) and hung as they arrive, leaving
the reader's other viewports alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QToolButton

from workstation.hanging.attributes import StudyFacts
from workstation.hanging.capture import PlacedViewport, capture_protocol
from workstation.hanging.facts import study_facts
from workstation.hanging.library import ProtocolLibrary, save_user_protocol
from workstation.hanging.plan import (
    FILLED,
    HangingPlan,
    ViewportPlan,
    changed_viewports,
    grid_cells,
    stage_after_update,
)
from workstation.hanging.protocol import Protocol, ProtocolError
from workstation.hanging.service import plan_study
from workstation.home import Home
from workstation.session.patient import OtherPatient
from workstation.session.reading import MAX_GRID
from workstation.ui.qvariant import combo_value, signal_value

if TYPE_CHECKING:  # the window attaches them (volume_cells imports VTK)
    from workstation.ui.volume_cells import VolumeCells

log = logging.getLogger(__name__)

NEXT_STAGE_KEYS = {(".", frozenset()), ("PageDown", frozenset({"ctrl"}))}
PREVIOUS_STAGE_KEYS = {(",", frozenset()), ("PageUp", frozenset({"ctrl"}))}
_NOTE_STYLE = "color: #c8c8c8; background: transparent; font-size: 12px;"


class _NoteLabel(QLabel):
    """Why a viewport is empty, written inside it; follows the viewport's size."""

    def __init__(self, viewport) -> None:
        super().__init__(viewport)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
        self.setStyleSheet(_NOTE_STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        viewport.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            self._fit(watched)
        return False

    def _fit(self, viewport) -> None:
        # Above the viewport's own "Drop a series here" line, which stays in the middle.
        margin = 16
        self.setGeometry(margin, margin, max(viewport.width() - 2 * margin, 1),
                         max(viewport.height() // 2 - margin - 14, 1))

    def show_note(self, text: str) -> None:
        self.setText(text)
        self._fit(self.parentWidget())
        self.setVisible(bool(text))


class HangingController(QObject):
    """Hangs studies in a :class:`~workstation.ui.viewer.viewer.ViewerWidget` by their protocols.

    Parameters
    ----------
    viewer : ViewerWidget
    home : Home
        Where the user's protocols are.
    auto : bool
        Hang every study the viewer opens.

    Signals
    -------
    plan_changed(object)
        A new :class:`HangingPlan` is shown.
    stage_changed(int)
        The stage shown.
    """

    plan_changed = Signal(object)
    stage_changed = Signal(int)
    _prefetch_event = Signal(str, object)  # from the prefetch thread: ("remote", list) or ("arrived", uid)

    def __init__(self, viewer, home: Home, *, auto: bool = True) -> None:
        super().__init__(viewer)
        self.viewer = viewer
        self.home = home
        #: Every study the viewer opens is hung (the window opens the list's studies through :meth:`hang`).
        self.auto = auto
        self.plan: HangingPlan | None = None
        self.stage = 0
        self.remote: list[StudyFacts] = []
        self._hung_uid: str | None = None
        self._busy = False
        self._reader_moved = False  # the reader changed stages since the study was hung
        self._prefetch_stop = threading.Event()
        self._prefetch_thread: threading.Thread | None = None
        self._fetch: Callable | None = None
        self._extra_priors = 1
        self.notes = [_NoteLabel(w) for w in viewer.viewports]
        self.volume_cells: VolumeCells | None = None  # MPR and 3D viewports, set by the window
        self._build_toolbar()
        for w in viewer.viewports:
            w.key_pressed.connect(self._on_key)
        self._prefetch_event.connect(self._on_prefetch_event, Qt.ConnectionType.QueuedConnection)
        if auto:
            viewer.session.subscribe(self._on_session_changed)

    # Toolbar ------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        tb = self.viewer.toolbar
        tb.addSeparator()
        self.chooser = QComboBox()
        self.chooser.setToolTip("Hanging protocol: the one matched first, each with its score")
        self.chooser.setMinimumContentsLength(24)
        self.chooser.activated.connect(self._on_chosen)
        tb.addWidget(self.chooser)
        self.previous_button = QToolButton()
        self.previous_button.setText("◀")
        self.previous_button.setToolTip("Previous stage ( , )")
        self.previous_button.clicked.connect(self.previous_stage)
        self.stage_label = QLabel("")
        self.next_button = QToolButton()
        self.next_button.setText("▶")
        self.next_button.setToolTip("Next stage ( . )")
        self.next_button.clicked.connect(self.next_stage)
        self.save_layout_button = QToolButton()
        self.save_layout_button.setText("Save layout…")
        self.save_layout_button.setToolTip("Save this layout as a hanging protocol for similar studies")
        self.save_layout_button.clicked.connect(self.ask_save_layout)
        for w in (self.previous_button, self.stage_label, self.next_button, self.save_layout_button):
            tb.addWidget(w)
        self._refresh_toolbar()

    def _refresh_toolbar(self) -> None:
        self.chooser.blockSignals(True)
        plan = self.plan
        items = [] if plan is None else [
            (f"{c.name} ({c.score:g})" + (" — default" if c.default else ""), c.protocol_id)
            for c in plan.candidates if c.protocol_id == plan.protocol_id or c.accepted or c.default]
        shown = [(self.chooser.itemText(i), combo_value(self.chooser, str, i)) for i in range(self.chooser.count())]
        if items != shown:  # the same choices as before (the same study again, a stage change): kept as they are
            self.chooser.clear()
            for text, protocol_id in items:
                self.chooser.addItem(text, protocol_id)
        if plan is not None:
            self.chooser.setCurrentIndex(max(self.chooser.findData(plan.protocol_id), 0))
            stage = plan.stages[self.stage]
            self.stage_label.setText(f" {stage.name} ({self.stage + 1}/{len(plan.stages)}) ")
        else:
            self.stage_label.setText("")
        self.chooser.setEnabled(plan is not None)
        self.save_layout_button.setEnabled(self.viewer.session.patient is not None)
        self.previous_button.setEnabled(plan is not None and plan.next_stage(self.stage, -1) != self.stage)
        self.next_button.setEnabled(plan is not None and plan.next_stage(self.stage, 1) != self.stage)
        self.chooser.blockSignals(False)

    def _on_chosen(self, index: int) -> None:
        protocol_id = combo_value(self.chooser, str, index)
        if self.plan is not None and protocol_id and protocol_id != self.plan.protocol_id:
            self.hang(self.plan.study_uid, protocol_id)

    # Hanging ------------------------------------------------------------------------------
    def library(self) -> ProtocolLibrary:
        """The protocols, read again each time (a protocol saved in the editor counts at once)."""
        lib = ProtocolLibrary.load(self.home)
        for err in lib.errors:
            self.viewer.message.emit(f"Hanging protocol skipped: {err}")
        return lib

    def hang(self, study_uid: str, protocol_id: str | None = None, *, opening: bool = False) -> HangingPlan | None:
        """Open ``study_uid`` (unless open) with its priors and show the first stage of its protocol.

        ``opening``: the viewer has just opened the study (its first images are not painted yet).
        """
        self._busy = True
        try:
            try:
                plan = plan_study(self.viewer.cache, self.library(), study_uid, protocol_id=protocol_id,
                                  remote=self.remote if study_uid == self._hung_uid else ())
            except KeyError as exc:
                self.viewer.message.emit(str(exc.args[0]) if exc.args else "The study is not in the cache")
                return None
            except Exception:  # noqa: BLE001 - no plan is no reason to fail the open: the viewer's own layout stays
                log.exception("the study could not be hung by protocol")
                self.viewer.message.emit("The hanging protocols could not be applied (see the log)")
                return None
            if self._hung_uid != study_uid:
                self.remote = []
            self._hung_uid = study_uid
            patient = self.viewer.session.patient
            if patient is None or patient.study_uid != study_uid:
                if not self.viewer.open_study(study_uid):
                    return None
                opening = True
            self._add_priors(plan)
            self.plan = plan
            self._reader_moved = False
            self._show_stage(plan.initial_stage, opening=opening)
            self.viewer.message.emit(f"Hanging protocol: {plan.protocol_name} (score {plan.score:g})")
            self.plan_changed.emit(plan)
            return plan
        finally:
            self._busy = False

    def _add_priors(self, plan: HangingPlan) -> None:
        session = self.viewer.session
        for p in plan.priors:
            if not p.in_cache or any(s.study_uid == p.study_uid for s in session.studies):
                continue
            try:
                session.add_study(p.study_uid)
            except (KeyError, OtherPatient) as exc:
                # The engine and the session judge identity alike; never force another patient in.
                log.warning("prior not added: %s", type(exc).__name__)

    def _on_session_changed(self, what: str) -> None:
        if what != "studies" or self._busy:
            return
        patient = self.viewer.session.patient
        if patient is not None and patient.study_uid != self._hung_uid:
            uid = patient.study_uid
            self._hung_uid = None
            # After the viewer's own open_study has laid out its default grid.
            QTimer.singleShot(0, lambda: self._auto_hang(uid))
        elif patient is None:
            self._hung_uid = None

    def _auto_hang(self, study_uid: str) -> None:
        patient = self.viewer.session.patient
        if patient is not None and patient.study_uid == study_uid and self._hung_uid != study_uid:
            self.hang(study_uid, opening=True)

    # Stages -------------------------------------------------------------------------------
    def show_stage(self, index: int) -> None:
        """Lay out stage ``index`` and fill its viewports."""
        self._show_stage(index, opening=False)

    def _show_stage(self, index: int, *, opening: bool) -> None:
        # opening: the study's first images are still to be painted, so the viewer's background readers
        # stay held (its set_grid lets them go, as when the reader picks a layout): the grid is the session's
        # and _place lays the widgets out.
        plan = self.plan
        if plan is None:
            return
        self.stage = min(max(index, 0), len(plan.stages) - 1)
        stage = plan.stages[self.stage]
        rows, cols, cells = grid_cells(stage)
        if rows > MAX_GRID or cols > MAX_GRID:
            rows, cols = _fallback_grid(len(stage.viewports))
            cells = [(i // cols, i % cols, 1, 1) for i in range(len(stage.viewports))]
        viewer, session = self.viewer, self.viewer.session
        self._stop_cine()
        self._links_off()
        if opening:
            session.set_grid(rows, cols)
        else:
            viewer.set_grid(rows, cols)  # also starts the viewer's loading progress
        for i, vp in enumerate(stage.viewports):
            self._apply(i, vp)
        for i in range(len(stage.viewports), len(session.visible)):
            session.show(None, i)
            self.notes[i].show_note("")
        for i in range(len(session.visible), len(self.notes)):
            self.notes[i].show_note("")
        self._place(rows, cols, cells)
        if self.volume_cells is not None:
            self.volume_cells.show(stage.viewports, cells)
        self._apply_links(stage.viewports)
        session.set_active(0)
        for i, vp in enumerate(stage.viewports):
            if vp.cine and vp.filled and not viewer.viewports[i].model.cine.playing:
                viewer.viewports[i].toggle_cine()
        self._refresh_toolbar()
        self.stage_changed.emit(self.stage)

    def next_stage(self) -> None:
        if self.plan is not None:
            self._reader_moved = True
            self.show_stage(self.plan.next_stage(self.stage, 1))

    def previous_stage(self) -> None:
        if self.plan is not None:
            self._reader_moved = True
            self.show_stage(self.plan.next_stage(self.stage, -1))

    def _on_key(self, name: str, modifiers: object) -> None:
        key = (name, signal_value(modifiers, frozenset))  # the viewport's modifier names
        if key in NEXT_STAGE_KEYS:
            self.next_stage()
        elif key in PREVIOUS_STAGE_KEYS:
            self.previous_stage()

    def _place(self, rows: int, cols: int, cells: Sequence[tuple[int, int, int, int]]) -> None:
        """Put the viewport widgets on the viewer's grid, spanning cells for custom layouts."""
        viewer = self.viewer
        layout = viewer.grid_layout
        for w in viewer.viewports:
            layout.removeWidget(w)
            w.hide()
        for w, (r, c, rs, cs) in zip(viewer.viewports, cells, strict=False):  # more viewports than cells
            layout.addWidget(w, r, c, rs, cs)
            w.show()
        for r in range(MAX_GRID):
            layout.setRowStretch(r, 1 if r < rows else 0)
        for c in range(MAX_GRID):
            layout.setColumnStretch(c, 1 if c < cols else 0)
        viewer.toolbar.set_grid_label(rows, cols)

    def _apply(self, i: int, vp: ViewportPlan) -> None:
        session = self.viewer.session
        note = self.notes[i]
        ds = session.display_set(vp.series_uid) if vp.status == FILLED else None
        if ds is None:
            session.show(None, i)
            text = vp.note if vp.status != FILLED else "The series of this viewport is not open"
            note.show_note(f"{vp.label}\n{text}" if vp.label else text)
            return
        index = _initial_index(ds.stack.frames, vp)
        session.show(ds, i, index)
        model = session.viewports[i]
        widget = self.viewer.viewports[i]
        model.view.resize(max(widget.width(), 1), max(widget.height(), 1))
        # The plan's rotation is applied before the mirror, as the view state draws them.
        model.view.rotation = (vp.rotation // 90) % 4
        model.view.flip_horizontal = vp.flip_horizontal
        model.view.invert = vp.invert
        if vp.window is not None:
            model.view.set_window(vp.window.center, vp.window.width, vp.window.name)
        model.changed("view")
        note.show_note("")

    def _links_off(self) -> None:
        """While viewports are filled, one viewport's window must not spread to the others."""
        tb = self.viewer.toolbar
        for action in (tb.link_scroll_action, tb.link_zoom_action, tb.link_window_action):
            action.setChecked(False)

    def _apply_links(self, viewports: Sequence[ViewportPlan]) -> None:
        """The viewer links all visible viewports per kind: on when the stage groups two or more."""
        tb = self.viewer.toolbar
        for kind, action in (("scroll", tb.link_scroll_action), ("zoomPan", tb.link_zoom_action),
                             ("voi", tb.link_window_action)):
            groups: dict[str, int] = {}
            for vp in viewports:
                if vp.filled and kind in vp.sync:
                    groups[vp.sync[kind]] = groups.get(vp.sync[kind], 0) + 1
            on = any(n >= 2 for n in groups.values())
            if kind == "scroll":
                # Offsets are taken from what the viewports show now: always set again.
                action.blockSignals(True)
                action.setChecked(on)
                action.blockSignals(False)
                self.viewer.set_link_scroll(on)
            else:
                action.setChecked(on)

    def _stop_cine(self) -> None:
        for w in self.viewer.viewports:
            if w.model.cine.playing:
                w.toggle_cine()

    # Save layout as protocol --------------------------------------------------------------
    def placed_viewports(self) -> tuple[list[PlacedViewport], list[StudyFacts], StudyFacts]:
        """The visible viewports as the reader left them, the priors they show, and the current study."""
        session = self.viewer.session
        current_uid = session.patient.study_uid
        facts = {s.study_uid: study_facts(self.viewer.cache, s.study_uid) for s in session.studies}
        roles = {current_uid: "current"}
        prior_uids = [p.study_uid for p in self.plan.priors] if self.plan is not None else []
        prior_uids += [s.study_uid for s in session.studies if s.study_uid not in prior_uids + [current_uid]]
        roles |= {uid: f"prior{i + 1}" for i, uid in enumerate(prior_uids)}
        links = session.links
        placed = []
        for model in session.visible:
            ds = model.display_set
            if ds is None or ds.study.study_uid not in facts:
                placed.append(PlacedViewport())
                continue
            study = facts[ds.study.study_uid]
            series = next((x for x in study.series if x.series_uid == ds.series_uid), None) if study else None
            view = model.view
            window = (view.voi.center, view.voi.width, view.voi.name) if view.voi.explicit else None
            sync = {kind: "linked" for kind, on in (("scroll", links.scroll), ("zoomPan", links.zoom_pan),
                                                    ("voi", links.window)) if on}
            placed.append(PlacedViewport(roles[ds.study.study_uid], series, window, view.invert,
                                         view.rotation * 90, view.flip_horizontal, sync))
        priors = [f for uid in prior_uids if (f := facts.get(uid)) is not None]
        current = facts[current_uid]
        if current is None:  # removed from the cache while shown
            raise ProtocolError("layout", "", "the study shown is no longer in the cache")
        return placed, priors, current

    def save_layout_as_protocol(self, name: str, match) -> Protocol:
        """Save the layout shown as the user's protocol; it wins the next time for similar studies.

        Raises
        ------
        ProtocolError
            The name or the layout does not make a valid protocol.
        """
        placed, priors, current = self.placed_viewports()
        rows, cols = self.viewer.session.grid
        rectangles: Sequence[tuple[float, float, float, float]] = ()
        if self.plan is not None:
            stage = self.plan.stages[self.stage]
            if stage.layout == "custom" and grid_cells(stage)[:2] == (rows, cols):
                rectangles = [v.rectangle for v in stage.viewports]
                placed = placed[:len(rectangles)]
        taken = {p.id for p in self.library().protocols}
        protocol = capture_protocol(name, current, placed, rows=rows, columns=cols, match=match, taken=taken,
                                    priors=priors, rectangles=rectangles)
        save_user_protocol(self.home, protocol)
        self.viewer.message.emit(f"Saved as hanging protocol “{protocol.name}”")
        return protocol

    def ask_save_layout(self) -> Protocol | None:
        """Ask for a name and the attributes to match, then save (the Save layout… button)."""
        if self.viewer.session.patient is None:
            return None
        from workstation.ui.protocol_editor import SaveLayoutDialog

        current = study_facts(self.viewer.cache, self.viewer.session.patient.study_uid, with_series=False)
        if current is None:  # removed from the cache while shown
            self.viewer.message.emit("The study shown is no longer in the cache: its layout cannot be saved")
            return None
        dialog = SaveLayoutDialog(current, self.viewer)
        while dialog.exec():
            try:
                return self.save_layout_as_protocol(dialog.name(), dialog.match())
            except (ProtocolError, OSError) as exc:
                dialog.show_error(str(exc))
        return None

    # Late priors --------------------------------------------------------------------------
    def refresh(self, remote: Sequence[StudyFacts] | None = None) -> list[tuple[int, int]]:
        """Plan again (a prior arrived, an archive answered); re-apply only what changed on this stage."""
        if self.plan is None:
            return []
        if remote is not None:
            self.remote = list(remote)
        old = self.plan
        protocol = old.protocol_id if old.reason == "chosen by the user" else None
        try:
            new = plan_study(self.viewer.cache, self.library(), old.study_uid, protocol_id=protocol,
                             remote=self.remote)
        except KeyError:
            return []
        if new.protocol_id != old.protocol_id:
            # Another protocol wins now that the priors are known: hang it from the start.
            self.hang(old.study_uid, None)
            return [(s, v) for s, st in enumerate(new.stages) for v in range(len(st.viewports))]
        changed = changed_viewports(old, new)
        self._add_priors(new)
        self.plan = new
        target = stage_after_update(old, new, self.stage, self._reader_moved)
        if target != self.stage:
            # The prior landed: show the first stage it fills (the reader had not moved on).
            self.show_stage(target)
            self.plan_changed.emit(new)
            return changed
        current = [v for s, v in changed if s == self.stage]
        if current:
            self._links_off()
        for v in current:
            self._apply(v, new.stages[self.stage].viewports[v])
        if current:
            self._apply_links(new.stages[self.stage].viewports)
        self._refresh_toolbar()
        self.plan_changed.emit(new)
        return changed

    def prior_arrived(self, study_uid: str) -> list[tuple[int, int]]:
        """A prior is now in the cache: fill the viewports that were waiting for it."""
        return self.refresh()

    def start_prefetch(self, query: Callable[[StudyFacts], list[StudyFacts]],
                       fetch: Callable[[list, Callable[[str], None], Callable[[], bool]], object],
                       extra_priors: int = 1) -> None:
        """Ask archives for the patient's studies, then fetch the priors, on background threads.

        Parameters
        ----------
        query : callable
            ``query(current_facts) -> remote study facts`` (e.g. over
            :func:`workstation.hanging.prefetch.query_patient_studies` for each prior node).
        fetch : callable
            ``fetch(items, on_arrival, cancelled)`` retrieving the listed priors
            (e.g. over :func:`workstation.hanging.prefetch.fetch_priors`), calling
            ``on_arrival(study_uid)`` after each.  It runs once the current
            study is hung, so the current study's images are read first.
        extra_priors : int
            Relevant priors to fetch beyond those the protocol shows.
        """
        if self.plan is None:
            return
        self.stop_prefetch()
        current = study_facts(self.viewer.cache, self.plan.study_uid, with_series=False)
        if current is None:  # removed from the cache meanwhile: no priors to look for
            return
        self._fetch, self._extra_priors = fetch, extra_priors
        self._prefetch_stop = threading.Event()
        self._run_in_background(lambda stop: self._prefetch_event.emit("remote", query(current)))

    def _run_in_background(self, work: Callable[[threading.Event], None]) -> None:
        stop = self._prefetch_stop
        signal = self._prefetch_event

        def run() -> None:
            try:
                work(stop)
            except Exception as exc:  # noqa: BLE001 - the archive may be down: say so, keep reading
                log.warning("prior prefetch failed: %s", exc)
                signal.emit("failed", str(exc))

        self._prefetch_thread = threading.Thread(target=run, name="prior-prefetch", daemon=True)
        self._prefetch_thread.start()

    def stop_prefetch(self, timeout: float = 5.0) -> None:
        """Cancel a prefetch in progress (what arrived stays in the cache)."""
        self._prefetch_stop.set()
        if self._prefetch_thread is not None:
            self._prefetch_thread.join(timeout)
            self._prefetch_thread = None

    def _on_prefetch_event(self, kind: str, payload: object) -> None:
        if self._prefetch_stop.is_set():
            return
        if kind == "remote":
            self.refresh(signal_value(payload, list))
            from workstation.hanging.prefetch import prefetch_items

            if self.plan is None:
                return
            items = [i for i in prefetch_items(self.plan, self._extra_priors) if not i.in_cache]
            signal, fetch = self._prefetch_event, self._fetch
            if items and fetch is not None:
                self._run_in_background(
                    lambda stop: fetch(items, lambda uid: signal.emit("arrived", uid), stop.is_set))
        elif kind == "arrived":
            self.prior_arrived(signal_value(payload, str))
        elif kind == "failed":
            self.viewer.message.emit(f"Priors could not be fetched: {payload}")


def _fallback_grid(n: int) -> tuple[int, int]:
    cols = min(MAX_GRID, max(1, int(n ** 0.5 + 0.999)))
    return min(MAX_GRID, (n + cols - 1) // cols), cols


def _initial_index(frames, vp: ViewportPlan) -> int:
    """The stack index of the plan's first image: its matched image, else the same place in the stack."""
    if vp.initial_sop_instance_uid:
        for k, f in enumerate(frames):
            if f.sop_instance_uid == vp.initial_sop_instance_uid:
                return k
    n = len(frames)
    if n == vp.number_of_images or vp.number_of_images <= 1:
        return min(vp.initial_image, max(n - 1, 0))
    # The stack holds another count (split or filtered): keep the same fraction of the way through.
    return min(int(round(vp.initial_image / (vp.number_of_images - 1) * (n - 1))), n - 1)
