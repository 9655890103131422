"""The QVTK widget of the MPR and 3D views, on a render window that works on the current Qt platform.

Under Qt's offscreen platform (tests, no display) only VTK's OSMesa window works;
the default and EGL windows crash there.  Everywhere else the widget's own window is used.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor


def make_vtk_widget(parent=None) -> QVTKRenderWindowInteractor:
    if QGuiApplication.platformName() == "offscreen":
        from workstation.volume3d.rendering import offscreen_window

        return QVTKRenderWindowInteractor(parent, rw=offscreen_window(300, 300))
    return QVTKRenderWindowInteractor(parent)
