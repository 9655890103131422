"""Hanging protocols in the main window: studies hung on opening, priors fetched, the protocol manager.

:func:`attach_hanging` is the one call the composition root makes; it wires
a :class:`~workstation.ui.hanging_apply.HangingController` to the window's
viewer, fetches priors from the nodes of the hanging settings when a study
is hung (in the background, after the current study), and adds
"Hanging protocols…" to the window's menu.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QAction

from workstation import config as config_mod
from workstation.hanging.plan import HangingPlan
from workstation.hanging.prefetch import HangingSettings, fetch_priors, query_patient_studies
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.hanging_apply import HangingController
from workstation.ui.protocol_editor import ProtocolEditorDialog
from workstation.ui.qvariant import signal_value

log = logging.getLogger(__name__)


def _settings(home: Home) -> config_mod.Settings:
    try:
        return config_mod.load(home.config_file)
    except config_mod.ConfigError as exc:
        log.warning("settings unreadable, priors are not fetched: %s", exc)
        return config_mod.Settings()


def start_prior_prefetch(controller: HangingController, home: Home) -> bool:
    """Ask the prior nodes for the hung study's priors and fetch them; False when no node is set."""
    settings = _settings(home)
    hanging = HangingSettings.of(settings)
    nodes = hanging.nodes(settings)
    if not nodes or controller.plan is None:
        return False

    def query(current):
        found = []
        for node in nodes:
            try:
                found += query_patient_studies(node, settings.ae_title, current)
            except Exception as exc:  # noqa: BLE001 - one archive down must not hide the others' priors
                log.warning("prior query of %s failed: %s", node.name, exc)
        return found

    def fetch(items, on_arrival, cancelled):
        # This thread's own connection to the cache; the viewer keeps the GUI thread's.
        with StudyCache.open(home) as cache:
            for node in nodes:
                fetch_priors(node, settings, home, cache, items, cancel=cancelled,
                             on_arrival=lambda uid, _report: on_arrival(uid))

    controller.start_prefetch(query, fetch, hanging.extra_priors)
    return True


def attach_hanging(window, home: Home, *, prefetch: bool = True) -> HangingController | None:
    """Hang studies in ``window.viewer`` by protocol and add the protocol manager to its menu.

    Parameters
    ----------
    window : QMainWindow
        With a ``viewer`` (ViewerWidget) when the viewer is available.
    home : Home
    prefetch : bool
        Fetch priors from the nodes of the hanging settings (tests turn it off).
    """
    viewer = getattr(window, "viewer", None)
    if viewer is None:
        return None
    controller = HangingController(viewer, home)
    last: dict[str, str | None] = {"uid": None}

    def on_plan(payload: object) -> None:
        plan = signal_value(payload, HangingPlan)
        if prefetch and plan.study_uid != last["uid"]:
            last["uid"] = plan.study_uid
            start_prior_prefetch(controller, home)

    controller.plan_changed.connect(on_plan)
    if hasattr(window, "focus_active_viewport"):
        # A stage change hides the focused viewport for a moment: give the keys back to the active one.
        controller.stage_changed.connect(lambda _stage: window.focus_active_viewport())
    action = QAction("Hanging protocols…", window)
    action.triggered.connect(lambda: open_protocol_manager(window, home, controller))
    menu = next((a.menu() for a in window.menuBar().actions() if a.menu() and a.text().replace("&", "") == "View"),
                None)
    (menu or window.menuBar().addMenu("&Protocols")).addAction(action)
    from workstation.ui.volume_cells import VolumeCells

    mapper = str(getattr(window, "volume3d_settings", {}).get("mapper", "auto"))
    controller.volume_cells = VolumeCells(viewer, lambda: StudyCache.open(home), mapper)
    window.hanging = controller
    window.hanging_action = action
    return controller


def open_protocol_manager(window, home: Home, controller: HangingController | None = None) -> ProtocolEditorDialog:
    """Show the protocol manager; a protocol saved there re-hangs the open study."""
    dialog = ProtocolEditorDialog(home, window)
    if controller is not None:
        dialog.saved.connect(lambda _id: controller.plan is not None and controller.hang(controller.plan.study_uid))
    dialog.show()
    return dialog
