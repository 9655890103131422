"""Key images as PNG/JPEG and a cine as MP4, rendered through the display pipeline without Qt.

Corner text is drawn with Pillow from the image's header.  With
``deidentify`` the patient corner (name, ID, birth date, accession,
institution) is never drawn: only the image number, frame and window.
MP4 files are written by the ffmpeg binary ``imageio-ffmpeg`` ships, at the
acquisition frame rate (:func:`workstation.imaging.frames.frame_timing`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pydicom

from workstation.imaging.frames import frame_timing, number_of_frames
from workstation.imaging.pipeline import Window
from workstation.imaging.render import render_file

if TYPE_CHECKING:  # Pillow and the viewer's model are loaded only when a picture is drawn
    from PIL import ImageFont

    from workstation.imaging.presentation import ImageAnnotation
    from workstation.imaging.viewport import ViewportModel

#: Header fields of the patient corner, left out whenever the export is de-identified.
PATIENT_CORNER = ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "InstitutionName")


def _rgb(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.ascontiguousarray(pixels.astype(np.uint8))


def corner_lines(ds: pydicom.Dataset, *, deidentify: bool, frame: int = 0,
                 window: Window | None = None) -> dict[str, list[str]]:
    """The text of the top-left (patient) and bottom-left (image) corners; no patient corner when de-identifying."""
    from workstation.imaging.corner_text import dicom_date, person_name

    out: dict[str, list[str]] = {"top_left": [], "bottom_left": []}
    if not deidentify:
        for keyword in PATIENT_CORNER:
            value = str(ds.get(keyword, "") or "").strip()
            if value:
                out["top_left"].append(person_name(value) if keyword == "PatientName"
                                       else dicom_date(value) if keyword == "PatientBirthDate" else value)
    image = f"Im {ds.get('InstanceNumber', '')}"
    frames = number_of_frames(ds)
    if frames > 1:
        image += f"  frame {frame + 1}/{frames}"
    out["bottom_left"].append(image)
    if window is not None:
        out["bottom_left"].append(f"W {window.width:g} L {window.center:g}")
    return out


def _font_for(text: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font that has glyphs for ``text`` (Noto/DejaVu as the PDF reports find them), else Pillow's own."""
    from PIL import ImageFont

    try:
        from workstation.reporting.pdf_fonts import PdfFontError, body_fonts, fallback_faces

        try:
            faces = fallback_faces(text) or [body_fonts()[0]]
        except PdfFontError:
            faces = [body_fonts()[0]]
        face = faces[0]
        return ImageFont.truetype(str(face.path), size, index=face.index)
    except Exception:  # noqa: BLE001 - no font on this system: Pillow's built-in one still draws Latin text
        return ImageFont.load_default()


