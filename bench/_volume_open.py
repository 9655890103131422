"""Shared by bench.mpr_open and bench.vr_open: the reader's action to MPR and 3D of a cached CT, timed.

The 500-slice 512 x 512 CT is imported into a fresh cache, opened in the main
window's viewer (Qt offscreen, VTK's OSMesa windows; or on an X server with
``QT_QPA_PLATFORM=xcb``, VTK's GLX windows, e.g. under
``xvfb-run -a -s '-screen 0 1920x1080x24'``) and read completely by the 2D
viewer, as when a reader has been scrolling it.  Then the MPR action of the
window (Tools › MPR and 3D, Ctrl+M) is triggered, and the event loop runs
until the MPR views have drawn their planes, the 3D view its first frame and
its full-quality frame.  A 10 ms QTimer runs all along; its largest gap between
two ticks is the longest time the event loop was held (a stall the reader sees
as a frozen window); the gaps over 50 ms are counted too.
"""

from __future__ import annotations

import time

from bench._viewer import application, cached_ct, remove_home


class StallMeter:
    """A 10 ms timer; the largest gap between its ticks is the longest event-loop stall."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.worst = 0.0
        self.worst_at = 0.0
        self.over_50ms = 0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            gap = now - self.last
            self.over_50ms += gap > 0.050
            if gap > self.worst:
                self.worst, self.worst_at = gap, now
        self.last = now

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        return self.worst


def run(timeout_s: float = 120.0, want_full_3d: bool = True) -> dict:
    """Trigger MPR and 3D from the viewer; returns seconds from the action to each event, and the longest stall."""
    app = application()
    from PySide6.QtCore import QEventLoop, QTimer

    from workstation.ui import mpr_view, volume_view
    from workstation.ui.app import build_main_window

    marks: dict[str, float] = {}
    t0 = [0.0]

    def mark(name: str) -> None:
        marks.setdefault(name, time.perf_counter() - t0[0])

    original_mpr_start, original_vr_start = mpr_view.MprView.start, volume_view.VolumeView.start

    def mpr_start(self, *a, **kw):
        signal = getattr(self, "painted", None)
        if signal is not None:  # views drawn one per event-loop turn: painted comes after the last
            signal.connect(lambda: mark("mpr painted"))
        result = original_mpr_start(self, *a, **kw)
        if signal is None:
            mark("mpr painted")
        return result

    def vr_start(self, *a, **kw):
        signal = getattr(self, "frame_shown", None)
        if signal is not None:
            signal.connect(lambda quality: mark(f"3d {quality}"))
        result = original_vr_start(self, *a, **kw)
        if signal is None:  # a 3D view that draws the full volume in start()
            mark("3d preview")
            mark("3d full")
        return result

    mpr_view.MprView.start, volume_view.VolumeView.start = mpr_start, vr_start
    cache, study_uid, home = cached_ct()
    window = None
    try:
        window = build_main_window(cache)
        window.resize(1600, 1000)
        window.show()
        viewer = window.viewer
        viewer.open_study(study_uid)
        ds = viewer.session.display_sets[0]
        ds.loader.resume()
        ds.loader.join(120)
        for _ in range(10):
            app.processEvents()
        meter = StallMeter()
        loop = QEventLoop()
        wanted = ("mpr painted", "3d full" if want_full_3d else "3d preview")
        poll = QTimer()
        poll.setInterval(5)
        poll.timeout.connect(lambda: all(w in marks for w in wanted) and loop.quit())
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        meter.start()
        poll.start()
        t0[0] = time.perf_counter()
        window.volume_action.trigger()
        loop.exec()
        marks["longest stall"] = meter.stop()
        marks["stalls over 50 ms"] = meter.over_50ms
        marks["platform"] = app.platformName()
        poll.stop()
        workspace = window.volume_workspaces[-1]
        mpr = workspace.mpr
        if mpr is not None:
            marks["volume shape"] = tuple(mpr.volume.shape)
        workspace.close()
        app.processEvents()
        return marks
    finally:
        mpr_view.MprView.start, volume_view.VolumeView.start = original_mpr_start, original_vr_start
        if window is not None:
            if window.viewer is not None:
                window.viewer.shutdown()
            window.browser.stop()
            window.hide()  # not close(): that asks the reader about pending work
        remove_home(cache, home)


def ms(marks: dict, key: str) -> str:
    v = marks.get(key)
    return f"{v * 1e3:7.0f} ms" if isinstance(v, float) else "    n/a"
