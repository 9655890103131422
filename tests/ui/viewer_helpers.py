"""Real input for the viewer's widget tests: mouse drags, wheel turns and keys on a viewport."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from workstation.ui.viewer.viewer import ViewerWidget

WAIT_MS = 20_000
VIEWER_SIZE = (1100, 760)


def point(u: float, v: float) -> QPoint:
    return QPoint(int(round(u)), int(round(v)))


def view_point_of(widget, x: float, y: float) -> QPoint:
    """The widget pixel showing image point ``(x, y)``."""
    return point(*widget.model.view.to_view(x, y))


def drag(widget, start: QPoint, end: QPoint, button=Qt.MouseButton.LeftButton,
         modifiers=Qt.KeyboardModifier.NoModifier, steps: int = 6) -> None:
    """Press at ``start``, move in ``steps`` to ``end``, release there."""
    QTest.mousePress(widget, button, modifiers, start)
    for k in range(1, steps + 1):
        p = QPoint(start.x() + (end.x() - start.x()) * k // steps, start.y() + (end.y() - start.y()) * k // steps)
        QTest.mouseMove(widget, p)
    QTest.mouseRelease(widget, button, modifiers, end)


def click(widget, at: QPoint, button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(widget, button, modifiers, at)


def wheel(widget, notches: int, at: QPoint | None = None,
          modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Turn the wheel ``notches`` (positive: away from the reader) over ``widget``."""
    at = at or QPoint(widget.width() // 2, widget.height() // 2)
    event = QWheelEvent(QPointF(at), QPointF(widget.mapToGlobal(at)), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def key(widget, k, modifiers=Qt.KeyboardModifier.NoModifier, text: str = "") -> None:
    QTest.keyClick(widget, k, modifiers)


def open_viewer(qtbot, cache, study_uid: str, size=VIEWER_SIZE) -> ViewerWidget:
    """A shown viewer with ``study_uid`` open and its first viewport's stack fully read."""
    viewer = ViewerWidget(cache)
    qtbot.addWidget(viewer)
    viewer.resize(*size)
    viewer.show()
    qtbot.waitExposed(viewer)
    assert viewer.open_study(study_uid)
    vp = viewer.viewports[0]
    qtbot.waitUntil(lambda: vp.model.pixels is not None and vp.model.pixels.done, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: vp.paint_count > 0 and vp.model.render() is not None, timeout=WAIT_MS)
    return viewer
