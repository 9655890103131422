"""The QVTK widget of the MPR and 3D views, on a render window that works on the current Qt platform.

Under Qt's offscreen platform (tests, no display) only VTK's OSMesa window works;
the default and EGL windows crash there.  Everywhere else the widget's own window is used.

A window's first frame sets up its OpenGL context, its frame buffers and their
shaders: on an X display with a software rasteriser that takes a tenth of a
second or more in every window, so the MPR and 3D views have it made on a plain
thread (:func:`first_frames`) while the event loop runs on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QGuiApplication
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor
from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow

from workstation.volume3d.rendering import OPENGL_SET_UP


def make_vtk_widget(parent=None) -> QVTKRenderWindowInteractor:
    if QGuiApplication.platformName() == "offscreen":
        from workstation.volume3d.rendering import offscreen_window

        return QVTKRenderWindowInteractor(parent, rw=offscreen_window(300, 300))
    return QVTKRenderWindowInteractor(parent)


def set_up_here(initialize: Callable[[], object]) -> None:
    """Run a window's OpenGL set-up (``Initialize``, or a first render) on this thread, under the lock.

    Worker threads make their windows' contexts under
    :data:`~workstation.volume3d.rendering.OPENGL_SET_UP` (VTK then fills process-wide tables
    of OpenGL functions and sets Xlib's error handler); a context made on the GUI thread at
    the same time would race them, so it takes the same lock.  The wait is at most one
    worker's set-up (a few milliseconds in an OSMesa window; on an X display the views'
    windows are set up by :func:`first_frames` instead).
    """
    with OPENGL_SET_UP:
        initialize()


def first_frame_off_thread(widget: QVTKRenderWindowInteractor) -> bool:
    """True where the widget's first frame is worth making on another thread: a GLX window (an X display).

    An OSMesa window's first frame takes a few milliseconds; other windows (Windows,
    macOS, EGL) are left to the GUI thread.
    """
    return bool(widget.GetRenderWindow().IsA("vtkXOpenGLRenderWindow"))


def first_frames(windows: Sequence[vtkRenderWindow],
                 warm_up: Callable[[int], vtkRenderer] | None = None,
                 ) -> Callable[[Callable[[Any], None], threading.Event], None]:
    """The work (for :class:`~workstation.ui.background.BackgroundTask`) of the windows' first frames, in order.

    Each window gets its OpenGL context and renders once, then its context is released so
    that the GUI thread can make it current; ``emit(i)`` says window ``i`` is ready.  With
    ``warm_up``, window ``i`` first renders the throwaway renderer ``warm_up(i)`` (made on
    this thread, removed again before the window is handed over), so that the shaders the
    view's own scene needs are compiled here.  Until the view initialises its interactor,
    Qt's paint and resize events do not render the window, so the GUI thread does not draw
    in it meanwhile.
    """
    def work(emit: Callable[[Any], None], cancel: threading.Event) -> None:
        for i, window in enumerate(windows):
            if cancel.is_set():
                return
            with OPENGL_SET_UP:
                # Render, not Initialize, makes the context: VTK lets Python's lock go during a render
                # only, so the GUI thread runs its Python meanwhile.
                window.Render()
            renderer = warm_up(i) if warm_up is not None else None
            if renderer is not None:
                window.AddRenderer(renderer)
                window.Render()
                window.RemoveRenderer(renderer)  # releases its OpenGL objects while the context is current here
            window.ReleaseCurrent()
            emit(i)

    return work
