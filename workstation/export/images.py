"""Key images as PNG/JPEG and a cine as MP4, rendered through the display pipeline without Qt.

Corner text is drawn with Pillow from the image's header.  With
``deidentify`` the patient corner (name, ID, birth date, accession,
institution) is never drawn: only the image number, frame and window.
MP4 files are written by the ffmpeg binary ``imageio-ffmpeg`` ships, at the
acquisition frame rate (:func:`workstation.imaging.frames.frame_timing`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from workstation.imaging.frames import frame_timing, number_of_frames
from workstation.imaging.render import render_file

#: Header fields of the patient corner, left out whenever the export is de-identified.
PATIENT_CORNER = ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "InstitutionName")


def _rgb(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.ascontiguousarray(pixels.astype(np.uint8))


def corner_lines(ds: pydicom.Dataset, *, deidentify: bool, frame: int = 0, window=None) -> dict[str, list[str]]:
    """The text of the top-left (patient) and bottom-left (image) corners; no patient corner when de-identifying."""
    out: dict[str, list[str]] = {"top_left": [], "bottom_left": []}
    if not deidentify:
        out["top_left"] = [str(ds.get(k, "")).replace("^", " ").strip() for k in PATIENT_CORNER if ds.get(k)]
    image = f"Im {ds.get('InstanceNumber', '')}"
    frames = number_of_frames(ds)
    if frames > 1:
        image += f"  frame {frame + 1}/{frames}"
    out["bottom_left"].append(image)
    if window is not None:
        out["bottom_left"].append(f"W {window.width:g} L {window.center:g}")
    return out


def draw_corner_text(pixels: np.ndarray, lines: dict[str, list[str]]) -> np.ndarray:
    """``pixels`` (RGB) with the corner lines drawn in white on a dark outline (Pillow's default font)."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(_rgb(pixels))
    draw = ImageDraw.Draw(img)
    step = 12
    for i, text in enumerate(lines.get("top_left", [])):
        draw.text((4, 4 + i * step), text, fill=(255, 255, 255), stroke_width=1, stroke_fill=(0, 0, 0))
    bottom = lines.get("bottom_left", [])
    for i, text in enumerate(bottom):
        draw.text((4, img.height - 4 - (len(bottom) - i) * step), text, fill=(255, 255, 255), stroke_width=1,
                  stroke_fill=(0, 0, 0))
    return np.asarray(img)


def export_image(source: Path, out: Path, *, frame: int | None = None, corner_text: bool = True,
                 deidentify: bool = False, fmt: str = "png") -> Path:
    """Render one frame (the middle one of a multi-frame image by default) of ``source`` to ``out`` as PNG/JPEG."""
    from PIL import Image

    ds = pydicom.dcmread(source, stop_before_pixels=True)
    frames = number_of_frames(ds)
    index = frames // 2 if frame is None else frame
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
