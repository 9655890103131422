"""Checks made before any decoder runs: memory ceilings and each frame's own codestream header.

Split from :mod:`workstation.dicom.pixels`; both raise :class:`PixelRefusal`,
whose message is fit to show in place of the image.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, BinaryIO

from pydicom.encaps import generate_frames, get_frame
from pydicom.pixels.decoders.base import DecodeRunner

from workstation.dicom.codec_headers import check_frame
from workstation.dicom.limits import describe_bytes, limits
from workstation.dicom.transfer_syntax import TransferSyntax

if TYPE_CHECKING:  # pixels imports this module
    from workstation.dicom.pixels import _PixelElement

__all__ = ["PixelRefusal", "check_budget", "check_codestreams"]


class PixelRefusal(Exception):
    """A decoding refusal whose message is already fit to show."""


def check_budget(runner: DecodeRunner, frame: int | None) -> None:
    """Refuse images whose decoded size exceeds the configured memory ceilings."""
    ceiling = limits()
    frame_bytes = int(math.ceil(runner.frame_length(unit="bytes")))
    if runner.photometric_interpretation == "YBR_FULL_422" and runner.transfer_syntax.is_encapsulated is False:
        frame_bytes = frame_bytes * 3 // 2  # up-sampled to full resolution
    if frame_bytes > ceiling.max_frame_bytes:
        raise PixelRefusal(
            f"the image is too large to decode: one frame of {runner.rows} x {runner.columns} "
            f"needs {describe_bytes(frame_bytes)}, the limit is {describe_bytes(ceiling.max_frame_bytes)}"
        )
    count = runner.number_of_frames if frame is None else 1
    if frame_bytes * count > ceiling.max_object_bytes:
        raise PixelRefusal(
            f"the image is too large to decode: {count} frames need "
            f"{describe_bytes(frame_bytes * count)}, the limit is "
            f"{describe_bytes(ceiling.max_object_bytes)}"
        )


def check_codestreams(
    stream: BinaryIO,
    element: _PixelElement,
    ts: TransferSyntax,
    runner: DecodeRunner,
    opts: dict[str, Any],
    frame: int | None,
) -> None:
    """Compare each encoded frame's own header with the data set before any decoder runs."""
    nframes = runner.number_of_frames
    stream.seek(element.offset)
    if frame is None:
        frames = generate_frames(
            stream, number_of_frames=nframes, extended_offsets=opts.get("extended_offsets")
        )
    else:
        frames = iter([get_frame(
            stream, frame, number_of_frames=nframes,
            extended_offsets=opts.get("extended_offsets"),
        )])
    checked = 0
    for index, encoded in enumerate(frames):
        problem = check_frame(
            ts.uid,
            encoded[:65536],
            rows=runner.rows,
            columns=runner.columns,
            samples_per_pixel=runner.samples_per_pixel,
            bits_allocated=runner.bits_allocated,
            frame_length=len(encoded),
        )
        if problem:
            where = f" (frame {index if frame is None else frame})" if nframes > 1 else ""
            raise PixelRefusal(f"cannot decode {ts.name} pixel data{where}: {problem}")
        checked += 1
        if checked >= nframes:
            break
    if checked == 0:
        raise PixelRefusal(f"cannot decode {ts.name} pixel data: no encoded frame found")
    stream.seek(element.offset)
