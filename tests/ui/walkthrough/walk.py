"""Walk through the real application as a reader would, with X events, and take screenshots.

    DISPLAY=:N QT_QPA_PLATFORM=xcb python tests/ui/walkthrough/walk.py HOME OUTDIR STEPS

Runs ``lightbox --home HOME demo --size small`` in this process (the real
command: demo archive, cache, the window ``run_gui`` composes) and, once the
window shows, follows STEPS (one step a line, see ``steps.txt``).  Each step
finds its control in the live window (so a wrapped toolbar or another screen
size moves nothing), then sends real X events to it with ``xdotool``: pointer
moves, clicks, drags and keys go through the X server like a person's.
Screenshots of the whole X screen go to OUTDIR; the walk's own record goes to
OUTDIR/walk.log.  The application quits when the steps are done.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPoint, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

STEP_TIMEOUT_S = 60.0


class Walk:
    """Follows the steps once the main window shows; any failure is written down and ends the walk."""

    def __init__(self, out: Path, steps: Path) -> None:
        self.out = out
        self.steps = [line.split() for line in steps.read_text(encoding="utf-8").splitlines()
                      if line.strip() and not line.lstrip().startswith("#")]
        self.log = (out / "walk.log").open("w", encoding="utf-8")
        self.window = None
        self.failed = False

    # Plumbing --------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.log.write(text + "\n")
        self.log.flush()

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 30)
            time.sleep(0.01)

    def until(self, what: str, condition) -> None:
        end = time.monotonic() + STEP_TIMEOUT_S
        while not condition():
            if time.monotonic() > end:
                raise RuntimeError(f"timed out waiting for {what}")
            self.pump(0.1)

    def xdo(self, *args) -> None:
        # Real X events: the X server delivers them to whatever window is under the pointer.
        proc = subprocess.Popen(["xdotool", *map(str, args)])
        while proc.poll() is None:
            self.pump(0.02)
        if proc.returncode:
            raise RuntimeError(f"xdotool {' '.join(map(str, args))} failed")
        self.pump(0.15)

    @staticmethod
    def centre(widget: QWidget, offset: tuple[int, int] = (0, 0)) -> QPoint:
        return widget.mapToGlobal(widget.rect().center() + QPoint(*offset))

    def click(self, widget: QWidget, button: int = 1, offset=(0, 0), double: bool = False) -> None:
        p = self.centre(widget, offset)
        self.xdo("mousemove", p.x(), p.y())
        self.xdo("click", *(["--repeat", 2, "--delay", 80] if double else []), button)

    def drag(self, widget: QWidget, dx: int, dy: int, button: int = 1, start=(0, 0)) -> None:
        p = self.centre(widget, start)
        self.xdo("mousemove", p.x(), p.y())
        self.xdo("mousedown", button)
        for k in range(1, 9):
            self.xdo("mousemove", p.x() + dx * k // 8, p.y() + dy * k // 8)
        self.xdo("mouseup", button)

    def button(self, text: str, root: QWidget | None = None) -> QAbstractButton:
        root = root or self.window
        for b in root.findChildren(QAbstractButton):
            if b.isVisible() and b.text().replace("&", "").strip() == text:
                return b
        raise RuntimeError(f"no visible button {text!r}")

    @property
    def viewer(self):
        return self.window.viewer

    def viewport(self, number: str):
        return self.viewer.viewports[int(number) - 1]

    # Steps -----------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.until("the main window", lambda: any(
                w.isVisible() and hasattr(w, "viewer") for w in QApplication.topLevelWidgets()))
            self.window = next(w for w in QApplication.topLevelWidgets() if w.isVisible() and hasattr(w, "viewer"))
            self.pump(1.0)
            g = self.window.frameGeometry()
            self.say(f"window {g.x()},{g.y()} {g.width()}x{g.height()} on screen "
                     f"{self.window.screen().availableGeometry().getRect()}")
            for step in self.steps:
                self.say("step " + " ".join(step))
                getattr(self, "do_" + step[0].replace("-", "_"))(*step[1:])
            self.say("walk done")
        except Exception as exc:  # noqa: BLE001 - written down for the test, then the application quits
            self.failed = True
            self.say(f"walk FAILED: {type(exc).__name__}: {exc}")
        finally:
            self.log.close()
            QTimer.singleShot(0, self.quit)

    def quit(self) -> None:
        if self.window is not None:
            self.window.close()
        QApplication.quit()

    def do_sleep(self, seconds: str) -> None:
        self.pump(float(seconds))

    def do_shot(self, name: str) -> None:
        from PIL import ImageGrab

        self.pump(0.3)
        ImageGrab.grab(xdisplay=None).save(self.out / f"{name}.png")
        self.say(f"shot {self.out / (name + '.png')}")

    def do_open_study(self, modality: str, date: str) -> None:
        """Double-click the study's row in the list, then wait until it is hung and painted."""
        browser = self.window.browser
        table = browser.table
        row = next(r for r in range(browser.proxy.rowCount())
                   if any(browser.proxy.index(r, c).data() == modality for c in range(browser.proxy.columnCount()))
                   and any(str(browser.proxy.index(r, c).data()) == date for c in range(browser.proxy.columnCount())))
        rect = table.visualRect(browser.proxy.index(row, 1))
        p = table.viewport().mapToGlobal(rect.center())
        self.xdo("mousemove", p.x(), p.y())
        self.xdo("click", "--repeat", 2, "--delay", 80, 1)
        hanging = self.window.hanging
        self.until("the study hung", lambda: hanging.plan is not None and self.viewer.session.patient is not None
                   and self.viewer.viewports[0].model.render() is not None)
        self.say(f"hung by {hanging.plan.protocol_id}, {len(self.viewer.session.studies)} studies, "
                 f"stage {hanging.stage_label.text().strip()}")

    def do_expect_studies(self, count: str) -> None:
        if len(self.viewer.session.studies) != int(count):
            raise RuntimeError(f"{len(self.viewer.session.studies)} studies open, expected {count}")

    def do_scroll(self, number: str, key: str, times: str) -> None:
        vp = self.viewport(number)
        before = vp.model.index
        self.click(vp, 1, offset=(0, vp.height() // 3))  # focus it (the Scroll tool: a click moves nothing)
        for _ in range(int(times)):
            self.xdo("key", key)
        self.say(f"viewport {number} image {before + 1} -> {vp.model.index + 1}")
        if vp.model.index == before:
            raise RuntimeError("the keys did not scroll the viewport")

    def do_tool(self, name: str) -> None:
        from workstation.imaging.interaction import Tool

        tool = Tool(name.replace("_", " "))
        action = self.viewer.toolbar.tool_actions[tool]
        toolbar = self.viewer.toolbar
        button = toolbar.button_for(action)
        if button is not None:
            self.click(button)
        else:  # a measuring tool: from the Measure ▾ menu
            # The menu runs its own event loop once open: both clicks go in one xdotool run, the item's
            # place taken from the menu's layout below its button.
            opener = toolbar.measure_button
            menu = opener.menu()
            menu.ensurePolished()
            menu.adjustSize()
            at = opener.mapToGlobal(opener.rect().bottomLeft()) + menu.actionGeometry(action).center()
            b = self.centre(opener)
            self.xdo("mousemove", b.x(), b.y(), "click", 1, "sleep", 0.6, "mousemove", at.x(), at.y(),
                     "sleep", 0.3, "click", 1)
        if self.viewer.active_widget.interaction.tool is not tool:
            raise RuntimeError(f"clicking {name} did not pick the tool")

    def do_drag(self, number: str, dx: str, dy: str, button: str = "1") -> None:
        vp = self.viewport(number)
        model = vp.model
        before = (model.view.zoom, model.current_window().describe() if model.current_window() else "",
                  len(self.viewer.session.annotations.on_frame(model.frame.key)))
        self.drag(vp, int(dx), int(dy), int(button))
        after = (model.view.zoom, model.current_window().describe() if model.current_window() else "",
                 len(self.viewer.session.annotations.on_frame(model.frame.key)))
        self.say(f"viewport {number}: zoom, window, annotations {before} -> {after}")
        if before == after:
            raise RuntimeError("the drag changed nothing")

    def do_expect_measurement(self, number: str) -> None:
        model = self.viewport(number).model
        found = self.viewer.session.annotations.on_frame(model.frame.key)
        if not found or not found[-1].lines:
            raise RuntimeError("no measurement with a value on the image")
        self.say(f"measured: {' / '.join(found[-1].lines)}")

    def do_viewport_menu(self, number: str, item: str) -> None:
        """Right-click the viewport without dragging and pick the item whose text starts with ``item``."""
        vp = self.viewport(number)
        self.click(vp, 3, offset=(0, vp.height() // 4))
        self.until("the viewport's menu", lambda: vp.context_menu is not None and vp.context_menu.isVisible())
        menu = vp.context_menu
        action = next(a for a in menu.actions() if a.text().replace("&", "").startswith(item.replace("_", " ")))
        rect = menu.actionGeometry(action)
        p = menu.mapToGlobal(rect.center())
        self.xdo("mousemove", p.x(), p.y())
        self.xdo("click", 1)

    def do_wait_mpr(self) -> None:
        self.until("the MPR window", lambda: bool(getattr(self.window, "volume_workspaces", [])))
        ws = self.window.volume_workspaces[-1]
        self.until("the volume", lambda: ws.mpr is not None)
        self.pump(3.0)  # the views come up one per event-loop turn, the 3D view's full frame after
        self.say(f"MPR of {ws.series_box.currentText()}: {ws.message.text()}")
        if "mpr" not in self.viewer.session.external_planes:
            raise RuntimeError("the MPR planes are not drawn in the 2D viewports")

    def do_close_mpr(self) -> None:
        ws = self.window.volume_workspaces[-1]
        self.click(ws.close_button)
        self.until("the MPR window to close", lambda: not ws.isVisible())
        self.pump(0.5)
        if "mpr" in self.viewer.session.external_planes:
            raise RuntimeError("the MPR reference lines stayed after closing it")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _private_ports(home: str) -> None:
    """The walk's demo archive and storage SCP on free ports: another Lightbox on this machine is no matter."""
    from workstation import config
    from workstation.home import Home

    h = Home.single(home).ensure()
    settings = config.load(h.config_file) if h.config_file.exists() else config.Settings()
    settings.storage_port, settings.demo_archive_port = _free_port(), _free_port()
    settings.storage_bind_address = "127.0.0.1"
    config.save(settings, h.config_file)


def main(argv: list[str]) -> int:
    home, out, steps = argv[1], Path(argv[2]), Path(argv[3])
    out.mkdir(parents=True, exist_ok=True)
    _private_ports(home)
    from workstation.cli import main as lightbox
    from workstation.ui.app import application

    application()  # the same QApplication run_gui uses: the walk's timer runs inside its event loop
    walk = Walk(out, steps)
    QTimer.singleShot(500, walk.start)
    code = lightbox(["--home", home, "demo", "--size", "small"])
    return 3 if walk.failed else code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
