"""The reader's work in the viewer: what is pending when studies close, key images, presentation states.

:class:`ReadingWorkActions` is the part of :class:`~workstation.ui.viewer.viewer.ViewerWidget`
that saves measurements as they are made, asks about unsaved work before
studies close, and marks key images and saves them or presentation states
(the work itself is done by :class:`~workstation.session.reading.ReadingSession`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QInputDialog, QWidget

from workstation.session.reading import ReadingSession
from workstation.session.saved_views import SaveError
from workstation.session.unsaved import ClosingCheck, apply_answer, check_closing

if TYPE_CHECKING:
    from workstation.ui.viewer.toolbar import ViewerToolBar
    from workstation.ui.viewer.viewport_widget import ViewportWidget


class ReadingWorkActions(QWidget):
    """The viewer's actions on the reader's work (mixed into the viewer, which provides what is declared here).

    Signals
    -------
    message(str)
        Something to tell the reader in the status bar.
    """

    message = Signal(str)

    # Provided by the viewer.
    session: ReadingSession
    toolbar: ViewerToolBar
    viewports: list[ViewportWidget]
    ask_unsaved: Callable[[ClosingCheck], str]
    ask_description: Callable[[str], str | None]
    destination_of: Callable[[str], str | None]

    if TYPE_CHECKING:
        @property
        def active_widget(self) -> ViewportWidget: ...

        def _release_background(self) -> None: ...

        def _poll_loading_soon(self) -> None: ...

    # Pending work --------------------------------------------------------------------------
    def confirm_leave(self, *, quitting: bool = False) -> bool:
        """Ask what to do with pending work of the open studies; True when they may close.

        Measurements not saved, report drafts and (``quitting``) objects not sent yet
        are listed (:func:`workstation.session.unsaved.check_closing`); Save, Discard
        or Close do what :func:`~workstation.session.unsaved.apply_answer` says, Cancel
        keeps everything open.
        """
        if not self.session.studies and not quitting:
            return True
        check = check_closing(self.session, quitting=quitting)
        if not check.needs_answer:
            return True
        go, message = apply_answer(self.session, check, self.ask_unsaved(check))
        if message:
            self.message.emit(message)
        return go

    def _ask_unsaved(self, check: ClosingCheck) -> str:
        from workstation.ui.unsaved_prompt import ask

        return ask(self.window(), check)

    @staticmethod
    def _editing() -> bool:
        # The buttons as they are (a dialog opened from a press, e.g. the Text tool's, takes the release).
        return QApplication.mouseButtons() != Qt.MouseButton.NoButton

    def _on_mouse_released(self) -> None:
        # After the viewport has handled the release (the drag is over): save what it made.  (A signal,
        # not an event filter: a filter on the viewports ran Python for each of their paint events.)
        QTimer.singleShot(0, self, self._save_work_after_edit)

    def _save_work_after_edit(self) -> None:
        self.session.work.changed()
        self._tell_work_notices()

    def _tell_work_notices(self) -> None:
        notices, self.session.work.notices[:] = list(self.session.work.notices), []
        for text in notices:
            self.message.emit(text)

    # Key images -------------------------------------------------------------------------
    def toggle_key_image(self) -> bool | None:
        marked = self.session.toggle_key_image()
        self._tell_work_notices()
        if marked is not None:
            self.message.emit("Marked as key image" if marked else "Key image mark removed")
        return marked

    def _ask_description(self, what: str) -> str | None:
        text, ok = QInputDialog.getText(self, what, "Description (optional):")
        return text if ok else None

    def save_presentation_state(self) -> bool:
        """Save the active viewport's view as a presentation state, stored and queued for the archive."""
        vp = self.active_widget.model
        if vp.display_set is None or vp.display_set.key:
            self.message.emit("Show a series in the active viewport first")
            return False
        description = self.ask_description("Save presentation state")
        if description is None:
            return False
        try:
            saved = self.session.save_presentation_state(
                description=description, destination=self.destination_of(vp.display_set.study.study_uid))
        except (SaveError, OSError) as exc:
            self.message.emit(f"Presentation state not saved: {exc}")
            return False
        self.message.emit("Presentation state saved" + (" and queued for the archive" if saved.queued else ""))
        return True

    def save_key_images(self) -> bool:
        """Save the marked key images as Key Object Selection documents ("Of Interest")."""
        if not self.session.key_images:
            self.message.emit("No key images are marked (K marks the image shown)")
            return False
        description = self.ask_description("Save key images")
        if description is None:
            return False
        try:
            saved = self.session.save_key_images(description=description, destination_of=self.destination_of)
        except (SaveError, OSError) as exc:
            self.message.emit(f"Key images not saved: {exc}")
            return False
        queued = sum(s.queued for s in saved)
        self.message.emit(f"Key images saved ({len(saved)} document{'s' if len(saved) != 1 else ''})"
                          + (", queued for the archive" if queued else ""))
        return True

    def open_saved_object(self, kind: str, sop_instance_uid: str) -> None:
        """Apply a presentation state, or show a key-image display set, in the active viewport."""
        if kind == "KO":
            ds = self.session.display_set(sop_instance_uid)
            if ds is not None:
                self.session.show(ds, self.session.active)
                self._release_background()
                self._poll_loading_soon()
            return
        try:
            self.session.apply_presentation_state(sop_instance_uid)
        except (SaveError, OSError) as exc:
            self.message.emit(f"Presentation state not applied: {exc}")
            return
        self._release_background()
        self._poll_loading_soon()
        self.message.emit("Presentation state applied")

    def _sync_key_image_action(self) -> None:
        f = self.active_widget.model.frame
        self.toolbar.key_image_action.setChecked(f is not None and self.session.is_key_image(f.key))
