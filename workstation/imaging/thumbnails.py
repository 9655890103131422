"""Series thumbnails: the middle image, with its own window, shrunk to an icon (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.imaging.frame_display import to_rgb32
from workstation.imaging.pipeline import FramePipeline
from workstation.model.stack import ImageStack
from workstation.model.stack_pixels import read_frame


@dataclass
class Thumbnail:
    """An icon as uint32 ``0xffRRGGBB`` pixels, or why there is none."""

    pixels: np.ndarray | None
    error: str | None = None


def shrink(display: np.ndarray, size: int) -> np.ndarray:
    """Shrink a uint8 image (grey or RGB) so its longer side is at most ``size``, by block means."""
    rows, cols = display.shape[:2]
    step = max(1, int(np.ceil(max(rows, cols) / size)))
    if step == 1:
        return display
    r, c = rows // step * step, cols // step * step
    block = display[:r, :c].reshape(r // step, step, c // step, step, *display.shape[2:])
    shrunk: np.ndarray = block.mean(axis=(1, 3)).astype(np.uint8)
    return shrunk


def middle_index(stack: ImageStack) -> int:
    return len(stack) // 2


def make_thumbnail(stack: ImageStack, size: int = 96) -> Thumbnail:
    """The thumbnail of a stack: its middle frame with the image's first window (or min-max)."""
    if not len(stack):
        return Thumbnail(None, "no images")
    ref = stack.frames[middle_index(stack)]
    result = read_frame(ref, None)
    if result.array is None or result.header is None:
        return Thumbnail(None, result.error or "no image")
    try:
        pipeline = FramePipeline.from_dataset(result.header, ref.frame)
        display = pipeline.to_display(result.array,
                                     photometric_interpretation=result.photometric_interpretation or None)
    except Exception as exc:  # the strip shows the reason instead of a picture
        return Thumbnail(None, f"cannot display image: {exc}")
    return Thumbnail(to_rgb32(shrink(display, size)))