def draw_corner_text(pixels: np.ndarray, lines: dict[str, list[str]]) -> np.ndarray:
    """``pixels`` (RGB) with the corner lines drawn in white on a dark outline, in a font that has their script."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(_rgb(pixels))
    draw = ImageDraw.Draw(img)
    size = max(9, min(18, img.height // 40))
    step = size + 3
    for i, text in enumerate(lines.get("top_left", [])):
        draw.text((4, 4 + i * step), text, font=_font_for(text, size), fill=(255, 255, 255), stroke_width=1,
                  stroke_fill=(0, 0, 0))
    bottom = lines.get("bottom_left", [])
    for i, text in enumerate(bottom):
        draw.text((4, img.height - 4 - (len(bottom) - i) * step), text, font=_font_for(text, size),
                  fill=(255, 255, 255), stroke_width=1, stroke_fill=(0, 0, 0))
    return np.asarray(img)


def draw_annotations(pixels: np.ndarray, annotations: Iterable[ImageAnnotation], rotation: int = 0, flip: bool = False,
                     clean: list[str] | None = None) -> np.ndarray:
    """``pixels`` (already turned by ``rotation``/``flip``) with a presentation state's graphics and texts drawn.

    The annotations are in the image's own pixel coordinates: they are drawn on a
    transparent layer the size of the unturned image, which is then turned the
    same way as the picture and laid over it.  ``clean``: words (the patient's
    name, ID…) removed from annotation texts, for de-identified pictures.
    """
    import re

    from PIL import Image, ImageDraw

    from workstation.imaging.presentation_state import spatially_transformed

    rgb = _rgb(pixels)
    quarter = (int(rotation) // 90) % 2
    h, w = (rgb.shape[1], rgb.shape[0]) if quarter else rgb.shape[:2]
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    colour = (255, 220, 0, 255)
    pattern = re.compile("|".join(re.escape(c) for c in clean), re.IGNORECASE) if clean else None
    for annotation in annotations:
        for g in annotation.graphics:
            # PIXEL units: (0,0) is the top left corner of the top left pixel (PS3.3 C.10.5.1.2), as in Pillow.
            pts = list(g.points)
            if g.graphic_type == "POINT":
                x, y = pts[0]
                draw.ellipse((x - 2, y - 2, x + 2, y + 2), outline=colour)
            elif g.graphic_type == "CIRCLE":
                (cx, cy), (px, py) = pts
                r = ((px - cx) ** 2 + (py - cy) ** 2) ** 0.5
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour)
            elif g.graphic_type == "ELLIPSE":
                xs = [p[0] for p in pts]
                ys = [p[1] for p in pts]
                draw.ellipse((min(xs), min(ys), max(xs), max(ys)), outline=colour)
            else:
                draw.line(pts, fill=colour, width=1)
        for t in annotation.texts:
            text = pattern.sub("", t.text) if pattern is not None else t.text
            if t.anchor is not None:
                at = t.anchor
            elif t.bounding_box is not None:
                at = t.bounding_box[:2]
            else:  # TextItem refuses a text with neither
                continue
            draw.text((at[0], at[1]), text, fill=colour, stroke_width=1, stroke_fill=(0, 0, 0, 255))
    turned = spatially_transformed(np.asarray(layer), rotation, flip)
    alpha = turned[:, :, 3:4].astype(np.float32) / 255.0
    out = rgb.astype(np.float32) * (1 - alpha) + turned[:, :, :3].astype(np.float32) * alpha
    return out.astype(np.uint8)


def export_image(source: Path, out: Path, *, frame: int | None = None, corner_text: bool = True,
                 deidentify: bool = False, fmt: str = "png", presentation_state: pydicom.Dataset | None = None,
                 annotations: bool = True) -> Path:
    """Render one frame (the middle one of a multi-frame image by default) of ``source`` to ``out`` as PNG/JPEG.

    With ``presentation_state`` (a GSPS referencing the image) the picture is
    the image as that state shows it (its window, rotation, flip, shutter)
    and, with ``annotations``, its graphics and texts are drawn on it.
    """
    from PIL import Image

    ds = pydicom.dcmread(source, stop_before_pixels=True)
    frames = number_of_frames(ds)
    index = frames // 2 if frame is None else frame
    if presentation_state is not None:
        from workstation.imaging.presentation_state import read_gsps
        from workstation.imaging.render import render_with_presentation_state

        rendered = render_with_presentation_state(source, presentation_state, index)
        pixels = _rgb(rendered.pixels)
        if annotations:
            from workstation.export.deidentify import identifying_words

            state = read_gsps(presentation_state, image_size=(int(ds.Columns), int(ds.Rows)))
            sop = str(ds.SOPInstanceUID)
            pixels = draw_annotations(pixels, state.annotations_for(sop, index + 1), state.rotation,
                                      state.flip_horizontal, identifying_words(ds) if deidentify else None)
    else:
        rendered = render_file(source, index)
        pixels = _rgb(rendered.pixels)
    if corner_text:
        pixels = draw_corner_text(pixels, corner_lines(ds, deidentify=deidentify, frame=index, window=rendered.window))
    out = Path(out)
    if fmt == "jpeg":
        Image.fromarray(pixels).save(out, "JPEG", quality=92)
    else:
        Image.fromarray(pixels).save(out, "PNG")
    return out


def export_movie(source: Path, out: Path, *, corner_text: bool = False, deidentify: bool = False) -> float:
    """Write every frame of the multi-frame ``source`` as an H.264 MP4 at its acquisition frame rate.

    Returns
    -------
    float
        The frame rate written (frames per second).
    """
    import imageio_ffmpeg

    ds = pydicom.dcmread(source, stop_before_pixels=True)
    frames = number_of_frames(ds)
    fps = frame_timing(ds).frames_per_second
    first = _rgb(render_file(source, 0).pixels)
    h, w = first.shape[:2]
    # H.264 with yuv420p wants even sizes: pad by one row/column rather than scale (no resampling of pixels).
    ph, pw = h + h % 2, w + w % 2
    writer = imageio_ffmpeg.write_frames(str(out), (pw, ph), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=1, quality=8)
    writer.send(None)
    try:
        for i in range(frames):
            rendered = render_file(source, i)
            pixels = _rgb(rendered.pixels)
            if corner_text:
                pixels = draw_corner_text(pixels, corner_lines(ds, deidentify=deidentify, frame=i,
                                                               window=rendered.window))
            if (ph, pw) != (h, w):
                pixels = np.pad(pixels, ((0, ph - h), (0, pw - w), (0, 0)))
            writer.send(np.ascontiguousarray(pixels))
    finally:
        writer.close()
    return fps


def viewport_picture(viewport: ViewportModel, *, corner_text: bool = True, deidentify: bool = False,
                     annotations: bool = True) -> np.ndarray:
    """The active viewport's current frame as an RGB array: its window, inversion, rotation and flip.

    Parameters
    ----------
    viewport : workstation.imaging.viewport.ViewportModel
        The viewport (its image must be loaded).
    corner_text, deidentify
        Corner text drawn; never the patient corner when ``deidentify``.
    annotations : bool
        The graphics and texts of the presentation state applied in the viewport.

    Raises
    ------
    ValueError
        The viewport shows no image, or its image is not loaded yet.
    """
    from workstation.imaging.presentation_state import spatially_transformed

    frame = viewport.frame if viewport.display_set is not None else None
    if frame is None or not viewport.is_loaded():
        raise ValueError("the active viewport shows no image yet")
    window = viewport.current_window()
    rendered = render_file(frame.path, frame.frame, window=window, invert=viewport.view.invert)
    rotation, flip = viewport.view.rotation, viewport.view.flip_horizontal
    pixels = spatially_transformed(_rgb(rendered.pixels), rotation, flip)
    header = pydicom.dcmread(frame.path, stop_before_pixels=True)
    state = viewport.state
    if annotations and state is not None:
        from workstation.export.deidentify import identifying_words

        pixels = draw_annotations(pixels, state.annotations_for(frame.sop_instance_uid, frame.frame + 1), rotation,
                                  flip, identifying_words(header) if deidentify else None)
    if corner_text:
        pixels = draw_corner_text(pixels, corner_lines(header, deidentify=deidentify, frame=frame.frame,
                                                       window=window))
    return pixels


def save_picture(pixels: np.ndarray, out: Path) -> Path:
    """Write an RGB array as PNG, or JPEG when ``out`` ends in .jpg/.jpeg."""
    from PIL import Image

    out = Path(out)
    if out.suffix.lower() in (".jpg", ".jpeg"):
        Image.fromarray(_rgb(pixels)).save(out, "JPEG", quality=92)
    else:
        Image.fromarray(_rgb(pixels)).save(out, "PNG")
    return out
