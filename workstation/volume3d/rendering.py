"""Render windows without Qt, OpenGL renderer detection, the volume mapper choice, captures.

Facts this module is built on (measured on the reading stations): under Qt's
offscreen platform and on machines without a display only VTK's OSMesa window
(``vtkOSOpenGLRenderWindow``, Debian package libosmesa6) works; the default and
EGL windows crash.  On Mesa's software rasteriser (llvmpipe) the CPU ray-cast
mapper renders a 256³ volume at 512² six to nine times faster than the GPU
mapper; on a real GPU the GPU mapper wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOImage import vtkPNGWriter
from vtkmodules.vtkRenderingCore import vtkRenderWindow, vtkWindowToImageFilter

# Importing these registers the OpenGL implementations and fonts of the abstract classes.
import vtkmodules.vtkInteractionStyle  # noqa: F401
import vtkmodules.vtkRenderingFreeType  # noqa: F401
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401

#: Words in an OpenGL renderer string that mean the pixels are computed on the CPU.
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software rasterizer", "lavapipe", "gdi generic")
MAPPER_CHOICES = ("auto", "cpu", "gpu")


def offscreen_window(width: int = 512, height: int = 512) -> vtkRenderWindow:
    """A render window that draws into memory, with no display and no Qt."""
    from vtkmodules.vtkRenderingOpenGL2 import vtkOSOpenGLRenderWindow

    window = vtkOSOpenGLRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(int(width), int(height))
    window.SetMultiSamples(0)
    return window


def x_offscreen_window(width: int = 512, height: int = 512) -> vtkRenderWindow:
    """A GLX render window that draws into memory (never mapped on the screen); needs an X display."""
    from vtkmodules.vtkRenderingOpenGL2 import vtkXOpenGLRenderWindow

    window = vtkXOpenGLRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(int(width), int(height))
    window.SetMultiSamples(0)
    return window


#: Makes a render window of the given (width, height) that draws into memory.
WindowMaker = Callable[[int, int], vtkRenderWindow]

#: Held while a thread other than the GUI's sets up a window's OpenGL context (its first render):
#: VTK then loads the OpenGL and GLX functions into process-wide tables and sets Xlib's error
#: handler, which two threads must not do at once.  Later renders need no lock (each window has
#: its own context, current in one thread).
OPENGL_SET_UP = threading.Lock()


def worker_window_maker(window: vtkRenderWindow) -> WindowMaker | None:
    """How another thread may make a window to render beside ``window`` (None: it may not render at all).

    VTK loads the OpenGL functions once per process, from the library of the first kind of
    window that renders: an OSMesa window beside a GLX one (or the other way round) calls
    the other library's functions and crashes.  Two windows of the same kind, each with its
    own context current in its own thread, render side by side: OSMesa beside OSMesa (Qt's
    offscreen platform), GLX beside GLX (an X display; each VTK X window opens its own
    connection to the server).  Other windows (EGL, Windows, macOS) are not shared.
    """
    if window.IsA("vtkOSOpenGLRenderWindow"):
        return offscreen_window
    if window.IsA("vtkXOpenGLRenderWindow"):
        return x_offscreen_window
    return None


def renderer_string(window: vtkRenderWindow) -> str:
    """The OpenGL renderer string of a window that has rendered once ("" if unknown)."""
    try:
        text = window.ReportCapabilities() or ""
    except Exception:  # some windows cannot report before they are mapped
        return ""
    for line in text.splitlines():
        if line.strip().lower().startswith("opengl renderer string"):
            return line.split(":", 1)[1].strip()
    return ""


def is_software_renderer(renderer: str) -> bool:
    """True for Mesa llvmpipe and other CPU rasterisers (also when the renderer is unknown)."""
    text = renderer.lower()
    return not text or any(word in text for word in SOFTWARE_RENDERERS)


def mapper_setting(extra: Mapping[str, Any] | None) -> str:
    """The user's volume mapper choice from ``Settings.extra["volume3d"]["mapper"]`` (default "auto")."""
    value = str(((extra or {}).get("volume3d") or {}).get("mapper", "auto")).lower()
    return value if value in MAPPER_CHOICES else "auto"


def choose_mapper(renderer: str, setting: str = "auto") -> str:
    """"cpu" (vtkFixedPointVolumeRayCastMapper) or "gpu" (vtkGPUVolumeRayCastMapper).

    An explicit "cpu" or "gpu" setting wins; "auto" picks the CPU mapper on
    software OpenGL and the GPU mapper on hardware.
    """
    if setting in ("cpu", "gpu"):
        return setting
    return "cpu" if is_software_renderer(renderer) else "gpu"


def capture(window: vtkRenderWindow) -> np.ndarray:
    """The window's pixels as an (height, width, 3) uint8 array, top row first.

    ``QWidget.grab()`` of a VTK widget returns garbage; this reads VTK's own buffer.
    """
    grab = vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.SetInputBufferTypeToRGB()
    grab.ReadFrontBufferOff()
    grab.Update()
    img = grab.GetOutput()
    w, h, _ = img.GetDimensions()
    arr = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)
    return np.ascontiguousarray(arr[::-1, :, :3])


def write_png(rgb: np.ndarray, path: str | Path) -> Path:
    """Write an (h, w, 3) or (h, w) uint8 array as PNG."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData

    path = Path(path)
    arr = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8)[::-1])  # VTK's first row is the bottom one
    h, w = arr.shape[:2]
    comps = 1 if arr.ndim == 2 else arr.shape[2]
    img = vtkImageData()
    img.SetDimensions(w, h, 1)
    img.GetPointData().SetScalars(numpy_to_vtk(arr.reshape(-1, comps), deep=True))
    writer = vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(img)
    writer.Write()
    if not path.is_file():
        raise OSError(f"cannot write {path}")
    return path
