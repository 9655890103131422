"""Render one frame of a file to 8-bit display values at native resolution.

This is what ``lightbox render`` writes: the pipeline's output, no zoom, no
text.  It is also the reference the viewer's tests compare against.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset

from workstation.dicom.bounded import open_bounded
from workstation.dicom.pixels import PIXEL_KEYWORDS, PixelResult, decode_pixels
from workstation.log_privacy import mask_values
from workstation.imaging.frames import number_of_frames
from workstation.imaging.pipeline import FramePipeline, Window, default_window

__all__ = ["RenderError", "Rendered", "render_file", "render_with_presentation_state", "write_png"]


class RenderError(ValueError):
    """The file cannot be rendered; the message is one sentence for the user."""


@dataclass(frozen=True)
class Rendered:
    """A rendered frame, the VOI that was applied (None for colour), and what it came from."""

    pixels: np.ndarray
    window: Window | None
    pipeline: FramePipeline
    stored: np.ndarray  # the frame's stored values as decoded


def render_file(
    path: str | os.PathLike[str],
    frame: int = 0,
    *,
    window: Window | None = None,
    voi_index: int | None = None,
    invert: bool = False,
    overlays: bool = True,
) -> Rendered:
    """Decode and render one frame of a DICOM file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    frame : int
        0-based frame.
    window : Window or None
        VOI to apply; None uses the image's own (``voi_index``) or
        :func:`~workstation.imaging.pipeline.default_window`.
    voi_index : int or None
        0-based index into the image's VOI choices (windows, then VOI LUTs).
    invert : bool
        Invert the grayscale output.
    overlays : bool
        Burn overlay planes in.

    Returns
    -------
    Rendered

    Raises
    ------
    RenderError
        With a one-line reason: unreadable file, no such frame, no such VOI.
    """
    # pydicom warns about every oddity of a file; the result, or one error, says what matters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _render(path, frame, window, voi_index, invert, overlays)
        except RenderError:
            raise
        except MemoryError:
            raise RenderError("the image needs more memory than this computer can give it") from None
        except Exception as exc:  # hostile headers reach corners no check foresaw: refuse, never crash
            raise RenderError(_unexpected(exc)) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def _unexpected(exc: BaseException) -> str:
    """A refusal for an unforeseen failure: its kind and where, logged; never the values it quoted."""
    import logging
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"
    logging.getLogger(__name__).warning("render refused an image: %s at %s", type(exc).__name__, where)
    return f"the image's header cannot be rendered ({type(exc).__name__})"


def render_with_presentation_state(path: str | os.PathLike[str], presentation_state: Dataset,
                                   frame: int = 0) -> Rendered:
    """Render one frame as a Grayscale Softcopy Presentation State shows it.

    The state's Modality LUT, VOI and Presentation LUT replace the image's
    (PS3.4 N.2), its display shutter hides what it covers, and its rotation
    and flip turn the whole image (the displayed area is not cropped, as in
    DCMTK's ``dcmp2pgm``); overlays are burned in.

    Parameters
    ----------
    path : str or os.PathLike
        The image.
    presentation_state : pydicom.dataset.Dataset
        The GSPS (the viewer's saved ones and any other).
    frame : int
        0-based frame.

    Returns
    -------
    Rendered
        ``window`` is the state's VOI (None for its identity VOI).

    Raises
    ------
    RenderError
        The object is not a GSPS, does not reference this image or frame, or
        the image is in colour or cannot be rendered.
    """
    from workstation.imaging.presentation_state import is_gsps, read_gsps

    if not is_gsps(presentation_state):
        raise RenderError("the presentation state is not a Grayscale Softcopy Presentation State")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds, stored, pipeline, _result = _decoded(path, frame)
        if pipeline.is_color:
            raise RenderError("a grayscale presentation state does not apply to a colour image")
        try:
            state = read_gsps(presentation_state, image_size=(int(ds.Columns), int(ds.Rows)))
        except (ValueError, TypeError, AttributeError) as exc:
            raise RenderError(f"the presentation state cannot be read: {exc}") from None
        sop_uid = str(ds.get("SOPInstanceUID", ""))
        if not state.references_image(sop_uid, frame + 1):
            if state.references_image(sop_uid):
                raise RenderError(f"the presentation state does not apply to frame {frame + 1} of this image")
            n = len(state.referenced)
            raise RenderError(f"the presentation state does not apply to this image: it references "
                              f"{n} other image{'s' if n != 1 else ''}")
        pixels = state.render(pipeline, stored, sop_uid, frame + 1)
        applied = state.pipeline_for(pipeline, sop_uid, frame + 1)
        return Rendered(pixels=pixels, window=state.window_for(sop_uid, frame + 1), pipeline=applied, stored=stored)


def _decoded(path: str | os.PathLike[str], frame: int) -> tuple[Dataset, np.ndarray, FramePipeline, PixelResult]:
    """(data set, stored values, pipeline, decode result) of one frame; RenderError with the reason."""
    try:
        with open_bounded(path) as f:  # no length field reserves more than the file holds
            ds: Dataset = dcmread(f, force=True)
    except MemoryError:
        raise
    except Exception as exc:
        raise RenderError(f"cannot read {os.fspath(path)!r} as DICOM: {mask_values(_first_line(exc))}") from None
    if not any(tag in ds for tag in PIXEL_KEYWORDS):
        if len(ds) == 0:
            raise RenderError("not a DICOM file")
        raise RenderError("the object has no image (no Pixel Data)")
    ds = _with_readable_number_of_frames(ds)
    # Messages count frames and VOI choices from 1, as users (and DICOM) do.
    frames = number_of_frames(ds)
    if not 0 <= frame < frames:
        raise RenderError(
            f"frame {frame + 1} does not exist: the image has {frames} frame{'s' if frames != 1 else ''}"
        )
    result = decode_pixels(ds, frame)
    if not result.ok or result.array is None:
        raise RenderError(result.error or "no pixel data")
    return ds, result.array, FramePipeline.from_dataset(ds, frame), result


def _render(
    path: str | os.PathLike[str],
    frame: int,
    window: Window | None,
    voi_index: int | None,
    invert: bool,
    overlays: bool,
) -> Rendered:
    _ds, stored, pipeline, result = _decoded(path, frame)
    if pipeline.is_color:
        applied = None
    else:
        if window is None and voi_index is not None and not 0 <= voi_index < len(pipeline.windows):
            count = len(pipeline.windows)
            raise RenderError(
                f"VOI choice {voi_index + 1} does not exist: the image has {count} "
                f"(windows, then VOI LUTs)"
            )
        applied = pipeline.resolve_window(window, voi_index)
        if applied is None:
            applied = default_window(pipeline, stored)
    pixels = pipeline.to_display(
        stored,
        applied,
        invert=invert,
        overlays=overlays,
        photometric_interpretation=result.photometric_interpretation,
    )
    return Rendered(pixels=pixels, window=applied, pipeline=pipeline, stored=stored)


def _with_readable_number_of_frames(ds: Dataset) -> Dataset:
    """``ds``, or a shallow copy whose unreadable Number of Frames is inferred.

    A value such as "1A" stops the decoder; for native Pixel Data the number
    of whole frames the data holds is what the image has (DCMTK does the same).
    """
    value = ds.get("NumberOfFrames")
    if value is None:
        return ds
    try:
        int(value)
        return ds
    except (TypeError, ValueError):
        pass
    fixed = Dataset(ds)
    fixed.file_meta = getattr(ds, "file_meta", FileMetaDataset())
    implicit_vr, little_endian = ds.original_encoding
    fixed.set_original_encoding(implicit_vr, little_endian, ds.original_character_set)
    try:
        rows, columns = int(ds.Rows), int(ds.Columns)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        bits = int(ds.BitsAllocated)
        data = ds.get("PixelData")
        frame_bytes = rows * columns * samples * bits // 8
        frames = len(data) // frame_bytes if isinstance(data, bytes) and frame_bytes else 1
    except (AttributeError, TypeError, ValueError):
        frames = 1
    fixed.NumberOfFrames = max(1, frames)
    return fixed


def write_png(pixels: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Write uint8 gray ``(rows, cols)`` or RGB ``(rows, cols, 3)`` values as PNG."""
    from PIL import Image

    mode = "L" if pixels.ndim == 2 else "RGB"
    Image.fromarray(np.ascontiguousarray(pixels), mode=mode).save(
        os.fspath(path), format="PNG", compress_level=1  # large radiographs: speed over size
    )
